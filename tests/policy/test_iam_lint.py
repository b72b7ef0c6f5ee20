"""Every policy document the program generates passes parliament (duo-labs' IAM linter).

Findings ignored, each for a reason parliament cannot know:
- trust policies (a role's assumeRolePolicy) have no Resource by design; parliament reads every
  document as an identity policy and calls that MALFORMED;
- in a KMS key policy "Resource": "*" means "this key" (a key policy cannot name another
  resource), which parliament reports as RESOURCE_STAR.
Nothing else is ignored, at any severity.
"""

from __future__ import annotations

import json

import pytest
from eda_guardrails.iam import policy_documents
from parliament import analyze_policy_string, enhance_finding
from policy_harness import SHIPPED_STACKS

from offline.program import run

# (resource type, document property, parliament issue, detail fragment or "" for any)
IGNORED = {
    ("aws:iam/role:Role", "assumeRolePolicy", "MALFORMED", "neither Resource nor NotResource"),
    ("aws:kms/key:Key", "policy", "RESOURCE_STAR", ""),
}


def lint(document: dict) -> list:
    findings = analyze_policy_string(json.dumps(document), ignore_private_auditors=True).findings
    return [enhance_finding(f) for f in findings]


def ignore_rule(type_: str, key: str, finding) -> tuple | None:
    """The IGNORED entry that covers `finding`, if any."""
    return next(
        (
            r
            for r in IGNORED
            if (type_, key, finding.issue) == r[:3] and r[3] in str(finding.detail)
        ),
        None,
    )


@pytest.fixture(scope="module")
def documents():
    """(stack, resource type, resource name, property, document) for every generated document."""
    found = []
    for stack in SHIPPED_STACKS:
        for r in run(stack).resources:
            found += [
                (stack, r.type, r.name, key, doc) for key, doc in policy_documents(r.type, r.inputs)
            ]
    return found


def test_every_kind_of_document_is_linted(documents):
    linted = {type_ for _, type_, *_ in documents}
    assert linted >= {
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:cloudwatch/eventBusPolicy:EventBusPolicy",  # prod admits a producer account
        "aws:kms/key:Key",
    }


def test_generated_documents_pass_parliament(documents):
    reported = [
        f"{stack} {name}.{key}: {f.issue} ({f.severity}) {f.detail}"
        for stack, type_, name, key, doc in documents
        for f in lint(doc)
        if ignore_rule(type_, key, f) is None
    ]
    assert reported == []


def test_every_ignore_rule_is_still_needed(documents):
    used = {ignore_rule(type_, key, f) for _, type_, _, key, doc in documents for f in lint(doc)}
    assert used - {None} == IGNORED


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Action": "sqs:ReceiveMessage", "Resource": "*"}, "RESOURCE_STAR"),
        ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::archive"}, "RESOURCE_MISMATCH"),
        (
            {"Action": "sqs:ReceiveMessages", "Resource": "arn:aws:sqs:us-east-1:1:q"},
            "UNKNOWN_ACTION",
        ),
    ],
)
def test_the_linter_can_fail(statement, issue):
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}
    assert issue in {f.issue for f in lint(document)}
