"""Duplicate guards: Powertools' in-progress/complete records, and the ids of conditional writes.

Every item a consumer writes starts with its function's name: IAM scopes each function to
`dynamodb:LeadingKeys` "<function name>*", and consumers sharing the table never collide.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from handlers.runtime.envelope import Incoming
from handlers.runtime.errors import PayloadMismatch


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    # An older version of an entity arriving after a newer one was applied.
    SUPERSEDED = "superseded"


class InProgressElsewhere(RuntimeError):
    """Another invocation holds this key: report the record so SQS redelivers it later."""


ID_SEPARATOR = "#"


def item_id(function_name: str, *parts: str) -> str:
    """A table key: every key starts with the writing function's name (its IAM leading key)."""
    return ID_SEPARATOR.join((function_name, *parts))


def item_suffix(item: str, function_name: str, *parts: str) -> str | None:
    """What follows `item_id(function_name, *parts)` in a table key; None for other keys."""
    prefix = item_id(function_name, *parts, "")
    return item[len(prefix) :] if item.startswith(prefix) else None


def expires_at(window_s: int) -> int:
    return int(time.time()) + window_s


class PowertoolsGuard:
    """Wraps a side effect in Powertools idempotency: mark in progress, run, record or unmark.

    The mark expires with the invocation's remaining time (`register`), so a timed-out attempt
    does not block retries; it is deleted when the side effect raises, so a retry runs; a
    completed key is remembered for the consumer's window.
    """

    def __init__(
        self,
        *,
        function_name: str,
        consumer: str,
        table: str,
        window_s: int,
        client: Any,
        effect: Callable[[Incoming], Outcome],
    ) -> None:
        # One layer per config: a persistence layer configures itself once and keeps that config.
        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="detail",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=window_s,
            response_hook=lambda _response, _record: Outcome.DUPLICATE.value,
        )

        def run(incoming: Incoming, guarded: dict[str, Any]) -> str:
            return effect(incoming).value

        self._run = idempotent_function(
            run,
            data_keyword_argument="guarded",
            config=self._config,
            persistence_store=DynamoDBPersistenceLayer(table_name=table, boto3_client=client),
            key_prefix=item_id(function_name, consumer),
        )

    def register(self, context: Any) -> None:
        self._config.register_lambda_context(context)

    def __call__(self, incoming: Incoming) -> Outcome:
        try:
            return Outcome(
                self._run(incoming, guarded={"key": incoming.key, "detail": incoming.detail})
            )
        except IdempotencyValidationError as exc:
            raise PayloadMismatch(incoming.key) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise InProgressElsewhere(str(exc)) from exc
