"""The typed stack config: one model that the program, the cost model and the emulator all read.

Every key of `Pulumi.<stack>.yaml` under the project's namespace maps to one field of
`StackConfig`. Unknown keys are errors everywhere (`extra="forbid"`): a typo must not silently
fall back to a default in production.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handlers.catalog import CUSTOM_METRICS_DEFAULT, CUSTOM_METRICS_VARIABLE, HANDLERS
from settings.feeds import feed_errors
from settings.limits import LOG_RETENTION_DAYS, concurrency_errors, name_errors
from settings.patterns import (
    EVENTBRIDGE,
    SNS_MESSAGE_BODY,
    PatternError,
    compile_pattern,
    detail_types_of,
    event_pattern,
)

# Names become part of AWS resource names (queue names max 80 chars, function names 64).
NAME = r"^[a-z][a-z0-9-]{0,23}$"
DETAIL_TYPE = r"^[A-Za-z][A-Za-z0-9.]{0,127}$"
ACCOUNT_ID = r"^\d{12}$"
# SQS MessageGroupId: 1-128 of alphanumerics and punctuation (here at most 100).
GROUP_ID = r"^[A-Za-z0-9!-/:-@\[-`{-~]{1,100}$"
SCHEDULE = r"^(rate\(.+\)|cron\(.+\)|at\(.+\))$"
SOURCE = r"^[a-z0-9][a-z0-9.-]{0,255}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# What each pattern allows, in words and by example: the loader says this instead of the regex.
PATTERNS = {
    NAME: "a lower-case letter, then up to 23 lower-case letters, digits or '-', e.g. order-events",
    DETAIL_TYPE: "a letter, then up to 127 letters, digits or '.', e.g. OrderCreated",
    ACCOUNT_ID: "a 12-digit AWS account id, e.g. 123456789012",
    GROUP_ID: "1 to 100 letters, digits or ASCII punctuation, no spaces, e.g. all-payments",
    SCHEDULE: "rate(...), cron(...) or at(...), e.g. cron(0 2 * * ? *) or rate(5 minutes)",
    SOURCE: "lower-case letters, digits, '.' and '-', not starting with '.' or '-', e.g. com.example.orders",
    EMAIL: "an e-mail address, e.g. oncall@example.com",
}

Name = Annotated[str, Field(pattern=NAME)]
DetailType = Annotated[str, Field(pattern=DETAIL_TYPE)]
AccountId = Annotated[str, Field(pattern=ACCOUNT_ID)]

DAY = 86_400
MAX_PAYLOAD_BYTES = 1_048_576  # EventBridge / SQS payload limit since 2026-01


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sample(Strict):
    """A share of an event type's volume with a representative `detail`, for content routing."""

    share: float = Field(gt=0, le=1)
    detail: dict[str, Any]


class EventType(Strict):
    """One event type; its JSON Schema is schemas/<domain>/<DetailType>.json, the one place the
    program, the consumers' runtime (in the code archive) and the tools all read it."""

    monthly_volume: int = Field(ge=0, description="Projected events per month")
    avg_size_bytes: int = Field(default=1_024, ge=1, le=MAX_PAYLOAD_BYTES)
    entity_keys_per_event: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Distinct entity keys (e.g. orders) each event of this type adds, for "
        "consumers that keep one item per entity; 1 = every event a new entity, 0 = it only "
        "changes entities another type created; default: costmodel/assumptions.yaml",
    )
    samples: list[Sample] | None = Field(
        default=None,
        description="How the volume splits over detail contents; default: derived from the "
        "schema, enum values equally likely",
    )

    @field_validator("samples")
    @classmethod
    def _shares_sum_to_one(cls, v: list[Sample] | None) -> list[Sample] | None:
        if v is not None and abs(sum(s.share for s in v) - 1) > 1e-6:
            raise ValueError(f"sample shares sum to {sum(s.share for s in v):g}; they must sum to 1")
        return v


