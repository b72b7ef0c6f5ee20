"""`prices refresh`: rebuild a region's aws-current catalogue from the AWS Price List API.

The shipped YAML stays the offline default; this is how it is brought up to date. For each
service the catalogue prices, `get_products` is paged through for the region, each product is
matched to a catalogue item by its usage type (and operation where one usage type serves
several), and the on-demand price dimensions become the item's price or tiers. A $0 first
dimension is AWS's way of writing a free tier into the price list; it becomes `free_tier`.

Items that cannot be refreshed (no mapping, no product, an unexpected unit, ambiguous products)
keep their previous price and source; the written file lists them under `refreshed.kept`, and
the returned `RefreshReport` says why, so nothing stale passes silently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from costmodel.catalogue import (
    PRICES_DIR,
    CatalogueFile,
    FreeTier,
    PriceItem,
    RefreshStamp,
    Tier,
    read_preset_file,
)

PRESET = "aws-current"
TEMPLATE_REGION = "us-east-1"  # its item list seeds regions that have no file yet


@dataclass(frozen=True)
class Selector:
    """Which Price List product prices a catalogue item."""

    item_id: str
    service_code: str
    usagetype: str  # without the region prefix: "Requests-RBP" matches "USE1-Requests-RBP" too
    unit: str  # the price list's unit; anything else would need a conversion we do not know
    operation: str | None = None  # needed where one usage type serves several operations


# Usage types as the Price List API names them. Items with no selector here (EventBridge
# cross-account and archive) have no usage type we could confirm; they are kept and reported.
SELECTORS: tuple[Selector, ...] = (
    Selector("eventbridge.events.put", "AWSEvents", "Event-64K-Chunks", "64K-Chunks", "PutEvents"),
    Selector("eventbridge.schema_discovery", "AWSEvents", "Event-8K-Chunks", "8K-Chunks", "DiscoveryEvent"),
    Selector("eventbridge.scheduler.invocations", "AWSEvents", "ScheduledInvocation", "Invocations"),
    Selector("eventbridge.pipes.requests", "AWSEvents", "Request-64K-Chunks", "64K-Chunks", "PipeRequest"),
    Selector("sqs.standard.requests", "AWSQueueService", "Requests-RBP", "Requests"),
    Selector("sqs.fifo.requests", "AWSQueueService", "Requests-FIFO-RBP", "Requests"),
    Selector("sns.publish", "AmazonSNS", "Requests-Tier1", "Requests"),
    Selector("sns.delivery.sqs", "AmazonSNS", "DeliveryAttempts-SQS", "Notifications"),
    Selector("sns.delivery.lambda", "AmazonSNS", "DeliveryAttempts-LAMBDA", "Notifications"),
    Selector("sns.delivery.http", "AmazonSNS", "DeliveryAttempts-HTTP", "Notifications"),
    Selector("sns.delivery.email", "AmazonSNS", "DeliveryAttempts-SMTP", "Notifications"),
    Selector("lambda.requests", "AWSLambda", "Request", "Requests"),
    Selector("lambda.duration.x86_64", "AWSLambda", "Lambda-GB-Second", "Lambda-GB-Second"),
    Selector("lambda.duration.arm64", "AWSLambda", "Lambda-GB-Second-ARM", "Lambda-GB-Second"),
    Selector("lambda.ephemeral_storage", "AWSLambda", "Lambda-Storage-GB-Second", "GB-Seconds"),
    Selector("dynamodb.ondemand.write", "AmazonDynamoDB", "WriteRequestUnits", "WriteRequestUnits"),
    Selector("dynamodb.ondemand.read", "AmazonDynamoDB", "ReadRequestUnits", "ReadRequestUnits"),
    Selector("dynamodb.storage", "AmazonDynamoDB", "TimedStorage-ByteHrs", "GB-Mo"),
    Selector("s3.standard.storage", "AmazonS3", "TimedStorage-ByteHrs", "GB-Mo"),
    Selector("s3.requests.put", "AmazonS3", "Requests-Tier1", "Requests"),
    Selector("s3.requests.get", "AmazonS3", "Requests-Tier2", "Requests"),
    Selector("athena.data_scanned", "AmazonAthena", "DataScannedInTB", "Terabytes"),
    Selector("kms.key", "awskms", "KMS-Keys", "Keys"),
    Selector("kms.requests", "awskms", "KMS-Requests", "Requests"),
    Selector("cloudwatch.alarm.standard", "AmazonCloudWatch", "CW:AlarmMonitorUsage", "Alarms"),
    Selector("cloudwatch.metric.custom", "AmazonCloudWatch", "CW:MetricMonitorUsage", "Metrics"),
    Selector("logs.ingestion", "AmazonCloudWatch", "DataProcessing-Bytes", "GB"),
    Selector("logs.storage", "AmazonCloudWatch", "TimedStorage-ByteHrs", "GB-Mo"),
    Selector("firehose.ingestion", "AmazonKinesisFirehose", "BilledBytes", "GB"),
)

# The region part of usage types ("USE1-Requests-RBP"). us-east-1 products often carry no
# prefix at all, so there both forms match. A prefix is needed to tell "IA-WriteRequestUnits"
# (infrequent access) from "WriteRequestUnits": a suffix match alone would take either.
USAGETYPE_PREFIX = {
    "us-east-1": "USE1",
    "us-east-2": "USE2",
    "us-west-1": "USW1",
    "us-west-2": "USW2",
    "ca-central-1": "CAN1",
    "sa-east-1": "SAE1",
    "eu-west-1": "EU",
    "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1",
    "eu-north-1": "EUN1",
    "ap-northeast-1": "APN1",
    "ap-northeast-2": "APN2",
    "ap-southeast-1": "APS1",
    "ap-southeast-2": "APS2",
    "ap-south-1": "APS3",
}


class RefreshError(RuntimeError):
    """The refresh cannot produce a valid catalogue (the API answer is not what it expects)."""


class _Unrefreshable(Exception):
    """One item cannot be refreshed; it keeps its previous price and the message is the reason."""


@dataclass
class RefreshReport:
    region: str
    path: Path
    refreshed: dict[str, tuple[PriceItem, PriceItem]] = field(default_factory=dict)  # id -> (old, new)
    kept: dict[str, str] = field(default_factory=dict)  # id -> why it was not refreshed

    @property
    def changed(self) -> list[str]:
        """Refreshed items whose price, tiers or free tier differ from before."""
        return [
            item_id
            for item_id, (old, new) in self.refreshed.items()
            if (old.price_tiers, old.free_tier) != (new.price_tiers, new.free_tier)
        ]


@dataclass(frozen=True)
class _Offer:
    """One product's on-demand offer, reduced to what pricing needs."""

    sku: str
    usagetype: str
    operation: str
    dimensions: tuple[dict[str, Any], ...]
    effective: date


