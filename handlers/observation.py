"""Where a consumer's side effect can be seen, event by event: for the emulator's flow check and
the tests, never called by the functions themselves.

Each catalogue entry names its observer (`HandlerSpec.observer`, "module:function"), next to
the code that writes the effect, so a new handler plugs into the demo's check by declaration. An
observer gets what the services hold (`Effects`) and the events the routing should have brought
the consumer (`Routed`, by business key hash), and returns per event how many times its effect
is present, plus every way the effect disagrees with its event (a field lost, a value that is
not the event's).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from handlers.catalog import spec_for
from handlers.runtime.envelope import Incoming, business_key, digest


@dataclass(frozen=True)
class Routed:
    """One event the consumer should receive: its EventBridge envelope (source, detail-type,
    detail) and its business key."""

    event: dict[str, Any]
    key: Any

    @property
    def incoming(self) -> Incoming:
        return Incoming(self.event, self.key, message_id="")


def routed_by_key(events: Iterable[dict[str, Any]], key_path: str) -> dict[str, Routed]:
    """Events as an observer takes them: by the hash of their business key under `key_path`."""
    routed = {}
    for event in events:
        key = business_key(event, key_path)
        routed[digest(key)] = Routed(event, key)
    return routed


class Effects(Protocol):
    """Read access to the places the consumers leave their side effects."""

    def table_items(self) -> list[dict[str, Any]]:
        """The idempotency table's items, in DynamoDB's low-level format."""

    def archive_objects(self, domain: str) -> Iterable[tuple[str, bytes]]:
        """(object key, body) of the domain's event archive objects."""

    def notifications(self, domain: str) -> list[dict[str, Any]]:
        """Messages published to the domain's notifications topic (Subject, Message,
        MessageAttributes), as a subscriber receives them."""

    def follow_ups(self, domain: str) -> list[dict[str, Any]]:
        """Events the domain's consumers published on its bus (not archive replays)."""


@dataclass
class Observation:
    applied: Counter = field(default_factory=Counter)  # key hash -> times the effect is present
    # Key hashes whose effect cannot be told apart from a newer event's that covers it (an
    # older order version whose every field a newer one set): applied unless in the DLQ.
    implied: set[str] = field(default_factory=set)
    disagreements: dict[str, list[str]] = field(default_factory=dict)  # key hash -> what is wrong

    def disagree(self, key_hash: str, what: str) -> None:
        self.disagreements.setdefault(key_hash, []).append(what)


Observer = Callable[..., Observation]  # (effects, *, domain, function, routed) -> Observation


def observer_for(handler: str, environment: Mapping[str, str]) -> Observer:
    """The observer the catalogue names for a function with this handler and environment."""
    module, name = spec_for(handler, environment).observer.split(":")
    return getattr(importlib.import_module(module), name)
