"""`prices refresh` against a stubbed Price List API (botocore Stubber, realistic PriceList JSON)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from costmodel.catalogue import CatalogueFile, load_catalogue
from costmodel.refresh import SELECTORS, RefreshError, refresh

FIXTURE = Path(__file__).parent / "fixtures" / "pricelist-us-east-1.json"
TODAY = date(2026, 11, 20)


def stubbed_client(pages_by_service: dict[str, list[list[dict]]], region: str = "us-east-1"):
    """A pricing client answering get_products per ServiceCode, page by page, in refresh's order."""
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    for code in sorted({s.service_code for s in SELECTORS}):
        pages = pages_by_service.get(code, [[]])
        for i, page in enumerate(pages):
            params = {
                "ServiceCode": code,
                "FormatVersion": "aws_v1",
                "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
            }
            if i:
                params["NextToken"] = f"{code}-page-{i}"
            response = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(doc) for doc in page]}
            if i + 1 < len(pages):
                response["NextToken"] = f"{code}-page-{i + 1}"
            stubber.add_response("get_products", response, params)
    stubber.activate()
    return client, stubber


@pytest.fixture(scope="module")
def fixture_pages():
    return json.loads(FIXTURE.read_text())["pages"]


@pytest.fixture
def refreshed(tmp_path, fixture_pages):
    client, stubber = stubbed_client(fixture_pages)
    out = tmp_path / "aws-current" / "us-east-1.yaml"
    report = refresh("us-east-1", out, client=client, today=TODAY)
    stubber.assert_no_pending_responses()  # every service queried, every page followed
    return report, out


def test_refresh_writes_a_loadable_catalogue(refreshed):
    report, out = refreshed
    catalogue = load_catalogue("aws-current", "us-east-1", prices_dir=out.parent.parent)
    shipped = load_catalogue("aws-current", "us-east-1")
    assert list(catalogue.items) == list(shipped.items)  # same items, same order
    data = CatalogueFile.model_validate(yaml.safe_load(out.read_text()))
    assert data.refreshed.at == TODAY
    assert data.refreshed.kept == report.kept
    assert data.notes == shipped.notes


def test_refreshed_prices_come_from_the_price_list(refreshed):
    report, out = refreshed
    catalogue = load_catalogue("aws-current", "us-east-1", prices_dir=out.parent.parent)
    sqs = catalogue.item("sqs.fifo.requests")
    assert [(t.up_to, t.price) for t in sqs.tiers] == [(100e9, 0.5), (200e9, 0.4), (None, 0.35)]
    assert sqs.free_tier.monthly == 1_000_000 and sqs.free_tier.pool == "sqs.requests"  # pool kept
    assert sqs.source == "AWS Price List API: AWSQueueService usagetype Requests-FIFO-RBP, SKU " + sqs.source.split("SKU ")[1]
    assert not sqs.verify  # the API confirmed the tier bounds aws-prices.md did not state
    assert sqs.effective == date(2026, 11, 1)
    # per-unit API prices scaled to the catalogue's `per`, exactly
    assert catalogue.item("sns.delivery.email").price == 2.0
    assert catalogue.item("s3.requests.put").price == 0.005
    assert catalogue.item("lambda.requests").price == 0.2
    # tiers the shipped file did not have
    s3 = catalogue.item("s3.standard.storage")
    assert [(t.up_to, t.price) for t in s3.tiers] == [(51200, 0.023), (512000, 0.022), (None, 0.021)]
    metrics = catalogue.item("cloudwatch.metric.custom")
    assert metrics.tiers[0].price == 0.30 and metrics.tiers[-1].price == 0.02
    assert metrics.free_tier.monthly == 10  # not in the price list: kept from the shipped item
    # $0 first ranges are free tiers
    assert catalogue.item("eventbridge.scheduler.invocations").free_tier.monthly == 14_000_000
    assert catalogue.item("eventbridge.scheduler.invocations").price == 1.0
    assert catalogue.item("dynamodb.storage").free_tier.monthly == 25
    # the operation picks custom events, not partner events of the same usage type
    assert "PutEvents" in catalogue.item("eventbridge.events.put").source
    # the region prefix is exact: IA-WriteRequestUnits (0.78) is not WriteRequestUnits
    assert catalogue.item("dynamodb.ondemand.write").price == 0.625
    # Against the shipped file: S3 storage gained the list's volume tiers (the shipped custom
    # metrics already have the list's).
    assert report.changed == ["s3.standard.storage"]


