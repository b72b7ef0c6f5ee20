"""`python -m costmodel actual`: Cost Explorer's month beside the estimate, and `--calibrate`.

AWS is never reached: Cost Explorer and CloudWatch are boto3 clients under botocore's Stubber,
answering with responses in the shapes of the API references (fixtures/cost-explorer-*.json;
GetMetricData built from the hand figures below). The command line is parsed by
`python -m costmodel`'s own parser, which registers `actual.add_parser`.
"""

from __future__ import annotations

import copy
import io
import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
import yaml
from botocore.exceptions import NoCredentialsError
from botocore.stub import ANY, Stubber
from rich.console import Console

import costmodel.__main__ as cli
from costmodel import actual
from costmodel.actual import calibrate
from costmodel.actual.comparison import Row, compare
from costmodel.actual.cost_explorer import Month, fetch_actuals, parse_month
from costmodel.actual.render import estimate_vs_actual_markdown, estimate_vs_actual_rows
from costmodel.actual.stack_file import StackFileError, set_assumptions, write_assumptions
from costmodel.estimate import load_model
from settings.load import ROOT, from_stack_file, parse

FIXTURES = Path(__file__).parent / "fixtures"
CE = {k: v for k, v in json.loads((FIXTURES / "cost-explorer-prod-2026-10.json").read_text()).items()
      if not k.startswith("_")}
UTC = timezone.utc
NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # October 2026 is complete; November is not
OCTOBER_HOURS = 31 * 24  # the estimate's 730-hour month is prorated to these
TAGS_REQUEST = {"TagKeys": ["eda:stack", "eda:domain"]}

# A month of metrics per consumer queue, chosen so the arithmetic is easy to follow by hand:
# (messages sent, messages received, invocations of the queue's function).
HAND = {
    "prod-orders-processor": (1_000_000, 1_030_000, 206_000),  # retries 0.03, fill 1.03M/206k/10 = 0.5
    "prod-orders-notification": (400_000, 404_000, 101_000),  # 0.01, 404k/101k/10 = 0.4
    "prod-orders-analytics": (1_200_000, 1_212_000, 30_300),  # 0.01, 1.212M/30.3k/100 = 0.4
    "prod-orders-fulfillment": (600_000, 630_000, 90_000),  # 0.05, 630k/90k/10 = 0.7
    "prod-payments-analytics": (600_000, 600_000, 20_000),  # 0, 600k/20k/100 = 0.3
    "prod-payments-audit.fifo": (600_000, 618_000, 618_000),  # 0.03, 618k/618k/10 = 0.1
    "prod-inventory-fulfillment": (0, 0, 0),  # idle all month
}


# -- clients ----------------------------------------------------------------------------------


def cost_params(group: dict, token: str | None = None, month=("2026-10-01", "2026-11-01")) -> dict:
    params = {
        "TimePeriod": {"Start": month[0], "End": month[1]},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "Filter": {"Tags": {"Key": "eda:stack", "Values": ["prod"], "MatchOptions": ["EQUALS"]}},
        "GroupBy": [group],
    }
    if token:
        params["NextPageToken"] = token
    return params


