"""Moto-backed fixtures for the consumers; builders live in handler_kit."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
)

from handler_kit import Cloud  # noqa: E402

from handlers.runtime import aws as runtime_aws  # noqa: E402
from handlers.runtime import consumer as runtime_consumer  # noqa: E402

# One boto3 session for the whole run: mock_aws() resets boto3's default session on every start,
# and each new session parses botocore's service models again (a quarter second a test). moto's
# own state is still fresh per test; the session only caches models and the env credentials.
_SESSION = boto3.session.Session()


@pytest.fixture
def cloud(monkeypatch):
    """A fresh moto account with the shared table, topic (-> queue), bus (-> queue) and bucket."""
    with mock_aws():
        boto3.DEFAULT_SESSION = _SESSION
        runtime_consumer._runtime.cache_clear()
        runtime_aws._client.cache_clear()
        yield Cloud(monkeypatch)
        runtime_consumer._runtime.cache_clear()
        runtime_aws._client.cache_clear()


@pytest.fixture
def meter(cloud):
    from handler_kit import DynamoMeter

    return DynamoMeter()


@pytest.fixture
def s3_meter(cloud):
    from handler_kit import S3Meter

    return S3Meter()
