"""Event source mappings: partial batch failures, FIFO limits, pollers the function can serve."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .props import known, value
from .stack import MAPPING, Stack, label

FIFO_MAX_BATCH = 10
# Stream, Kafka and DocumentDB mappings need a starting position and MQ mappings name queues;
# SQS mappings have neither. Used only while the source ARN is unknown (a queue created in the
# same preview).
_NOT_SQS_KEYS = ("startingPosition", "queues", "topics", "selfManagedEventSource")


def _source_arn(args: ResourceValidationArgs):
    return value(args.props, "eventSourceArn")


def _reads_sqs(args: ResourceValidationArgs) -> bool:
    source = _source_arn(args)
    if isinstance(source, str):
        return source.split(":")[2:3] == ["sqs"]
    # Key names only: reading the values could hit unknowns.
    return not set(args.props) & set(_NOT_SQS_KEYS)


def check_reports_batch_item_failures(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    if args.resource_type != MAPPING or not _reads_sqs(args):
        return
    types = value(args.props, "functionResponseTypes", default=[])
    if known(types) and "ReportBatchItemFailures" not in types:
        report(
            f"event source mapping {args.name}: without function_response_types="
            "['ReportBatchItemFailures'] one failed record sends the whole batch back to the "
            "queue, so records that succeeded run again. Add it (and return batchItemFailures "
            "from the handler)."
        )


def check_fifo_mapping_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    source = _source_arn(args)
    if args.resource_type != MAPPING or not (isinstance(source, str) and source.endswith(".fifo")):
        return
    window = value(args.props, "maximumBatchingWindowInSeconds", default=0)
    batch = value(args.props, "batchSize", default=FIFO_MAX_BATCH)
    if known(window) and window > 0:
        report(
            f"event source mapping {args.name} reads FIFO queue {source} with "
            f"maximumBatchingWindowInSeconds={int(window)}: FIFO sources take no batching window. "
            "Remove maximum_batching_window_in_seconds (batching_window_s: 0)."
        )
    if known(batch) and batch > FIFO_MAX_BATCH:
        report(
            f"event source mapping {args.name} reads FIFO queue {source} with batchSize="
            f"{int(batch)}: FIFO allows at most {FIFO_MAX_BATCH}. "
            f"Set batch_size <= {FIFO_MAX_BATCH}."
        )


def check_concurrency_within_reserved(args: StackValidationArgs, report: ReportViolation) -> None:
    for mapping, _, function in Stack(args.resources).consumers():
        if function is None:
            continue
        maximum = value(mapping.props, "scalingConfig", "maximumConcurrency")
        # pulumi_aws uses -1 (the default) for "no reserved concurrency".
        reserved = value(function.props, "reservedConcurrentExecutions", default=-1)
        if not known(maximum, reserved) or reserved < 0:
            continue
        if maximum is None:
            report(
                f"event source mapping {mapping.name} sets no maximum concurrency while function "
                f"{label(function)} reserves {int(reserved)}: the pollers take more batches than "
                "the function can run, and each throttled batch counts toward maxReceiveCount. "
                f"Set scaling_config.maximum_concurrency <= {int(reserved)}.",
                mapping.urn,
            )
        elif maximum > reserved:
            report(
                f"event source mapping {mapping.name} may run {int(maximum)} pollers but function "
                f"{label(function)} has reserved concurrency {int(reserved)}: the surplus batches "
                "are throttled, and throttled receives push valid messages toward the DLQ. Set "
                f"maximum_concurrency <= {int(reserved)} or raise reserved_concurrency.",
                mapping.urn,
            )


POLICIES = [
    ResourceValidationPolicy(
        name="sqs-mapping-reports-batch-item-failures",
        description="Every SQS event source mapping reports batch item failures.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_reports_batch_item_failures,
    ),
    ResourceValidationPolicy(
        name="fifo-mapping-limits",
        description="FIFO event source mappings have no batching window and batch size <= 10.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_fifo_mapping_limits,
    ),
    StackValidationPolicy(
        name="mapping-concurrency-within-reserved",
        description="A mapping's maximum concurrency does not exceed its function's reserved "
        "concurrency.",
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=check_concurrency_within_reserved,
    ),
]
