"""Reading a capture session's files directly, as docs/capture-format.md describes."""

from __future__ import annotations

import json
from pathlib import Path

from .util import wait_until


def read_events(session_dir: Path) -> list[dict]:
    """The complete lines of events.jsonl. The capture writer may be appending while
    we read, so a last line without its newline is not finished yet: it is skipped,
    as tapline's own reader does."""
    data = (Path(session_dir) / "events.jsonl").read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]


def wait_for_every_flow_ended(session_dir: Path, count: int = 1, timeout: float = 20.0) -> list[dict]:
    """Waits until at least `count` flows have started and every started flow has its
    flowEnded line: the capture writer runs behind the traffic, so a client having its
    answer does not mean the session holds it yet. Returns the flowEnded events."""
    def settled():
        events = read_events(session_dir)
        started = {e["flow"] for e in events if e["type"] == "flowStarted"}
        ended = [e for e in events if e["type"] == "flowEnded"]
        return ended if len(started) >= count and started <= {e["flow"] for e in ended} else None
    return wait_until(settled, timeout, interval=0.05, message="every flow to end in the capture")
