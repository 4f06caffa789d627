"""`tapline replay SESSION` (issue #23, replay core): sessions recorded through the proxy
(curl, an h2 client) against local origins are sent again and compared flow by flow.

Each test checks what a user of `replay` would: the exit code (0 all matched, 1 a
difference / failure / skip, 2 bad input), the differences reported (with their JSON
Pointer paths), the replay session (`tapline show`, `session.json`'s mode and source,
`tapline diff SOURCE REPLAY` pairing by link), the `--report` and `--junit` files, and,
at the origin, how the replayed requests arrived (one connection, concurrent streams).
"""

from __future__ import annotations

import json
import shutil
import threading
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from tapline_testkit.h2 import H2Client
from tapline_testkit.scripted_origin import H2Answer, HTTP1Answer, ScriptedH2Origin, ScriptedHTTP1Origin
from tapline_testkit.util import HOST, curl, describe, free_port, text

from test_diff import KNOWN_CHANGES, PATHS, api_answers, differences_by_path, record


def replay(proxy, session: str, *args: str, timeout: float = 60.0):
    """`tapline replay` with the proxy's capture directory (sessions by id are found, and
    the replay session written, there)."""
    return proxy.cli("replay", session, "--capture", str(proxy.capture_dir), *args, timeout=timeout)


def replay_session_of(p, proxy) -> str:
    """The directory of the replay session the summary names (`... recorded as session ID`)."""
    first = text(p).splitlines()[0]
    assert " recorded as session " in first, first
    return str(proxy.capture_dir / first.rsplit(" ", 1)[1])


def test_same_origin_replays_equal_and_the_replay_is_a_session_linked_to_its_source(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, origin)
        cli = tapline.started[0].cli
        report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
        p = replay(tapline.started[0], source, "--report", str(report), "--junit", str(junit))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 6: 6 equal, 0 different, 0 failed; 0 skipped" in text(p), describe(p)
    finally:
        origin.stop()
    replayed = replay_session_of(p, tapline.started[0])

    document = json.loads(report.read_text())
    assert document["matched"] is True
    assert document["summary"] == {"sent": 6, "equal": 6, "different": 0, "failed": 0, "skipped": 0}
    assert [flow["result"] for flow in document["flows"]] == ["equal"] * 6
    assert [flow["source"] for flow in document["flows"]] == [1, 2, 3, 4, 5, 6]
    assert document["replay"]["session"] == Path(replayed).name
    assert {entry["endpoint"] for entry in document["latency"]} == {"GET " + path for path in PATHS}
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "6" and suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == 6 and not suite.findall("testcase/failure")

    # the replay session is a session: show reads it, session.json names its source
    p = cli("show", replayed)
    assert p.returncode == 0, describe(p)
    assert all(path in text(p) for path in PATHS), describe(p)
    metadata = json.loads((Path(replayed) / "session.json").read_text())
    assert metadata["mode"] == "replay" and metadata["sourceSession"] == Path(source).name
    events = [json.loads(line) for line in (Path(replayed) / "events.jsonl").read_text().splitlines()]
    assert [e["sourceFlow"] for e in events if e["type"] == "flowReplays"] == [1, 2, 3, 4, 5, 6]

    # diff pairs the replay with its source by that link
    p = cli("diff", source, replayed, "--json")
    assert p.returncode == 0, describe(p)
    assert [(f["a"], f["b"]) for f in json.loads(text(p))["flows"]] == [(n, n) for n in range(1, 7)]