def test_items_that_cannot_be_refreshed_are_kept_and_reported(refreshed):
    report, out = refreshed
    catalogue = load_catalogue("aws-current", "us-east-1", prices_dir=out.parent.parent)
    shipped = load_catalogue("aws-current", "us-east-1")
    assert set(report.kept) == {
        "eventbridge.events.cross_account",
        "eventbridge.archive.processing",
        "eventbridge.archive.storage",
        "athena.data_scanned",
        "firehose.ingestion",
        # priced from the pricing pages; no usage type confirmed for them yet
        "cloudwatch.dashboard",
        "logs.ingestion.vended",
        "dynamodb.pitr",
    }
    assert report.kept["eventbridge.archive.storage"] == "no Price List mapping for this item"
    assert report.kept["athena.data_scanned"] == "no product for AmazonAthena usagetype DataScannedInTB"
    assert report.kept["firehose.ingestion"].startswith("2 products with different prices")
    for item_id in report.kept:
        assert catalogue.item(item_id) == shipped.item(item_id)  # old price, old source, old flag
    assert set(report.refreshed) == set(shipped.items) - set(report.kept)


def test_changed_prices_are_reported(tmp_path, fixture_pages):
    pages = json.loads(json.dumps(fixture_pages))
    lambda_requests = pages["AWSLambda"][0][0]
    [term] = lambda_requests["terms"]["OnDemand"].values()
    [dim] = term["priceDimensions"].values()
    dim["pricePerUnit"]["USD"] = "0.0000002500"
    client, _ = stubbed_client(pages)
    report = refresh("us-east-1", tmp_path / "out.yaml", client=client, today=TODAY)
    assert "lambda.requests" in report.changed
    old, new = report.refreshed["lambda.requests"]
    assert (old.price, new.price) == (0.2, 0.25)


def test_an_unexpected_unit_is_not_converted(tmp_path, fixture_pages):
    pages = json.loads(json.dumps(fixture_pages))
    [term] = pages["AWSLambda"][0][4]["terms"]["OnDemand"].values()  # ephemeral storage
    [dim] = term["priceDimensions"].values()
    dim["unit"] = "GB-Hours"
    client, _ = stubbed_client(pages)
    report = refresh("us-east-1", tmp_path / "out.yaml", client=client, today=TODAY)
    assert "priced per GB-Hours, expected GB-Seconds" in report.kept["lambda.ephemeral_storage"]


def test_a_new_region_marks_unrefreshed_items_as_someone_elses(tmp_path, fixture_pages):
    client, _ = stubbed_client({}, region="eu-west-1")  # the API returns nothing at all
    out = tmp_path / "aws-current" / "eu-west-1.yaml"
    report = refresh("eu-west-1", out, client=client, today=TODAY)
    catalogue = load_catalogue("aws-current", "eu-west-1", prices_dir=tmp_path)
    assert not report.refreshed
    assert set(catalogue.to_verify()) == set(catalogue.items)
    assert catalogue.item("sqs.standard.requests").note.startswith(
        "us-east-1 price, not refreshed for eu-west-1: no product for AWSQueueService"
    )


def test_unknown_region_and_malformed_answers_fail_clearly(tmp_path, fixture_pages):
    with pytest.raises(RefreshError, match="no usage-type prefix known for region 'mars-1'; known: ap-northeast-1"):
        refresh("mars-1", tmp_path / "x.yaml", client=object())
    pages = json.loads(json.dumps(fixture_pages))
    [term] = pages["AWSEvents"][0][0]["terms"]["OnDemand"].values()
    del term["effectiveDate"]
    client, _ = stubbed_client(pages)
    with pytest.raises(RefreshError, match="lacks the expected shape .*effectiveDate"):
        refresh("us-east-1", tmp_path / "x.yaml", client=client, today=TODAY)
