"""`python -m costmodel actual`: a month's bill from AWS Cost Explorer beside the estimate.

    python -m costmodel actual --stack prod --month 2026-10 [--calibrate [--write]]
                               [--format table|md|json] [--stack-file PATH]

The month's UnblendedCost of everything tagged `eda:stack=<stack>`, per service and per
`eda:domain`, beside the estimate prorated to the month's hours; rows more than 25% off either
way are flagged (`actual.cost_explorer` reads the month, `actual.comparison` sets it beside the
estimate, `actual.render` shows it). `--calibrate` adds the month's SQS and Lambda metrics behind
failure_rate and batch_fill (`actual.calibrate`); `--write` puts the observed values into the
stack file (`actual.stack_file`).

The tags must be activated as cost-allocation tags (checked first, with ListCostAllocationTags);
until then Cost Explorer cannot filter or group by them. Exit codes: 0 done, 2 bad input or an
AWS refusal (the message names what is wrong and what is allowed).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console

from costmodel.actual import aws, render
from costmodel.actual.aws import ClientFactory
from costmodel.actual.calibrate import CalibrationError, consumer_queues, observe, propose
from costmodel.actual.comparison import THRESHOLD, compare
from costmodel.actual.cost_explorer import (
    CE_REGION,
    METRIC,
    ActualError,
    fetch_actuals,
    parse_month,
    utc,
)
from costmodel.actual.stack_file import StackFileError, write_assumptions
from costmodel.exits import EXIT_OK, bad_input
from settings.load import ROOT, ConfigError, stack_values
from settings.naming import TAG_DOMAIN, TAG_STACK

HELP = (
    "the month's actual cost (AWS Cost Explorer) beside the estimate, per service and per domain; "
    f"needs {TAG_STACK} and {TAG_DOMAIN} activated as cost-allocation tags"
)
DESCRIPTION = (
    f"Reads the month's {METRIC} of the resources tagged {TAG_STACK}=STACK from AWS Cost Explorer "
    f"(grouped by service and by {TAG_DOMAIN}) and sets it beside the estimate, flagging rows more "
    f"than {THRESHOLD:.0%} off. The tags {TAG_STACK} and {TAG_DOMAIN} must be activated as "
    "cost-allocation tags (Billing console → Cost allocation tags, or aws ce "
    "update-cost-allocation-tags-status); activation applies from then on, not to earlier months "
    "(unless a backfill is requested). "
    "Needs AWS credentials allowed ce:ListCostAllocationTags and ce:GetCostAndUsage (and "
    "cloudwatch:GetMetricData for --calibrate); Cost Explorer bills $0.01 per API request (a run "
    "makes three or more)."
)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register `actual` on costmodel's subparsers; the command runs `run(args, Console())`."""
    command = subparsers.add_parser("actual", help=HELP, description=DESCRIPTION)
    command.add_argument("--stack", required=True, help="Pulumi stack (Pulumi.<stack>.yaml)")
    command.add_argument(
        "--month", required=True, metavar="YYYY-MM",
        help="the calendar month to compare, up to the current one (cost to date)",
    )
    command.add_argument(
        "--calibrate", action="store_true",
        help="also read the month's SQS and Lambda metrics and propose failure_rate (received ÷ "
        "sent − 1) and batch_fill (received ÷ invocations ÷ batch_size), volume-weighted over "
        "the consumer queues, beside the configured values",
    )
    command.add_argument(
        "--write", action="store_true",
        help="with --calibrate: write the proposed values into the stack file under "
        "eda-platform:assumptions (a targeted edit: comments and layout kept)",
    )
    command.add_argument("--format", choices=("table", "md", "json"), default="table")
    command.add_argument(
        "--stack-file", type=Path, metavar="PATH",
        help="the stack file the config is read from and --write edits "
        "(default: Pulumi.<stack>.yaml)",
    )
    command.set_defaults(run=lambda args: run(args, Console()))
    return command


def run(args: argparse.Namespace, console: Console, *, client: ClientFactory | None = None,
        now: datetime | None = None) -> int:
    """The `actual` command. `client(service, region)` makes the boto3 clients (tests pass
    stubbed ones); `now` is the current time (UTC)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from costmodel.catalogue import CatalogueError
    from costmodel.resources import SourceError

    bad = (ActualError, CalibrationError, StackFileError, ConfigError, SourceError, CatalogueError)
    try:
        return _run(args, console, client or aws.boto_client, now or datetime.now(timezone.utc))
    except bad as exc:
        return bad_input(str(exc))
    except NoCredentialsError:
        return bad_input(
            "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY) for an identity allowed {aws.needed(args.calibrate)}"
        )
    except ClientError as exc:
        return bad_input(aws.refusal(exc, args.month, args.calibrate))
    except BotoCoreError as exc:
        return bad_input(
            f"AWS could not be queried ({exc}); check the network, region and credentials"
        )
    except OSError as exc:  # the stack file: unreadable, or --write not allowed to write it
        return bad_input(f"{exc.filename or 'the stack file'}: {exc.strerror or exc}")


def _run(args: argparse.Namespace, console: Console, client: ClientFactory, now: datetime) -> int:
    from costmodel.scenarios import model_from_values

    month = parse_month(args.month, now.date())
    if args.write and not args.calibrate:
        raise ActualError(
            "--write writes the values --calibrate proposes: give both "
            "(allowed: --calibrate --write)"
        )
    if args.stack_file is not None and not args.stack_file.is_file():
        raise ActualError(f"--stack-file {args.stack_file} does not exist (allowed: a Pulumi stack file)")
    path = args.stack_file or ROOT / f"Pulumi.{args.stack}.yaml"
    # The program runs on this file's config too, so resources and volumes come from one file.
    model = model_from_values(
        args.stack, stack_values(args.stack, path=args.stack_file), origin=path.name
    )
    config = model.config
    actuals = fetch_actuals(client("ce", CE_REGION), args.stack, month)
    observations = None
    if args.calibrate:
        start, end = utc(month.start), min(utc(month.end), now)
        queues = consumer_queues(config)
        observations = observe(client("cloudwatch", config.region), queues, start, end)
    estimate = model.estimate()
    comparison = compare(estimate, actuals, month, now)
    if observations is not None:
        configured = config.assumptions.model_dump()
        comparison.calibration = propose(args.stack, month.label, observations, configured)
        changes = comparison.calibration.changes
        if args.write:
            if changes:
                write_assumptions(path, args.stack, changes)
                comparison.written, comparison.written_values = str(path), changes
            else:
                comparison.calibration.notes.append(
                    f"{path.name} already holds the observed values: nothing written"
                )
    if args.format == "md":
        console.file.write(render.estimate_vs_actual_markdown(comparison))
    elif args.format == "json":
        console.file.write(render.to_json(comparison))
    else:
        for renderable in render.view(comparison):
            console.print(renderable)
    return EXIT_OK
