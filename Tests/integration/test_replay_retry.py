"""`tapline replay` and the stale keep-alive connection (issue #23): a request sent on a
reused HTTP/1.1 connection the server had already closed is sent once more, on a new
connection, under the proxy's rule (`StaleConnectionRetryRule`: idempotent, no body,
complete, reused, no response byte, once).

The origin here answers one request per connection without `Connection: close`, then
closes the connection as soon as the next request arrives on it, unanswered: the race of
RFC 9112 §9.3.1 (a server closing an idle keep-alive connection just as it is reused),
made deterministic.
"""

from __future__ import annotations

import json
import socket
import threading

from tapline_testkit.recording_upstream import parse_request
from tapline_testkit.scripted_origin import ScriptedHTTP1Origin
from tapline_testkit.util import HOST, ThreadedTestServer, curl, describe, text

from test_diff import answer
from test_replay import replay


class ClosesAfterEachResponseOrigin(ThreadedTestServer):
    """Answers the first request of each connection from `answers` (by path), keeping the
    connection open as if for another; the next request on it is read and not answered:
    the connection is closed. Counts requests answered and requests dropped."""

    def __init__(self, answers):
        self.answers = answers
        self.answered: list[str] = []
        self.dropped: list[str] = []
        self.lock = threading.Lock()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            parsed = None
            while parsed is None:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                parsed = parse_request(buf)
            request, used = parsed
            buf = buf[used:]
            conn.sendall(self.answers[request.target].response)
            with self.lock:
                self.answered.append(f"{request.method} {request.target}")
            while b"\r\n\r\n" not in buf:  # the next request: dropped with the connection
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            with self.lock:
                self.dropped.append(buf.split(b"\r\n", 1)[0].decode("latin-1"))
        except OSError:
            pass
        finally:
            conn.close()


ANSWERS = {"/a": answer(b'{"a": 1}'), "/b": answer(b'{"b": 2}'), "/c": answer(b'{"c": 3}')}


def record_on_one_connection(tapline, *requests: list[str]) -> str:
    """One curl through a new proxy (so one client connection, kept alive between the
    requests) against a keep-alive origin; returns the closed session's directory."""
    origin = ScriptedHTTP1Origin(ANSWERS)
    try:
        proxy = tapline()
        args: list[str] = []
        for index, request in enumerate(requests):
            if index:
                args.append("--next")
            args += ["-x", proxy.proxy_url, *request[:-1], origin.url + request[-1]]
        r = curl(*args)
        assert r.returncode == 0, r.stderr
        session = proxy.session_dir()
        proxy.stop()
    finally:
        origin.stop()
    events = [json.loads(line) for line in (session / "events.jsonl").read_text().splitlines()]
    assert len({e["conn"] for e in events if e["type"] == "flowStarted"}) == 1, "curl used one connection"
    return str(session)


def test_get_on_a_closed_keep_alive_connection_is_sent_once_more_on_a_new_one(tapline, tmp_path):
    source = record_on_one_connection(tapline, ["/a"], ["/b"], ["/c"])
    origin = ClosesAfterEachResponseOrigin(ANSWERS)
    try:
        proxy = tapline.started[0]
        p = replay(proxy, source, "--target", f"http://{HOST}:{origin.port}", "--report", str(tmp_path / "r.json"))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 3: 3 equal, 0 different, 0 failed" in text(p), describe(p)
        # each of /b and /c went first on the connection the origin then closed, and again on a new one
        assert origin.answered == ["GET /a", "GET /b", "GET /c"]
        assert origin.dropped == ["GET /b HTTP/1.1", "GET /c HTTP/1.1"]
    finally:
        origin.stop()
    replayed = json.loads((tmp_path / "r.json").read_text())["replay"]["session"]
    events = [json.loads(line) for line in (proxy.capture_dir / replayed / "events.jsonl").read_text().splitlines()]
    # the replay session says so as the proxy's capture does: a reused leg, then a new one
    assert [(e["flow"], e["reused"]) for e in events if e["type"] == "upstreamConnected"] == [
        (1, False), (2, True), (2, False), (3, True), (3, False)]
    assert [e["flow"] for e in events if e["type"] == "requestEnd"] == [1, 2, 3]


def test_a_post_is_not_sent_twice_and_fails_as_upstream_aborted(tapline, tmp_path):
    source = record_on_one_connection(tapline, ["/a"], ["-X", "POST", "/b"])
    origin = ClosesAfterEachResponseOrigin(ANSWERS)
    try:
        proxy = tapline.started[0]
        p = replay(proxy, source, "--target", f"http://{HOST}:{origin.port}", "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        assert origin.answered == ["GET /a"] and origin.dropped == ["POST /b HTTP/1.1"]
    finally:
        origin.stop()
    flows = json.loads((tmp_path / "r.json").read_text())["flows"]
    assert [flow["result"] for flow in flows] == ["equal", "failed"], flows
    assert flows[1]["error"]["kind"] == "upstream-aborted", flows[1]
