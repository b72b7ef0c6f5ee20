"""The stack as cross-resource policies see it: resources by type, and the links between them.

Links are found by value (a mapping's `eventSourceArn` equals a queue's `arn`), which is what
the engine hands a stack policy: each resource's outputs. A link whose value is still unknown in
preview is simply not found, and the checks that need it skip that resource.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import PolicyResource, ResourceValidationArgs

from .props import UNKNOWN, Statement, json_value, known, statements, value

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def label(resource: PolicyResource | ResourceValidationArgs) -> str:
    """The physical name when known (what a reviewer finds in the console), else the logical one."""
    name = value(resource.props, "name")
    return name if isinstance(name, str) else resource.name


class Stack:
    def __init__(self, resources: list[PolicyResource]) -> None:
        self.resources = resources

    def of_type(self, type_: str) -> list[PolicyResource]:
        return [r for r in self.resources if r.resource_type == type_]

    def find(self, type_: str, wanted: Any, *keys: str) -> PolicyResource | None:
        """The resource of `type_` whose value at any of `keys` equals `wanted` (a known value)."""
        if not known(wanted) or wanted is None:
            return None
        for resource in self.of_type(type_):
            if any(value(resource.props, key) == wanted for key in keys):
                return resource
        return None

    def consumers(self) -> Iterator[tuple[PolicyResource, PolicyResource, PolicyResource | None]]:
        """(mapping, queue, function) for every event source mapping that reads a stack queue."""
        for mapping in self.of_type(MAPPING):
            queue = self.find(QUEUE, value(mapping.props, "eventSourceArn"), "arn")
            if queue is not None:
                function = self.find(FUNCTION, value(mapping.props, "functionName"), "arn", "name")
                yield mapping, queue, function

    def dead_letter_arns(self) -> set[str]:
        """Every queue ARN something sends its failures to: redrive targets and target DLQs."""
        redrives = [json_value(q.props, "redrivePolicy") for q in self.of_type(QUEUE)]
        arns = {value(r, "deadLetterTargetArn") for r in redrives if isinstance(r, dict)}
        arns |= {value(t.props, "deadLetterConfig", "arn") for t in self.of_type(EVENT_TARGET)}
        arns |= {
            value(s.props, "target", "deadLetterConfig", "arn") for s in self.of_type(SCHEDULE)
        }
        subscriptions = self.of_type("aws:sns/topicSubscription:TopicSubscription")
        redrives = [json_value(s.props, "redrivePolicy") for s in subscriptions]
        arns |= {value(r, "deadLetterTargetArn") for r in redrives if isinstance(r, dict)}
        return {a for a in arns if isinstance(a, str)}

    def role_statements(self, role: PolicyResource) -> list[Statement] | Any:
        """The statements of every inline policy on `role`; UNKNOWN while the role is new.

        A role whose id is known is referenced by known values, so a policy whose `role` is
        unknown belongs to some other, new role.
        """
        ids = {value(role.props, "id"), value(role.props, "name")}
        if not known(*ids):
            return UNKNOWN
        found: list[Statement] = []
        for policy in self.of_type(ROLE_POLICY):
            if value(policy.props, "role") in ids - {None}:
                document = json_value(policy.props, "policy")
                if not known(document):
                    return UNKNOWN
                found.extend(statements(document))
        return found
