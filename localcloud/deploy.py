"""Deploy the real program into moto: a Pulumi mock `State` that creates each resource for real.

`offline.program.run` evaluates `__main__.py` under Pulumi's mocks; `MotoState` answers every
registration by creating the resource in moto with the inputs the program gave (through one
creator per resource type, grouped by service family in `moto_*.py`) and returning moto's ARNs,
URLs and names, so dependent resources receive real identifiers.

Every resource ends in exactly one list of the `DeployReport`: emulated, bridged (moto holds it but
a bridge supplies what moto lacks), played by localcloud (event source mappings), or not emulated
(moto cannot hold it; the reason is given). Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import moto_compute, moto_events, moto_integration, moto_messaging, moto_storage
from localcloud.records import (
    AlarmSpec,
    Deployment,
    DeployReport,
    FunctionSpec,
    Line,
    PipeSpec,
    RelaySpec,
)
from offline.program import fake_state, run, stack_config
from offline.readers import MappingInputs

# A creator gets the deploying state, the logical name and the inputs; returns (id, outputs).
Creator = Callable[["MotoState", str, dict[str, Any]], tuple[str, dict[str, Any]]]

CREATORS: dict[str, Creator] = {
    **moto_compute.CREATORS,
    **moto_events.CREATORS,
    **moto_integration.CREATORS,
    **moto_messaging.CREATORS,
    **moto_storage.CREATORS,
}

_NOT_EMULATED = {
    "aws:schemas/registry:Registry": "moto has no EventBridge Schemas service; producers validate "
    "against schemas/ in the repo instead",
    "aws:schemas/schema:Schema": "moto has no EventBridge Schemas service; producers validate "
    "against schemas/ in the repo instead",
}


class MotoState:
    """The Pulumi mock `State` that creates resources in moto (already started by the caller)."""

    def __init__(self, session: Any, region: str) -> None:
        self.region = region
        self._clients: dict[str, Any] = {}
        self._session = session
        self.report = DeployReport()
        self.functions: dict[str, FunctionSpec] = {}
        self.mappings: list[MappingInputs] = []
        self.relays: list[RelaySpec] = []
        self.alarms: list[AlarmSpec] = []
        self.pipes: list[PipeSpec] = []
        self._fake = fake_state(region)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._session.client(service, region_name=self.region)
        return self._clients[service]

    def __call__(self, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if type_.startswith("eda:"):  # a component: a grouping in the program, nothing in the cloud
            return name, inputs
        creator = CREATORS.get(type_)
        if creator is None:
            reason = _NOT_EMULATED.get(type_, "moto has no such resource")
            self.report.not_emulated.append(Line(type_, name, reason))
            return self._fake(type_, name, inputs)
        physical, outputs = creator(self, name, inputs)
        # Registrations may run on several threads at once: a creator's notes are found by name.
        if not self.report.noted(name):
            self.report.emulated.append(Line(type_, name, physical))
        return physical, {**inputs, **outputs}


def deploy(stack: str, session: Any, *, config: dict[str, str] | None = None) -> Deployment:
    """Run the real program for `stack` into moto (started by the caller) and return what it built.

    `config` replaces the stack file's values (namespaced keys, structured values as JSON), e.g.
    to deploy a changed routing rule.
    """
    values = stack_config(stack) if config is None else config
    region = values.get("aws:region", "us-east-1")
    state = MotoState(session, region)
    inventory = run(stack, config=values, state=state)
    return Deployment(
        stack=stack,
        region=region,
        inventory=inventory,
        report=state.report,
        functions=state.functions,
        mappings=state.mappings,
        relays=state.relays,
        alarms=state.alarms,
        pipes=state.pipes,
    )
