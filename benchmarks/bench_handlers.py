"""Consumer throughput per concurrency slot, against a DynamoDB that adds 5 ms per call.

    .venv/bin/python benchmarks/bench_handlers.py [--batches 30]

Two stand-ins sit behind the consumers' real boto3 client (serialisation, signing, parsing all
run); each waits 5 ms per call, a same-region round trip:

- `remote`: a `before-send` hook that sleeps, then answers 200 `{}` (every write accepted). The
  server's work happens elsewhere, as with DynamoDB, so this isolates what the handler costs.
- `moto`: the same sleep in front of moto's DynamoDB, which runs in this process. moto spends
  milliseconds of CPU per UpdateItem under the GIL, so its own work cannot overlap and it bounds
  any concurrent handler; shown so the two can be compared, not as the target.

The seed-style handler runs in the same process against the same stand-in: one conditional
PutItem per record, one record after another. The analytics consumer runs the same batches: one
conditional PutItem per record (its guard item is the count), records overlapping on threads now
that no counter item is shared (it was a two-item transaction per record, one record at a time).
Also measured: the handler module's import time in a fresh interpreter (a cold-start proxy) and
the first call, which builds the runtime and clients.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from botocore.awsrequest import AWSResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LATENCY_S = 0.005
BATCH = 10
TABLE = "bench-idempotency"
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench-orders-processor",
    "POWERTOOLS_SERVICE_NAME": "bench-orders-processor",
    "POWERTOOLS_METRICS_NAMESPACE": "eda/bench",
    # Batch summaries only: the benchmark measures the handler, not the terminal.
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "IDEMPOTENCY_TABLE": TABLE,
    "IDEMPOTENCY_KEY_PATH": "[detail.orderId, detail.version]",
    "IDEMPOTENCY_WINDOW_SECONDS": "2419200",
    "QUEUE_KIND": "standard",
    "EVENT_DOMAINS": '{"com.ascendion.orders": "orders"}',
}


class Context:
    aws_request_id = "bench"
    function_name = ENV["AWS_LAMBDA_FUNCTION_NAME"]
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def import_time_ms(runs: int = 5) -> float:
    probe = (
        "import time; t = time.perf_counter(); import handlers.order_processor; "
        "print(time.perf_counter() - t)"
    )
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples) * 1000


def batch_event() -> dict:
    records = []
    for _ in range(BATCH):
        order_id = f"o-{uuid.uuid4().hex[:12]}"
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "OrderUpdated",
            "source": "com.ascendion.orders",
            "account": "123456789012",
            "time": "2026-03-01T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "orderId": order_id,
                "version": 2,
                "status": "CONFIRMED",
                "updatedAt": "2026-03-01T10:00:00Z",
            },
        }
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "h",
                "body": json.dumps(event),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def seed_style_handler(client):
    """The seed's loop: a conditional put per record, awaited one after another."""

    def handler(event, context):
        failures = []
        for record in event["Records"]:
            body = json.loads(record["body"])
            try:
                client.put_item(
                    TableName=TABLE,
                    Item={
                        "id": {"S": body["id"]},
                        "expiration": {"N": str(int(time.time()) + 86_400)},
                    },
                    ConditionExpression="attribute_not_exists(id)",
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue
            except Exception:
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    return handler


def timed(handler, batches: int) -> float:
    samples = []
    for _ in range(batches):
        event = batch_event()
        started = time.perf_counter()
        response = handler(event, Context())
        samples.append(time.perf_counter() - started)
        assert response == {"batchItemFailures": []}, response
    return statistics.median(samples) * 1000


class _Body:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_):
        yield self._content


