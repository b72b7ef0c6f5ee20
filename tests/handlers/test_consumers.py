"""What each consumer does beyond the shared guarantees: issue test 11 and their specifics."""

from __future__ import annotations

import itertools
import json

import boto3
import pytest
from handler_kit import (
    ALL_SCENARIOS,
    BUCKET,
    SCENARIOS,
    SOURCES,
    TABLE,
    batch_lines,
    eb_event,
    fail_calls,
    failed_ids,
    failure_reasons,
    failures,
    function,
    invoke,
    order_created,
    order_updated,
    payment,
)
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from handlers import analytics, audit_logger, fulfillment, notification_sender, order_processor
from handlers.catalog import HANDLERS
from handlers.logic import notify, templates
from handlers.logic.audit_archive import (
    BATCH_PREFIX,
    archived_key_counts,
    archived_pairs,
    key_hash_of,
)
from handlers.logic.daily_counters import daily_counts
from handlers.logic.order_state import order_item_id
from handlers.runtime import aws as runtime_aws
from handlers.runtime.envelope import digest

BY_NAME = {s.name: s for s in SCENARIOS}
BY_ID = {s.id: s for s in ALL_SCENARIOS}
AUDIT = [s for s in ALL_SCENARIOS if s.name == "audit_logger"]


# 11: audit --------------------------------------------------------------------------------------
def test_audit_retries_never_duplicate_or_overwrite(cloud):
    s = BY_ID["audit_logger-per-event"]
    env = s.env(cloud)
    event = eb_event("PaymentCaptured", payment(), domain="payments")
    assert failed_ids(invoke(audit_logger, env, s.record(event))) == []
    [(key, body)] = cloud.archive().items()
    etag = cloud.s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert key.startswith("audit/payments/dt=2026-03-01/") and key.endswith(".json")
    assert json.loads(body) == event
    assert key_hash_of(key) == digest(["p-1", 1])

    resent = {**event, "id": "re-sent", "time": "2026-03-04T00:00:00Z"}
    conflicting = s.record(eb_event("PaymentCaptured", payment(amount=1.0), domain="payments"))
    assert failed_ids(invoke(audit_logger, env, s.record(event), s.record(resent))) == []
    assert failed_ids(invoke(audit_logger, env, conflicting)) == [conflicting["messageId"]]

    assert cloud.archive() == {key: body}
    assert cloud.s3.head_object(Bucket=BUCKET, Key=key)["ETag"] == etag


def test_audit_per_batch_writes_one_object_per_batch_and_a_retry_adds_nothing(
    cloud, s3_meter, caplog
):
    s = BY_ID["audit_logger"]
    assert s.spec is HANDLERS["audit_logger"], "per-batch is the shipped layout"
    env = s.env(cloud)
    events = [
        eb_event("PaymentCaptured", payment(sequence=i), domain="payments") for i in (1, 2, 3, 4)
    ]
    records = [s.record(e) for e in events]
    assert failed_ids(invoke(audit_logger, env, *records)) == []
    assert s3_meter.calls["PutObject"] == 1
    [(key, body)] = cloud.archive().items()
    assert (
        key.startswith(f"audit/payments/dt=2026-03-01/{BATCH_PREFIX}") and key_hash_of(key) is None
    )
    lines = [json.loads(line) for line in body.splitlines()]
    assert [line["detail"]["sequence"] for line in lines] == [1, 2, 3, 4], "batch order"
    assert lines[0] == {
        **events[0],
        "key_hash": digest(["p-1", 1]),
        "payload_hash": digest(events[0]["detail"]),
    }

    # The same batch again (a retry after a crash, say): the same name, refused, nothing added.
    redelivered = [s.record(e, message_id=r["messageId"]) for e, r in zip(events, records)]
    assert failed_ids(invoke(audit_logger, env, *redelivered)) == []
    assert cloud.archive() == {key: body}
    assert batch_lines(caplog)[-1].outcomes == {"duplicate": 4}

    # SQS regroups: two of them with a new event. A second object repeats them; the view does not.
    new = eb_event("PaymentCaptured", payment(sequence=5), domain="payments")
    assert failed_ids(invoke(audit_logger, env, *(s.record(e) for e in (*events[2:], new)))) == []
    assert len(cloud.archive()) == 2
    physical = [pair for k, b in cloud.archive().items() for pair in archived_pairs(k, b)]
    assert len(physical) == 7
    assert archived_key_counts(cloud.archive().items()) == {
        digest(["p-1", n]): 1 for n in (1, 2, 3, 4, 5)
    }


