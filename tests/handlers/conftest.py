"""Moto-backed fixtures for the consumers; builders live in handler_kit."""

from __future__ import annotations

import os

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


@pytest.fixture
def cloud(monkeypatch):
    """A fresh moto account with the shared table, topic (-> queue), bus (-> queue) and bucket."""
    with mock_aws():
        runtime_consumer._runtime.cache_clear()
        runtime_aws._client.cache_clear()
        yield Cloud(monkeypatch)
        runtime_consumer._runtime.cache_clear()
        runtime_aws._client.cache_clear()


@pytest.fixture
def meter(cloud):
    from handler_kit import DynamoMeter

    return DynamoMeter()