def ce_client(tags: dict | None = None, *, costs: bool = True, fixture: dict = CE):
    client = boto3.client("ce", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response("list_cost_allocation_tags", tags or fixture["ListCostAllocationTags"], TAGS_REQUEST)
    if costs:
        for key, group in (("SERVICE", {"Type": "DIMENSION", "Key": "SERVICE"}),
                           ("TAG", {"Type": "TAG", "Key": "eda:domain"})):
            token = None
            for page in fixture[f"GetCostAndUsage.{key}"]:
                stubber.add_response("get_cost_and_usage", page, cost_params(group, token))
                token = page.get("NextPageToken")
    stubber.activate()
    return client, stubber


def metric_pages(queues: list[calibrate.ConsumerQueue]) -> list[dict]:
    """GetMetricData in two pages (the first PartialData with a NextToken): daily datapoints,
    40% of each month's sum on page one, 60% on page two."""
    pages = []
    for share, day, status in ((0.4, 1, "PartialData"), (0.6, 2, "Complete")):
        results = []
        for i, q in enumerate(queues):
            for what, value in zip(("sent", "received", "invocations"), HAND[q.queue]):
                results.append({
                    "Id": f"q{i}_{what}", "Label": f"{q.queue} {what}",
                    "Timestamps": [datetime(2026, 10, day, tzinfo=UTC)] if value else [],
                    "Values": [value * share] if value else [],
                    "StatusCode": status,
                })
        pages.append({"MetricDataResults": results, "Messages": []})
    pages[0]["NextToken"] = "more"
    return pages


def cloudwatch_client():
    client = boto3.client("cloudwatch", region_name="us-east-1")
    stubber = Stubber(client)
    queues = calibrate.consumer_queues(from_stack_file("prod"))
    for page, token in zip(metric_pages(queues), (None, "more")):
        params = {
            "MetricDataQueries": ANY,
            "StartTime": datetime(2026, 10, 1, tzinfo=UTC),
            "EndTime": datetime(2026, 11, 1, tzinfo=UTC),
            "ScanBy": "TimestampAscending",
        }
        if token:
            params["NextToken"] = token
        stubber.add_response("get_metric_data", page, params)
    stubber.activate()
    return client, stubber


def factory(ce=None, cloudwatch=None):
    def make(service: str, region: str):
        assert (service, region) in (("ce", "us-east-1"), ("cloudwatch", "us-east-1"))
        client = {"ce": ce, "cloudwatch": cloudwatch}[service]
        assert client is not None, f"the command should not have asked for {service}"
        return client

    return make


def parse_args(*argv: str):
    """argv parsed as `python -m costmodel` parses it."""
    return cli.parser().parse_args(list(argv))


def run(capsys, *argv: str, ce=None, cloudwatch=None, now=NOW) -> tuple[int, str, str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, color_system=None, force_terminal=False)
    code = actual.run(parse_args(*argv), console, client=factory(ce, cloudwatch), now=now)
    return code, buffer.getvalue(), capsys.readouterr().err


@pytest.fixture(scope="module")
def prod_estimate():
    return load_model("prod").estimate()


def by(estimate, column: str, value: str) -> float:
    return sum(i.monthly_cost for i in estimate.items if getattr(i, column) == value)


def table_row(text: str, name: str) -> str:
    return next(line.strip() for line in text.splitlines() if line.strip().startswith(name))


# -- the comparison ---------------------------------------------------------------------------


def test_prod_table_end_to_end_flags_rows_off_by_more_than_a_quarter(capsys, prod_estimate):
    ce, stubber = ce_client()
    code, out, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", ce=ce)
    assert (code, err) == (0, "")
    stubber.assert_no_pending_responses()
    factor = OCTOBER_HOURS / 730
    total = prod_estimate.total * factor
    assert out.startswith(f"prod, 2026-10: actual $75.53 against an estimate of ${total:,.2f}")
    assert "× 1.019 of its 730-hour month" in out

    # SQS: $24.12 billed against the estimate's SQS prorated to 744 hours: more than 25% over.
    sqs = by(prod_estimate, "service", "SQS") * factor
    assert (24.1186800004 - sqs) / sqs > 0.25
    line = table_row(out, "SQS ")
    assert f"${sqs:,.2f}" in line and "$24.12" in line and line.rstrip().endswith("▲")
    assert f"+{100 * (24.1186800004 - sqs) / sqs:.1f}%" in line

    # CloudWatch and CloudWatch Logs bill together (AmazonCloudWatch): one row, under by > 25%.
    watch = (by(prod_estimate, "service", "CloudWatch") + by(prod_estimate, "service", "CloudWatch Logs")) * factor
    line = table_row(out, "CloudWatch (+ Logs)")
    assert f"${watch:,.2f}" in line and "$1.74" in line and line.rstrip().endswith("▼")

    # Pipes and Scheduler bill as Amazon EventBridge: merged, and within 25%: not flagged.
    bridge = sum(by(prod_estimate, "service", s) for s in ("EventBridge", "EventBridge Pipes", "EventBridge Scheduler"))
    line = table_row(out, "EventBridge (+ Pipes, Scheduler)")
    assert f"${bridge * factor:,.2f}" in line and "$21.04" in line and not line.rstrip().endswith(("▲", "▼"))

    # A service the estimate does not price is listed with its cost, not dropped.
    line = table_row(out, "AWS Glue")
    assert "–" in line and "$0.36" in line and "not priced" in line
    assert "Billed, not in the estimate (it does not price these services): AWS Glue $0.36" in out

    totals = [line for line in out.splitlines() if line.strip().startswith("Total")]
    assert len(totals) == 2 and all("$75.53" in t and f"${total:,.2f}" in t for t in totals)
    assert max(len(line) for line in out.splitlines()) <= 80


def test_domains_group_by_tag_and_untagged_cost_is_the_platform_row(prod_estimate):
    ce, _ = ce_client()
    month = parse_month("2026-10", NOW.date())
    fetched = fetch_actuals(ce, "prod", month)
    # "eda:domain$orders" -> orders; "eda:domain$" (no eda:domain tag) -> "".
    assert fetched.domains == {"": 3.0812, "inventory": 14.1025, "orders": 37.9021, "payments": 20.441}
    assert sum(fetched.services.values()) == pytest.approx(75.5268)  # both pages of SERVICE
    comparison = compare(prod_estimate, fetched, month, NOW)
    rows = {r.name: r for r in comparison.domains}
    factor = OCTOBER_HOURS / 730
    platform = rows["platform (no eda:domain tag)"]
    assert platform.actual == pytest.approx(3.0812)
    assert platform.estimate == pytest.approx(by(prod_estimate, "domain", "platform") * factor)
    assert platform.flag == "under"  # 3.08 against 5.46
    assert rows["inventory"].flag == "over"  # 14.10 against 10.83
    assert rows["orders"].flag == rows["payments"].flag == ""
    assert comparison.domain_total().actual == pytest.approx(75.5268)
    assert comparison.domain_total().estimate == pytest.approx(prod_estimate.total * factor)


def test_a_domain_only_cost_explorer_knows_and_a_row_within_a_cent():
    row = Row("x", 0.0, 0.004)
    assert row.flag == "" and Row("x", None, 0.001).flag == ""  # under half a cent
    assert Row("retired", 0.0, 2.0).flag == "over"
    assert Row("a", 10.0, 12.5).flag == "" and Row("a", 10.0, 12.51).flag == "over"
    assert Row("a", 10.0, 7.49).flag == "under" and Row("a", 10.0, 7.5).flag == ""


def test_markdown_section_and_rows_for_reports(prod_estimate):
    ce, _ = ce_client()
    month = parse_month("2026-10", NOW.date())
    comparison = compare(prod_estimate, fetch_actuals(ce, "prod", month), month, NOW)
    rows = estimate_vs_actual_rows(comparison)
    assert [r["total"] for r in rows["service"]] == [False] * (len(rows["service"]) - 1) + [True]
    sqs = next(r for r in rows["service"] if r["name"] == "SQS")
    assert sqs["flag"] == "over" and sqs["sources"] == ["Amazon Simple Queue Service", "SQS"]
    glue = next(r for r in rows["service"] if r["name"] == "AWS Glue")
    assert glue["estimate"] is None and glue["flag"] == "not priced" and glue["estimate_text"] == "–"

    text = estimate_vs_actual_markdown(comparison)
    assert text.startswith("### Estimate vs actual: prod, 2026-10\n\n**Actual $75.53 against an estimate")
    assert "#### By service\n\n| Service | Estimate | Actual | Difference | Off by |\n|---|---:|---:|---:|---:|" in text
    assert "#### By domain\n\n| Domain | Estimate | Actual |" in text
    assert re.search(r"^\| SQS \| \$\d+\.\d\d \| \$24\.12 \| \+\$\d+\.\d\d \| \*\*\+\d+\.\d% ▲\*\* \|$", text, re.M)
    assert "| AWS Glue | – | $0.36 | +$0.36 | not priced |" in text
    assert "| platform (no eda:domain tag) |" in text
    assert re.search(r"^\| \*\*Total\*\* \| \*\*\$[\d.]+\*\* \| \*\*\$75\.53\*\* \|", text, re.M)


def test_md_and_json_formats(capsys, prod_estimate):
    ce, _ = ce_client()
    code, out, _ = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--format", "md", ce=ce)
    assert code == 0 and out.startswith("### Estimate vs actual: prod, 2026-10")
    ce, _ = ce_client()
    code, out, _ = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--format", "json", ce=ce)
    document = json.loads(out)
    assert code == 0 and document["month"] == "2026-10" and document["hours"] == OCTOBER_HOURS
    assert document["total"]["actual"] == pytest.approx(75.5268)
    assert document["total"]["estimate"] == pytest.approx(prod_estimate.total * OCTOBER_HOURS / 730, abs=1e-5)
    assert {s["name"] for s in document["services"] if s["flag"]} >= {"SQS", "CloudWatch (+ Logs)", "AWS Glue"}


def test_the_current_month_is_compared_to_date():
    month = parse_month("2026-11", NOW.date())
    assert month.hours(NOW) == 29 * 24 + 6 and month.full_hours() == 30 * 24
    assert Month(2026, 12).end.isoformat() == "2027-01-01"


# -- bad input and AWS refusals: exit 2, one line, no traceback -------------------------------


@pytest.mark.parametrize("month, wanted", [
    ("2026-13", "--month '2026-13' is not a month: allowed: YYYY-MM up to 2026-11, e.g. 2026-10"),
    ("10/2026", "--month '10/2026' is not a month"),
    ("2026-12", "--month 2026-12 is in the future (today is 2026-11-30): allowed: YYYY-MM up to 2026-11"),
])
def test_bad_month_exits_2_before_any_aws_call(capsys, month, wanted):
    code, out, err = run(capsys, "actual", "--stack", "prod", "--month", month)  # no clients
    assert (code, out) == (2, "") and err.startswith("costmodel: error: ") and wanted in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_write_without_calibrate_exits_2(capsys):
    code, _, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--write")
    assert code == 2 and "--write writes the values --calibrate proposes" in err


@pytest.mark.parametrize("tags, named", [
    ([{"TagKey": "eda:stack", "Type": "UserDefined", "Status": "Active"},
      {"TagKey": "eda:domain", "Type": "UserDefined", "Status": "Inactive"}], "eda:domain: Inactive"),
    ([], "eda:stack: not found; eda:domain: not found"),
])
def test_inactive_tags_exit_2_with_how_to_activate(capsys, tags, named):
    ce, stubber = ce_client({"CostAllocationTags": tags}, costs=False)
    code, out, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", ce=ce)
    stubber.assert_no_pending_responses()  # no GetCostAndUsage: the tags are checked first
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert f"the cost-allocation tags are not active ({named})" in err
    assert "Cost allocation tags" in err
    assert ("aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
            "TagKey=eda:stack,Status=Active TagKey=eda:domain,Status=Active") in err
    assert "Activation applies from then on, not retroactively" in err


def test_tags_activated_after_the_month_warn(capsys):
    late = copy.deepcopy(CE)
    for tag in late["ListCostAllocationTags"]["CostAllocationTags"]:
        tag["LastUpdatedDate"] = "2026-11-03T00:00:00Z"
    ce, _ = ce_client(late["ListCostAllocationTags"])
    code, out, _ = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", ce=ce)
    assert code == 0 and "eda:stack was activated on 2026-11-03, after 2026-10" in out


@pytest.mark.parametrize("operation, code, permission", [
    ("list_cost_allocation_tags", "AccessDeniedException", "ce:ListCostAllocationTags"),
    ("get_cost_and_usage", "AccessDeniedException", "ce:GetCostAndUsage"),
])
def test_access_denied_exits_2_naming_the_permission(capsys, operation, code, permission):
    client = boto3.client("ce", region_name="us-east-1")
    stubber = Stubber(client)
    if operation == "get_cost_and_usage":
        stubber.add_response("list_cost_allocation_tags", CE["ListCostAllocationTags"], TAGS_REQUEST)
    stubber.add_client_error(
        operation, service_error_code=code, http_status_code=400,
        service_message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        f"{permission}",
    )
    stubber.activate()
    status, out, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", ce=client)
    assert (status, out) == (2, "") and err.count("\n") == 1 and "Traceback" not in err
    assert f"AWS refused {stubber.client.meta.method_to_api_mapping[operation]} ({code}:" in err
    assert f"the credentials need {permission}" in err


def test_calibrate_access_denied_names_cloudwatch(capsys):
    ce, _ = ce_client()
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    stubber = Stubber(cloudwatch)
    stubber.add_client_error("get_metric_data", service_error_code="AccessDenied", http_status_code=403)
    stubber.activate()
    code, _, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--calibrate",
                       ce=ce, cloudwatch=cloudwatch)
    assert code == 2 and "AWS refused GetMetricData (AccessDenied" in err
    assert "cloudwatch:GetMetricData" in err