def test_audit_per_batch_write_failure_fails_every_staged_record(cloud, caplog):
    s = BY_ID["audit_logger"]
    env = s.env(cloud)
    good = [
        s.record(eb_event("PaymentCaptured", payment(sequence=i), domain="payments"))
        for i in (1, 2)
    ]
    poison = s.record(
        eb_event("PaymentCaptured", payment(sequence=3, amount=-1), domain="payments")
    )
    after = s.record(eb_event("PaymentCaptured", payment(sequence=4), domain="payments"))
    fail_calls("s3", "PutObject", RuntimeError("SlowDown"))

    response = invoke(audit_logger, env, *good, poison, after)
    assert failed_ids(response) == [r["messageId"] for r in (*good, poison, after)]
    assert cloud.archive() == {}
    found = failures(caplog)
    assert [found[r["messageId"]]["kind"] for r in (*good, poison)] == [
        "retryable",
        "retryable",
        "poison",
    ]
    assert found[good[0]["messageId"]]["reason"] == "RuntimeError: SlowDown"
    [line] = batch_lines(caplog)
    assert [(h["messageId"], h["blockedBy"]) for h in line.heldBack] == [
        (after["messageId"], poison["messageId"])
    ]

    assert failed_ids(invoke(audit_logger, env, *good, after)) == []
    assert sum(archived_key_counts(cloud.archive().items()).values()) == 3


@pytest.mark.parametrize("s", AUDIT, ids=lambda s: s.id)
def test_audit_key_is_deterministic_and_date_partitioned_by_the_business_date(s, cloud):
    env = s.env(cloud)
    records = [
        s.record(
            eb_event(
                "PaymentCaptured",
                payment(sequence=sequence, occurredAt=f"{day}T23:59:59+00:00"),
                domain="payments",
            )
        )
        for sequence, day in ((1, "2026-03-01"), (2, "2026-03-02"))
    ]
    # One batch spanning two business days: one object per day either way.
    assert failed_ids(invoke(audit_logger, env, *records)) == []
    assert [k.split("/")[2] for k in sorted(cloud.archive())] == ["dt=2026-03-01", "dt=2026-03-02"]


# 11: notifications ------------------------------------------------------------------------------
def test_missing_template_variable_fails_before_sending(cloud, monkeypatch, caplog):
    s = BY_NAME["notification_sender"]
    s.prepare(cloud)
    monkeypatch.setitem(templates.TEMPLATES, "OrderCreated.html", "<p>{{ detail.loyaltyTier }}</p>")
    notify.environment.cache_clear()
    record = s.record(s.event())
    try:
        assert failed_ids(invoke(notification_sender, s.env(cloud), record)) == [
            record["messageId"]
        ]
    finally:
        notify.environment.cache_clear()
    assert cloud.deliveries(cloud.notifications) == []
    assert "loyaltyTier" in failure_reasons(caplog)[record["messageId"]]
    assert cloud.items() == [], "a failed render must leave no idempotency mark behind"


def test_html_in_event_data_is_escaped(cloud):
    s = BY_NAME["notification_sender"]
    s.prepare(cloud)
    record = s.record(s.event(customerName='<script>alert("x")</script>'))
    assert failed_ids(invoke(notification_sender, s.env(cloud), record)) == []
    [message] = cloud.deliveries(cloud.notifications)
    assert "<script>" not in message
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in message


def test_ses_channel_sends_email_to_the_customer(cloud):
    s = BY_NAME["notification_sender"]
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="shop@example.com")
    env = s.env(cloud, NOTIFY_CHANNEL="ses", NOTIFY_FROM="shop@example.com")
    event = s.event(orderId="o-1", customerName="Ada & <b>Co</b>", customerEmail="ada@example.com")
    record = s.record(event)
    assert failed_ids(invoke(notification_sender, env, record)) == []
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert sent.subject == "Order o-1 received"
    assert "Ada &amp; &lt;b&gt;Co&lt;/b&gt;" in sent.body


# order state (issue #12 A) ----------------------------------------------------------------------
def _order(cloud, order_id: str = "o-1") -> dict:
    return cloud.item(order_item_id("orders-order_processor", order_id))