def test_changed_origin_reports_exactly_the_changes_and_ignore_rules_remove_them(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, origin)
        origin.answers = api_answers(2, changed=True)
        proxy = tapline.started[0]
        report = tmp_path / "report.json"
        p = replay(proxy, source, "--report", str(report), "--junit", str(tmp_path / "junit.xml"))
        assert p.returncode == 1, describe(p)
        assert "mismatches: sent 6: 1 equal, 5 different, 0 failed; 0 skipped" in text(p), describe(p)
        document = json.loads(report.read_text())
        assert differences_by_path(document) == KNOWN_CHANGES
        suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
        assert suite.get("failures") == "5"
        failures = {case.get("name").split(" ", 3)[3]: case.find("failure").text
                    for case in suite.findall("testcase") if case.find("failure") is not None}
        assert "status: 200 -> 503" in failures[origin.url + "/api/health"]

        p = replay(proxy, source, "--no-capture", "--ignore-header", "X-Feature",
                   "--ignore-path", "/users/*/name", "--ignore-path", "/users/*/fullName",
                   "--ignore-path", "/items/3", "--ignore-path", "/count", "--filter", "!path:/api/health")
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 5: 5 equal" in text(p), describe(p)
        assert " recorded as session " not in text(p).splitlines()[0]
    finally:
        origin.stop()


def test_target_rewrites_host_and_map_host_redirects(tapline):
    """Recorded against one origin, replayed against another (--target, --map-host): the
    second origin sees the requests with its own authority as Host (or the recorded one
    with --keep-host)."""
    first = ScriptedHTTP1Origin(api_answers(1, changed=False))
    second = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, first)
        proxy = tapline.started[0]
        p = replay(proxy, source, "--target", second.url, "--filter", "path:/api/users")
        assert p.returncode == 0, describe(p)
        p = replay(proxy, source, "--map-host", f"{first.url.split('//')[1]}={second.url.split('//')[1]}",
                   "--filter", "path:/api/items", "--keep-host")
        assert p.returncode == 0, describe(p)
        first.stop()
        p = replay(proxy, source, "--target", "h2c://" + HOST + ":1", "--filter", "path:/api/users")
        assert p.returncode == 1, describe(p)
    finally:
        first.stop()
        second.stop()


class BarrierH2Origin(ScriptedH2Origin):
    """An h2c origin that answers `/together/N` streams only once `expected` of them are open
    on the connection at the same time: streams sent one after the other would never be
    answered. Counts connections and the most streams open at once on one connection."""

    def __init__(self, expected: int):
        self.expected = expected
        self.connections = 0
        self.most_open = 0
        self.counts = threading.Lock()
        answers = {f"/together/{n}": H2Answer(headers=[(":status", "200"), ("content-type", "application/json")],
                                              body=json.dumps({"n": n}).encode(), trailers=[("x-checksum", str(n))])
                   for n in range(expected)}
        super().__init__(answers)

    def _serve(self, conn) -> None:
        with self.counts:
            self.connections += 1
        self._connection.held = []
        super()._serve(conn)

    def _respond(self, h2c, stream_id: int, s: dict) -> None:
        held = self._connection.held
        held.append((stream_id, s))
        with self.counts:
            self.most_open = max(self.most_open, len(held))
        if len(held) == self.expected:
            for sid, stream in held:
                super()._respond(h2c, sid, stream)
            held.clear()


def test_http2_concurrent_streams_replay_concurrently_on_one_connection_with_trailers(tapline):
    streams = 50
    origin = BarrierH2Origin(streams)
    try:
        proxy = tapline("--reverse", f"h2c://{HOST}:{origin.port}")
        client = H2Client(proxy.port)
        sids = [client.request(f"/together/{n}", authority=f"{HOST}:{proxy.port}") for n in range(streams)]
        client.wait_streams(sids)
        assert all(client.responses[s]["status"] == 200 for s in sids)
        client.close()
        source = str(proxy.session_dir())
        proxy.stop()
        assert origin.connections == 1 and origin.most_open == streams

        origin.connections, origin.most_open = 0, 0
        p = replay(proxy, source, "--target", f"h2c://{HOST}:{origin.port}", "--timeout", "10")
        assert p.returncode == 0, describe(p)
        assert f"all matched: sent {streams}: {streams} equal" in text(p), describe(p)
        assert origin.connections == 1, origin.connections
        assert origin.most_open == streams, origin.most_open

        replayed = replay_session_of(p, proxy)
        p = proxy.cli("show", replayed, "--json")
        assert p.returncode == 0, describe(p)
    finally:
        origin.stop()