def test_old_month_without_data_exits_2(capsys):
    client = boto3.client("ce", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response("list_cost_allocation_tags", CE["ListCostAllocationTags"], TAGS_REQUEST)
    stubber.add_client_error("get_cost_and_usage", service_error_code="DataUnavailableException",
                             service_message="Data is not available.")
    stubber.activate()
    code, _, err = run(capsys, "actual", "--stack", "prod", "--month", "2024-01", ce=client)
    assert code == 2 and "Cost Explorer has no data for --month 2024-01" in err


def test_no_credentials_exits_2(capsys):
    class NoCredentials:
        def list_cost_allocation_tags(self, **_):
            raise NoCredentialsError()

    code, _, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", ce=NoCredentials())
    assert code == 2 and "no AWS credentials found" in err and "ce:GetCostAndUsage" in err


def test_unknown_stack_exits_2(capsys):
    code, _, err = run(capsys, "actual", "--stack", "staging", "--month", "2026-10")
    assert code == 2 and "unknown stack 'staging'" in err and "dev, local, prod" in err


def test_help_says_the_tags_must_be_activated(capsys):
    with pytest.raises(SystemExit):
        parse_args("actual", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "must be activated as cost-allocation tags" in text and "not to earlier months" in text


# -- calibrate --------------------------------------------------------------------------------


def test_consumer_queues_are_the_programs(inventories):
    exports = inventories("prod").exports
    queues = calibrate.consumer_queues(from_stack_file("prod"))
    assert [q.queue for q in queues] == list(HAND)
    for q in queues:
        assert exports[q.domain]["function_names"][q.consumer] == q.function
        assert exports[q.domain]["queue_urls"][q.consumer].rsplit("/", 1)[1] == q.queue


def test_metric_queries_read_sqs_and_lambda_sums():
    first = calibrate.consumer_queues(from_stack_file("prod"))[0]
    sent, received, invoked = calibrate.metric_queries([first])
    assert sent["MetricStat"] == {
        "Metric": {"Namespace": "AWS/SQS", "MetricName": "NumberOfMessagesSent",
                   "Dimensions": [{"Name": "QueueName", "Value": "prod-orders-processor"}]},
        "Period": 86_400, "Stat": "Sum",
    }
    assert received["MetricStat"]["Metric"]["MetricName"] == "NumberOfMessagesReceived"
    assert invoked["MetricStat"]["Metric"] == {
        "Namespace": "AWS/Lambda", "MetricName": "Invocations",
        "Dimensions": [{"Name": "FunctionName", "Value": "prod-orders-processor"}],
    }


def test_calibrate_proposes_volume_weighted_values(capsys):
    ce, _ = ce_client()
    cloudwatch, stubber = cloudwatch_client()
    code, out, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--calibrate",
                         "--format", "json", ce=ce, cloudwatch=cloudwatch)
    assert (code, err) == (0, "")
    stubber.assert_no_pending_responses()  # both pages read
    cal = json.loads(out)["calibration"]
    processor = cal["queues"][0]
    assert processor["queue"] == "prod-orders-processor" and processor["sent"] == pytest.approx(1_000_000)
    assert processor["failure_rate"] == pytest.approx(0.03) and processor["batch_fill"] == pytest.approx(0.5)

    # By hand, over the six queues with traffic (the inventory queue was idle):
    # failure_rate: Σ received − Σ sent over Σ sent = (4,494,000 − 4,400,000) / 4,400,000.
    sent = 1_000_000 + 400_000 + 1_200_000 + 600_000 + 600_000 + 600_000
    received = 1_030_000 + 404_000 + 1_212_000 + 630_000 + 600_000 + 618_000
    assert (sent, received) == (4_400_000, 4_494_000)
    # batch_fill: Σ received ÷ batch_size over Σ invocations, so the model (invocations =
    # received ÷ (batch_size × fill), queue by queue) reproduces the month's 1,065,300.
    batches = 1_030_000 / 10 + 404_000 / 10 + 1_212_000 / 100 + 630_000 / 10 + 600_000 / 100 + 618_000 / 10
    invocations = 206_000 + 101_000 + 30_300 + 90_000 + 20_000 + 618_000
    assert (batches, invocations) == (286_320, 1_065_300)
    proposals = {p["assumption"]: p for p in cal["proposals"]}
    assert proposals["failure_rate"]["observed"] == pytest.approx(94_000 / 4_400_000)  # 0.021364
    assert proposals["failure_rate"]["proposed"] == 0.0214
    assert proposals["batch_fill"]["observed"] == pytest.approx(286_320 / 1_065_300)  # 0.268769
    assert proposals["batch_fill"]["proposed"] == 0.2688
    assert (proposals["failure_rate"]["configured"], proposals["batch_fill"]["configured"]) == (0.02, 0.6)
    assert cal["notes"] == ["no traffic this month on prod-inventory-fulfillment: left out of the averages"]
    assert cal["written"] is None


def test_calibrate_table(capsys):
    ce, _ = ce_client()
    cloudwatch, _ = cloudwatch_client()
    code, out, _ = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--calibrate",
                       ce=ce, cloudwatch=cloudwatch)
    assert code == 0
    assert re.search(r"^\s*failure_rate\s+0\.02\s+0\.02136\s+0\.0214\s*$", out, re.M)
    assert re.search(r"^\s*batch_fill\s+0\.6\s+0\.2688\s+0\.2688\s*$", out, re.M)
    assert re.search(r"^\s*orders/analytics\s+1\.2M\s+1\.21M\s+30\.3k\s+100\s+0\.01\s+0\.4\s*$", out, re.M)
    assert "--write puts the proposed values into the stack file" in out


