"""Usage of the platform's shared pieces: the customer-managed key and its requests, alarms and
dashboards; and the warning for events no rule routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from costmodel.usage import KMS_DATA_KEY_REUSE_S, SECONDS_PER_MONTH, amount
from settings.naming import StackNames

if TYPE_CHECKING:
    from costmodel.usage.model import UsageModel

FREE_DASHBOARD_METRICS = 50  # the three free dashboards show up to 50 metrics each
STANDARD_ALARM_PERIOD_S = 60  # shorter periods are high-resolution alarms


def platform(model: UsageModel) -> None:
    t = model.topology
    if t.customer_keys:
        model.add("KMS", "platform-key", "customer-managed keys", "kms.key", 0, t.customer_keys,
                  f"{t.customer_keys} key(s); SSE-SQS and AWS-owned keys have no key fee")
        topics_and_tables = len(t.topics) + len(t.tables)
        requests = SECONDS_PER_MONTH / KMS_DATA_KEY_REUSE_S * 2 * topics_and_tables
        model.add("KMS", "platform-key", "requests (topics and table)", "kms.requests", 0, requests,
                  f"{topics_and_tables} topics/tables × 2 principals × one data key per "
                  f"{KMS_DATA_KEY_REUSE_S} s (assumed reuse, as SQS)")
    names = StackNames(model.config.stack)
    standard = [a for a in t.alarms if a.period_s >= STANDARD_ALARM_PERIOD_S]
    if standard:
        model.add("CloudWatch", names.alarm_topic, "alarms", "cloudwatch.alarm.standard", 0,
                  len(standard), f"{len(standard)} standard-resolution metric alarms")
    if len(standard) < len(t.alarms):
        model.warnings.append(
            f"{len(t.alarms) - len(standard)} high-resolution alarms (period under 60 s) are "
            "not priced (the catalogue has no high-resolution alarm item)"
        )
    if t.dashboards:
        model.add("CloudWatch", names.alarm_topic, "dashboards", "cloudwatch.dashboard", 0,
                  len(t.dashboards),
                  f"{len(t.dashboards)} dashboards: " + ", ".join(d.name for d in t.dashboards))
        crowded = [d.name for d in t.dashboards if d.metrics > FREE_DASHBOARD_METRICS]
        if crowded:
            model.warnings.append(
                f"dashboards over {FREE_DASHBOARD_METRICS} metrics ({', '.join(crowded)}) are "
                "not among the free ones; priced as if they were"
            )
    for key, volume in model.flows.unrouted.items():
        model.warnings.append(f"{key}: {amount(volume)} events a month match no rule (put, then dropped)")
