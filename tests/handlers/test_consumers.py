"""What each consumer does beyond the shared guarantees: issue test 11 and their specifics."""

from __future__ import annotations

import json

import boto3
import pytest
from handler_kit import (
    BUCKET,
    SCENARIOS,
    eb_event,
    failed_ids,
    failure_reasons,
    function,
    invoke,
    order_created,
    order_updated,
    payment,
)
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from handlers import analytics, audit_logger, fulfillment, notification_sender, order_processor
from handlers.logic import notify, templates

BY_NAME = {s.name: s for s in SCENARIOS}


# 11: audit --------------------------------------------------------------------------------------
def test_audit_retries_never_duplicate_or_overwrite(cloud):
    s = BY_NAME["audit_logger"]
    env = s.env(cloud)
    event = eb_event("PaymentCaptured", payment(), domain="payments")
    assert failed_ids(invoke(audit_logger, env, s.record(event))) == []
    [(key, body)] = cloud.archive().items()
    etag = cloud.s3.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert key.startswith("audit/payments/dt=2026-03-01/") and key.endswith(".json")
    assert json.loads(body) == event

    resent = {**event, "id": "re-sent", "time": "2026-03-04T00:00:00Z"}
    conflicting = s.record(eb_event("PaymentCaptured", payment(amount=1.0), domain="payments"))
    assert failed_ids(invoke(audit_logger, env, s.record(event), s.record(resent))) == []
    assert failed_ids(invoke(audit_logger, env, conflicting)) == [conflicting["messageId"]]

    assert cloud.archive() == {key: body}
    assert cloud.s3.head_object(Bucket=BUCKET, Key=key)["ETag"] == etag


def test_audit_key_is_deterministic_and_date_partitioned_by_the_business_date(cloud):
    s = BY_NAME["audit_logger"]
    env = s.env(cloud)
    for sequence, day in ((1, "2026-03-01"), (2, "2026-03-02")):
        detail = payment(sequence=sequence, occurredAt=f"{day}T23:59:59+00:00")
        invoke(audit_logger, env, s.record(eb_event("PaymentCaptured", detail, domain="payments")))
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
    record = s.record(s.event(customerName="Ada & <b>Co</b>"))
    assert failed_ids(invoke(notification_sender, env, record)) == []
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert sent.subject == "Order o-1 received"
    assert "Ada &amp; &lt;b&gt;Co&lt;/b&gt;" in sent.body


# order state ------------------------------------------------------------------------------------
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


# analytics --------------------------------------------------------------------------------------
def test_counters_per_type_and_day_and_per_function_in_one_process(cloud):
    """One module, two functions (orders and payments), environments swapped around each call."""
    orders_env = BY_NAME["analytics"].env(cloud, "orders-analytics")
    payments_env = BY_NAME["analytics"].env(
        cloud,
        "payments-analytics",
        DOMAIN="payments",
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
    )

    counters = {i["id"]["S"]: int(i["count"]["N"]) for i in cloud.items() if "count" in i}
    assert counters == {
        "orders-analytics#count#OrderCreated#2026-03-01": 3,
        "orders-analytics#count#OrderUpdated#2026-03-02": 1,
        "payments-analytics#count#PaymentCaptured#2026-03-01": 1,
    }


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


def test_fulfillment_fails_the_record_when_the_hand_off_cannot_be_sent(cloud):
    s = BY_NAME["fulfillment"]
    record = s.record(eb_event("OrderUpdated", order_updated()))
    assert failed_ids(invoke(fulfillment, s.env(cloud, EVENT_BUS_NAME="no-such-bus"), record)) == [
        record["messageId"]
    ]
    assert cloud.items() == [], "the mark is removed so the retry hands off again"


# settings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "variable"),
    [
        (order_processor, "IDEMPOTENCY_TABLE"),
        (order_processor, "IDEMPOTENCY_KEY_PATH"),
        (order_processor, "AWS_LAMBDA_FUNCTION_NAME"),
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
    ],
)
def test_a_bad_value_is_named_and_idempotency_cannot_be_switched_off(cloud, variable, value):
    s = BY_NAME["notification_sender"]
    with pytest.raises(RuntimeError, match=variable):
        invoke(notification_sender, s.env(cloud, **{variable: value}), s.record(s.event()))


def test_event_id_key_only_when_configured_and_logged_as_such(cloud, caplog):
    s = BY_NAME["order_processor"]
    env = s.env(cloud, "orders-by-event-id", IDEMPOTENCY_KEY_PATH="id")
    record = s.record(s.event())
    assert failed_ids(invoke(order_processor, env, record)) == [record["messageId"]]
    assert "order state needs a key of [order id, integer version]" in (
        failure_reasons(caplog)[record["messageId"]]
    )
    assert any("EventBridge event id" in r.getMessage() for r in caplog.records)

    n = BY_NAME["notification_sender"]
    n.prepare(cloud)
    env = n.env(cloud, IDEMPOTENCY_KEY_PATH="id")
    event = n.event()
    invoke(notification_sender, env, n.record(event), n.record(event))
    invoke(notification_sender, env, n.record({**event, "id": "re-sent"}))
    assert len(cloud.deliveries(cloud.notifications)) == 2, "a re-send is a new key by event id"