def _state(item: dict) -> dict:
    """The order's business fields as stored (without the bookkeeping attributes)."""
    skip = {"id", "expiration", "payloadHash", "lastEventType", "version"}

    def value(attribute: dict):
        kind, data = next(iter(attribute.items()))
        return float(data) if kind == "N" else data

    return {k: value(v) for k, v in item.items() if k not in skip and "@" not in k}


def test_order_state_keeps_the_newest_version(cloud):
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    events = [
        eb_event("OrderCreated", order_created()),
        eb_event("OrderUpdated", order_updated(version=3, status="PACKED")),
        eb_event("OrderUpdated", order_updated(version=2, status="CONFIRMED")),  # arrives late
    ]
    for event in events:
        assert failed_ids(invoke(order_processor, env, s.record(event))) == []
    [order] = cloud.items()
    assert order["id"]["S"] == "orders-order_processor#order#o-1"
    assert (order["version"]["N"], order["status"]["S"], order["customerId"]["S"]) == (
        "3",
        "PACKED",
        "c-1",
    )
    assert int(order["expiration"]["N"]) > 0


def test_an_older_version_redelivered_after_a_newer_one_still_contributes_its_fields(
    cloud, meter, caplog
):
    """v1 fails downstream, v2 is applied, v1 is redelivered: its fields are not lost."""
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    created = eb_event("OrderCreated", order_created())
    v1 = s.record(created)
    fail_calls("dynamodb", "UpdateItem", RuntimeError("connection reset"))
    assert failed_ids(invoke(order_processor, env, v1)) == [v1["messageId"]]
    assert _order(cloud) is None

    assert (
        failed_ids(
            invoke(order_processor, env, s.record(eb_event("OrderUpdated", order_updated())))
        )
        == []
    )
    meter.reset()
    redelivered = s.record(created, message_id=v1["messageId"], receive_count=2)
    assert failed_ids(invoke(order_processor, env, redelivered)) == []
    assert batch_lines(caplog)[-1].outcomes == {"merged": 1}
    assert meter.units == 2, "the failed newer-version write, then the merge"

    order = _order(cloud)
    assert _state(order) == {
        "orderId": "o-1",
        "status": "CONFIRMED",
        "updatedAt": "2026-03-01T11:00:00Z",
        "customerId": "c-1",
        "customerName": "Ada",
        "customerEmail": "ada@example.com",
        "total": 10.0,
        "currency": "EUR",
        "createdAt": "2026-03-01T10:00:00Z",
    }
    assert (order["version"]["N"], order["lastEventType"]["S"]) == ("2", "OrderUpdated")
    assert meter.largest_item < 1024, "one write unit per write, as the catalogue prices it"

    # Once more: nothing left to give, nothing written.
    meter.reset()
    assert failed_ids(invoke(order_processor, env, redelivered)) == []
    assert batch_lines(caplog)[-1].outcomes == {"superseded": 1}
    assert meter.units == 1 and _order(cloud) == order


def test_each_field_ends_with_the_newest_version_that_carried_it_in_any_arrival_order(cloud):
    """customerEmail is optional in OrderUpdated: v2 changes it, v3 does not carry it."""
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    versions = {
        1: lambda o: eb_event("OrderCreated", order_created(o, customerEmail="old@example.com")),
        2: lambda o: eb_event(
            "OrderUpdated", order_updated(o, 2, "CONFIRMED", customerEmail="new@example.com")
        ),
        3: lambda o: eb_event(
            "OrderUpdated", order_updated(o, 3, "PACKED", updatedAt="2026-03-02T08:00:00Z")
        ),
    }
    states = {}
    for n, order in enumerate(itertools.permutations(versions)):
        order_id = f"o-{n}"
        for version in order:
            record = s.record(versions[version](order_id))
            assert failed_ids(invoke(order_processor, env, record)) == []
        states[order] = {k: v for k, v in _state(_order(cloud, order_id)).items() if k != "orderId"}
    expected = states[(1, 2, 3)]
    assert expected["customerEmail"] == "new@example.com" and expected["status"] == "PACKED"
    assert expected["updatedAt"] == "2026-03-02T08:00:00Z" and expected["customerId"] == "c-1"
    assert all(state == expected for state in states.values()), states


