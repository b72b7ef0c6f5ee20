"""Speed bridges: not gaps of moto but costs, each removed without changing what moto answers.

Each has a name the deploy report lists (with the gap bridges, `bridges.BRIDGES`):

- `jsonpath-cache`: moto builds a new JSONPath parser for each of the nine default input paths of
  every rule target, on every event; the bridge memoises the parse.
- `ddb-expression-cache`: moto parses an UpdateExpression twice per UpdateItem (request check,
  then the update); its validator works on a deep copy of the tree, so the parse of a given
  expression is memoised.
- `dispatch-cache`: moto converts names character by character and lists a response class's
  methods with `inspect` on every request; both are pure, so memoised. The moto server's backend
  lookup per host is memoised too (`motoserver`).
- `moto-clock`: moto reads the current time through three datetime conversions
  (`unix_time`), for every message on every visibility check: most of the cost of an SQS send
  or receive. The bridge reads time.time() when no datetime is given.
- `sqs-retention-check`: moto computes every attribute of a queue, counting its messages, to read
  its retention period, once per message it receives: O(depth) per message. The bridge reads the
  retention period itself; the test is moto's.
- `sqs-receipt-handle`: moto draws a receipt handle's 185 characters one `random.choice` call at
  a time; the bridge draws them in one call from the same seeded generator.
- `queue-probe` (MotoQueues): Lambda long-polls; the emulator's loop polls, and an empty
  ReceiveMessage costs a full boto3 round trip through moto. Pollers, relays and pipes first look
  at moto's queue in-process and skip the receive when it holds no message a receive could
  return; a probe that says yes still receives through the API, so what is received, and every
  receive count, is moto's. The drain loop's backlog and the DLQ alarms read the same counts.

All but `queue-probe` patch moto's classes, so they apply to the in-process stub and to the moto
server (`motoserver`) alike; they are installed for the life of a LocalCloud by `speedups()`.
"""

from __future__ import annotations

import functools
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SPEEDUPS = {
    "jsonpath-cache": "moto's per-event JSONPath parser construction memoised (speed)",
    "ddb-expression-cache": "moto's UpdateExpression parse memoised per expression (speed)",
    "dispatch-cache": "moto's per-request name conversion, method listing and server backend "
    "lookup memoised (speed)",
    "moto-clock": "moto's current-time reads without datetime conversions (speed)",
    "sqs-retention-check": "moto's per-message retention check reads one attribute instead of "
    "computing all (speed)",
    "sqs-receipt-handle": "moto's receipt handles drawn in one call, not one per character "
    "(speed)",
    "queue-probe": "an empty queue is seen in moto's state instead of an empty ReceiveMessage; "
    "queue depths read there too (speed)",
}

Probe = Callable[[str], bool]  # queue URL -> may a receive return a message now?


class MotoQueues:
    """`queue-probe`: moto's queues read in-process (in-process moto only), where the emulator
    only needs to know whether to ask: whether a receive could return a message, and how many
    messages a queue holds. Counts are moto's own definitions (ApproximateNumberOfMessages:
    visible and not delayed; the rest in flight or delayed), without the API's pass over every
    attribute."""

    def __init__(self, account: str, region: str) -> None:
        from moto.sqs.models import sqs_backends

        self._queues = sqs_backends[account][region].queues

    def _messages(self, url: str) -> list[Any] | None:
        queue = self._queues.get(url.rsplit("/", 1)[1])
        return None if queue is None else list(queue._messages)

    @staticmethod
    def _available(message: Any, now: float) -> bool:
        # moto's Message.visible and not Message.delayed, against one clock reading per call
        # (each property reads the clock itself, through datetime).
        return now > message.visible_at and not now < message.delayed_until

    def has_visible(self, url: str) -> bool:
        """True for an unknown queue too: the receive then goes to the API and fails there."""
        messages = self._messages(url)
        if messages is None:
            return True
        now = time.time() * 1000  # moto's clock, in its unit (unix_time_millis)
        return any(self._available(m, now) for m in messages)

    def counts(self, url: str) -> tuple[int, int]:
        """(visible, in flight or delayed)."""
        messages = self._messages(url) or []
        now = time.time() * 1000
        visible = sum(1 for m in messages if self._available(m, now))
        return visible, len(messages) - visible


Restore = Callable[[], None]


@contextmanager
def speedups() -> Iterator[None]:
    """Install the speed bridges that patch moto's classes for the block."""
    restores = [
        _jsonpath_cache(),
        _expression_cache(),
        _dispatch_cache(),
        _clock(),
        _retention_check(),
        _receipt_handle(),
    ]
    try:
        yield
    finally:
        for restore in reversed(restores):
            restore()


def _jsonpath_cache() -> Restore:
    """`jsonpath-cache`."""
    import jsonpath_ng.ext

    parse = jsonpath_ng.ext.parse
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(parse)
    return lambda: setattr(jsonpath_ng.ext, "parse", parse)


def _expression_cache() -> Restore:
    """`ddb-expression-cache`: the validator deep-copies the tree before it touches it, so a
    parsed tree is never changed and may be shared."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    make = UpdateExpressionParser.__dict__["make"]  # the classmethod itself
    UpdateExpressionParser.make = classmethod(functools.lru_cache(maxsize=512)(make.__func__))
    return lambda: setattr(UpdateExpressionParser, "make", make)


def _dispatch_cache() -> Restore:
    """`dispatch-cache`: moto's pure per-request helpers, memoised."""
    from moto.core import utils

    return _replace_in_moto({
        name: functools.lru_cache(maxsize=4096)(getattr(utils, name))
        for name in ("camelcase_to_underscores", "method_names_from_class")
    })


def _clock() -> Restore:
    """`moto-clock`: the current time without a datetime; a given datetime still converts as
    moto does."""
    from moto.core import utils

    unix_time, unix_time_millis = utils.unix_time, utils.unix_time_millis

    def now(dt: Any = None) -> float:
        return time.time() if dt is None else unix_time(dt)

    def now_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    return _replace_in_moto({"unix_time": now, "unix_time_millis": now_millis})


def _replace_in_moto(replacements: dict[str, Callable]) -> Restore:
    """Replace moto.core.utils functions by name, wherever a moto module imported them."""
    from moto.core import utils

    originals = {name: getattr(utils, name) for name in replacements}
    replaced = []
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("moto"):
            continue
        for name, function in originals.items():
            if getattr(module, name, None) is function:
                setattr(module, name, replacements[name])
                replaced.append((module, name))

    def restore() -> None:
        for module, name in replaced:
            setattr(module, name, originals[name])

    return restore


def _retention_check() -> Restore:
    """`sqs-retention-check`."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    original = SQSBackend.is_message_valid_based_on_retention_period

    def retained(backend: Any, queue_name: str, message: Any) -> bool:
        # moto's own test, reading the one attribute instead of computing all of them.
        queue = backend.get_queue(queue_name)
        return int(queue.message_retention_period) + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = retained
    return lambda: setattr(SQSBackend, "is_message_valid_based_on_retention_period", original)


def _receipt_handle() -> Restore:
    """`sqs-receipt-handle`: moto's alphabet and length (sqs/utils.py), from moto's own seeded
    generator, in one call."""
    from moto.moto_api._internal import mock_random
    from moto.sqs import models

    original = models.generate_receipt_handle
    models.generate_receipt_handle = lambda: "".join(
        mock_random.choices(string.ascii_lowercase, k=185)
    )
    return lambda: setattr(models, "generate_receipt_handle", original)
