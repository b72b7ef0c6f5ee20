"""What a deployment into moto leaves for the emulator to play, and what its report lists.

The bottom of the emulator: the deploy creators fill these records, the pollers, bridges and
report read them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from offline.program import Inventory
from offline.readers import MappingInputs


@dataclass(frozen=True)
class Line:
    type: str
    name: str
    detail: str


@dataclass
class DeployReport:
    """Every resource lands in exactly one list: nothing is dropped silently."""

    emulated: list[Line] = field(default_factory=list)
    bridged: list[Line] = field(default_factory=list)
    played: list[Line] = field(default_factory=list)  # behaviour localcloud itself performs
    not_emulated: list[Line] = field(default_factory=list)

    def noted(self, name: str) -> bool:
        return any(line.name == name for line in self.bridged + self.played + self.not_emulated)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str  # "handlers.<module>.handler", as Lambda would load it
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int

    @property
    def module(self) -> str:
        """The handler's catalogue name: "handlers.order_processor.handler" -> "order_processor"."""
        return self.handler.split(".")[1]


@dataclass(frozen=True)
class RelaySpec:
    """A rule target moto cannot deliver itself: the rule feeds a relay queue, a bridge forwards."""

    rule: str
    target_id: str
    relay_url: str
    target_arn: str  # the real destination: an SNS topic or an SQS (FIFO) queue
    message_group_id: str | None  # SqsParameters.MessageGroupId, sent as given
    input_path: str | None
    dead_letter_arn: str | None
    reason: str


@dataclass(frozen=True)
class PipeSpec:
    """An EventBridge pipe from an SQS queue to an SQS queue: moto holds it, a bridge runs it."""

    name: str
    arn: str
    source_arn: str
    target_arn: str
    batch_size: int
    batching_window_s: int
    input_template: str | None
    # Target parameters as declared: a static value, or a dynamic path such as $.body.detail.id.
    message_group_id: str | None
    message_deduplication_id: str | None


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    arn: str
    queue_name: str
    metric: str
    threshold: float
    comparison: str
    alarm_actions: tuple[str, ...]
    ok_actions: tuple[str, ...]


@dataclass
class Deployment:
    """What the emulator needs after `pulumi up`: the inventory plus the parts it plays itself."""

    stack: str
    region: str
    inventory: Inventory
    report: DeployReport
    functions: dict[str, FunctionSpec]  # by ARN
    mappings: list[MappingInputs]
    relays: list[RelaySpec]
    alarms: list[AlarmSpec]
    pipes: list[PipeSpec]

    @property
    def exports(self) -> dict[str, Any]:
        return self.inventory.exports


def name_of(arn: str) -> str:
    """A queue's or topic's name: the last part of its ARN."""
    return arn.rsplit(":", 1)[1]


def auto_name(logical: str, limit: int = 80) -> str:
    """Pulumi names a resource `<logical>-<random suffix>` when the program gives no name; the
    mocks do not, so the deployment does (keeping the suffix within AWS's length limit)."""
    return f"{logical}-{uuid.uuid4().hex[:8]}"[-limit:]