def test_a_field_stored_without_its_version_is_never_overwritten(cloud):
    """Items written before fields carried their version: an older event only fills gaps."""
    s = BY_NAME["order_processor"]
    cloud.ddb.put_item(
        TableName=TABLE,
        Item={
            "id": {"S": order_item_id("orders-order_processor", "o-1")},
            "version": {"N": "2"},
            "status": {"S": "CONFIRMED"},
            "customerEmail": {"S": "kept@example.com"},
            "payloadHash": {"S": "x"},
        },
    )
    v1 = s.record(eb_event("OrderCreated", order_created()))
    assert failed_ids(invoke(order_processor, s.env(cloud), v1)) == []
    state = _state(_order(cloud))
    assert state["customerEmail"] == "kept@example.com" and state["customerId"] == "c-1"


def test_a_newer_version_landing_during_a_merge_is_not_overwritten(cloud, meter, caplog):
    s = BY_NAME["order_processor"]
    env = s.env(cloud)
    invoke(order_processor, env, s.record(eb_event("OrderUpdated", order_updated(version=2))))
    v3 = eb_event(
        "OrderUpdated", order_updated(version=3, status="PACKED", customerEmail="v3@example.com")
    )
    calls = []

    def race(model, **_):
        # Between v1's failed write and its merge, v3 is applied by another invocation.
        calls.append(model.name)
        if model.name == "UpdateItem" and len(calls) == 2:
            invoke(order_processor, env, s.record(v3))

    runtime_aws.client("dynamodb").meta.events.register("before-call.dynamodb", race)
    v1 = s.record(eb_event("OrderCreated", order_created()))
    assert failed_ids(invoke(order_processor, env, v1)) == []
    runtime_aws.client("dynamodb").meta.events.unregister("before-call.dynamodb", race)
    # v1's write, its merge (refused: v3 landed first), v3's write, v1's merge again.
    assert calls == ["UpdateItem"] * 4
    assert batch_lines(caplog)[-1].outcomes == {"merged": 1}
    state = _state(_order(cloud))
    assert state["customerEmail"] == "v3@example.com", "v1's email would have been older"
    assert state["customerId"] == "c-1" and state["status"] == "PACKED"


# analytics --------------------------------------------------------------------------------------
def test_counts_per_type_and_day_and_per_function_in_one_process(cloud, meter):
    """One module, two functions (orders and payments), environments swapped around each call."""
    orders_env = BY_NAME["analytics"].env(cloud, "orders-analytics")
    payments_env = BY_NAME["analytics"].env(
        cloud,
        "payments-analytics",
        EVENT_DOMAINS=json.dumps({SOURCES["payments"]: "payments"}),
        IDEMPOTENCY_KEY_PATH="[detail.paymentId, detail.sequence]",
    )
    s = BY_NAME["analytics"]
    invoke(
        analytics,
        orders_env,
        *[s.record(eb_event("OrderCreated", order_created(f"o-{i}"))) for i in range(3)],
    )
    invoke(
        analytics, payments_env, s.record(eb_event("PaymentCaptured", payment(), domain="payments"))
    )
    invoke(
        analytics,
        orders_env,
        s.record(eb_event("OrderUpdated", order_updated(), time="2026-03-02T00:00:00Z")),
        # A re-send on another day is the same event: counted once, on its first day.
        s.record(eb_event("OrderCreated", order_created("o-0"), time="2026-03-02T00:00:00Z")),
    )
    assert meter.calls == {"PutItem": 6} and meter.units == 6

    assert daily_counts(cloud.items(), "orders-analytics") == {
        ("OrderCreated", "2026-03-01"): 3,
        ("OrderUpdated", "2026-03-02"): 1,
    }
    assert daily_counts(cloud.items(), "payments-analytics") == {
        ("PaymentCaptured", "2026-03-01"): 1
    }
    assert not any("count" in i for i in cloud.items()), "no counter items any more"


def test_counts_include_the_earlier_designs_counter_items(cloud):
    """Days counted before the switch stay in their counter items (which never expire)."""
    cloud.ddb.put_item(
        TableName=TABLE,
        Item={
            "id": {"S": "orders-analytics#count#OrderCreated#2026-02-28"},
            "count": {"N": "41"},
            "detailType": {"S": "OrderCreated"},
            "day": {"S": "2026-02-28"},
        },
    )
    cloud.ddb.put_item(  # an old-style guard: counted in its counter already
        TableName=TABLE,
        Item={"id": {"S": "orders-analytics#" + "0" * 64}, "payloadHash": {"S": "x"}},
    )
    s = BY_NAME["analytics"]
    invoke(
        analytics,
        s.env(cloud, "orders-analytics"),
        s.record(eb_event("OrderCreated", order_created(), time="2026-02-28T23:00:00Z")),
    )
    assert daily_counts(cloud.items(), "orders-analytics") == {("OrderCreated", "2026-02-28"): 42}


