"""Talking to AWS for `actual`: the clients, every page of a paginated call, and an AWS refusal
said in one line that names the permission it needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

ClientFactory = Callable[[str, str], Any]  # (service, region) -> a boto3 client

PERMISSIONS = {
    "ListCostAllocationTags": "ce:ListCostAllocationTags",
    "GetCostAndUsage": "ce:GetCostAndUsage",
    "GetMetricData": "cloudwatch:GetMetricData",
}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
NO_DATA = {"ValidationException", "DataUnavailableException"}


def boto_client(service: str, region: str) -> Any:
    import boto3  # only this command talks to AWS; the others need no boto3 import

    return boto3.client(service, region_name=region)


def pages(call: Callable[..., dict], request: dict[str, Any], token: str) -> Iterator[dict]:
    """Every page of `call(**request)`: the next request carries the page's `token` (the key
    the API uses in both, e.g. NextToken) until a page has none."""
    while True:
        page = call(**request)
        yield page
        if not page.get(token):
            return
        request = {**request, token: page[token]}


def needed(calibrate: bool) -> str:
    """The permissions a run needs."""
    operations = ["ListCostAllocationTags", "GetCostAndUsage"]
    if calibrate:
        operations.append("GetMetricData")
    return ", ".join(PERMISSIONS[o] for o in operations)


def refusal(exc: Any, month: str, calibrate: bool) -> str:
    """A botocore ClientError as one line: what AWS refused and what would be allowed."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", "Error"), error.get("Message", "")
    operation = exc.operation_name
    text = f"AWS refused {operation} ({code}: {message})" if message else (
        f"AWS refused {operation} ({code})"
    )
    if code in DENIED:
        return (
            f"{text}: the credentials need {PERMISSIONS.get(operation, operation)} (this command: "
            f"{needed(calibrate)}); Cost Explorer answers only where it is enabled, and in an AWS "
            "Organization its tag settings belong to the management account"
        )
    if operation == "GetCostAndUsage" and code in NO_DATA:
        return (
            f"{text}: Cost Explorer has no data for --month {month} (it keeps about the last "
            "13 months, 38 with multi-year data turned on); allowed: a month it has data for"
        )
    return text
