"""boto3 clients, shared by every function the process serves and by the record threads.

Keyed by the region and endpoint in the environment at call time, so the emulator's swapped
environments each get a client for their own endpoint. boto3 clients are thread-safe.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retry mode backs off on throttling; short timeouts leave the invocation time to
# report the record as failed instead of being killed mid-batch.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return _client(service, region, os.environ.get("AWS_ENDPOINT_URL"))


@cache
def _client(service: str, region: str | None, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)