# fulfillment ------------------------------------------------------------------------------------
def test_fulfillment_hands_off_with_a_follow_up_event(cloud):
    s = BY_NAME["fulfillment"]
    event = eb_event("OrderUpdated", order_updated())
    assert failed_ids(invoke(fulfillment, s.env(cloud), s.record(event))) == []
    [body] = cloud.deliveries(cloud.follow_ups)
    follow_up = json.loads(body)
    assert (follow_up["source"], follow_up["detail-type"]) == (
        "com.ascendion.orders",
        "FulfillmentRequested",
    )
    assert follow_up["detail"]["orderId"] == "o-1"
    assert follow_up["detail"]["trigger"] == {
        "source": "com.ascendion.orders",
        "detailType": "OrderUpdated",
        "eventId": event["id"],
    }


@pytest.mark.parametrize(
    "s", [s for s in ALL_SCENARIOS if s.name == "fulfillment"], ids=lambda s: s.id
)
def test_fulfillment_fails_the_record_when_the_hand_off_cannot_be_sent(s, cloud):
    record = s.record(eb_event("OrderUpdated", order_updated()))
    assert failed_ids(invoke(fulfillment, s.env(cloud, EVENT_BUS_NAME="no-such-bus"), record)) == [
        record["messageId"]
    ]
    assert cloud.items() == [], "no record (or the mark removed), so the retry hands off again"


@pytest.mark.parametrize(
    ("before", "after"), [("powertools", "conditional-write"), ("conditional-write", "powertools")]
)
def test_switching_the_guard_keeps_recognising_what_the_other_recorded(cloud, before, after):
    """Both guards write Powertools' record layout, so a function can change IDEMPOTENCY_GUARD
    without a duplicate slipping through in either direction."""
    s = BY_NAME["fulfillment"]
    event = eb_event("OrderUpdated", order_updated())
    assert (
        failed_ids(invoke(fulfillment, s.env(cloud, IDEMPOTENCY_GUARD=before), s.record(event)))
        == []
    )
    [record] = cloud.items()
    assert (record["status"]["S"], record["data"]["S"]) == ("COMPLETED", '"applied"')

    resent = s.record({**event, "id": "re-sent"})
    assert failed_ids(invoke(fulfillment, s.env(cloud, IDEMPOTENCY_GUARD=after), resent)) == []
    assert len(cloud.deliveries(cloud.follow_ups)) == 1
    changed = s.record(eb_event("OrderUpdated", order_updated(status="PACKED")))
    response = invoke(fulfillment, s.env(cloud, IDEMPOTENCY_GUARD=after), changed)
    assert failed_ids(response) == [changed["messageId"]], "payload validation carries over too"


# notifications: guard and channel --------------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [{}, {"NOTIFY_CHANNEL": "ses", "NOTIFY_FROM": "shop@example.com"}],
    ids=["standard-sns", "ses"],
)
def test_the_cheaper_notification_guard_is_refused_without_a_deduplicating_target(cloud, extra):
    s = BY_NAME["notification_sender"]
    s.prepare(cloud)
    env = s.env(cloud, IDEMPOTENCY_GUARD="conditional-write", **extra)
    with pytest.raises(RuntimeError, match="IDEMPOTENCY_GUARD=conditional-write needs a target"):
        invoke(notification_sender, env, s.record(s.event()))


