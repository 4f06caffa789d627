"""Reading a capture session's files directly, as docs/capture-format.md describes."""

from __future__ import annotations

import json
from pathlib import Path


def read_events(session_dir: Path) -> list[dict]:
    """The complete lines of events.jsonl. The capture writer may be appending while
    we read, so a last line without its newline is not finished yet: it is skipped,
    as tapline's own reader does."""
    data = (Path(session_dir) / "events.jsonl").read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]
