"""The event source mapping's poller: at most the mapping's maximum concurrency in flight, and a
batch settles by what the function's invocation returned."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from localcloud.downstream import Downstream
from localcloud.poller import Faults, MappingPoller
from localcloud.records import FunctionSpec
from localcloud.sandbox import FunctionLogs, Invocation
from localcloud.speedups import MotoQueues
from offline.program import ACCOUNT
from offline.readers import MappingInputs, Owner

REGION = "us-east-1"


class HeldFunction:
    """A function whose invocations finish only when the test says so."""

    def __init__(self) -> None:
        self.logs = FunctionLogs()
        self.cold_starts = 0
        self.running: list[Invocation] = []

    def invoke(self, event: dict) -> Invocation:
        invocation = Invocation(request_id=str(len(self.running)), event=event)
        self.running.append(invocation)
        return invocation

    def finish_all(self, failed: int = 0) -> None:
        """Each running invocation reports its first `failed` records as failures."""
        for invocation in self.running:
            records = invocation.event["Records"][:failed]
            failures = [{"itemIdentifier": r["messageId"]} for r in records]
            invocation.finish(response={"batchItemFailures": failures})
        self.running = []

    def poll(self) -> None:
        pass

    def waiting_on(self) -> list[int]:
        return []

    def end_input(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def queue():
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        attributes = {"VisibilityTimeout": "300"}
        url = sqs.create_queue(QueueName="work", Attributes=attributes)["QueueUrl"]
        for n in range(60):
            sqs.send_message(QueueUrl=url, MessageBody=f'{{"detail": {{"n": {n}}}}}')
        yield sqs, url


def poller(
    sqs, url: str, function: HeldFunction, *, maximum: int | None, environments: int
) -> MappingPoller:
    mapping = MappingInputs(
        queue_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:work",
        function_arn="f",
        batch_size=10,
        batching_window_s=0,
        maximum_concurrency=maximum,
        report_batch_item_failures=True,
        owner=Owner(None, None, None),
    )
    spec = FunctionSpec("f", "f", "handlers.x.handler", {}, timeout_s=30, memory_mb=128)
    faults = Faults()
    return MappingPoller(
        mapping, spec, function, sqs=sqs, queue_url=url, region=REGION, faults=faults,
        downstream=Downstream(faults), published_at={}, environments=environments,
        probe=MotoQueues(ACCOUNT, REGION).has_visible,
    )  # fmt: skip


@pytest.mark.parametrize(("maximum", "environments", "limit"), [(2, 5, 2), (None, 3, 3), (4, 1, 1)])
def test_in_flight_batches_never_exceed_the_mapping_or_the_environments(
    queue, maximum, environments, limit
):
    sqs, url = queue
    function = HeldFunction()
    mapping_poller = poller(sqs, url, function, maximum=maximum, environments=environments)
    for _ in range(10):
        mapping_poller.step()
    assert mapping_poller.limit == limit
    assert mapping_poller.in_flight == limit == mapping_poller.stats.max_in_flight
    function.finish_all()
    for _ in range(10):
        mapping_poller.step()
    assert mapping_poller.stats.max_in_flight == limit  # never more, also while refilling
    assert mapping_poller.stats.records_succeeded == 10 * limit


def test_reported_failures_return_to_the_queue_and_the_rest_is_deleted(queue):
    sqs, url = queue
    function = HeldFunction()
    mapping_poller = poller(sqs, url, function, maximum=None, environments=1)
    mapping_poller.step()
    (invocation,) = function.running
    failed_ids = {r["messageId"] for r in invocation.event["Records"][:3]}
    function.finish_all(failed=3)
    mapping_poller.step()  # settles the batch, then takes the next one
    assert (mapping_poller.stats.records_succeeded, mapping_poller.stats.records_failed) == (7, 3)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    total = sum(int(attributes[name]) for name in (
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"
    ))
    assert total == 60 - 7
    # Released at once (the documented speed-up), so the next batch starts with them.
    (following,) = function.running
    assert failed_ids <= {r["messageId"] for r in following.event["Records"]}
