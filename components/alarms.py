"""CloudWatch alarms on the paths where an event can be lost or stuck: each notifies the stack's
alarm topic when it fires and when it clears."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from settings.naming import alarm_name


def alarm(
    name: str,
    *,
    watched: str,
    what: str,
    description: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, pulumi.Input[str]],
    topic_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
    statistic: str = "Sum",
    threshold: float = 0,
    periods: int = 1,
) -> aws.cloudwatch.MetricAlarm:
    """`statistic` of `metric` per minute above `threshold` for `periods` minutes; by default
    it fires on the first failure counted in a minute.

    Missing data is not breaching: failure metrics (EventBridge, SNS, Scheduler, Pipes) are
    published only when something failed, and an idle queue publishes nothing.
    """
    return aws.cloudwatch.MetricAlarm(
        name,
        name=alarm_name(watched, what),
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        period=60,
        evaluation_periods=periods,
        threshold=threshold,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