def test_calibrate_write_edits_a_copy_of_the_stack_file_keeping_comments(capsys, tmp_path):
    original = (ROOT / "Pulumi.prod.yaml").read_text()
    stack_file = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(ROOT / "Pulumi.prod.yaml", stack_file)
    ce, _ = ce_client()
    cloudwatch, _ = cloudwatch_client()
    code, out, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--calibrate",
                         "--write", "--stack-file", str(stack_file), ce=ce, cloudwatch=cloudwatch)
    assert (code, err) == (0, "")
    wrote = f"Wrote failure_rate: 0.0214, batch_fill: 0.2688 to {stack_file}"
    assert "".join(wrote.split()) in "".join(out.split())  # a long path folds at 80 columns
    assert (ROOT / "Pulumi.prod.yaml").read_text() == original  # the repository's file untouched

    written = stack_file.read_text()
    # Exactly two lines added, at the end of the assumptions block; everything else verbatim.
    assert written == original.replace(
        "  eda-platform:assumptions:\n    peak_factor: 4\n",
        "  eda-platform:assumptions:\n    peak_factor: 4\n    failure_rate: 0.0214\n    batch_fill: 0.2688\n",
    )
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in written.splitlines() for c in comments)
    config = yaml.safe_load(written)["config"]
    assert config["eda-platform:assumptions"] == {"peak_factor": 4, "failure_rate": 0.0214, "batch_fill": 0.2688}
    assumptions = parse(config, stack="prod", origin="copy").assumptions
    assert (assumptions.failure_rate, assumptions.batch_fill, assumptions.peak_factor) == (0.0214, 0.2688, 4)

    # A second run proposes the same values: nothing left to write.
    ce, _ = ce_client()
    cloudwatch, _ = cloudwatch_client()
    code, out, _ = run(capsys, "actual", "--stack", "prod", "--month", "2026-10", "--calibrate",
                       "--write", "--stack-file", str(stack_file), ce=ce, cloudwatch=cloudwatch)
    assert code == 0 and "already holds the observed values: nothing written" in out
    assert stack_file.read_text() == written


