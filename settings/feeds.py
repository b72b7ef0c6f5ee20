"""A consumer's feeds: the rules that bring it events, on its own domain's bus and on others'.

A consumer declared under domain A receives A's events through `subscribe`: a rule on A's bus
that targets its queue, or A's fan-out topic (fed by its own rule on A's bus) and the topic's
subscription. Each domain B it names under `also_from` adds one rule on B's bus that targets
the same queue (a per-entity FIFO consumer's staging queue), with B's retries and delivery DLQ.
A consumer has one feed per bus it reads and an event is put on one bus, so an event reaches a
consumer through one feed at most.

The program, the key and name checks, the emulator's report and `ops verify` read the feeds from
here; `feed_errors` refuses the `also_from` entries that could not work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from settings.naming import StackNames, feed_subscriber
from settings.patterns import (
    EVENTBRIDGE,
    PatternError,
    compile_pattern,
    detail_types_of,
    event_pattern,
)

if TYPE_CHECKING:
    from settings.model import StackConfig, SubscriptionConfig


@dataclass(frozen=True)
class Feed:
    """One rule that delivers to a consumer (through its topic's subscription, if it has one)."""

    bus_domain: str  # the domain whose bus the rule is on
    rule: SubscriptionConfig  # what the rule's pattern is made from (pinned to that bus's source)
    filter_policy: dict[str, Any] | None  # the topic subscription's SNS filter policy, if any
    subscriber: str  # the rule's subscriber name on that bus (`DomainNames.rule(subscriber)`)
    topic: str | None  # the consumer's own topic between the rule and its queue, if any


def feeds(config: StackConfig, domain_name: str, consumer_name: str) -> list[Feed]:
    """Every feed of consumer `consumer_name` of `domain_name`: its own first, then one per
    `also_from` entry in declared order.

    Exactly: an event put on the bus of domain `feed.bus_domain` (with that domain's `source`)
    reaches the consumer through `feed` (its queue, by way of its topic's subscription or its
    staging queue and pipe where it has them) if and only if the rule's deployed pattern,
    `settings.patterns.event_pattern(feed.rule, config.domains[feed.bus_domain].source)`,
    matches the event and, where `feed.filter_policy` is not None, that SNS filter policy
    (MessageBody scope, `settings.patterns.filter_matches`) matches it too. The consumer receives
    the union over its feeds; an event no feed matches does not reach it.

    - own feed, rule subscriber: bus_domain = domain_name, rule = consumer.subscribe,
      filter_policy None, subscriber = consumer_name, topic None;
    - own feed, topic subscriber: bus_domain = domain_name, rule = the topic's subscribe,
      filter_policy = consumer.subscribe.filter_policy, subscriber = topic = the topic's name;
    - also_from[B]: bus_domain = B, rule = that entry, filter_policy None, subscriber =
      `settings.naming.feed_subscriber(domain_name, consumer_name)`, topic None.
    """
    domain = config.domains[domain_name]
    consumer = domain.consumers[consumer_name]
    sub = consumer.subscribe
    if sub.topic is not None:
        topic = domain.topics[sub.topic].subscribe
        own = Feed(domain_name, topic, sub.filter_policy, sub.topic, sub.topic)
    else:
        own = Feed(domain_name, sub, None, consumer_name, None)
    subscriber = feed_subscriber(domain_name, consumer_name)
    return [own] + [
        Feed(bus, rule, None, subscriber, None) for bus, rule in consumer.also_from.items()
    ]


def feeds_on(config: StackConfig, bus_domain: str) -> list[tuple[str, str, Feed]]:
    """(consumer's domain, consumer, feed) for every feed whose rule is on `bus_domain`'s bus:
    the bus's own consumers first, then other domains' in declared order. A topic's rule feeds
    each of its subscribers, so it appears once per subscriber."""
    order = [bus_domain, *(d for d in config.domains if d != bus_domain)]
    return [
        (domain_name, consumer_name, feed)
        for domain_name in order
        for consumer_name in config.domains[domain_name].consumers
        for feed in feeds(config, domain_name, consumer_name)
        if feed.bus_domain == bus_domain
    ]


def rules_on(config: StackConfig, bus_domain: str) -> dict[str, SubscriptionConfig]:
    """Every rule on `bus_domain`'s bus, by subscriber: its topics (subscribed to or not), its
    consumers fed by a rule, and the consumers of other domains that also read it."""
    rules = {name: topic.subscribe for name, topic in config.domains[bus_domain].topics.items()}
    for _, _, feed in feeds_on(config, bus_domain):
        rules.setdefault(feed.subscriber, feed.rule)
    return rules


def feed_errors(config: StackConfig) -> list[str]:
    """Why each `also_from` entry could not work, with its key path; empty when all can."""
    errors = []
    for domain_name, domain in config.domains.items():
        for consumer_name, consumer in domain.consumers.items():
            for bus, rule in consumer.also_from.items():
                at = f"domains.{domain_name}.consumers.{consumer_name}.also_from.{bus}"
                problems = _entry_problems(config, domain_name, bus, rule)
                errors += [f"{at}: {problem}" for problem in problems]
    if not errors:
        errors = _subscriber_clashes(config)
    return errors


def _entry_problems(
    config: StackConfig, domain_name: str, bus: str, rule: SubscriptionConfig
) -> list[str]:
    others = [d for d in config.domains if d != domain_name]
    if bus == domain_name:
        return [
            f"{bus!r} is the consumer's own domain, whose events it receives through `subscribe`; "
            f"also_from names other domains (allowed: {', '.join(others) or 'none'})"
        ]
    if bus not in config.domains:
        example = others[0] if others else "<domain>"
        types = list(config.domains[example].event_types) if others else ["<DetailType>"]
        return [
            f"no domain {bus!r} is declared (declared: {', '.join(sorted(config.domains))}); "
            "also_from names another domain of this stack whose events the consumer also reads, "
            f"e.g. also_from: {{{example}: {{detail_types: [{types[0]}]}}}}"
        ]
    source = config.domains[bus].source
    declared = config.domains[bus].event_types
    problems = [
        f"subscribes to event type {t!r}, which domain {bus!r} does not declare "
        f"(declared: {', '.join(sorted(declared))})"
        for t in detail_types_of(rule)
        if t not in declared
    ]
    named = (rule.pattern or {}).get("source")
    if named is not None and named != [source]:
        problems.append(
            f"pattern names source {named}, but this rule is on {bus}'s bus, which carries only "
            f"{source!r} events (the program pins the source): it could never match. Drop "
            "`source` from the pattern"
        )
    else:
        try:
            compile_pattern(event_pattern(rule, source), EVENTBRIDGE)
        except PatternError as error:
            problems.append(str(error))
    return problems


def _subscriber_clashes(config: StackConfig) -> list[str]:
    """Each rule on a bus needs its own subscriber name: another domain's consumer must not take
    the name of one of the bus's own topics or consumers, or of another such consumer."""
    names = StackNames(config.stack)
    errors = []
    for bus, domain in config.domains.items():
        taken = {name: f"{bus}'s own topic {name!r}" for name in domain.topics}
        taken |= {name: f"{bus}'s own consumer {name!r}" for name in domain.consumers}
        for domain_name, consumer_name, feed in feeds_on(config, bus):
            if domain_name == bus:
                continue
            at = f"domains.{domain_name}.consumers.{consumer_name}.also_from.{bus}"
            if feed.subscriber in taken:
                rule = names.domain(bus).rule(feed.subscriber)
                errors.append(
                    f"{at}: its rule on {bus}'s bus would be named {rule!r} (subscriber "
                    f"{feed.subscriber!r}), which {taken[feed.subscriber]} already uses: rename "
                    "one of them"
                )
            taken.setdefault(
                feed.subscriber, f"the rule of domains.{domain_name}.consumers.{consumer_name}"
            )
    return errors


def event_domains(config: StackConfig, domain_name: str, consumer_name: str) -> dict[str, str]:
    """Source -> domain of every domain whose events reach the consumer: its runtime checks an
    event against the schemas of its source's domain (EVENT_DOMAINS)."""
    return {
        config.domains[feed.bus_domain].source: feed.bus_domain
        for feed in feeds(config, domain_name, consumer_name)
    }
