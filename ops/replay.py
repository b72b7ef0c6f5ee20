"""Replaying a bus archive for a time window onto its bus (EventBridge StartReplay)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any


def replay(
    events: Any, *, bus_name: str, archive_name: str, start: datetime, end: datetime,
    name: str | None = None, timeout_s: float = 600, poll_s: float = 5,
) -> str:
    """Replay the archive's events from [start, end) onto its bus; returns the replay's final state."""
    if end <= start:
        raise ValueError(f"--to {end.isoformat()} must be after --from {start.isoformat()}")
    bus_arn = events.describe_event_bus(Name=bus_name)["Arn"]
    archive_arn = events.describe_archive(ArchiveName=archive_name)["ArchiveArn"]
    name = name or f"{archive_name}-{int(time.time())}"[:64]
    events.start_replay(
        ReplayName=name, EventSourceArn=archive_arn, EventStartTime=start, EventEndTime=end,
        Destination={"Arn": bus_arn},
    )
    deadline = time.monotonic() + timeout_s
    while (state := events.describe_replay(ReplayName=name)["State"]) not in ("COMPLETED", "FAILED", "CANCELLED"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"replay {name} still {state} after {timeout_s:.0f} s")
        time.sleep(poll_s)
    return state