STACK_FILE = """\
# A stack.
config:
  aws:region: us-east-1
  eda-platform:assumptions:
    failure_rate: 0.02   # a guess, until the first month's metrics
    # batch_fill: how full a poller's batch is
    peak_factor: 3
  # The budget.
  eda-platform:budget:
    monthly_usd: 10
"""


def test_set_assumptions_replaces_in_place_and_keeps_end_of_line_comments():
    text = set_assumptions(STACK_FILE, {"failure_rate": 0.05, "batch_fill": 0.31})
    assert text == STACK_FILE.replace(
        "failure_rate: 0.02   # a guess", "failure_rate: 0.05   # a guess"
    ).replace("    peak_factor: 3\n", "    peak_factor: 3\n    batch_fill: 0.31\n")


def test_set_assumptions_adds_a_missing_block_and_edits_a_flow_mapping():
    dev = (ROOT / "Pulumi.dev.yaml").read_text()
    assert "eda-platform:assumptions" not in dev
    text = set_assumptions(dev, {"failure_rate": 0.0214, "batch_fill": 0.2688})
    assert text == dev + "  eda-platform:assumptions:\n    failure_rate: 0.0214\n    batch_fill: 0.2688\n"
    flow = "config:\n  eda-platform:assumptions: {peak_factor: 4, price_preset: seed}  # kept\n  aws:region: x\n"
    assert set_assumptions(flow, {"batch_fill": 0.5}) == (
        "config:\n  eda-platform:assumptions: {peak_factor: 4, price_preset: \"seed\", batch_fill: 0.5}"
        "  # kept\n  aws:region: x\n"
    )
    crlf = STACK_FILE.replace("\n", "\r\n")
    assert set_assumptions(crlf, {"failure_rate": 0.1}) == crlf.replace("0.02 ", "0.1 ")


