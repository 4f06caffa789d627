"""`tapline diff A B` on sessions recorded through the proxy (issue #23, the diff part).

Each test records session A, changes what the origin answers in known ways, records
session B, and checks that `tapline diff` reports exactly those changes (text and
--json), that the ignore rules remove them, and its exit codes: 0 equal, 1 different,
2 bad input.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Optional

from tapline_testkit import websocket as wsk
from tapline_testkit.scripted_origin import HTTP1Answer, ScriptedHTTP1Origin
from tapline_testkit.util import curl, describe, text

PATHS = ["/api/users", "/api/items", "/api/health", "/api/feature", "/api/report", "/api/same"]


def answer(body: bytes, status: str = "200 OK", headers: Optional[list[tuple[str, str]]] = None,
           content_type: str = "application/json") -> HTTP1Answer:
    head = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in headers or []]
    return HTTP1Answer(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def api_answers(recording: int, changed: bool) -> dict[str, HTTP1Answer]:
    """The origin's answers for one recording. Every recording has its own Date and
    X-Request-Id (ignored by default); `changed` applies the known changes: a field
    renamed, an extra array element, a status, a new header, a gzip body's JSON."""
    varying = [("Date", f"Sat, 05 Dec 2026 14:0{recording}:00 GMT"), ("X-Request-Id", f"req-{recording}")]
    second_user = {"id": 2, "fullName": "Bob"} if changed else {"id": 2, "name": "Bob"}
    report = {"count": 2 if changed else 1, "name": "weekly"}
    return {
        "/api/users": answer(json.dumps({"users": [{"id": 1, "name": "Ann"}, second_user]}).encode(), headers=varying),
        "/api/items": answer(json.dumps({"items": [1, 2, 3, 4] if changed else [1, 2, 3]}).encode(), headers=varying),
        "/api/health": answer(b'{"ok": true}', status="503 Service Unavailable" if changed else "200 OK", headers=varying),
        "/api/feature": answer(b'{"feature": 1}', headers=varying + ([("X-Feature", "on")] if changed else [])),
        "/api/report": answer(gzip.compress(json.dumps(report).encode(), mtime=recording),
                              headers=varying + [("Content-Encoding", "gzip")]),
        "/api/same": answer(b"plain text\n", content_type="text/plain", headers=varying),
    }


# The differences, by path, from api_answers(changed=False) to api_answers(changed=True):
# what `diff` and `replay` report for the known changes (Date and X-Request-Id ignored).
KNOWN_CHANGES = {
    "api/users": [{"kind": "body", "format": "json", "changes": [
        {"path": "/users/1/name", "change": "removed", "a": "Bob"},
        {"path": "/users/1/fullName", "change": "added", "b": "Bob"}]}],
    "api/items": [{"kind": "body", "format": "json", "changes": [
        {"path": "/items/3", "change": "added", "b": 4}]}],
    "api/health": [{"kind": "status", "a": 200, "b": 503}],
    "api/feature": [{"kind": "header", "name": "x-feature", "removed": [], "added": ["on"]}],
    "api/report": [{"kind": "body", "format": "json", "changes": [
        {"path": "/count", "change": "changed", "a": 1, "b": 2}]}],
    "api/same": [],
}


def record(tapline, origin: ScriptedHTTP1Origin, *proxy_args: str) -> str:
    """Requests every path of PATHS through a new proxy; returns the closed session's directory."""
    proxy = tapline(*proxy_args)
    for path in PATHS:
        r = curl("-x", proxy.proxy_url, origin.url + path)
        assert r.returncode == 0, r.stderr
    session = proxy.session_dir()
    proxy.stop()
    return str(session)


def record_pair(tapline, changed: bool) -> tuple[str, str]:
    """Sessions A and B of PATHS, B recorded after the origin's answers changed (or, with
    `changed` False, only their Date and X-Request-Id)."""
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        a = record(tapline, origin)
        origin.answers = api_answers(2, changed=changed)
        return a, record(tapline, origin)
    finally:
        origin.stop()


def differences_by_path(report: dict) -> dict[str, list[dict]]:
    return {flow["url"].split("/", 3)[3]: flow["differences"] for flow in report["flows"]}


def test_identical_sessions_exit_0(tapline):
    a, b = record_pair(tapline, changed=False)
    p = tapline.started[0].cli("diff", a, b)
    assert p.returncode == 0, describe(p)
    assert "no differences: 6 paired: 6 equal, 0 different; 0 only in A, 0 only in B" in text(p)
    p = tapline.started[0].cli("diff", a, b, "--json")
    assert p.returncode == 0, describe(p)
    report = json.loads(text(p))
    assert report["equal"] is True
    assert report["summary"] == {"paired": 6, "equal": 6, "different": 0, "onlyInA": 0, "onlyInB": 0}


