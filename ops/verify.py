"""After `pulumi up`: prove that every declared route delivers, and say why one does not.

For each route (`ops.routes`) one canary event goes on the bus of the route's rule (the
consumer's domain's, or another's it reads `also_from`); the consumer records its receipt in the
idempotency table instead of applying it (`handlers.runtime.canary`). A route is delivered when
its receipt appears; otherwise the diagnosis reads what the stack holds: where
the canary stopped (the consumer's DLQ, the bus's delivery DLQ, a topic's delivery DLQ), whether
the queue's policy admits its sender, whether the rule has its target, and the alarms firing.
Some failures are visible without sending anything (a queue policy that no longer admits the
rule): on AWS EventBridge would dead-letter the canary; moto, which evaluates no queue policy,
would deliver it anyway, so verify reads the policy itself.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.runtime.canary import MARKER, receipt_id
from ops.routes import Route, routes
from settings.model import StackConfig
from settings.naming import StackNames


@dataclass
class Result:
    route: Route
    canary: str
    sent_at: float = 0.0
    latency_s: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return self.latency_s is not None and not self.problems


@dataclass(frozen=True)
class Clients:
    events: Any
    dynamodb: Any
    sqs: Any
    cloudwatch: Any


def verify(
    config: StackConfig,
    outputs: dict[str, Any],
    clients: Clients,
    *,
    timeout_s: float = 120,
    poll_s: float = 2,
    pump: Callable[[], Any] | None = None,
) -> list[Result]:
    """Send a canary down every route and wait for the receipts; `pump` advances an in-process
    emulator between polls (on AWS the services run by themselves)."""
    run = uuid.uuid4().hex[:12]
    results = [Result(route, f"{run}-{i}") for i, route in enumerate(routes(config))]
    for result in results:
        _static_checks(outputs, clients, result)
        if result.route.detail_type is None:
            result.problems.append(
                "no declared event type matches this route's pattern: it can never deliver"
            )
            continue
        _send(config, outputs, clients, result)
    deadline = time.monotonic() + timeout_s
    pending = [r for r in results if r.route.detail_type is not None]
    while pending and time.monotonic() < deadline:
        if pump is not None:
            pump()
        for result in list(pending):
            received = _receipt(outputs, clients, result)
            if received is not None:
                result.latency_s = max(0.0, received - result.sent_at)
                pending.remove(result)
        if pending:
            time.sleep(poll_s)
    for result in pending:
        result.problems.append(f"no receipt within {timeout_s:.0f} s")
        result.problems += _where_it_stopped(outputs, clients, result)
    firing = _firing_alarms(config, clients)
    for result in results:
        if result.problems and firing:
            result.problems.append("alarms firing: " + ", ".join(firing))
    return results


def _function(outputs: dict[str, Any], route: Route) -> str:
    return outputs[route.domain]["function_names"][route.consumer]


def _send(config: StackConfig, outputs: dict, clients: Clients, result: Result) -> None:
    route = result.route
    bus = route.feed.bus_domain
    response = clients.events.put_events(
        Entries=[
            {
                "EventBusName": outputs[bus]["bus_name"],
                "Source": config.domains[bus].source,
                "DetailType": route.detail_type,
                "Detail": json.dumps(route.detail),
                "Resources": [MARKER + result.canary],
            }
        ]
    )
    result.sent_at = time.time()
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        result.problems.append(
            f"PutEvents refused the canary: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )


def _receipt(outputs: dict, clients: Clients, result: Result) -> float | None:
    item = clients.dynamodb.get_item(
        TableName=outputs["idempotency_table"],
        Key={"id": {"S": receipt_id(_function(outputs, result.route), result.canary)}},
        ConsistentRead=True,
    ).get("Item")
    return int(item["receivedAt"]["N"]) / 1000 if item else None


def _holds(clients: Clients, url: str | None, canary: str) -> bool:
    """Whether a queue holds the canary (read without consuming: visibility back to 0)."""
    if not url:
        return False
    found = False
    seen: set[str] = set()
    while batch := clients.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=30
    ).get("Messages", []):
        fresh = [m for m in batch if m["MessageId"] not in seen]
        seen |= {m["MessageId"] for m in batch}
        found = found or any(MARKER + canary in m["Body"] for m in batch)
        clients.sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(batch)
            ],
        )
        if found or not fresh:
            break
    return found


def _where_it_stopped(outputs: dict, clients: Clients, result: Result) -> list[str]:
    route = result.route
    domain, bus = outputs[route.domain], outputs[route.feed.bus_domain]
    places = [
        (domain["dlq_urls"].get(route.consumer), "in the consumer's DLQ: the function failed "
         "on it (see its log group and Errors metric)"),
        (bus.get("delivery_dlq_url"), "in the bus's delivery DLQ: EventBridge could not "
         "deliver to the rule's target (permissions, key, or a missing target)"),
    ]
    topic = route.feed.topic
    if topic is not None:
        places.append((domain.get("topic_delivery_dlq_urls", {}).get(topic),
                       f"in topic {topic}'s delivery DLQ: SNS could not deliver to the queue"))
    stopped = [where for url, where in places if _holds(clients, url, result.canary)]
    return stopped or ["not in any DLQ: still in flight, or dropped (no rule matched?)"]


def _static_checks(outputs: dict, clients: Clients, result: Result) -> None:
    """What a route needs besides a message: a rule with its target, a queue that admits it."""
    route, feed = result.route, result.route.feed
    bus = outputs[feed.bus_domain]
    if route.via.startswith("schedule"):
        return  # the schedule's event takes the feed's rule, checked on that feed's route
    rule = bus["rule_names"][feed.subscriber]
    try:
        targets = clients.events.list_targets_by_rule(Rule=rule, EventBusName=bus["bus_name"])
    except clients.events.exceptions.ResourceNotFoundException:
        result.problems.append(f"rule {rule} does not exist")
        return
    if not targets.get("Targets"):
        result.problems.append(f"rule {rule} has no target: every matching event is dropped")
    if feed.topic is not None:
        return  # the topic's policy admits the rule; the queue admits the topic (SNS checks)
    queue = outputs[route.domain]["ingress_urls"][route.consumer]
    policy = clients.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])
    document = json.loads(policy.get("Attributes", {}).get("Policy") or "{}")
    admitted = [
        arn
        for s in document.get("Statement", [])
        if s.get("Effect") == "Allow" and s.get("Principal") == {"Service": "events.amazonaws.com"}
        for arn in _as_list(s.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn"))
    ]
    rule_arn = bus["rule_arns"][feed.subscriber]
    if rule_arn not in admitted:
        result.problems.append(
            f"the policy of {queue.rsplit('/', 1)[-1]} does not admit rule {rule}: EventBridge "
            "would send every event to the delivery DLQ"
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _firing_alarms(config: StackConfig, clients: Clients) -> list[str]:
    prefix = StackNames(config.stack).alarm_prefix
    pages = clients.cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, StateValue="ALARM"
    )
    return sorted(a["AlarmName"] for page in pages for a in page.get("MetricAlarms", []))
