"""`prices refresh` wiring: it calls `costmodel.refresh.refresh`, reports what changed and what
was kept, and turns a missing credential or an unknown region into a one-line error (exit 2).
No test reaches AWS: the refresh itself is replaced, or fails before any client is made."""

from __future__ import annotations

from botocore.exceptions import NoCredentialsError

import costmodel.__main__ as cli
from costmodel import refresh
from costmodel.catalogue import PRICES_DIR, load_catalogue


def test_refresh_writes_the_shipped_file_by_default_and_reports(capsys, monkeypatch):
    calls = []

    prices = load_catalogue("aws-current", "us-east-1")
    sqs, lam = prices.item("sqs.standard.requests"), prices.item("lambda.requests")

    def fake(region, out_path, client=None):
        calls.append((region, out_path))
        return refresh.RefreshReport(
            region=region,
            path=out_path,
            refreshed={sqs.id: (sqs, sqs), lam.id: (lam, lam.model_copy(update={"price": 0.25}))},
            kept={"eventbridge.events.cross_account": "no Price List mapping for this item"},
        )

    monkeypatch.setattr(refresh, "refresh", fake)
    assert cli.main(["prices", "refresh", "--region", "us-east-1"]) == 0
    out, err = capsys.readouterr()
    assert calls == [("us-east-1", PRICES_DIR / "aws-current" / "us-east-1.yaml")]
    assert "needs AWS credentials" in err
    shipped = PRICES_DIR / "aws-current" / "us-east-1.yaml"
    assert out.splitlines() == [
        f"wrote {shipped}: 2 prices refreshed, 1 changed, 1 kept",
        "  changed lambda.requests: $0.20 -> $0.25 per 1,000,000 request (first tier)",
        "  kept eventbridge.events.cross_account: no Price List mapping for this item",
    ]


def test_refresh_out_option(capsys, monkeypatch, tmp_path):
    seen = []
    def fake(region, out_path, client=None):
        seen.append(out_path)
        return refresh.RefreshReport(region, out_path)

    monkeypatch.setattr(refresh, "refresh", fake)
    out = tmp_path / "p.yaml"
    assert cli.main(["prices", "refresh", "--region", "eu-west-1", "--out", str(out)]) == 0
    assert seen == [out]


def test_refresh_without_credentials_is_a_clear_error(capsys, monkeypatch, tmp_path):
    def no_credentials(region, out_path, client=None):
        raise NoCredentialsError()

    monkeypatch.setattr(refresh, "refresh", no_credentials)
    out = tmp_path / "p.yaml"
    code = cli.main(["prices", "refresh", "--region", "us-east-1", "--out", str(out)])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err[-1].startswith("costmodel: error: the AWS Price List API could not be queried")
    assert "(Unable to locate credentials)" in err[-1]
    assert "pricing:GetProducts" in err[-1] and "the shipped prices are unchanged" in err[-1]
    assert not out.exists()


def test_refresh_of_an_unknown_region_names_the_known_ones(capsys, tmp_path):
    code = cli.main(["prices", "refresh", "--region", "mars-1", "--out", str(tmp_path / "p.yaml")])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    unknown = "costmodel: error: no usage-type prefix known for region 'mars-1'; known: "
    assert err[-1].startswith(unknown)
    assert "us-east-1" in err[-1]
