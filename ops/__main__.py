"""`python -m ops dlq inspect | dlq redrive | replay` against AWS or an emulator endpoint."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

import boto3
from rich.console import Console
from rich.table import Table

from ops import dlq, replay


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
    inspect.add_argument(
        "--domain", required=True, help="the domain whose schemas judge the events"
    )
    inspect.add_argument(
        "--key-path", required=True, help="the consumer's idempotency_key (JMESPath)"
    )
    target(inspect)
    redrive = actions.add_parser("redrive", help="move a DLQ's messages back to its source queue")
    redrive.add_argument("queue", help="DLQ name or URL")
    target(redrive)

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
    from localcloud.bridges import BridgedEvents, BridgedSqs
    from offline.program import ACCOUNT

    if service == "sqs":
        return BridgedSqs(client)
    return BridgedEvents(client, ACCOUNT, client.meta.region_name)


def _queue_url(sqs, queue: str) -> str:
    if queue.startswith(("http://", "https://")):
        return queue
    return sqs.get_queue_url(QueueName=queue)["QueueUrl"]


def main(argv: list[str] | None = None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=150)
    if args.command == "dlq":
        sqs = _client("sqs", args)
        url = _queue_url(sqs, args.queue)
        if args.action == "inspect":
            table = Table(title=url)
            for column in ("message id", "type", "business key", "receives", "reason"):
                table.add_column(column)
            for e in dlq.inspect(sqs, url, domain=args.domain, key_path=args.key_path):
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
