"""`python -m ops verify | dlq inspect | dlq redrive | replay` against AWS or an emulator."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import boto3
from rich.console import Console
from rich.table import Table

from ops import dlq, replay
from ops.verify import Clients, verify
from settings.feeds import event_domains
from settings.load import ConfigError, from_stack_file


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: allowed: an ISO 8601 time, e.g. 2026-01-31T12:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    # AWS through the default credential chain, or any endpoint, e.g. a moto server:
    # `--endpoint-url http://127.0.0.1:5000 --emulator` adds the bridges moto needs.
    def target(command: argparse.ArgumentParser) -> None:
        command.add_argument("--endpoint-url", help="AWS by default; e.g. http://127.0.0.1:5000")
        command.add_argument(
            "--emulator", action="store_true", help="the endpoint is moto: use the bridges"
        )
        command.add_argument("--region", default=None)

    queues = commands.add_parser("dlq", help="inspect a DLQ or redrive it to its source")
    actions = queues.add_subparsers(dest="action", required=True)
    inspect = actions.add_parser("inspect", help="list a DLQ's messages with key and reason")
    inspect.add_argument("queue", help="DLQ name or URL")
    inspect.add_argument("--stack", required=True, help="stack name: Pulumi.<stack>.yaml must exist")
    inspect.add_argument(
        "--consumer",
        required=True,
        help="DOMAIN/CONSUMER whose DLQ it is: its idempotency_key and the schemas of the "
        "domains it reads judge the events",
    )
    target(inspect)
    redrive = actions.add_parser("redrive", help="move a DLQ's messages back to its source queue")
    redrive.add_argument("queue", help="DLQ name or URL")
    target(redrive)

    check = commands.add_parser(
        "verify", help="after `pulumi up`: send a canary down every route, report each one"
    )
    check.add_argument("--stack", required=True, help="stack name: Pulumi.<stack>.yaml must exist")
    check.add_argument(
        "--outputs",
        help="the stack's outputs as `pulumi stack output --json` prints them (default: run it)",
    )
    check.add_argument("--timeout", type=float, default=120, help="seconds to wait for receipts")
    target(check)

    window = commands.add_parser("replay", help="replay a bus archive for a time window")
    window.add_argument("--bus", required=True)
    window.add_argument("--archive", required=True)
    window.add_argument("--from", dest="start", type=_moment, required=True)
    window.add_argument("--to", dest="end", type=_moment, required=True)
    target(window)
    return root


def _client(service: str, args: argparse.Namespace):
    client = boto3.client(service, endpoint_url=args.endpoint_url, region_name=args.region)
    if not args.emulator:
        return client
    # Only an emulator endpoint needs the bridges for what moto lacks.
    from localcloud.bridged_clients import BridgedEvents, BridgedSqs
    from offline.program import ACCOUNT

    if service == "sqs":
        return BridgedSqs(client)
    return BridgedEvents(client, ACCOUNT, client.meta.region_name)


def _consumer(stack: str, named: str) -> tuple[str, dict[str, str]]:
    """A consumer's idempotency_key and the domains it reads (source -> domain)."""
    config = from_stack_file(stack)
    consumers = [f"{d}/{c}" for d, domain in config.domains.items() for c in domain.consumers]
    if named not in consumers:
        raise ConfigError(f"--consumer {named!r}: not a consumer of stack {stack!r}; allowed: {', '.join(consumers)}")
    domain_name, consumer_name = named.split("/")
    consumer = config.domains[domain_name].consumers[consumer_name]
    return consumer.idempotency_key, event_domains(config, domain_name, consumer_name)


def _queue_url(sqs, queue: str) -> str:
    if queue.startswith(("http://", "https://")):
        return queue
    return sqs.get_queue_url(QueueName=queue)["QueueUrl"]


class OutputsError(ValueError):
    """The stack's outputs could not be read."""


def _outputs(stack: str, path: str | None) -> dict:
    try:
        if path is not None:
            text = Path(path).read_text()
        else:
            text = subprocess.run(
                ["pulumi", "stack", "output", "--json", "--stack", stack],
                check=True, capture_output=True, text=True,
            ).stdout
        outputs = json.loads(text)
    except FileNotFoundError as error:
        raise OutputsError(
            f"cannot read the outputs of stack {stack!r}: {error.filename} not found (give "
            "--outputs FILE from `pulumi stack output --json`, or install the Pulumi CLI)"
        ) from None
    except subprocess.CalledProcessError as error:
        raise OutputsError(f"`pulumi stack output` failed: {error.stderr.strip()}") from None
    except json.JSONDecodeError as error:
        raise OutputsError(f"the outputs of stack {stack!r} are not JSON: {error}") from None
    if not isinstance(outputs, dict) or "idempotency_table" not in outputs:
        raise OutputsError(
            f"the outputs of stack {stack!r} lack idempotency_table: is this a stack of this "
            "program, deployed (`pulumi up`)?"
        )
    return outputs


def _verify_table(stack: str, results) -> Table:
    table = Table(title=f"Stack {stack!r}: one canary per route")
    for column in ("route", "result", "latency", "diagnosis"):
        table.add_column(column)
    for r in results:
        latency = f"{r.latency_s:.1f} s" if r.latency_s is not None else ""
        result = "delivered" if r.delivered else "[red]FAILED[/red]"
        table.add_row(r.route.name, result, latency, "; ".join(r.problems))
    return table


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=150)
    if args.command == "verify":
        try:
            config = from_stack_file(args.stack)
            outputs = _outputs(args.stack, args.outputs)
        except (ConfigError, OutputsError) as error:
            print(error, file=sys.stderr)
            return 2
        clients = Clients(*(_client(s, args) for s in ("events", "dynamodb", "sqs", "cloudwatch")))
        results = verify(config, outputs, clients, timeout_s=args.timeout)
        console.print(_verify_table(args.stack, results))
        failed = [r for r in results if not r.delivered]
        console.print(f"{len(results) - len(failed)} of {len(results)} routes delivered")
        return 1 if failed else 0
    if args.command == "dlq":
        sqs = _client("sqs", args)
        url = _queue_url(sqs, args.queue)
        if args.action == "inspect":
            try:
                key_path, domains = _consumer(args.stack, args.consumer)
            except ConfigError as error:
                print(error, file=sys.stderr)
                return 2
            table = Table(title=url)
            for column in ("message id", "type", "business key", "receives", "reason"):
                table.add_column(column)
            for e in dlq.inspect(sqs, url, domains=domains, key_path=key_path):
                table.add_row(e.message_id, e.detail_type, str(e.key), str(e.receive_count), e.reason)
            console.print(table)
        else:
            console.print(f"moved {dlq.redrive(sqs, url)} message(s) from {url} to its source queue")
        return 0
    try:
        state = replay.replay(
            _client("events", args),
            bus_name=args.bus,
            archive_name=args.archive,
            start=args.start,
            end=args.end,
        )
    except ValueError as error:
        cli.error(str(error))
    console.print(
        f"replay of {args.archive} [{args.start.isoformat()}, {args.end.isoformat()}): {state}"
    )
    return 0 if state == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())