def test_har_fixture_replays_against_a_local_origin_serving_its_paths(tapline, tmp_path):
    """A real browser HAR (Chrome's, from the fixtures), imported, replayed with --target
    against an origin serving each path as the HAR recorded it (status and body)."""
    har = json.loads((Path(__file__).parent.parent / "fixtures/har/chrome.har").read_text())
    from urllib.parse import urlsplit
    answers: dict[str, HTTP1Answer] = {}
    for entry in har["log"]["entries"]:
        url = urlsplit(entry["request"]["url"])
        path = url.path + (("?" + url.query) if url.query else "")
        content = entry["response"].get("content", {})
        body = content.get("text", "") or ""
        data = body.encode() if content.get("encoding") != "base64" else __import__("base64").b64decode(body)
        status = entry["response"]["status"]
        if status in (204, 304):
            data = b""  # bodiless, whatever the HAR kept
        answers.setdefault(url.path, HTTP1Answer(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data))
    origin = ScriptedHTTP1Origin(answers)
    try:
        proxy = tapline()
        p = proxy.cli("import", str(Path(__file__).parent.parent / "fixtures/har/chrome.har"),
                      "--capture", str(proxy.capture_dir))
        assert p.returncode == 0, describe(p)
        p = replay(proxy, "latest", "--target", origin.url, "--report", str(tmp_path / "r.json"))
        document = json.loads((tmp_path / "r.json").read_text())
        outcomes = [(flow["url"], flow["result"], flow["error"]) for flow in document["flows"]]
        assert document["summary"]["sent"] == len(har["log"]["entries"]), outcomes
        # every replayed request reached the origin and got its answer
        assert document["summary"]["failed"] == 0, outcomes
    finally:
        origin.stop()


