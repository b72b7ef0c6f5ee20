"""What AWS would refuse at deploy, checked on the whole config at load instead.

Each part of a name has its own pattern in the model, but AWS limits the *composed* name: three
24-character parts make a 74-character function name that `pulumi up` would fail on halfway.
Limits are from each service's API reference (CreateFunction, PutRule, CreateQueue, CreatePipe,
CreateSchedule, CreateArchive, CreateRole).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from settings.feeds import feeds
from settings.naming import StackNames

if TYPE_CHECKING:
    from settings.model import StackConfig

FUNCTION, RULE, QUEUE, PIPE, SCHEDULE, ARCHIVE, ROLE = 64, 64, 80, 64, 64, 48, 64

# The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)
# Lambda keeps this much of the account's concurrency unreserved ("Configuring reserved
# concurrency", Lambda Developer Guide: you can reserve up to the unreserved value minus 100).
UNRESERVED_MINIMUM = 100


def composed_names(config: StackConfig) -> Iterator[tuple[str, str, int]]:
    """(key path, AWS name, AWS's limit) for every name built from more than one config part."""
    stack = StackNames(config.stack)
    for domain_name, domain in config.domains.items():
        names = stack.domain(domain_name)
        where = f"domains.{domain_name}"
        yield where, names.archive, ARCHIVE
        for topic in domain.topics:
            yield f"{where}.topics.{topic}", names.rule(topic), RULE
            yield f"{where}.topics.{topic}", names.topic_delivery_dlq(topic), QUEUE
        for schedule in domain.schedules:
            yield f"{where}.schedules.{schedule}", names.schedule(schedule), SCHEDULE
            yield f"{where}.schedules.{schedule}", names.schedule_role(schedule), ROLE
        for consumer_name, consumer in domain.consumers.items():
            at = f"{where}.consumers.{consumer_name}"
            fifo = consumer.queue.kind == "fifo"
            yield at, names.function(consumer_name), FUNCTION
            yield at, names.function_role(consumer_name), ROLE
            yield at, names.queue(consumer_name, fifo), QUEUE
            yield at, names.dlq(consumer_name, fifo), QUEUE
            for feed in feeds(config, domain_name, consumer_name):
                if feed.topic is not None:
                    continue  # a topic's rule is the topic's, above
                bus = feed.bus_domain
                rule_at = at if bus == domain_name else f"{at}.also_from.{bus}"
                yield rule_at, stack.domain(bus).rule(feed.subscriber), RULE
            if consumer.queue.message_group_path is not None:
                yield at, names.staging_queue(consumer_name), QUEUE
                yield at, names.staging_dlq(consumer_name), QUEUE
                yield at, names.pipe(consumer_name), PIPE
                yield at, names.pipe_role(consumer_name), ROLE


def name_errors(config: StackConfig) -> list[str]:
    return [
        f"{where}: the AWS name {name!r} has {len(name)} characters; AWS allows at most {limit} "
        "(shorten the stack, domain or consumer name)"
        for where, name, limit in composed_names(config)
        if len(name) > limit
    ]


def concurrency_errors(config: StackConfig) -> list[str]:
    reserved = {
        f"domains.{d}.consumers.{c}": consumer.reserved_concurrency
        for d, domain in config.domains.items()
        for c, consumer in domain.consumers.items()
        if consumer.reserved_concurrency
    }
    total = sum(reserved.values())
    allowed = max(0, config.lambda_account_concurrency - UNRESERVED_MINIMUM)
    if total <= allowed:
        return []
    largest = ", ".join(f"{k}={v}" for k, v in sorted(reserved.items(), key=lambda kv: -kv[1])[:3])
    return [
        f"reserved_concurrency sums to {total} over {len(reserved)} consumers ({largest}, ...); "
        f"with lambda_account_concurrency={config.lambda_account_concurrency} Lambda lets a stack "
        f"reserve at most {allowed} (it keeps {UNRESERVED_MINIMUM} unreserved), so `pulumi up` "
        "would fail: lower the reservations, or raise lambda_account_concurrency to the "
        "account's real quota"
    ]