def refresh(region: str, out_path: Path, client: Any = None, today: date | None = None) -> RefreshReport:
    """Rebuild `region`'s aws-current catalogue from the Price List API and write it to `out_path`.

    `client` is a boto3 "pricing" client (default: a new one in us-east-1, where the API lives).
    Returns what was refreshed and what was kept, with reasons.
    """
    if region not in USAGETYPE_PREFIX:
        raise RefreshError(
            f"no usage-type prefix known for region {region!r}; known: {', '.join(sorted(USAGETYPE_PREFIX))}"
        )
    if client is None:
        import boto3  # only a live refresh needs it; tests pass a stubbed client

        client = boto3.client("pricing", region_name="us-east-1")
    previous, is_new_region = _previous_items(region)
    report = RefreshReport(region=region, path=out_path)
    selectors = {s.item_id: s for s in SELECTORS}
    offers = _fetch_offers(client, region, sorted({s.service_code for s in SELECTORS}))

    items = []
    for old in previous.items:
        selector = selectors.get(old.id)
        try:
            if selector is None:
                raise _Unrefreshable("no Price List mapping for this item")
            new = _priced_item(old, selector, offers[selector.service_code], USAGETYPE_PREFIX[region])
        except _Unrefreshable as why:
            reason = str(why)
            report.kept[old.id] = reason
            items.append(_kept_in_new_region(old, region, reason) if is_new_region else old)
        else:
            report.refreshed[old.id] = (old, new)
            items.append(new)

    result = CatalogueFile(
        preset=PRESET,
        region=region,
        notes=previous.notes,
        refreshed=RefreshStamp(at=today or date.today(), kept=report.kept),
        items=tuple(items),
    )
    _write(result, out_path)
    return report


def _previous_items(region: str) -> tuple[CatalogueFile, bool]:
    path = PRICES_DIR / PRESET / f"{region}.yaml"
    is_new = not path.exists()
    source = PRICES_DIR / PRESET / f"{TEMPLATE_REGION}.yaml" if is_new else path
    data = read_preset_file(source)
    if not isinstance(data, CatalogueFile):
        raise RefreshError(f"{source}: an {PRESET} file must list items, not overlay a base preset")
    return data, is_new


def _kept_in_new_region(item: PriceItem, region: str, reason: str) -> PriceItem:
    # A new region starts from us-east-1's list; an item the API did not price there is still
    # us-east-1's price, which must not pass as the region's own.
    return item.model_copy(
        update={
            "verify": True,
            "note": f"{TEMPLATE_REGION} price, not refreshed for {region}: {reason}",
        }
    )