def test_bad_input_each_with_its_message(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, origin)
        proxy = tapline.started[0]

        p = replay(proxy, "no-such-session")
        assert p.returncode == 2 and 'session "no-such-session"' in p.stderr, describe(p)
        p = replay(proxy, source, "--pace", "sometimes")
        assert p.returncode == 2 and "--pace takes none or recorded" in p.stderr, describe(p)
        p = replay(proxy, source, "--target", "ftp://x")
        assert p.returncode == 2 and "--target" in p.stderr, describe(p)

        # a refusing target: every flow fails with its error kind, the rest of the run goes on
        p = replay(proxy, source, "--target", f"http://{HOST}:{free_port()}", "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        document = json.loads((tmp_path / "r.json").read_text())
        assert document["summary"]["failed"] == 6
        assert {flow["error"]["kind"] for flow in document["flows"]} == {"upstream-unreachable"}
        assert "failed: upstream-unreachable" in text(p)

        # an unknown format version
        future = tmp_path / "future"
        shutil.copytree(source, future)
        metadata = json.loads((future / "session.json").read_text())
        metadata["version"] = 99
        (future / "session.json").write_text(json.dumps(metadata))
        p = replay(proxy, str(future))
        assert p.returncode == 2 and "capture format version 99 is newer" in p.stderr, describe(p)

        # a session not closed: what is complete is replayed, the rest is named as skipped
        open_session = tmp_path / "open"
        shutil.copytree(source, open_session)
        metadata = json.loads((open_session / "session.json").read_text())
        metadata["ended"] = None
        (open_session / "session.json").write_text(json.dumps(metadata))
        lines = (open_session / "events.jsonl").read_text().splitlines()
        last_end = max(i for i, line in enumerate(lines) if '"requestHead"' in line)
        (open_session / "events.jsonl").write_text("\n".join(lines[:last_end + 1]) + "\n")
        p = replay(proxy, str(open_session))
        assert p.returncode == 1, describe(p)
        assert "was not closed" in p.stderr and "replaying its 5 complete flows; 1 skipped" in p.stderr, describe(p)
        assert "skipped flow 6" in text(p) and "not recorded whole" in text(p), describe(p)
    finally:
        origin.stop()


def test_truncated_and_missing_bodies_are_skipped_with_the_reason_and_websockets_are_not(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        truncated = record(tapline, origin, "--max-body-capture", "8")
        proxy = tapline.started[0]
        p = replay(proxy, truncated, "--filter", "path:/api/users")
        assert p.returncode == 1, describe(p)
        assert "truncated by --max-body-capture (kept 8 of" in text(p), describe(p)
        assert "--allow-truncated" in text(p)
        p = replay(proxy, truncated, "--filter", "path:/api/users", "--allow-truncated")
        assert "0 skipped" in text(p), describe(p)

        # a POST whose stored body segment is gone
        proxy = tapline()
        r = curl("-x", proxy.proxy_url, "--data-binary", '{"a": 1}', "-H", "Content-Type: application/json",
                 origin.url + "/api/users")
        assert r.returncode == 0
        posted = proxy.session_dir()
        proxy.stop()
        for segment in (posted / "bodies").iterdir():
            segment.unlink()
        p = replay(proxy, str(posted))
        assert p.returncode == 1, describe(p)
        assert "skipped flow 1" in text(p) and "its stored request body is missing" in text(p), describe(p)
    finally:
        origin.stop()

    # a WebSocket flow is replayed, not skipped (test_replay_websocket.py); its origin is gone here
    from test_diff import record_websocket
    websocket = record_websocket(tapline, ["welcome", "ok", "done"])
    p = replay(tapline.started[0], websocket)
    assert p.returncode == 1, describe(p)
    assert "0 skipped" in text(p) and "failed: upstream-unreachable" in text(p), describe(p)


def test_request_body_and_trailers_replay_over_http2(tapline):
    """A POST with a body and request trailers, recorded over h2c: the origin's /echo
    answers with the body's SHA-256 and the trailers it received, so the replay equals
    the recording only when body and trailers went again."""
    origin = ScriptedH2Origin({})
    try:
        proxy = tapline("--reverse", f"h2c://{HOST}:{origin.port}")
        client = H2Client(proxy.port)
        body = bytes(range(256)) * 300  # 75 KiB: several chunks from the capture
        sid = client.request("/echo", method="POST", authority=f"{HOST}:{proxy.port}", body=body,
                             trailers=[("x-upload-checksum", "abc")])
        client.wait_streams([sid])
        assert ("x-upload-checksum", "abc") in client.responses[sid]["trailers"]
        client.close()
        source = str(proxy.session_dir())
        proxy.stop()
        p = replay(proxy, source, "--target", f"h2c://{HOST}:{origin.port}")
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 1: 1 equal" in text(p), describe(p)
        assert origin.requests[-1]["path"] == "/echo"
    finally:
        origin.stop()


def test_expect_continue_body_waits_for_the_100_and_a_silent_target_times_out(tapline, tmp_path):
    """curl sends `Expect: 100-continue` with its body; the origin answers 100 as soon as
    the head arrives. The replay sends the body after that 100 and gets the same answer.
    Then a target that accepts and never answers: the flow fails as upstream-timeout."""
    posted = b'{"order": 1}'
    answer = HTTP1Answer(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"id\": 42}\n",
                         interim=b"HTTP/1.1 100 Continue\r\n\r\n")
    origin = ScriptedHTTP1Origin({"/orders": answer})
    try:
        proxy = tapline()
        r = curl("-x", proxy.proxy_url, "-H", "Expect: 100-continue", "--data-binary", posted.decode(),
                 "-H", "Content-Type: application/json", origin.url + "/orders")
        assert r.returncode == 0 and b'"id": 42' in r.stdout, r
        source = str(proxy.session_dir())
        proxy.stop()
        p = replay(proxy, source, "--report", str(tmp_path / "r.json"))
        assert p.returncode == 0, describe(p)
        replayed = json.loads((tmp_path / "r.json").read_text())["replay"]["session"]
        events = [json.loads(line) for line in (proxy.capture_dir / replayed / "events.jsonl").read_text().splitlines()]
        assert [e["status"] for e in events if e["type"] == "responseHead"] == [100, 201]
        assert [e["bodyBytes"] for e in events if e["type"] == "requestEnd"] == [len(posted)]
    finally:
        origin.stop()

    import socket
    silent = socket.socket()
    silent.bind((HOST, 0))
    silent.listen(8)
    try:
        p = replay(proxy, source, "--target", f"http://{HOST}:{silent.getsockname()[1]}", "--timeout", "1",
                   "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        (flow,) = json.loads((tmp_path / "r.json").read_text())["flows"]
        assert flow["result"] == "failed" and flow["error"]["kind"] == "upstream-timeout", flow
    finally:
        silent.close()


def test_a_later_flow_on_a_kept_connection_still_times_out(tapline, tmp_path):
    """Two GETs recorded on one kept-alive connection. The target answers the first and
    never the second: the first is equal, the second fails as upstream-timeout once
    `--timeout` has passed without progress (the wait a replayed connection keeps from one
    request to the next runs out for the request that waits, not for the one before)."""
    import socket
    from urllib.parse import urlsplit
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
    origin = ScriptedHTTP1Origin({"/first": HTTP1Answer(answer), "/second": HTTP1Answer(answer)})
    try:
        proxy = tapline()
        r = curl("-x", proxy.proxy_url, origin.url + "/first", origin.url + "/second")
        assert r.returncode == 0 and r.stdout == b"ok\nok\n", r
        source = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()

    silent = socket.socket()
    silent.bind((HOST, 0))
    silent.listen(8)
    done = threading.Event()
    heads: list[bytes] = []

    def answer_first_only():
        connection, _ = silent.accept()
        with connection:
            received = b""
            while received.count(b"\r\n\r\n") < 2:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                received += chunk
                if not heads and b"\r\n\r\n" in received:
                    heads.append(received)
                    connection.sendall(answer)
            heads.append(received)
            done.wait(30)

    server = threading.Thread(target=answer_first_only, daemon=True)
    server.start()
    try:
        p = replay(proxy, source, "--target", f"http://{HOST}:{silent.getsockname()[1]}", "--timeout", "1",
                   "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        flows = json.loads((tmp_path / "r.json").read_text())["flows"]
        outcomes = [(urlsplit(flow["url"]).path, flow["result"], (flow.get("error") or {}).get("kind")) for flow in flows]
        assert outcomes == [("/first", "equal", None), ("/second", "failed", "upstream-timeout")], outcomes
        assert b"GET /second " in heads[-1], heads  # both went over the one connection
    finally:
        done.set()
        silent.close()
        server.join(5)


def test_repeat_rate_and_recorded_pace(tapline, tmp_path):
    """--repeat 2 --concurrency 3 sends every flow twice, each copy linked to its source;
    --pace recorded --speed 1000 and --rate also replay every flow."""
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, origin)
        proxy = tapline.started[0]
        p = replay(proxy, source, "--repeat", "2", "--concurrency", "3", "--report", str(tmp_path / "r.json"))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 12: 12 equal" in text(p), describe(p)
        flows = json.loads((tmp_path / "r.json").read_text())["flows"]
        assert sorted(flow["source"] for flow in flows) == sorted(list(range(1, 7)) * 2)
        p = replay(proxy, source, "--pace", "recorded", "--speed", "1000", "--rate", "200", "--no-capture")
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 6: 6 equal" in text(p), describe(p)
    finally:
        origin.stop()