def test_write_refuses_values_the_config_refuses(tmp_path):
    stack_file = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(ROOT / "Pulumi.prod.yaml", stack_file)
    before = stack_file.read_text()
    with pytest.raises(StackFileError, match="batch_fill"):
        write_assumptions(stack_file, "prod", {"batch_fill": 1.5})
    assert stack_file.read_text() == before


def test_proposals_stay_in_range_and_say_why():
    queue = calibrate.ConsumerQueue("orders", "processor", "q", "f", 10)
    backlog = calibrate.Observation(queue, sent=1_000, received=900, invocations=10)  # fill 9
    cal = calibrate.propose("prod", "2026-10", [backlog], {"failure_rate": 0.02, "batch_fill": 0.6})
    failure, fill = cal.proposals
    assert failure.observed == pytest.approx(-0.1) and failure.proposed == 0.0 and "backlog" in failure.note
    assert fill.observed == pytest.approx(9) and fill.proposed == 1.0 and "batch sizes differ" in fill.note
    idle = calibrate.propose("prod", "2026-10", [calibrate.Observation(queue, 0, 0, 0)],
                             {"failure_rate": 0.02, "batch_fill": 0.6})
    assert idle.changes == {} and all(p.proposed is None for p in idle.proposals)


def test_add_parser_registers_on_the_cli_parser():
    args = parse_args("actual", "--stack", "prod", "--month", "2026-10", "--calibrate", "--format", "md")
    assert (args.stack, args.month, args.calibrate, args.write, args.format) == ("prod", "2026-10", True, False, "md")
    assert callable(args.run) and args.stack_file is None


def test_a_missing_or_broken_stack_file_exits_2(capsys, tmp_path):
    missing = tmp_path / "Pulumi.prod.yaml"
    code, _, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10",
                       "--stack-file", str(missing))
    assert code == 2 and f"--stack-file {missing} does not exist" in err
    missing.write_text("config:\n  eda-platform:assumptions: {batch_fill: [\n")
    code, _, err = run(capsys, "actual", "--stack", "prod", "--month", "2026-10",
                       "--stack-file", str(missing))
    assert code == 2 and "is not valid YAML" in err and err.count("\n") == 1