def _fetch_offers(client: Any, region: str, service_codes: list[str]) -> dict[str, list[_Offer]]:
    offers: dict[str, list[_Offer]] = defaultdict(list)
    paginator = client.get_paginator("get_products")
    for code in service_codes:
        pages = paginator.paginate(
            ServiceCode=code,
            FormatVersion="aws_v1",
            Filters=[{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
        )
        for page in pages:
            for raw in page["PriceList"]:
                offer = _parse_offer(json.loads(raw) if isinstance(raw, str) else raw)
                if offer is not None:
                    offers[code].append(offer)
    return offers


def _parse_offer(doc: dict[str, Any]) -> _Offer | None:
    """The product's on-demand offer; None for products with none (reserved-only SKUs)."""
    try:
        product = doc["product"]
        attributes = product["attributes"]
        on_demand = doc.get("terms", {}).get("OnDemand", {})
        if not on_demand:
            return None
        if len(on_demand) != 1:
            raise RefreshError(f"SKU {product['sku']}: {len(on_demand)} on-demand terms, expected 1")
        [term] = on_demand.values()
        return _Offer(
            sku=product["sku"],
            usagetype=attributes.get("usagetype", ""),
            operation=attributes.get("operation", ""),
            dimensions=tuple(term["priceDimensions"].values()),
            effective=datetime.fromisoformat(term["effectiveDate"].replace("Z", "+00:00"))
            .astimezone(timezone.utc)
            .date(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RefreshError(f"a PriceList entry lacks the expected shape ({exc!r}): {str(doc)[:300]}") from exc


def _priced_item(old: PriceItem, selector: Selector, offers: list[_Offer], prefix: str) -> PriceItem:
    usagetypes = {selector.usagetype, f"{prefix}-{selector.usagetype}"}
    found = [
        o
        for o in offers
        if o.usagetype in usagetypes and (selector.operation is None or o.operation == selector.operation)
    ]
    described = f"{selector.service_code} usagetype {selector.usagetype}" + (
        f" operation {selector.operation}" if selector.operation else ""
    )
    if not found:
        raise _Unrefreshable(f"no product for {described}")
    if len({_price_key(o) for o in found}) > 1:
        raise _Unrefreshable(f"{len(found)} products with different prices for {described}: SKUs "
                             f"{', '.join(sorted(o.sku for o in found))}")
    offer = found[0]
    tiers, free = _tiers(offer, selector, Decimal(str(old.per)))
    price_fields: dict[str, Any] = (
        {"price": tiers[0].price, "tiers": None} if len(tiers) == 1 else {"price": None, "tiers": tiers}
    )
    if free is not None:
        inherited = old.free_tier
        price_fields["free_tier"] = FreeTier(
            monthly=free,
            account_wide=inherited.account_wide if inherited else True,
            pool=inherited.pool if inherited else None,
        )
    return PriceItem.model_validate(
        {
            **old.model_dump(),
            **price_fields,
            # The API is the authority: a figure it confirms no longer needs the verify flag.
            "verify": False,
            "note": None,
            "source": f"AWS Price List API: {described}, SKU {offer.sku}",
            "effective": offer.effective,
        }
    )


def _price_key(offer: _Offer) -> tuple:
    return tuple(
        sorted((d["beginRange"], d["endRange"], d["unit"], d["pricePerUnit"]["USD"]) for d in offer.dimensions)
    )


def _tiers(offer: _Offer, selector: Selector, per: Decimal) -> tuple[tuple[Tier, ...], float | None]:
    """The offer's dimensions as catalogue tiers (price per `per` units) and its free quantity."""
    dims = sorted(offer.dimensions, key=lambda d: Decimal(d["beginRange"]))
    units = {d["unit"] for d in dims}
    if units != {selector.unit}:
        raise _Unrefreshable(f"SKU {offer.sku} is priced per {', '.join(sorted(units))}, expected {selector.unit}")
    previous_end = Decimal(0)
    for d in dims:
        if Decimal(d["beginRange"]) != previous_end:
            raise _Unrefreshable(f"SKU {offer.sku}: price ranges have a gap or overlap at {d['beginRange']}")
        previous_end = Decimal(d["endRange"]) if d["endRange"] != "Inf" else Decimal("Infinity")
    if previous_end != Decimal("Infinity"):
        raise _Unrefreshable(f"SKU {offer.sku}: the last price range ends at {previous_end}, not Inf")

    free = None
    if len(dims) > 1 and Decimal(dims[0]["pricePerUnit"]["USD"]) == 0:
        free = float(Decimal(dims[0]["endRange"]))
        dims = dims[1:]
    tiers = tuple(
        Tier(
            up_to=None if d["endRange"] == "Inf" else float(Decimal(d["endRange"])),
            # Decimal keeps "0.0000004000" x 1,000,000 at exactly 0.4.
            price=float(Decimal(d["pricePerUnit"]["USD"]) * per),
        )
        for d in dims
    )
    return tiers, free


def _write(data: CatalogueFile, out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Written by costmodel.refresh on {data.refreshed.at} from the AWS Price List API.\n"
        f"# Items under refreshed.kept were not refreshed and keep their previous source.\n"
        f"# Conventions: see the comments of costmodel/prices/{PRESET}/{TEMPLATE_REGION}.yaml as shipped.\n"
    )
    # Defaults (verify: false, note: null, ...) are left out as in the hand-written files; a tier's
    # up_to: null has no default, so it stays. Currency is written although it is the default.
    body = {
        "preset": data.preset,
        "region": data.region,
        "currency": data.currency,
        **data.model_dump(mode="json", exclude_defaults=True),
    }
    out_path.write_text(header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100))
