"""publish(): schema-checked, batched PutEvents that retries only failed entries (issue test 12)."""

from __future__ import annotations

import json

import pytest
from handler_kit import BUS, order_created, order_updated

from handlers.producer import Event, EventValidationError, PublishError, entry_size, publish

SOURCE = "com.ascendion.orders"


class FlakyEvents:
    """The real (moto) client, except that chosen entries fail on chosen calls, unsent."""

    def __init__(self, client, fail: dict[int, dict[int, str]]) -> None:
        self.client, self.fail, self.calls = client, fail, []

    def put_events(self, Entries):
        call = len(self.calls)
        self.calls.append([json.loads(e["Detail"])["orderId"] for e in Entries])
        failing = self.fail.get(call, {})
        passing = [e for i, e in enumerate(Entries) if i not in failing]
        sent = iter(self.client.put_events(Entries=passing)["Entries"] if passing else [])
        results = [
            {"ErrorCode": failing[i], "ErrorMessage": "injected"} if i in failing else next(sent)
            for i in range(len(Entries))
        ]
        return {"FailedEntryCount": len(failing), "Entries": results}


@pytest.fixture
def bus(cloud):
    cloud.events.put_rule(
        Name="all-orders", EventBusName=BUS, EventPattern=json.dumps({"source": [SOURCE]})
    )
    queue = cloud._queue("all-orders")
    cloud.events.put_targets(
        Rule="all-orders", EventBusName=BUS, Targets=[{"Id": "q", "Arn": cloud._queue_arn(queue)}]
    )
    return lambda: sorted(json.loads(b)["detail"]["orderId"] for b in cloud.deliveries(queue))


def orders(n: int) -> list[Event]:
    return [Event("OrderUpdated", order_updated(f"o-{i:02}")) for i in range(n)]


def send(events, client, **kwargs):
    return publish(
        events,
        bus_name=BUS,
        source=SOURCE,
        domain="orders",
        client=client,
        base_delay_s=0,
        **kwargs,
    )


def test_partial_failure_resends_only_the_failed_entries(cloud, bus):
    client = FlakyEvents(cloud.events, fail={0: {1: "ThrottlingException", 3: "InternalFailure"}})
    result = send(orders(4), client)
    assert result.ok and len(result.sent) == 4
    assert client.calls == [["o-00", "o-01", "o-02", "o-03"], ["o-01", "o-03"]]
    assert bus() == ["o-00", "o-01", "o-02", "o-03"], "every event arrives exactly once"


def test_entries_that_keep_failing_are_reported_not_dropped(cloud, bus):
    client = FlakyEvents(
        cloud.events,
        fail={i: {0: "ThrottlingException"} for i in range(4)}
        | {0: {0: "ThrottlingException", 2: "AccessDeniedException"}},
    )
    result = send(orders(3), client, max_attempts=4)
    assert [(f.event.detail["orderId"], f.code) for f in result.failed] == [
        ("o-02", "AccessDeniedException"),
        ("o-00", "ThrottlingException"),
    ]
    assert len(client.calls) == 4 and client.calls[1:] == [["o-00"]] * 3
    assert bus() == ["o-01"]
    with pytest.raises(PublishError, match="2 event\\(s\\) not sent"):
        result.raise_for_failures()


def test_schema_invalid_event_is_rejected_before_any_call(cloud, bus):
    client = FlakyEvents(cloud.events, fail={})
    bad = Event("OrderCreated", order_created(customerEmail=None))
    with pytest.raises(
        EventValidationError,
        match=r"event #2 \(orders\): OrderCreated: detail.customerEmail: "
        r"None is not of type 'string'",
    ):
        send([*orders(2), bad], client)
    with pytest.raises(EventValidationError, match="detail: 'currency' is a required property"):
        send(
            [Event("OrderCreated", {k: v for k, v in order_created().items() if k != "currency"})],
            client,
        )
    with pytest.raises(EventValidationError, match="no schema for orders/OrderShipped"):
        send([Event("OrderShipped", {})], client)
    assert client.calls == [] and bus() == []


def test_batches_hold_at_most_ten_entries_and_respect_the_size_limit(cloud, bus):
    client = FlakyEvents(cloud.events, fail={})
    assert send(orders(23), client).ok
    assert [len(c) for c in client.calls] == [10, 10, 3]

    client = FlakyEvents(cloud.events, fail={})
    events = orders(5)
    limit = 2 * max(
        entry_size(
            {
                "Source": SOURCE,
                "DetailType": e.detail_type,
                "Detail": json.dumps(e.detail, separators=(",", ":")),
                "Time": 0,
            }
        )
        for e in events
    )
    assert send(events, client, max_batch_bytes=limit).ok
    assert [len(c) for c in client.calls] == [2, 2, 1]


def test_an_entry_over_the_size_limit_is_reported(cloud, bus):
    client = FlakyEvents(cloud.events, fail={})
    result = send(orders(2), client, max_batch_bytes=50)
    assert [f.code for f in result.failed] == [
        "EntryTooLarge",
        "EntryTooLarge",
    ] and client.calls == []