def remote_dynamodb(request, **_):
    """Answers like a DynamoDB that accepted the write, after a round trip's worth of waiting."""
    time.sleep(LATENCY_S)
    headers = {"x-amzn-requestid": str(uuid.uuid4()), "content-type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, 200, headers, _Body(b"{}"))


def slow_network(**_):
    time.sleep(LATENCY_S)


def measure(client, stand_in, batches: int) -> dict[str, float]:
    from handlers import analytics, order_processor

    calls = [0]

    def count(**_):
        calls[0] += 1

    client.meta.events.register_first("before-send.dynamodb", stand_in)
    client.meta.events.register_first("before-send.dynamodb", count)
    try:
        started = time.perf_counter()
        timed(order_processor.handler, 1)
        first_ms = (time.perf_counter() - started) * 1000
        calls[0] = 0
        ours_ms = timed(order_processor.handler, batches)
        ours_calls = calls[0] / (batches * BATCH)
        calls[0] = 0
        seed_ms = timed(seed_style_handler(client), batches)
        seed_calls = calls[0] / (batches * BATCH)
        timed(analytics.handler, 1)
        calls[0] = 0
        analytics_ms = timed(analytics.handler, batches)
        analytics_calls = calls[0] / (batches * BATCH)
    finally:
        client.meta.events.unregister("before-send.dynamodb", stand_in)
        client.meta.events.unregister("before-send.dynamodb", count)
    return {
        "ours": ours_ms,
        "seed": seed_ms,
        "ours_calls": ours_calls,
        "seed_calls": seed_calls,
        "first": first_ms,
        "analytics": analytics_ms,
        "analytics_calls": analytics_calls,
        "speedup": seed_ms / ours_ms,
        "records_per_s": BATCH / ours_ms * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()

    imported_ms = import_time_ms()
    os.environ.update(ENV)
    from moto import mock_aws

    from handlers.runtime import aws

    client = aws.client("dynamodb")
    # Outside mock_aws: botocore sends every request to the hook, which answers it; nothing
    # leaves the process.
    remote = measure(client, remote_dynamodb, args.batches)
    with mock_aws():
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        )
        moto = measure(client, slow_network, args.batches)

    print(
        f"DynamoDB stand-ins add {LATENCY_S * 1000:.0f} ms per call; "
        f"{args.batches} batches of {BATCH}, median wall time"
    )
    print(f"  {'':<44} {'remote':>9} {'moto':>9}  target")
    rows = [
        (
            "batch of 10, order processor",
            "ours",
            "{:.1f} ms",
            "< 20 ms (remote)",
            remote["ours"] < 20,
        ),
        ("batch of 10, seed-style handler", "seed", "{:.1f} ms", "", None),
        ("speed-up vs seed-style", "speedup", "{:.1f}x", ">= 3x (remote)", remote["speedup"] >= 3),
        (
            "DynamoDB calls per record, order processor",
            "ours_calls",
            "{:.2f}",
            "1: the write is the guard",
            remote["ours_calls"] == 1,
        ),
        ("DynamoDB calls per record, seed-style", "seed_calls", "{:.2f}", "", None),
        (
            "batch of 10, analytics",
            "analytics",
            "{:.1f} ms",
            "< 20 ms (remote)",
            remote["analytics"] < 20,
        ),
        (
            "DynamoDB calls per record, analytics",
            "analytics_calls",
            "{:.2f}",
            "1: the guard item is the count",
            remote["analytics_calls"] == 1,
        ),
        ("records/s per concurrency slot", "records_per_s", "{:.0f}", "", None),
        ("first call (runtime and clients built)", "first", "{:.0f} ms", "", None),
    ]
    for name, key, fmt, target, met in rows:
        values = [fmt.format(run[key]) for run in (remote, moto)]
        verdict = "" if met is None else ("  ok" if met else "  MISSED")
        print(f"  {name:<44} {values[0]:>9} {values[1]:>9}  {target}{verdict}")
    verdict = "ok" if imported_ms < 300 else "MISSED"
    print(
        f"  {'import handlers.order_processor (fresh)':<44} {imported_ms:>6.0f} ms {'':>9}"
        f"  < 300 ms  {verdict}"
    )


if __name__ == "__main__":
    main()
