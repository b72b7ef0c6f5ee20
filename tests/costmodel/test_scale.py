"""The volume sweep and the capacity checks: vectorised, equal to one estimate per point, and by hand."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from costmodel import scale
from costmodel.estimate import load_model
from costmodel.scale import capacity, first_limit, headroom, sweep
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


def test_first_limit_is_the_exact_crossing_of_the_reserved_concurrency(seed):
    # Reserved 50 is reached where 3 V / 730 h / 10 × 0.12 s = 50: V = 3.65e9 exactly (PutEvents
    # would be next, at 10,000 / (3 V / 730 h): 8.76e9). No grid point is involved.
    crossing = 50 * MONTH_S * 10 / (3 * 0.120)
    assert crossing == pytest.approx(3.65e9)
    limit = first_limit(capacity(seed))
    assert limit["volume"] == pytest.approx(crossing, rel=1e-12)
    # the mapping's maximum concurrency defaults to the reservation: both cross here, and a tie
    # goes to the check named first
    assert (limit["check"], limit["scope"]) == (
        "Lambda concurrency vs maximum_concurrency",
        "seed-orders-processor",
    )
    reserved = capacity(seed).set_index(["check", "scope"]).loc[
        ("Lambda concurrency vs reserved", "seed-orders-processor")
    ]
    assert reserved.limit_at == pytest.approx(crossing, rel=1e-12)
    assert limit["needed"] == pytest.approx(50) and limit["utilisation"] == 1.0
    # the headroom at that exact volume is 100 %, a hair below it is not over
    at = headroom(seed, [crossing * (1 - 1e-9), crossing])
    lam = at[at.check == "Lambda concurrency vs reserved"].utilisation.tolist()
    assert lam[0] < 1 and lam[1] == pytest.approx(1.0)


def test_capacity_table_gives_each_checks_exact_volume_at_its_quota(seed):
    table = capacity(seed).set_index(["check", "scope"])
    puts = table.loc[("EventBridge PutEvents", "account")]
    assert puts.limit_at == pytest.approx(10_000 * MONTH_S / 3)  # one put per event, peak 3
    assert puts.needed == pytest.approx(peak_events(seed.monthly_events))
    assert np.isnan(table.loc[("Lambda reserved concurrency (sum)", "account")].limit_at)


def test_prod_fifo_queues_are_checked_per_api_action_without_high_throughput(prod):
    frame = capacity(prod)
    fifo = frame[frame.check.str.startswith("SQS FIFO")]
    # the consumer's FIFO queue and the staging FIFO queue its pipe polls, three actions each
    assert sorted(set(fifo.scope)) == ["prod-payments-audit-staging.fifo", "prod-payments-audit.fifo"]
    assert set(fifo.check) == {"SQS FIFO SendMessage", "SQS FIFO ReceiveMessage", "SQS FIFO DeleteMessageBatch"}
    assert (fifo.available == 300).all()
    # 3M of prod's 11.7M events go to the audit queues, each sent 1.01 times, one per call
    sends = fifo[fifo.check == "SQS FIFO SendMessage"].set_index("scope").needed
    for queue in ("prod-payments-audit-staging.fifo", "prod-payments-audit.fifo"):
        assert sends[queue] == pytest.approx(4 * 3_000_000 * 1.01 / MONTH_S)  # prod peak 4
    crossing = fifo[fifo.check == "SQS FIFO SendMessage"].limit_at.min()
    assert crossing == pytest.approx(300 * MONTH_S / (4 * 1.01) * prod.monthly_events / 3_000_000)


def test_high_throughput_fifo_is_checked_per_queue_and_per_message_group(prod):
    variant = dataclasses.replace(prod, topology=copy.deepcopy(prod.topology))
    queue = variant.topology.queues["prod-payments-audit-staging.fifo"]
    assert queue.static_group == "audit"  # the rule target's fixed group
    queue.high_throughput = True
    rows = capacity(variant).set_index(["check", "scope"])
    sends = 4 * 3_000_000 * 1.01 / MONTH_S
    high = rows.loc[("SQS FIFO high throughput", "prod-payments-audit-staging.fifo")]
    assert (high.needed, high.available) == (pytest.approx(sends), 70_000)
    group = rows.loc[("SQS FIFO one message group", "prod-payments-audit-staging.fifo (audit)")]
    assert (group.needed, group.available) == (pytest.approx(sends), 300)
    assert ("SQS FIFO SendMessage", "prod-payments-audit-staging.fifo") not in rows.index
