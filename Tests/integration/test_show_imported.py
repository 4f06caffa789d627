"""`tapline show` of a session imported from a HAR shows what the HAR recorded (issue #21 follow-up).

The capture's events hold a parsed HTTP version (HTTP/1.1 for `spdy`) and timings rebuilt as
moments (a positive `blocked` folded into the send, -1 counted as 0). `show` (the list, `--flow N`
and their `--json`) must give the entry's `httpVersion` string and `timings` phases as written,
as `tapline export --har` does. Fixtures: Tests/fixtures/har/SOURCES.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tapline_testkit.util import describe, run_tapline, text

HAR_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "har"
PHASES = ("blocked", "dns", "connect", "ssl", "send", "wait", "receive")


def har_entries(name: str) -> list[dict]:
    return json.loads((HAR_DIR / name).read_text(encoding="utf-8-sig"))["log"]["entries"]


def imported(name: str, capture: Path) -> str:
    p = run_tapline("import", str(HAR_DIR / name), "--capture", str(capture), timeout=60)
    assert p.returncode == 0, describe(p)
    return text(p).strip()


def show(capture: Path, session: str, *args: str) -> str:
    p = run_tapline("show", session, "--capture", str(capture), *args, timeout=60)
    assert p.returncode == 0, describe(p)
    return text(p)


def recorded_phases(entry: dict) -> dict:
    """The entry's HAR timing phases that hold a number, as written (-1 included)."""
    return {k: v for k, v in entry["timings"].items() if k in PHASES and isinstance(v, (int, float))}


@pytest.fixture
def webpagetest(tmp_path):
    capture = tmp_path / "captures"
    return capture, imported("webpagetest.har", capture)


def test_list_shows_the_recorded_version_strings(webpagetest):
    capture, session = webpagetest
    rows = show(capture, session).splitlines()[1:]
    assert [row.split()[-1] for row in rows] == ["spdy", "spdy", "quic/1+spdy/3", "spdy"], "\n".join(rows)
    listed = json.loads(show(capture, session, "--json"))
    assert [flow["protocol"] for flow in listed] == ["spdy", "spdy", "quic/1+spdy/3", "spdy"]


def test_flow_detail_shows_the_recorded_version_and_timing_phases(webpagetest):
    capture, session = webpagetest
    # Entry 2: blocked 12.5, dns/connect/ssl -1, send 0.25, wait 30.75, receive 1.5 (a reused connection).
    detail = show(capture, session, "--flow", "2")
    lines = [line.strip() for line in detail.splitlines()]
    assert "GET /images/srpr/logo11w.png spdy" in lines, detail
    assert "spdy 200" in lines, detail
    start = lines.index("Timings (as recorded in the imported HAR)")
    assert lines[start + 1:start + 8] == [
        "blocked      12.5 ms", "dns          -1 (does not apply)", "connect      -1 (does not apply)",
        "ssl          -1 (does not apply)", "send         0.25 ms", "wait         30.75 ms", "receive      1.5 ms",
    ], detail
    assert "request sent" not in detail, "the rebuilt moments (blocked folded into the send) are not shown as recorded"

    # Entry 1: connect 41 includes ssl 27, as HAR has it; not split into connect 14 + tls 27.
    first = [line.strip() for line in show(capture, session, "--flow", "1").splitlines()]
    assert "connect      41 ms" in first and "ssl          27 ms" in first, "\n".join(first)


def test_flow_json_has_the_recorded_versions_and_timings(webpagetest):
    capture, session = webpagetest
    for number, entry in enumerate(har_entries("webpagetest.har"), start=1):
        flow = json.loads(show(capture, session, "--flow", str(number), "--json"))
        assert flow["url"].endswith(entry["request"]["url"].split("://", 1)[1].split("/", 1)[1]), (flow["url"], number)
        assert flow["request"]["version"] == entry["request"]["httpVersion"]
        if flow["response"] is not None:
            assert flow["response"]["version"] == entry["response"]["httpVersion"]
        assert flow["recordedTimings"] == recorded_phases(entry), number


@pytest.mark.parametrize("name", ["chrome.har", "fiddler.har", "firefox.har", "safari.har", "timed_out.har"])
def test_every_imported_flow_shows_what_its_entry_recorded(tmp_path, name):
    """Chrome's `http/2.0` and `h3`, Firefox's `HTTP/3` and `timings: {}`, Safari's `HTTP/2` and
    empty versions, Fiddler's positive `blocked`, failed entries with `httpVersion ""`."""
    capture = tmp_path / "captures"
    session = imported(name, capture)
    entries = har_entries(name)
    listed = json.loads(show(capture, session, "--json"))
    assert [flow["protocol"] for flow in listed] == [entry["request"]["httpVersion"] for entry in entries]
    rows = show(capture, session).splitlines()[1:]
    for row, entry in zip(rows, entries, strict=True):
        assert row.split()[-1] == (entry["request"]["httpVersion"] or "-"), row
    for number, entry in enumerate(entries, start=1):
        if number > 6:
            break  # enough of each file; the list above covers every entry's version
        flow = json.loads(show(capture, session, "--flow", str(number), "--json"))
        assert flow["request"]["version"] == entry["request"]["httpVersion"], number
        assert flow["recordedTimings"] == recorded_phases(entry), number
