"""Cost inside `pulumi preview`: the previewed resources priced by the project's own cost model.

`cost-estimate` (advisory) reports the stack's monthly estimate, its change against a baseline
estimate when the preview is given one, and the three largest contributors to the change.
`cost-budget` (mandatory) fails the preview when the estimate exceeds the stack's
`eda-platform:budget.monthly_usd`, or the change exceeds `max_increase_usd`.

There is no second implementation: the resources the engine hands the pack become the cost
model's `Resource`s (linked by the ARNs, URLs and names they hold, as for an offline run) and
are priced with the stack file's volumes. The pack runs from the repository (`policy/`), so it
reads `Pulumi.<stack>.yaml` there. A value still unknown in a preview (a new queue's ARN) cannot
link two resources; the estimate then leaves out what it cannot route, and the report names
each resource with unknown inputs.

The baseline is an estimate JSON (`costmodel estimate --format json`, e.g. of the base commit,
as the pull-request workflow's cost job produces), named by the policy config `baseline` or the
environment variable EDA_COST_BASELINE.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from costmodel.diff import diff
from costmodel.estimate import Estimate, load_model
from costmodel.report.document import EstimateFileError, read_estimate
from costmodel.resources import linked
from settings.load import ConfigError, from_stack_file
from settings.model import StackConfig

from .props import UNKNOWN, value

TOP = 3


@dataclass
class Priced:
    stack: str
    config: StackConfig
    estimate: Estimate
    unknown: list[str]  # resources with inputs unknown in this preview
    baseline: Estimate | None


def _stack(resources: list[PolicyResource]) -> str | None:
    """urn:pulumi:<stack>::<project>::<type>::<name>"""
    for resource in resources:
        return resource.urn.split(":")[2]
    return None


def _known(resource: PolicyResource) -> tuple[dict, bool]:
    props, complete = {}, True
    for key in resource.props:
        read = value(resource.props, key)
        if read is UNKNOWN:
            complete = False
        elif read is not None:
            props[key] = read
    return props, complete


def price(args: StackValidationArgs) -> Priced | None:
    stack = _stack(args.resources)
    if stack is None:
        return None
    config = from_stack_file(stack)
    declared, unknown = [], []
    for resource in args.resources:
        if resource.resource_type.startswith(("pulumi:", "eda:")):
            continue
        props, complete = _known(resource)
        if not complete:
            unknown.append(resource.name)
        declared.append((resource.urn, resource.resource_type, resource.name, props, props))
    estimate = load_model(stack, config=config, resources=linked(declared)).estimate()
    source = (args.get_config() or {}).get("baseline") or os.environ.get("EDA_COST_BASELINE")
    baseline = read_estimate(Path(source)) if source else None
    return Priced(stack, config, estimate, unknown, baseline)


def _summary(priced: Priced) -> str:
    total = priced.estimate.total
    text = f"stack {priced.stack}: estimated ${total:,.2f} a month"
    if priced.baseline is not None:
        change = diff(priced.baseline, priced.estimate)
        top = [
            f"{row.resource} ({row.service}) {row.change:+,.2f}"
            for row in change.resources.head(TOP).itertuples()
            if abs(row.change) >= 0.005
        ]
        text += (
            f", {change.change:+,.2f} against the baseline (${change.total_before:,.2f}); "
            f"largest changes: {', '.join(top) or 'none'}"
        )
    else:
        top = [f"{name} ${cost:,.2f}" for name, cost in priced.estimate.by("resource").head(TOP).items()]
        text += f"; largest: {', '.join(top)} (no baseline estimate given: no change shown)"
    if priced.unknown:
        text += (
            f"; not priced until known: inputs of {len(priced.unknown)} resource(s) are unknown "
            f"in this preview ({', '.join(sorted(priced.unknown)[:5])}"
            + (", ..." if len(priced.unknown) > 5 else "")
            + ")"
        )
    return text


def _priced_or_report(args: StackValidationArgs, report: ReportViolation) -> Priced | None:
    try:
        return price(args)
    except (ConfigError, EstimateFileError) as error:
        report(f"the cost model could not price this preview: {error}")
        return None


def check_estimate(args: StackValidationArgs, report: ReportViolation) -> None:
    priced = _priced_or_report(args, report)
    if priced is not None:
        report(_summary(priced))


def check_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    priced = _priced_or_report(args, report)
    if priced is None or priced.config.budget is None:
        return
    budget, total = priced.config.budget, priced.estimate.total
    if total > budget.monthly_usd:
        report(
            f"{_summary(priced)}: over the budget of ${budget.monthly_usd:,.2f} "
            f"(eda-platform:budget.monthly_usd) by ${total - budget.monthly_usd:,.2f}. Reduce the "
            "cost (see `costmodel estimate --stack <stack>` and its levers) or raise the budget."
        )
    if budget.max_increase_usd is not None and priced.baseline is not None:
        change = total - priced.baseline.total
        if change > budget.max_increase_usd:
            report(
                f"{_summary(priced)}: the increase of ${change:,.2f} exceeds "
                f"max_increase_usd=${budget.max_increase_usd:,.2f} (eda-platform:budget)."
            )


POLICIES = [
    StackValidationPolicy(
        name="cost-estimate",
        description="Reports the stack's monthly cost estimate, its change and the largest "
        "contributors.",
        enforcement_level=EnforcementLevel.ADVISORY,
        validate=check_estimate,
    ),
    StackValidationPolicy(
        name="cost-budget",
        description="The monthly estimate stays within the stack's budget (and increase cap).",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_budget,
    ),
]
