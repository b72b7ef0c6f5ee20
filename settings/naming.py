"""Every AWS name and cost-allocation tag the program gives a resource, built here and nowhere else.

The program names resources with these functions. The cost model and the emulator never rebuild
a name to find something: they join on the tags the program puts on every taggable resource
(`eda:stack`, `eda:domain`, `eda:consumer`), which double as AWS cost-allocation tags.
"""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "eda-platform"

TAG_PROJECT = "eda:project"
TAG_STACK = "eda:stack"
TAG_DOMAIN = "eda:domain"
TAG_CONSUMER = "eda:consumer"

ARCHIVE_ROOT = "audit"  # audit/<domain>/dt=YYYY-MM-DD/<object>.json, written by audit_logger
FIFO_SUFFIX = ".fifo"


def tags(stack: str, domain: str | None = None, consumer: str | None = None) -> dict[str, str]:
    """Cost-allocation tags: the project and stack always, the domain and consumer where owned.

    A resource is owned by what it exists for: a rule on domain B's bus that feeds consumer x
    of domain A (`also_from`) is tagged A and x, as x's queue and function are; it goes when x
    stops reading B, and its alarms are part of what x costs.
    """
    result = {TAG_PROJECT: PROJECT, TAG_STACK: stack}
    if domain is not None:
        result[TAG_DOMAIN] = domain
    if consumer is not None:
        result[TAG_CONSUMER] = consumer
    return result


def archive_prefix(domain: str) -> str:
    """The S3 prefix under which a domain's audit objects live (and Athena projects partitions)."""
    return f"{ARCHIVE_ROOT}/{domain}/"


@dataclass(frozen=True)
class StackNames:
    """Names of the pieces shared by every domain of one stack."""

    stack: str

    @property
    def alarm_topic(self) -> str:
        return f"{self.stack}-alarms"

    @property
    def alarm_prefix(self) -> str:
        """Every alarm of the stack starts with this, so the alarm topic can admit exactly them."""
        return f"{self.stack}-"

    @property
    def table(self) -> str:
        return f"{self.stack}-idempotency"

    @property
    def key_alias(self) -> str:
        # The project is part of the alias: two projects' `dev` stacks share an account.
        return f"alias/{PROJECT}-{self.stack}"

    @property
    def glue_database(self) -> str:
        return f"{self.stack.replace('-', '_')}_events"

    def layer(self, architecture: str) -> str:
        return f"{self.stack}-dependencies-{architecture}"

    def domain(self, domain: str) -> DomainNames:
        return DomainNames(self.stack, domain)


@dataclass(frozen=True)
class DomainNames:
    """Names of one domain's bus, rules, topics, queues and functions."""

    stack: str
    domain: str

    @property
    def prefix(self) -> str:
        return f"{self.stack}-{self.domain}"

    @property
    def bus(self) -> str:
        return self.prefix

    @property
    def registry(self) -> str:
        return self.prefix

    @property
    def dashboard(self) -> str:
        return self.prefix

    @property
    def archive(self) -> str:
        return f"{self.prefix}-archive"

    @property
    def delivery_dlq(self) -> str:
        return f"{self.prefix}-delivery-dlq"

    @property
    def notifications_topic(self) -> str:
        return f"{self.prefix}-notifications"

    def rule(self, subscriber: str) -> str:
        """The rule on this domain's bus that feeds `subscriber`: one of its topics or
        consumers, or another domain's consumer (`feed_subscriber`)."""
        return f"{self.prefix}-{subscriber}"

    def topic(self, topic: str) -> str:
        return f"{self.prefix}-{topic}"

    def schedule(self, schedule: str) -> str:
        return f"{self.prefix}-{schedule}"

    @property
    def schedule_group(self) -> str:
        return self.prefix

    def topic_delivery_dlq(self, topic: str) -> str:
        return f"{self.prefix}-{topic}-delivery-dlq"

    def function(self, consumer: str) -> str:
        return f"{self.prefix}-{consumer}"

    def log_group(self, consumer: str) -> str:
        return f"/aws/lambda/{self.function(consumer)}"

    def queue(self, consumer: str, fifo: bool) -> str:
        return f"{self.prefix}-{consumer}{FIFO_SUFFIX if fifo else ''}"

    def dlq(self, consumer: str, fifo: bool) -> str:
        return f"{self.prefix}-{consumer}-dlq{FIFO_SUFFIX if fifo else ''}"

    def staging_queue(self, consumer: str) -> str:
        """Where a rule delivers a per-entity FIFO consumer's events before its pipe groups them."""
        return f"{self.prefix}-{consumer}-staging{FIFO_SUFFIX}"

    def staging_dlq(self, consumer: str) -> str:
        return f"{self.prefix}-{consumer}-staging-dlq{FIFO_SUFFIX}"

    def pipe(self, consumer: str) -> str:
        return f"{self.prefix}-{consumer}-grouping"

    # IAM roles are named after what assumes them. Role names are account-wide, not regional:
    # one stack name per account.
    def function_role(self, consumer: str) -> str:
        return self.function(consumer)

    def pipe_role(self, consumer: str) -> str:
        return self.pipe(consumer)

    def schedule_role(self, schedule: str) -> str:
        return self.schedule(schedule)


def feed_subscriber(domain: str, consumer: str) -> str:
    """How consumer `consumer` of `domain` is known on another domain's bus that it also reads
    (`also_from`): its rule there is `DomainNames(stack, bus).rule(feed_subscriber(...))`."""
    return f"{domain}-{consumer}"


def alarm_name(resource_name: str, what: str) -> str:
    """An alarm is named after the resource it watches (which starts with the stack)."""
    return f"{resource_name}-{what}"