def test_known_changes_are_reported_exactly_and_ignore_rules_remove_them(tapline):
    a, b = record_pair(tapline, changed=True)
    cli = tapline.started[0].cli

    p = cli("diff", a, b, "--json")
    assert p.returncode == 1, describe(p)
    report = json.loads(text(p))
    assert report["equal"] is False
    assert report["summary"] == {"paired": 6, "equal": 1, "different": 5, "onlyInA": 0, "onlyInB": 0}
    assert differences_by_path(report) == KNOWN_CHANGES

    p = cli("diff", a, b)
    assert p.returncode == 1, describe(p)
    lines = [line.strip() for line in text(p).splitlines()]
    for expected in ['body /users/1/name: removed "Bob"', 'body /users/1/fullName: added "Bob"',
                     "body /items/3: added 4", "status: 200 -> 503", 'header x-feature: added "on"',
                     "body /count: 1 -> 2",
                     "differences: 6 paired: 1 equal, 5 different; 0 only in A, 0 only in B"]:
        assert expected in lines, describe(p)
    assert not any("date" in line.lower() or "x-request-id" in line.lower() for line in lines), describe(p)

    p = cli("diff", a, b, "--filter", "!path:/api/health", "--ignore-header", "X-Feature",
            "--ignore-path", "/users/*/name", "--ignore-path", "/users/*/fullName",
            "--ignore-path", "/items/3", "--ignore-path", "/count")
    assert p.returncode == 0, describe(p)
    assert "no differences: 5 paired: 5 equal" in text(p)


def test_unpaired_flows_are_reported_on_each_side(tapline):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        a = record(tapline, origin)
        proxy = tapline()
        for path in ["/api/users", "/api/extra"]:
            assert curl("-x", proxy.proxy_url, origin.url + path).returncode == 0
        b = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()
    p = tapline.started[0].cli("diff", a, b, "--json")
    assert p.returncode == 1, describe(p)
    report = json.loads(text(p))
    assert [f["url"].split("/", 3)[3] for f in report["onlyInA"]] == [path[1:] for path in PATHS[1:]]
    assert [f["url"].split("/", 3)[3] for f in report["onlyInB"]] == ["api/extra"]
    assert report["summary"]["paired"] == 1


def test_truncated_bodies_are_never_equal(tapline):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        a = record(tapline, origin, "--max-body-capture", "8")
        b = record(tapline, origin, "--max-body-capture", "8")
    finally:
        origin.stop()
    p = tapline.started[0].cli("diff", a, b, "--json", "--filter", "path:/api/users")
    assert p.returncode == 1, describe(p)
    (flow,) = json.loads(text(p))["flows"]
    (body,) = flow["differences"]
    assert body["format"] == "incomplete" and body["comparedBytes"] == 8 and body["firstDifference"] is None
    assert body["aReason"].startswith("the capture kept only 8 of ")


def record_websocket(tapline, replies: list[str]) -> str:
    """One WebSocket conversation through the proxy: three client messages, the origin
    answering each with the next of `replies`; returns the closed session's directory."""
    async def handler(ws):
        for reply in replies:
            await ws.recv()
            await ws.send(reply)

    origin = wsk.WebSocketOrigin(handler)
    proxy = tapline()
    try:
        async def converse():
            async with wsk.connect(origin.url, "/feed", mode="absolute", proxy=proxy) as ws:
                for message in ["hello", '{"subscribe": "prices"}', "bye"]:
                    await ws.send(message)
                    await ws.recv()
        asyncio.run(converse())
        wsk.wait_for_ended_websocket_flow(proxy)
    finally:
        origin.stop()
    session = proxy.session_dir()
    proxy.stop()
    return str(session)


def test_websocket_message_altered_is_that_message(tapline):
    a = record_websocket(tapline, ["welcome", '{"price": 10, "currency": "EUR"}', "done"])
    b = record_websocket(tapline, ["welcome", '{"currency": "EUR", "price": 11}', "done"])
    cli = tapline.started[0].cli
    p = cli("diff", a, b, "--json")
    assert p.returncode == 1, describe(p)
    (flow,) = json.loads(text(p))["flows"]
    assert flow["differences"] == [{"kind": "message", "from": "server", "index": 1, "change": "payload",
                                    "format": "json", "changes": [
                                        {"path": "/price", "change": "changed", "a": 10, "b": 11}]}]
    p = cli("diff", a, b)
    assert "server message 2 /price: 10 -> 11" in [line.strip() for line in text(p).splitlines()], describe(p)
    assert cli("diff", a, a).returncode == 0


def test_bad_input_exits_2_with_the_reason(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        a = record(tapline, origin)
    finally:
        origin.stop()
    cli = tapline.started[0].cli
    missing = str(tmp_path / "no-such-session")
    p = cli("diff", a, missing)
    assert p.returncode == 2, describe(p)
    assert f'tapline diff: session "{missing}"' in p.stderr, describe(p)

    p = cli("diff", a, a, "--bogus")
    assert p.returncode == 2, describe(p)
    assert "tapline diff: unknown option --bogus" in p.stderr, describe(p)

    p = cli("diff", a)
    assert p.returncode == 2 and "diff compares two sessions, A and B; 1 given" in p.stderr, describe(p)

    p = cli("diff", a, a, "--ignore-path", "meta/id")
    assert p.returncode == 2 and "--ignore-path takes a JSON Pointer starting with /" in p.stderr, describe(p)


def test_damaged_session_names_the_flow_and_exits_2(tapline):
    a, b = record_pair(tapline, changed=False)
    segments = sorted((Path(b) / "bodies").glob("*.bin"))
    assert segments, f"no body segment in {b}"
    for segment in segments:
        segment.write_bytes(b"")  # every stored body of B is gone
    p = tapline.started[0].cli("diff", a, b)
    assert p.returncode == 2, describe(p)
    assert f"tapline diff: session {b}, flow 1: cannot read its response body: cannot read " in p.stderr, describe(p)
