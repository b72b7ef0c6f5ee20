"""The deployment: the program's resources really exist in moto, and nothing is dropped silently."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from localcloud.deploy import deploy
from tests.localcloud.conftest import local_config


@pytest.fixture(scope="module")
def deployment():
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        yield deploy("local", session, config=local_config()), session


def test_every_cloud_resource_is_accounted_for_exactly_once(deployment):
    result, _ = deployment
    custom = [r.name for r in result.inventory.resources if r.custom]
    report = result.report
    emulated = {line.name for line in report.emulated}
    others = [line.name for line in report.bridged + report.played + report.not_emulated]
    # A bridged resource may carry two notes (e.g. alarm + relay) but is never also "emulated".
    assert not emulated & set(others)
    assert sorted(emulated | set(others)) == sorted(custom)


def test_moto_gaps_are_reported_with_reasons(deployment):
    report = deployment[0].report
    not_emulated = {line.type for line in report.not_emulated}
    assert {"aws:schemas/registry:Registry", "aws:schemas/schema:Schema", "aws:scheduler/schedule:Schedule"} <= not_emulated
    bridged = " ".join(line.detail for line in report.bridged)
    assert "SNS" in bridged and "bridge 'pipe'" in bridged and "dlq-alarm" in bridged
    assert all(line.detail for line in report.not_emulated + report.bridged)


def test_per_entity_fifo_is_a_bridged_pipe_with_its_dynamic_group(deployment):
    result, session = deployment
    (pipe,) = result.pipes
    assert pipe.source_arn.endswith("local-payments-audit-staging.fifo")
    assert pipe.target_arn.endswith("local-payments-audit.fifo")
    assert pipe.message_group_id == "$.body.detail.paymentId"
    assert pipe.message_deduplication_id == "$.body.id"
    held = session.client("pipes").describe_pipe(Name=pipe.name)
    assert held["TargetParameters"]["SqsQueueParameters"]["MessageGroupId"] == pipe.message_group_id
    # No rule target is relayed for a group path any more: EventBridge sends groups literally.
    assert not [r for r in result.relays if r.message_group_id]


def test_queues_carry_the_declared_redrive_policy(deployment):
    result, session = deployment
    sqs = session.client("sqs")
    url = result.exports["payments"]["queue_urls"]["audit"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 5
    assert redrive["deadLetterTargetArn"].endswith("local-payments-audit-dlq.fifo")
    assert attributes["FifoQueue"] == "true" and attributes["ContentBasedDeduplication"] == "true"
    assert attributes["VisibilityTimeout"] == "300"


def test_functions_get_the_program_environment_and_mappings_their_settings(deployment):
    result, _ = deployment
    by_name = {f.name: f for f in result.functions.values()}
    audit = by_name["local-payments-audit"]
    assert audit.handler == "handlers.audit_logger.handler"
    assert audit.environment["QUEUE_KIND"] == "fifo"
    assert audit.environment["ARCHIVE_BUCKET"] == result.exports["archive_bucket"]
    analytics = next(m for m in result.mappings if m.queue_arn.endswith("local-orders-analytics"))
    assert (analytics.batch_size, analytics.batching_window_s, analytics.report_batch_item_failures) == (100, 1, True)
