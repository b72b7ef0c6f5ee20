"""Policy documents: every one the program generates, resource policies scoped to the sending
resource, and no wildcard grants on the services that hold the platform's data."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .props import Statement, as_list, json_value, known, statements, value
from .stack import ROLE, ROLE_POLICY

QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"

# Resource type -> the property that holds a policy document.
POLICY_DOCUMENTS = {
    ROLE: "assumeRolePolicy",
    ROLE_POLICY: "policy",
    "aws:iam/policy:Policy": "policy",
    QUEUE_POLICY: "policy",
    TOPIC_POLICY: "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
    KEY: "policy",
}
# Documents that do not grant access to data: a trust policy names who may assume a role, and in
# a key policy "Resource": "*" means "this key" (key policies cannot name any other resource).
NOT_DATA_GRANTS = {(ROLE, "assumeRolePolicy"), (KEY, "policy")}
# Services whose actions read or write the platform's data: messages, items, objects, events,
# function code, keys, logs. (Some control-plane actions, e.g. cloudwatch:PutMetricData or
# xray:PutTraceSegments, only accept "*" and are deliberately not listed.)
DATA_PLANE = {
    "sqs",
    "sns",
    "s3",
    "dynamodb",
    "events",
    "scheduler",
    "lambda",
    "kms",
    "logs",
    "ses",
    "kinesis",
    "firehose",
    "secretsmanager",
}


def policy_documents(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(property, parsed document) for every known policy document a resource carries."""
    key = POLICY_DOCUMENTS.get(resource_type)
    if key is not None:
        document = json_value(props, key)
        if known(document) and document:
            yield key, document
    if resource_type == ROLE:
        for inline in as_list(value(props, "inlinePolicies", default=[])):
            document = json_value(inline, "policy") if isinstance(inline, Mapping) else None
            if known(document) and document:
                yield "inlinePolicies", document


def _service_principal_or_anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and (
        "Service" in principal or principal.get("AWS") == "*"
    )


def check_scoped_by_source_arn(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (QUEUE_POLICY, TOPIC_POLICY):
        return
    for _, document in policy_documents(args.resource_type, args.props):
        for s in statements(document):
            if (
                s.allows
                and _service_principal_or_anyone(s.principal)
                and ("aws:sourcearn" not in s.condition_keys())
            ):
                report(
                    f"{args.name}: statement {s.sid or '(no Sid)'} allows {s.principal} to "
                    f"{', '.join(s.actions)} without an aws:SourceArn condition, so any rule or "
                    "topic of any account can use it (confused deputy). Add Condition ArnEquals "
                    "aws:SourceArn = the rule or topic that sends."
                )


def _wildcards(s: Statement) -> list[str]:
    """What in an Allow statement is a wildcard on data: `*` actions, `svc:*`, `*` resources."""
    found = []
    data_actions = [a for a in s.actions if a == "*" or a.split(":")[0].lower() in DATA_PLANE]
    found += [f"action {a}" for a in data_actions if a == "*" or a.endswith(":*")]
    if data_actions and "*" in s.resources:
        found.append(f"resource * for {', '.join(data_actions)}")
    return found


def check_no_wildcard_grants(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for key, document in policy_documents(args.resource_type, args.props):
        if (args.resource_type, key) in NOT_DATA_GRANTS:
            continue
        for s in statements(document):
            found = _wildcards(s) if s.allows else []
            if found:
                report(
                    f"{args.name}: statement {s.sid or '(no Sid)'} grants {'; '.join(found)}. Name "
                    "the exact actions the code calls and the ARNs of the queues, topics, tables, "
                    "buses or objects it touches."
                )


POLICIES = [
    ResourceValidationPolicy(
        name="resource-policy-scoped-by-source-arn",
        description="Queue and topic policies admit AWS services only for a named aws:SourceArn.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_scoped_by_source_arn,
    ),
    ResourceValidationPolicy(
        name="no-wildcard-data-plane-grants",
        description="No policy allows * actions or * resources on data-plane services.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_no_wildcard_grants,
    ),
]