class QueueConfig(Strict):
    kind: Literal["standard", "fifo"] = "standard"
    message_group_path: str | None = Field(
        default=None,
        description="FIFO only: JSON path of the event field whose value is the message group, "
        "e.g. $.detail.paymentId: ordered per entity, entities in parallel. Deployed as an "
        "EventBridge Pipe from a staging queue (rule targets take only a fixed group id)",
    )
    message_group_id: str | None = Field(
        default=None,
        pattern=GROUP_ID,
        description="FIFO only: one fixed message group for every event (fully serialised: one "
        "failing event holds back all the others); the rule target sends it as given",
    )
    visibility_timeout_s: int = Field(default=300, ge=0, le=43_200)

    @field_validator("message_group_path")
    @classmethod
    def _detail_path(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\$\.detail(\.[A-Za-z0-9_-]+)+", v):
            raise ValueError(
                f"message_group_path={v!r}: a JSON path into the event's detail, e.g. "
                "$.detail.paymentId (dot notation, field names of letters, digits, _ and -)"
            )
        return v
    max_receive_count: int = Field(default=5, ge=1, le=1_000)
    retention_s: int = Field(default=4 * DAY, ge=60, le=14 * DAY)
    encryption: Literal["sse-sqs", "kms"] = "sse-sqs"
    age_alarm_s: int = Field(
        default=900, ge=60, description="Alarm when the oldest message is older than this"
    )
    fifo_on_failure: Literal["hold-group", "hold-batch"] = Field(
        default="hold-group",
        description="FIFO: a failed record holds back only its message group (other payments "
        "proceed), or the whole rest of the batch",
    )


class InputTransformer(Strict):
    input_paths: dict[str, str]
    template: str


class SubscriptionConfig(Strict):
    """What a consumer receives: a list of detail types, a full EventBridge pattern, or a topic."""

    detail_types: list[DetailType] | None = None
    pattern: dict[str, Any] | None = None
    topic: Name | None = None
    filter_policy: dict[str, Any] | None = Field(
        default=None, description="SNS filter policy (MessageBody scope); only with topic"
    )
    input_transformer: InputTransformer | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "SubscriptionConfig":
        given = [k for k in ("detail_types", "pattern", "topic") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of detail_types, pattern, topic (got {given or 'none'})"
            )
        if self.filter_policy is not None and self.topic is None:
            raise ValueError("filter_policy applies to topic subscriptions only")
        if self.input_transformer is not None and self.topic is not None:
            raise ValueError(
                "input_transformer applies to rule targets; a topic subscriber gets the topic's message"
            )
        if self.detail_types is not None and not self.detail_types:
            raise ValueError("detail_types must name at least one event type")
        return self


class ConsumerConfig(Strict):
    handler: str = Field(description="Module in handlers/; see handlers.catalog.HANDLERS")
    subscribe: SubscriptionConfig
    queue: QueueConfig = QueueConfig()
    idempotency_key: str = Field(
        description="JMESPath into the EventBridge event giving the producer's business id, "
        "e.g. '[detail.orderId, detail.version]'"
    )
    idempotency_window_s: int | None = Field(
        default=None,
        ge=60,
        description="How long a processed key is remembered; default: the redelivery horizon "
        "(queue retention + DLQ retention)",
    )
    batch_size: int = Field(default=10, ge=1, le=10_000)
    batching_window_s: int = Field(default=0, ge=0, le=300)
    maximum_concurrency: int | None = Field(
        default=None,
        ge=2,
        le=1_000,
        description="Cap on the SQS pollers' concurrent batches; default: reserved_concurrency",
    )
    reserved_concurrency: int | None = Field(
        default=50,
        ge=2,
        description="Concurrency reserved for the function (null: none, it shares the account's "
        "unreserved pool); at least 2, the smallest poller cap SQS mappings accept",
    )
    memory_mb: int = Field(default=256, ge=128, le=10_240)
    timeout_s: int = Field(default=30, ge=1, le=900)
    architecture: Literal["arm64", "x86_64"] = "arm64"
    expected_duration_ms: int = Field(
        default=120, ge=1, description="Mean billed duration per batch, for the cost model"
    )
    environment: dict[str, str] = {}
    also_from: dict[Name, SubscriptionConfig] = Field(
        default={},
        description="Other domains of the stack whose events this consumer also receives, each "
        "named once: domain -> its event types (detail_types) or an EventBridge pattern, as in "
        "subscribe but without topic or filter_policy, e.g. {shipping: {detail_types: "
        "[ShipmentDelivered]}}. Each entry is one more rule, on that domain's bus (named "
        "<stack>-<that domain>-<this domain>-<consumer>, tagged with this consumer), targeting "
        "this consumer's queue (its staging queue with message_group_path) with that bus's "
        "retries, delivery DLQ and alarms; the queue admits it. idempotency_key and "
        "message_group_path must fit those domains' event types too",
    )

    @field_validator("handler")
    @classmethod
    def _known_handler(cls, v: str) -> str:
        if v not in HANDLERS:
            raise ValueError(f"unknown handler {v!r}; allowed: {', '.join(sorted(HANDLERS))}")
        return v

    @model_validator(mode="after")
    def _catalogued_choices(self) -> "ConsumerConfig":
        """A consumer's trade-offs are environment variables the catalogue declares."""
        try:
            spec = HANDLERS[self.handler].select(self.environment)
        except ValueError as error:
            raise ValueError(f"environment.{error}") from None
        if "notify_topic" in spec.needs and spec.idempotency == "conditional-write":
            raise ValueError(
                "environment.IDEMPOTENCY_GUARD='conditional-write' needs an SNS FIFO "
                "notifications topic (its deduplication is the guard); the platform's topic is "
                "standard (allowed: powertools)"
            )
        metrics = self.environment.get(CUSTOM_METRICS_VARIABLE, CUSTOM_METRICS_DEFAULT)
        if metrics not in ("on", "off"):
            raise ValueError(f"environment.{CUSTOM_METRICS_VARIABLE}={metrics!r}; allowed: on, off")
        return self

    @field_validator("also_from")
    @classmethod
    def _rules_not_topics(cls, v: dict[str, SubscriptionConfig]) -> dict[str, SubscriptionConfig]:
        for bus, rule in v.items():
            if rule.topic is not None:
                raise ValueError(
                    f"{bus}: topic {rule.topic!r}: a topic fans out its own domain's events to "
                    f"that domain's consumers; from {bus} give detail_types or pattern (a rule "
                    f"on {bus}'s bus), e.g. {{{bus}: {{detail_types: [<DetailType>]}}}}"
                )
        return v

    @model_validator(mode="after")
    def _aws_limits(self) -> "ConsumerConfig":
        q = self.queue
        if q.kind == "fifo":
            if self.batching_window_s:
                raise ValueError(
                    f"batching_window_s={self.batching_window_s}: FIFO queues take no batching "
                    "window (allowed: 0)"
                )
            if self.batch_size > 10:
                raise ValueError(f"batch_size={self.batch_size}: FIFO allows 1..10")
            if (q.message_group_path is None) == (q.message_group_id is None):
                raise ValueError(
                    "a FIFO queue needs exactly one of queue.message_group_path (one group per "
                    "entity, e.g. $.detail.paymentId) or queue.message_group_id (one fixed group)"
                )
        elif q.message_group_path or q.message_group_id:
            raise ValueError(
                "queue.message_group_path and queue.message_group_id apply to FIFO queues only"
            )
        if self.batch_size > 10 and self.batching_window_s < 1:
            raise ValueError(
                f"batch_size={self.batch_size} needs batching_window_s >= 1 (AWS requires a "
                "window for batches above 10)"
            )
        if q.visibility_timeout_s < 6 * self.timeout_s:
            raise ValueError(
                f"queue.visibility_timeout_s={q.visibility_timeout_s} is below 6 x timeout_s "
                f"({6 * self.timeout_s}); AWS guidance: at least {6 * self.timeout_s}"
            )
        if (
            self.maximum_concurrency is not None
            and self.reserved_concurrency is not None
            and self.maximum_concurrency > self.reserved_concurrency
        ):
            raise ValueError(
                f"maximum_concurrency={self.maximum_concurrency} exceeds reserved_concurrency="
                f"{self.reserved_concurrency}: the surplus pollers are throttled and push valid "
                "messages toward the DLQ (allowed: <= reserved_concurrency)"
            )
        return self

    @property
    def poller_concurrency(self) -> int | None:
        """The mapping's maximum concurrency: by default the function's reservation, so the
        pollers never take more batches than the function can run. Throttled batches return
        to the queue and count toward maxReceiveCount ("Lambda SQS scaling", AWS re:Post)."""
        return self.maximum_concurrency or self.reserved_concurrency


class TopicConfig(Strict):
    """A fan-out topic fed by one rule on the domain's bus."""

    subscribe: SubscriptionConfig

    @field_validator("subscribe")
    @classmethod
    def _fed_by_rule(cls, v: SubscriptionConfig) -> SubscriptionConfig:
        if v.topic is not None:
            raise ValueError("a topic is fed by a rule (detail_types or pattern), not a topic")
        return v


class ScheduleConfig(Strict):
    expression: str = Field(pattern=SCHEDULE)
    detail_type: DetailType
    detail: dict[str, Any] = {}
    timezone: str = "UTC"


class DomainConfig(Strict):
    source: str = Field(pattern=SOURCE)
    event_types: dict[DetailType, EventType] = Field(min_length=1)
    consumers: dict[Name, ConsumerConfig] = {}
    topics: dict[Name, TopicConfig] = {}
    schedules: dict[Name, ScheduleConfig] = {}
    producer_accounts: list[AccountId] = Field(
        default=[], description="Other accounts allowed to put events on this domain's bus"
    )

    @field_validator("source")
    @classmethod
    def _not_aws(cls, v: str) -> str:
        if v.startswith("aws."):
            raise ValueError(f"source {v!r}: the aws. prefix is reserved for AWS services")
        return v

    @model_validator(mode="after")
    def _references_resolve(self) -> "DomainConfig":
        declared = set(self.event_types)
        if clash := set(self.topics) & set(self.consumers):
            raise ValueError(
                f"{sorted(clash)} named both a topic and a consumer; each rule needs its own name"
            )

        def check_types(where: str, sub: SubscriptionConfig) -> None:
            for t in detail_types_of(sub):
                if t not in declared:
                    raise ValueError(
                        f"{where} subscribes to event type {t!r}, which this domain does not "
                        f"declare (declared: {', '.join(sorted(declared))})"
                    )

        def check_pattern(where: str, sub: SubscriptionConfig, consumer: bool) -> None:
            named = (sub.pattern or {}).get("source")
            if named is not None and named != [self.source]:
                hint = (
                    "; to read another domain's events too, name that domain under the "
                    "consumer's also_from (one more rule, on that domain's bus), e.g. "
                    "also_from: {<domain>: {detail_types: [<DetailType>]}}"
                )
                raise ValueError(
                    f"{where}.subscribe.pattern names source {named}, but a rule on this "
                    f"domain's bus sees only {self.source!r} events (the program pins the "
                    "source): it could never match. Drop `source` from the pattern"
                    + (hint if consumer else "")
                )
            try:
                compile_pattern(event_pattern(sub, self.source), EVENTBRIDGE)
            except PatternError as error:
                raise ValueError(f"{where}.subscribe: {error}") from None

        for name, topic in self.topics.items():
            check_types(f"topics.{name}", topic.subscribe)
            check_pattern(f"topics.{name}", topic.subscribe, consumer=False)
        for name, consumer in self.consumers.items():
            sub = consumer.subscribe
            if sub.topic is not None:
                if sub.topic not in self.topics:
                    raise ValueError(
                        f"consumers.{name} subscribes to topic {sub.topic!r}, which is not "
                        f"declared (declared: {', '.join(sorted(self.topics)) or 'none'})"
                    )
                if consumer.queue.kind == "fifo":
                    raise ValueError(
                        f"consumers.{name}: a standard SNS topic cannot deliver to a FIFO queue"
                    )
                if sub.filter_policy is not None:
                    try:
                        compile_pattern(sub.filter_policy, SNS_MESSAGE_BODY)
                    except PatternError as error:
                        raise ValueError(f"consumers.{name}.subscribe.filter_policy: {error}") from None
            else:
                check_types(f"consumers.{name}", sub)
                check_pattern(f"consumers.{name}", sub, consumer=True)
        for name, schedule in self.schedules.items():
            if schedule.detail_type not in declared:
                raise ValueError(
                    f"schedules.{name} puts event type {schedule.detail_type!r}, which this "
                    f"domain does not declare"
                )
        return self


class Retention(Strict):
    log_days: int | None = Field(
        default=14, description="Lambda log retention; one of CloudWatch's values, null = never expire"
    )
    archive_days: int = Field(default=30, ge=0, description="EventBridge archive; 0 = forever")
    dlq_days: int = Field(default=14, ge=1, le=14)
    bucket_expire_after_days: int = Field(default=365, ge=1)

    @field_validator("log_days")
    @classmethod
    def _cloudwatch_retention(cls, v: int | None) -> int | None:
        if v is not None and v not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_days={v}: CloudWatch Logs refuses it; allowed: "
                f"{', '.join(map(str, LOG_RETENTION_DAYS))}, or null (never expire)"
            )
        return v


