"""The volume sweep and the capacity checks: vectorised, equal to one estimate per point, and by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from costmodel import scale
from costmodel.estimate import load_model
from costmodel.scale import first_limit, headroom, sweep
from costmodel.scenarios import scenario_model

MONTH_S = 730 * 3_600


@pytest.fixture(scope="module")
def prod():
    return load_model("prod")


@pytest.fixture(scope="module")
def seed():
    return scenario_model("seed")


def with_volumes_times(model, factor):
    """The model with every event type's monthly volume × factor, re-read from the config."""
    config = model.config
    domains = {
        name: domain.model_copy(
            update={
                "event_types": {
                    t: e.model_copy(update={"monthly_volume": int(e.monthly_volume * factor)})
                    for t, e in domain.event_types.items()
                }
            }
        )
        for name, domain in config.domains.items()
    }
    return dataclasses.replace(model, config=config.model_copy(update={"domains": domains}))


def test_sweep_equals_an_estimate_per_point(prod):
    factors = [0.5, 2, 1_000]  # every prod volume × these is a whole number of events
    volumes = [prod.monthly_events * f for f in factors]
    frame = sweep(prod, volumes)
    for (_, row), factor in zip(frame.iterrows(), factors):
        estimate = with_volumes_times(prod, factor).estimate()
        assert row["total"] == pytest.approx(estimate.total, rel=1e-9)
        for service, cost in estimate.by("service").items():
            assert row[service] == pytest.approx(cost, rel=1e-9)


def test_sweep_prices_all_points_in_one_pass(prod, monkeypatch):
    calls = []
    real = scale.price

    def counting(usages, catalogue, free_tier, s):
        calls.append(np.shape(s))
        return real(usages, catalogue, free_tier, s)

    monkeypatch.setattr(scale, "price", counting)
    frame = sweep(prod)
    assert calls == [(50,)]
    assert list(frame.columns[:2]) == ["volume", "total"]
    assert frame.volume.iloc[0] == pytest.approx(1e6) and frame.volume.iloc[-1] == pytest.approx(
        1e10
    )
    assert np.allclose(frame.total, frame.drop(columns=["volume", "total"]).sum(axis=1))
    assert frame.total.is_monotonic_increasing


def test_sweep_rejects_bad_volumes(prod):
    with pytest.raises(ValueError, match="positive events/month"):
        sweep(prod, [1e6, -5])


# The seed scenario by hand: 1 function (batch 10, full batches, 120 ms, reserved 50), no
# duplicates, peak factor 3 (the default). At V events a month, peak events/s = 3 V / 730 h.
def peak_events(volume):
    return 3 * volume / MONTH_S


def test_headroom_by_hand(seed):
    frame = headroom(seed, [1e9])
    rows = {(r.check, r.scope): r for r in frame.itertuples()}
    put = rows[("EventBridge PutEvents", "account")]
    assert put.needed == pytest.approx(peak_events(1e9)) and put.available == 10_000
    lam = rows[("Lambda concurrency vs reserved", "seed-orders-processor")]
    assert lam.needed == pytest.approx(peak_events(1e9) / 10 * 0.120)  # Little's law
    assert lam.available == 50 and lam.utilisation == pytest.approx(lam.needed / 50)
    wru = rows[("DynamoDB write units", "seed-idempotency")]
    assert wru.needed == pytest.approx(peak_events(1e9))  # one conditional write per event
    targets = rows[("EventBridge target invocations", "account")]
    assert targets.needed == pytest.approx(peak_events(1e9)) and targets.available == 18_750
    assert rows[("Lambda reserved concurrency (sum)", "account")].needed == 50
    assert not any(check.startswith("SQS FIFO") for check, _ in rows)


def test_first_limit_is_the_reserved_concurrency_by_hand(seed):
    # Reserved 50 is reached at 50 / (3 V / 730 h / 10 × 0.12 s): V ≈ 3.65e9; PutEvents at 8.76e9.
    assert 50 / (peak_events(1) / 10 * 0.120) == pytest.approx(3.65e9)
    limit = first_limit(headroom(seed, [1e9, 3e9, 4e9, 9e9]))
    assert limit["volume"] == 4e9
    assert (limit["check"], limit["scope"]) == (
        "Lambda concurrency vs reserved",
        "seed-orders-processor",
    )
    assert limit["utilisation"] == pytest.approx(peak_events(4e9) / 10 * 0.120 / 50)
    assert first_limit(headroom(seed, [1e9, 3e9])) is None


def test_prod_fifo_queue_is_checked_against_unbatched_sends(prod):
    frame = headroom(prod, [1e9])
    fifo = frame[frame.check == "SQS FIFO sends"]
    assert fifo.scope.tolist() == ["prod-payments-audit.fifo"] and fifo.available.item() == 300
    # 3M of prod's 11.7M events go to the audit queue, each put 1.01 times
    share = 3_000_000 / prod.monthly_events
    assert fifo.needed.item() == pytest.approx(4 * 1e9 * share * 1.01 / MONTH_S)  # prod peak 4


def test_first_limit_rejects_a_frame_that_is_not_headroom():
    with pytest.raises(ValueError, match="not a headroom"):
        first_limit(pd.DataFrame({"volume": [1.0]}))
