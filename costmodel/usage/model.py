"""`UsageModel`: a topology and its propagated volume turned into usages, per the stack's
assumptions. It keeps the list of usages and warnings and what every service family needs
(the stack's config, the owner of a resource, the consumer a function serves); the families
(`usage.events`, `usage.queues`, `usage.functions`, `usage.stores`, `usage.shared`) add to it.
"""

from __future__ import annotations

from costmodel.assumptions import CostAssumptions
from costmodel.resources import SourceError
from costmodel.topology import Function, Topology
from costmodel.usage import STORAGE, Usage, events, queues, retention, shared, stores
from costmodel.volume import Flow, Propagation
from settings.model import ConsumerConfig, StackConfig


class UsageModel:
    """Turns a topology and its propagated volume into usages, per the stack's assumptions."""

    def __init__(
        self,
        topology: Topology,
        flows: Propagation,
        config: StackConfig,
        facts: CostAssumptions | None = None,
    ) -> None:
        self.topology, self.flows, self.config = topology, flows, config
        self.facts = facts or CostAssumptions()
        self.a = config.assumptions
        self.usages: list[Usage] = []
        self.warnings: list[str] = list(topology.warnings) + list(flows.warnings)
        self.metrics_counted: set[tuple[str, str, str]] = set()  # (namespace, service, name)
        self.table_storage: dict[str, list[Usage]] = {}  # table -> its storage usages

    def build(self) -> list[Usage]:
        events.buses(self)
        events.topics(self)
        for queue in self.topology.queues.values():
            queues.polled_queue(self, queue)
        stores.backups(self)
        shared.platform(self)
        return self.usages

    def add(self, service, resource, component, item, per_scale, fixed, formula, first=None) -> Usage:
        usage = Usage(
            service, resource, self.domain_of(resource), component, item, per_scale, fixed,
            formula, first,
        )
        self.usages.append(usage)
        return usage

    def storage(self, service, resource, item, monthly, days, formula, component=STORAGE) -> Usage:
        """A storage line: `monthly` units flow in a month and are kept `days` (None: forever)."""
        months, first, kept = retention(days)
        differs = abs(first - 1) > 1e-12
        text = f"{formula} × {months:.3g} months ({kept})"
        if differs:
            text += f"; first month {monthly * first * months:.3g}"
        return self.add(
            service, resource, component, item, monthly * months, 0, text, first if differs else None
        )

    def domain_of(self, resource: str) -> str:
        """The `eda:domain` tag of the resource; shared pieces carry none."""
        owner = self.topology.owners.get(resource)
        return (owner and owner.domain) or "platform"

    def keys_per_event(self, flow: Flow) -> float:
        """Distinct entity keys per event of the flow's type: the stack's own figure where its
        config states one (`event_types.<Type>.entity_keys_per_event`), else the cost model's
        (`costmodel/assumptions.yaml`, `--assume entity_keys...`), else 1."""
        domain = self.config.domains.get(flow.domain)
        event_type = domain.event_types.get(flow.detail_type) if domain else None
        if event_type is not None and event_type.entity_keys_per_event is not None:
            return event_type.entity_keys_per_event
        return self.facts.keys_per_event(flow.domain, flow.detail_type)

    def consumer(self, function: Function) -> ConsumerConfig:
        """The consumer a function serves, by its `eda:domain` and `eda:consumer` tags."""
        owner = function.owner
        domain = self.config.domains.get(owner.domain or "")
        if domain is None or owner.consumer not in domain.consumers:
            raise SourceError(
                f"function {function.name}: tags eda:domain={owner.domain!r}, eda:consumer="
                f"{owner.consumer!r} name no consumer of stack {self.config.stack!r} (the program "
                "tags every function it declares; is the preview from another stack or program?)"
            )
        return domain.consumers[owner.consumer]
