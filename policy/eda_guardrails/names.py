"""AWS's length limits on the names the program composes (stack + domain + consumer): a name
over the limit fails `pulumi up` halfway, after part of the stack was created. The limits are
the ones the stack config enforces at load (settings.limits), applied to what was registered."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from settings import limits

from .props import value

LIMITS = {
    "aws:lambda/function:Function": limits.FUNCTION,
    "aws:cloudwatch/eventRule:EventRule": limits.RULE,
    "aws:sqs/queue:Queue": limits.QUEUE,
    "aws:pipes/pipe:Pipe": limits.PIPE,
    "aws:scheduler/schedule:Schedule": limits.SCHEDULE,
    "aws:cloudwatch/eventArchive:EventArchive": limits.ARCHIVE,
    "aws:iam/role:Role": limits.ROLE,
}


def check_name_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    limit = LIMITS.get(args.resource_type)
    name = value(args.props, "name")
    if limit is not None and isinstance(name, str) and len(name) > limit:
        report(
            f"{args.resource_type.rsplit(':', 1)[1]} name {name!r} has {len(name)} characters; "
            f"AWS allows at most {limit}. Shorten the stack, domain or consumer name."
        )


POLICIES = [
    ResourceValidationPolicy(
        name="aws-name-limits",
        description="Composed resource names stay within AWS's length limits.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_name_limits,
    ),
]