class Alarms(Strict):
    emails: list[Annotated[str, Field(pattern=EMAIL)]] = []


class Assumptions(Strict):
    """Traffic assumptions the cost model and capacity checks use; not deployed."""

    duplicate_rate: float = Field(default=0.01, ge=0, le=1)
    failure_rate: float = Field(default=0.02, ge=0, le=1)
    peak_factor: float = Field(default=3.0, ge=1)
    batch_fill: float = Field(
        default=0.6, gt=0, le=1, description="Average share of batch_size a poller receives"
    )
    idle_receives_per_minute: float = Field(
        default=12,
        ge=0,
        description="Empty receives Lambda's pollers make per idle queue (users measure 10-15)",
    )
    log_bytes_per_invocation: int = Field(
        default=700, ge=0, description="START/END/REPORT lines plus one batch summary line"
    )
    free_tier: bool = False
    price_preset: str = "aws-current"


class Budget(Strict):
    """What the stack may cost a month, as the cost model estimates it; checked by the policy
    pack's `cost-budget` in every preview (over it, the preview fails)."""

    monthly_usd: float = Field(gt=0, description="The estimate may not exceed this")
    max_increase_usd: float | None = Field(
        default=None,
        ge=0,
        description="A change may not raise the estimate by more than this (against the "
        "baseline estimate the preview is given)",
    )


class StackConfig(Strict):
    stack: Name = Field(description="The Pulumi stack name; not a config key")
    region: str = "us-east-1"
    protect_stateful: bool = False
    domains: dict[Name, DomainConfig] = Field(min_length=1)
    retention: Retention = Retention()
    alarms: Alarms = Alarms()
    assumptions: Assumptions = Assumptions()
    budget: Budget | None = None
    lambda_account_concurrency: int = Field(
        default=1_000,
        ge=10,
        description="The Lambda concurrency quota of the account the stack deploys to (its part "
        "of it, where stacks share an account): reservations must leave 100 unreserved",
    )

    @model_validator(mode="after")
    def _across_domains(self) -> "StackConfig":
        """What only the whole stack shows: feeds between domains, composed names, quotas."""
        errors = feed_errors(self) + name_errors(self) + concurrency_errors(self)
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def window_s(self, consumer: ConsumerConfig) -> int:
        """Idempotency window: by default the redelivery horizon (queue retention + DLQ
        retention), so a message redriven from the DLQ on its last day is still recognised as a
        duplicate."""
        if consumer.idempotency_window_s is not None:
            return consumer.idempotency_window_s
        return consumer.queue.retention_s + self.retention.dlq_days * DAY

