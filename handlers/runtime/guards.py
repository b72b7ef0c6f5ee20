"""Duplicate guards for side effects outside DynamoDB, and the ids every guard item uses.

Two guards wrap an effect the table cannot hold (a notification, a follow-up event); the catalogue
says which a consumer ships and the function's IDEMPOTENCY_GUARD may pick the other:

- `PowertoolsGuard` (`powertools`): Powertools' in-progress mark, the effect, its completed record:
  2 writes. The mark makes a copy delivered while the first is running fail and come back later.
- `CompletionRecordGuard` (`conditional-write`): a strongly consistent read of the completed
  record, the effect, one conditional put of the record: 1 read and 1 write (a duplicate: 1 read).
  A copy delivered while the first is running is not stopped, so it suits targets that
  deduplicate themselves (a deterministic id downstream, an SNS FIFO topic).

Neither closes the window between the effect and its record: a crash there re-executes the
effect on redelivery (at-least-once). Both write the same item layout (Powertools' attribute
names, key `<prefix>#<md5 of the key>`, `validation` = md5 of the detail), so a function can move
from one to the other without a duplicate slipping through records the other wrote.

Every item a consumer writes starts with its function's name: IAM scopes each function to
`dynamodb:LeadingKeys` "<function name>*", and consumers sharing the table never collide.
"""

from __future__ import annotations

import hashlib
import json
import logging
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

from handlers.runtime.aws import conditional
from handlers.runtime.envelope import Incoming
from handlers.runtime.errors import PayloadMismatch

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    # An older version of an entity arriving after a newer one, with nothing left to contribute.
    SUPERSEDED = "superseded"
    # An older version arriving after a newer one that filled fields the newer one did not set.
    MERGED = "merged"


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


# Powertools' record layout (DynamoDBPersistenceLayer's default attribute names and statuses).
EXPIRATION, STATUS, DATA, VALIDATION = "expiration", "status", "data", "validation"
IN_PROGRESS_EXPIRATION = "in_progress_expiration"
COMPLETED, INPROGRESS = "COMPLETED", "INPROGRESS"


def powertools_hash(value: Any) -> str:
    """Powertools' hash of a key or payload (md5 of sorted-key JSON); not a security control."""
    return hashlib.md5(json.dumps(value, sort_keys=True).encode()).hexdigest()


def record_id(function_name: str, consumer: str, key: Any) -> str:
    """The guard record's key, as Powertools builds it with key_prefix=`<function>#<consumer>`."""
    return item_id(function_name, consumer, powertools_hash(key))


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


class CompletionRecordGuard:
    """Read the completed record; if absent run the effect, then write it with one conditional put.

    A failed effect writes nothing, so its retry runs. The put is conditional so that a record a
    concurrent copy wrote first is compared, not overwritten: a different payload under the same
    key is reported (PayloadMismatch) even though both effects already ran.
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
        self._function_name = function_name
        self._consumer = consumer
        self._table = table
        self._window_s = window_s
        self._client = client
        self._effect = effect

    def register(self, context: Any) -> None:
        """Nothing to expire with the invocation: this guard never leaves an in-progress mark."""

    def __call__(self, incoming: Incoming) -> Outcome:
        key = {"id": {"S": record_id(self._function_name, self._consumer, incoming.key)}}
        payload_hash = powertools_hash(incoming.detail)
        stored = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get(
            "Item"
        )
        if _blocks(stored, time.time()):
            if stored[STATUS]["S"] == INPROGRESS:
                # Only a Powertools mark (this function before a switch of guard) is in progress.
                raise InProgressElsewhere(f"{key['id']['S']} is in progress elsewhere")
            if stored.get(VALIDATION, {}).get("S") != payload_hash:
                raise PayloadMismatch(incoming.key)
            return Outcome.DUPLICATE

        outcome = self._effect(incoming)
        now = time.time()
        stored = conditional(
            self._client.put_item,
            TableName=self._table,
            Item={
                **key,
                EXPIRATION: {"N": str(expires_at(self._window_s))},
                STATUS: {"S": COMPLETED},
                DATA: {"S": json.dumps(outcome.value)},
                VALIDATION: {"S": payload_hash},
            },
            # Powertools' own condition: absent, expired, or an abandoned in-progress mark.
            ConditionExpression=(
                "attribute_not_exists(#id) OR #expiration < :now OR "
                "(#status = :inprogress AND #ipe < :now_ms)"
            ),
            ExpressionAttributeNames={
                "#id": "id",
                "#expiration": EXPIRATION,
                "#status": STATUS,
                "#ipe": IN_PROGRESS_EXPIRATION,
            },
            ExpressionAttributeValues={
                ":now": {"N": str(int(now))},
                ":now_ms": {"N": str(int(now * 1000))},
                ":inprogress": {"S": INPROGRESS},
            },
        )
        if stored is not None:
            if stored.get(VALIDATION, {}).get("S") != payload_hash:
                raise PayloadMismatch(incoming.key)
            logger.warning(
                "a copy of this event was processed concurrently: its effect ran twice",
                extra={"messageId": incoming.message_id, "keyHash": incoming.key_hash},
            )
        return outcome


def _blocks(stored: dict[str, Any] | None, now: float) -> bool:
    """Whether a stored record makes this delivery a duplicate (or one to retry later)."""
    if not stored or int(stored.get(EXPIRATION, {}).get("N", "0")) < now:
        return False
    if stored.get(STATUS, {}).get("S") == INPROGRESS:
        return int(stored.get(IN_PROGRESS_EXPIRATION, {}).get("N", "0")) >= now * 1000
    return True
