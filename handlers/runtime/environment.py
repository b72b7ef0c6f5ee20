"""A function's environment variables, read and checked at call time.

The same handler module serves several functions (and the local emulator swaps `os.environ`
between calls in one process), so nothing here is read at import time: `FunctionEnv` is a frozen
value built per call and used as the cache key of the function's runtime. The program sets every
required variable (components/domain.py), IDEMPOTENCY_WINDOW_SECONDS included: none of them has a
default here. The optional ones default to the cheaper or safer value, named where they are read
(log level INFO, FIFO_SKIP_GROUP_ON_ERROR false, CUSTOM_METRICS off, a consumer's choice variable
to its catalogue entry), so the program may leave them out or set them explicitly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import jmespath
from jmespath.exceptions import JMESPathError

from handlers.catalog import CUSTOM_METRICS_DEFAULT, CUSTOM_METRICS_VARIABLE


class MissingSetting(RuntimeError):
    """A function's environment lacks a variable or holds a value the handler cannot use."""


def required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise MissingSetting(f"environment variable {name} is not set; the function cannot run")
    return value


def one_of(name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in allowed:
        raise MissingSetting(
            f"environment variable {name}={value!r}; allowed: {', '.join(allowed)}"
        )
    return value


def jmespath_setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "").strip() or default
    if not value:
        return required(name)
    try:
        jmespath.compile(value)
    except JMESPathError as exc:
        raise MissingSetting(
            f"environment variable {name}={value!r} is not JMESPath: {exc}"
        ) from exc
    return value


def _window_s() -> int:
    # The program derives the window from the stack config (settings.model.StackConfig.window_s).
    raw = required("IDEMPOTENCY_WINDOW_SECONDS")
    if not raw.isdigit() or int(raw) < 60:
        raise MissingSetting(
            f"environment variable IDEMPOTENCY_WINDOW_SECONDS={raw!r}; allowed: whole seconds >= 60"
        )
    return int(raw)


@dataclass(frozen=True)
class FunctionEnv:
    function_name: str
    service: str
    # Set only when the function publishes custom metrics (CUSTOM_METRICS=on).
    metrics_namespace: str | None
    log_level: str
    key_path: str
    window_s: int
    queue_kind: Literal["standard", "fifo"]
    skip_group_on_error: bool
    # (source, domain) of every domain whose events the consumer receives: an event is checked
    # against the schemas of its source's domain (a consumer may read several, `also_from`).
    event_domains: tuple[tuple[str, str], ...]
    # Only what the consumer declared it needs, as (name, value) pairs: `FunctionEnv` stays hashable.
    extra: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def from_env(cls, extra: dict[str, Callable[[], str]] | None = None) -> FunctionEnv:
        if os.environ.get("POWERTOOLS_IDEMPOTENCY_DISABLED", "").strip().lower() in (
            "1",
            "true",
            "y",
            "yes",
            "on",
        ):
            raise MissingSetting(
                "environment variable POWERTOOLS_IDEMPOTENCY_DISABLED is set: these consumers "
                "never run without their duplicate guard; unset it"
            )
        function_name = required("AWS_LAMBDA_FUNCTION_NAME")
        metrics = one_of(CUSTOM_METRICS_VARIABLE, ("off", "on"), CUSTOM_METRICS_DEFAULT) == "on"
        return cls(
            function_name=function_name,
            service=os.environ.get("POWERTOOLS_SERVICE_NAME", "").strip() or function_name,
            metrics_namespace=required("POWERTOOLS_METRICS_NAMESPACE") if metrics else None,
            log_level=os.environ.get("POWERTOOLS_LOG_LEVEL", "").strip().upper() or "INFO",
            key_path=jmespath_setting("IDEMPOTENCY_KEY_PATH"),
            window_s=_window_s(),
            queue_kind=one_of("QUEUE_KIND", ("standard", "fifo")),
            skip_group_on_error=one_of("FIFO_SKIP_GROUP_ON_ERROR", ("true", "false"), "false")
            == "true",
            event_domains=_event_domains(),
            extra=tuple((name, read()) for name, read in (extra or {}).items()),
        )

    def __getitem__(self, name: str) -> str:
        return dict(self.extra)[name]


def _event_domains() -> tuple[tuple[str, str], ...]:
    text = required("EVENT_DOMAINS")
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not value or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        raise MissingSetting(
            f"environment variable EVENT_DOMAINS={text!r}; allowed: a JSON object from each "
            'event source the consumer reads to its domain, e.g. {"com.ascendion.orders": "orders"}'
        )
    return tuple(sorted(value.items()))
