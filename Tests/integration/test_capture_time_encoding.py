"""Event times are written as the numbers they are, whatever the encoder wrote before.

The capture encoder keeps the digits of the last time it wrote, to reuse them for the next
line (docs/performance.md, "The capture encoder"). Before that cache started from a real
time's digits, a first time of exactly -1 µs (1969-12-31T23:59:59.999999Z, which a HAR may
carry) matched its empty starting value and was written as sixteen NUL bytes: every line of
the imported session was corrupt and `show` listed no flow.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from tapline_testkit.util import describe, run_tapline, text


def har_with_entry_at(started: str, send: float = 0, wait: float = 0, receive: float = 0) -> dict:
    """A HAR 1.2 log with one GET answered 200, started at `started`, its phases in ms."""
    return {"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": [{
        "startedDateTime": started, "time": send + wait + receive,
        "request": {"method": "GET", "url": "http://example.com/", "httpVersion": "HTTP/1.1", "cookies": [],
                    "headers": [], "queryString": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "cookies": [], "headers": [],
                     "content": {"size": 0, "mimeType": "text/plain"}, "redirectURL": "", "headersSize": -1,
                     "bodySize": 0},
        "cache": {}, "timings": {"send": send, "wait": wait, "receive": receive}}]}}


def imported_events(tmp_path: Path, started: str, **phases: float) -> tuple[Path, str, list[str]]:
    har = tmp_path / "one.har"
    har.write_text(json.dumps(har_with_entry_at(started, **phases)))
    capture = tmp_path / "captures"
    p = run_tapline("import", str(har), "--capture", str(capture), timeout=60)
    assert p.returncode == 0, describe(p)
    session = text(p).strip()
    lines = (capture / session / "events.jsonl").read_bytes().decode("utf-8").splitlines()
    return capture, session, lines


def test_a_time_of_minus_one_microsecond_is_written_as_minus_one(tmp_path):
    capture, session, lines = imported_events(tmp_path, "1969-12-31T23:59:59.999999Z")
    assert lines, "no events written"
    for line in lines:
        assert "\0" not in line, repr(line)
        assert json.loads(line)["t"] == -1, line
    p = run_tapline("show", session, "--capture", str(capture), "--json", timeout=60)
    assert p.returncode == 0, describe(p)
    flows = json.loads(text(p))
    assert [(flow["method"], flow["status"]) for flow in flows] == [("GET", 200)], flows


def test_times_in_one_second_keep_their_own_microseconds(tmp_path):
    # The entry's moments (start, request sent, first response byte, done) share one second
    # and differ in their µs digits, written fresh after the second's digits are reused.
    _, _, lines = imported_events(tmp_path, "2026-11-27T20:36:26.074670Z", send=0.5, wait=1.25, receive=0.25)
    start = int(datetime(2026, 11, 27, 20, 36, 26, tzinfo=timezone.utc).timestamp()) * 1_000_000 + 74_670
    moments = [start, start + 500, start + 1_750, start + 2_000]
    events = [json.loads(line) for line in lines]
    assert {event["t"] for event in events} == set(moments), lines
    ended = next(event for event in events if event["type"] == "flowEnded")
    assert ended["timings"] == dict(zip(("requestStart", "requestSent", "firstResponseByte", "done"), moments)), ended
