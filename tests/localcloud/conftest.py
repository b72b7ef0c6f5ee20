"""The emulator under test: the local stack, with analytics' 5 s batching window cut to 1 s.

The window is real time in the poller (as in Lambda); at 5 s a poison record in analytics takes
25 s to reach the DLQ, which the whole suite cannot afford. Everything else is Pulumi.local.yaml.
"""

from __future__ import annotations

import json

import pytest

from localcloud.demo import publish_and_drain
from localcloud.emulator import LocalCloud
from localcloud.flow import flows
from localcloud.workload import Mix
from offline.program import stack_config


def local_config(**consumer_changes: dict) -> dict[str, str]:
    """Pulumi.local.yaml's values with a 1 s analytics window and `domain/consumer` overrides."""
    values = stack_config("local")
    domains = json.loads(values["eda-platform:domains"])
    for domain in domains.values():
        for consumer in domain["consumers"].values():
            if consumer.get("batching_window_s"):
                consumer["batching_window_s"] = 1
    for path, change in consumer_changes.items():
        domain, consumer = path.split("/")
        domains[domain]["consumers"][consumer].update(change)
    return {**values, "eda-platform:domains": json.dumps(domains)}


@pytest.fixture(scope="module")
def faulty_run():
    """One small workload with every kind of injected fault, drained: (cloud, ledger, flows).

    moto's backends are process-wide: only one cloud may be alive at a time, so tests that need
    their own cloud live in another module than the ones using this fixture.
    """
    with LocalCloud("local", config=local_config()) as cloud:
        mix = Mix(events=160, duplicates=0.15, failures=0.1, poison=0.04, seed=11)
        ledger, _ = publish_and_drain(cloud, mix)
        yield cloud, ledger, flows(cloud, ledger)


@pytest.fixture
def fresh_cloud():
    def start(config: dict[str, str] | None = None, **kwargs) -> LocalCloud:
        return LocalCloud("local", config=config or local_config(), **kwargs)

    return start