def test_a_fifo_topic_gets_the_key_hash_as_deduplication_id(cloud):
    s = BY_ID["notification_sender-conditional-write"]
    s.prepare(cloud)
    event = s.event()
    assert failed_ids(invoke(notification_sender, s.env(cloud), s.record(event))) == []
    [message] = cloud.sqs.receive_message(
        QueueUrl=cloud.notifications, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    key_hash = digest([event["detail"]["orderId"], event["detail"]["version"]])
    assert message["Attributes"]["MessageDeduplicationId"] == key_hash
    assert message["MessageAttributes"][notify.KEY_HASH_ATTRIBUTE]["StringValue"] == key_hash
    [record] = cloud.items()
    assert record["status"]["S"] == "COMPLETED" and "in_progress_expiration" not in record


# custom metrics -----------------------------------------------------------------------------------
def _emf(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if '"_aws"' in line]


@pytest.mark.parametrize("s", ALL_SCENARIOS, ids=lambda s: s.id)
def test_custom_metrics_are_off_unless_the_function_turns_them_on(s, cloud, capsys):
    s.prepare(cloud)
    env = {k: v for k, v in s.env(cloud).items() if k != "POWERTOOLS_METRICS_NAMESPACE"}
    assert failed_ids(invoke(s.module, env, s.record(s.event()))) == []
    assert _emf(capsys.readouterr().out) == [], "off by default, and needs no namespace"

    on = s.env(cloud, "metered", CUSTOM_METRICS="on")
    first, second = s.events(2)
    assert failed_ids(invoke(s.module, on, s.record(second), s.record(first))) == []
    [blob] = _emf(capsys.readouterr().out)
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "eda/test" and directive["Dimensions"] == [["service"]]
    names = {m["Name"] for m in directive["Metrics"]}
    assert names <= set(s.spec.custom_metrics) and {"Records", "RecordsApplied"} <= names

    with pytest.raises(RuntimeError, match="POWERTOOLS_METRICS_NAMESPACE"):
        invoke(s.module, {**on, "POWERTOOLS_METRICS_NAMESPACE": ""}, s.record(s.event()))


# settings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "variable"),
    [
        (order_processor, "IDEMPOTENCY_TABLE"),
        (order_processor, "IDEMPOTENCY_KEY_PATH"),
        (order_processor, "AWS_LAMBDA_FUNCTION_NAME"),
        # Required: the program always sets it, there is no default window.
        (order_processor, "IDEMPOTENCY_WINDOW_SECONDS"),
        (audit_logger, "ARCHIVE_BUCKET"),
        (fulfillment, "EVENT_BUS_NAME"),
        (notification_sender, "NOTIFY_TOPIC_ARN"),
    ],
)
def test_a_missing_variable_is_named(cloud, module, variable):
    name = module.__name__.rpartition(".")[2]
    env = {k: v for k, v in BY_NAME[name].env(cloud).items() if k != variable}
    with function({variable: ""}), pytest.raises(RuntimeError, match=variable):
        invoke(module, env, BY_NAME[name].record(BY_NAME[name].event()))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("QUEUE_KIND", "lifo"),
        ("IDEMPOTENCY_WINDOW_SECONDS", "a week"),
        ("IDEMPOTENCY_KEY_PATH", "[detail."),
        ("NOTIFY_CHANNEL", "pigeon"),
        ("POWERTOOLS_IDEMPOTENCY_DISABLED", "true"),
        ("IDEMPOTENCY_GUARD", "none"),
        ("CUSTOM_METRICS", "sometimes"),
    ],
)
def test_a_bad_value_is_named_and_idempotency_cannot_be_switched_off(cloud, variable, value):
    s = BY_NAME["notification_sender"]
    with pytest.raises(RuntimeError, match=variable):
        invoke(notification_sender, s.env(cloud, **{variable: value}), s.record(s.event()))


def test_a_layout_the_audit_logger_does_not_have_is_named(cloud):
    s = BY_NAME["audit_logger"]
    with pytest.raises(
        RuntimeError, match="ARCHIVE_OBJECTS='per-day'; allowed: per-batch, per-event"
    ):
        invoke(audit_logger, s.env(cloud, ARCHIVE_OBJECTS="per-day"), s.record(s.event()))


def test_event_id_key_only_when_configured_and_logged_as_such(cloud, caplog):
    s = BY_NAME["order_processor"]
    env = s.env(cloud, "orders-by-event-id", IDEMPOTENCY_KEY_PATH="id")
    record = s.record(s.event())
    assert failed_ids(invoke(order_processor, env, record)) == [record["messageId"]]
    assert (
        "order state needs a key of [order id, integer version]"
        in (failure_reasons(caplog)[record["messageId"]])
    )
    assert any("EventBridge event id" in r.getMessage() for r in caplog.records)

    n = BY_NAME["notification_sender"]
    n.prepare(cloud)
    env = n.env(cloud, IDEMPOTENCY_KEY_PATH="id")
    event = n.event()
    invoke(notification_sender, env, n.record(event), n.record(event))
    invoke(notification_sender, env, n.record({**event, "id": "re-sent"}))
    assert len(cloud.deliveries(cloud.notifications)) == 2, "a re-send is a new key by event id"
