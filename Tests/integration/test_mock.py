"""`tapline mock SESSION...` (issue #23, the mock part): sessions recorded through the
proxy are served back by the proxy's own server code with recorded responses.

A session is recorded against scripted origins (JSON, binary, gzip, a POST with a JSON
body, a path answered differently three times, a query, and over h2c a response with
trailers), the origins are stopped, and `tapline mock` serves the sessions: curl over
HTTP/1.1, h2c prior knowledge and h2 over TLS, nghttp and a Python h2 client must get
the recorded bytes; then sequences, the near-miss report, --fallback with --capture,
and bad input.
"""

from __future__ import annotations

import gzip
import json
import random
import signal
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from tapline_testkit import util
from tapline_testkit.h2 import H2Client
from tapline_testkit.scripted_origin import H2Answer, HTTP1Answer, ScriptedH2Origin, ScriptedHTTP1Origin
from tapline_testkit.util import HOST, curl, curl_status, describe, free_port, tapline_bin, wait_for_port

BINARY = bytes(random.Random(23).randrange(256) for _ in range(200_000))
GZIPPED = gzip.compress(json.dumps({"report": "weekly", "rows": list(range(50))}).encode(), mtime=1)
USERS = json.dumps({"users": [{"id": 1, "name": "Ann"}]}).encode()
SEARCH = b'{"hits": 3}'
COUNTS = [b"first\n", b"second\n", b"third\n"]
GRPC_MESSAGE = b"\x00\x00\x00\x00\x05hello"


def answer(body: bytes, content_type: str = "application/json", extra: Optional[list[str]] = None) -> HTTP1Answer:
    head = ["HTTP/1.1 200 OK", f"Content-Type: {content_type}", f"Content-Length: {len(body)}", "X-Recorded: yes"]
    return HTTP1Answer(("\r\n".join(head + (extra or [])) + "\r\n\r\n").encode() + body)


class MockServer:
    """`tapline mock` as a subprocess on a free port (stderr kept for the live lines)."""

    def __init__(self, workdir: Path, home: Path, sessions_root: Path, *args: str):
        self.port = free_port()
        self.stderr_path = workdir / f"mock-{self.port}.stderr"
        cmd = [str(tapline_bin()), "mock", *args, "--listen", f"{HOST}:{self.port}", "--sessions", str(sessions_root),
               "--threads", "2"]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                         env=util.clean_env({"TAPLINE_HOME": str(home)}), cwd=workdir)
        wait_for_port(self.port, 20, alive=lambda: self.proc.poll() is None)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("tapline mock did not stop within 15 s of SIGTERM")


@pytest.fixture
def mocks(tmp_path):
    started: list[MockServer] = []

    def start(home: Path, sessions_root: Path, *args: str) -> MockServer:
        server = MockServer(tmp_path, home, sessions_root, *args)
        started.append(server)
        return server

    yield start
    codes = [server.stop() for server in started]
    assert codes == [0] * len(codes), "tapline mock exits 0 on SIGTERM"


@pytest.fixture
def recorded(tapline):
    """Two closed sessions (HTTP/1.1 origin through a forward proxy; h2c origin with
    trailers through a reverse proxy), both origins stopped. Returns (proxy, [session directories])."""
    origin = ScriptedHTTP1Origin({
        "/api/users": answer(USERS),
        "/blob": answer(BINARY, content_type="application/octet-stream"),
        "/report": answer(GZIPPED, extra=["Content-Encoding: gzip"]),
        "/api/search": answer(SEARCH),
        "/api/items?b=2&a=1": answer(b'{"items": []}'),
    })
    h2_origin = ScriptedH2Origin({
        "/grpc.Echo/Say": H2Answer(headers=[(":status", "200"), ("content-type", "application/grpc")],
                                   body=GRPC_MESSAGE, trailers=[("grpc-status", "0"), ("grpc-message", "ok")]),
    })
    try:
        proxy = tapline()
        via = ("-x", proxy.proxy_url)
        for path in ["/api/users", "/blob", "/report", "/api/items?b=2&a=1"]:
            assert curl(*via, origin.url + path).returncode == 0
        assert curl(*via, "-H", "Content-Type: application/json", "--data-binary", '{"q": "tapline", "page": 1}',
                    origin.url + "/api/search").returncode == 0
        for body in COUNTS:
            origin.answers["/count"] = answer(body, content_type="text/plain")
            assert curl(*via, origin.url + "/count").returncode == 0
        first = str(proxy.session_dir())
        proxy.stop()

        reverse = tapline("--reverse", f"h2c://{h2_origin.authority}")
        r = curl("--http2-prior-knowledge", "-H", "Content-Type: application/grpc", "-H", "TE: trailers",
                 "--data-binary", "@-", f"http://{HOST}:{reverse.port}/grpc.Echo/Say", input=GRPC_MESSAGE)
        assert r.returncode == 0, r.stderr
        second = str(reverse.session_dir())  # another capture root: named by directory
        reverse.stop()
    finally:
        origin.stop()
        h2_origin.stop()
    return proxy, [first, second]


CHECKS = [("/api/users", USERS), ("/blob", BINARY), ("/report", GZIPPED), ("/api/items?a=1&b=2", b'{"items": []}')]


def check_recorded_bodies(base: str, *curl_args: str, version: str) -> None:
    for path, body in CHECKS:
        r = curl(*curl_args, "--write-out", "%{stderr}%{http_code} %{http_version}", "-D", "-",
                 base + path)
        assert r.returncode == 0, r.stderr
        head, _, got = r.stdout.partition(b"\r\n\r\n")
        assert r.stderr.strip().endswith(f"200 {version}"), (path, r.stderr)
        assert got == body, f"{path}: {len(got)} bytes, recorded {len(body)}"
        assert b"x-recorded: yes" in head.lower(), head
    report = curl(*curl_args, "-D", "-", base + "/report").stdout.lower()
    assert b"content-encoding: gzip" in report, "content-encoding served as recorded"


def test_curl_http1_h2c_and_h2_over_tls_get_the_recorded_bytes(recorded, mocks):
    proxy, sessions = recorded
    sessions_before = sorted(proxy.capture_dir.iterdir())
    mock = mocks(proxy.home, proxy.capture_dir, *sessions)
    check_recorded_bodies(mock.url, "--http1.1", version="1.1")
    check_recorded_bodies(mock.url, "--http2-prior-knowledge", version="2")

    tls = mocks(proxy.home, proxy.capture_dir, *sessions, "--listen-tls")
    ca = proxy.home / "ca.pem"
    base = f"https://localhost:{tls.port}"
    check_recorded_bodies(base, "--http2", "--cacert", str(ca), "--resolve", f"localhost:{tls.port}:{HOST}", version="2")
    check_recorded_bodies(base, "--http1.1", "--cacert", str(ca), "--resolve", f"localhost:{tls.port}:{HOST}",
                          version="1.1")
    util.wait_until(lambda: "-> 200 " in mock.stderr(), timeout=10, message="a live line")
    assert f"GET /blob -> 200 {Path(sessions[0]).name}#2" in mock.stderr(), "a live line names the recorded flow"
    assert sorted(proxy.capture_dir.iterdir()) == sessions_before, "without --capture the mock records nothing"


def test_nghttp_and_h2_client_get_body_and_trailers(recorded, mocks):
    proxy, sessions = recorded
    mock = mocks(proxy.home, proxy.capture_dir, *sessions)
    p = subprocess.run(["nghttp", f"{mock.url}/blob"], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == BINARY, "nghttp gets the recorded binary body"
    p = subprocess.run(["nghttp", "-v", "-d", "-", "-H", "content-type: application/grpc", f"{mock.url}/grpc.Echo/Say"],
                       input=GRPC_MESSAGE, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert b"grpc-status: 0" in p.stdout and p.stdout.count(b"recv HEADERS frame") == 2, "nghttp gets the trailers"

    client = H2Client(mock.port)
    try:
        sid = client.request("/grpc.Echo/Say", method="POST", body=GRPC_MESSAGE,
                             headers=[("content-type", "application/grpc"), ("te", "trailers")])
        client.wait_streams([sid])
        response = client.responses[sid]
    finally:
        client.close()
    assert response["status"] == 200
    assert bytes(response["body"]) == GRPC_MESSAGE
    assert ("grpc-status", "0") in response["trailers"] and ("grpc-message", "ok") in response["trailers"]

    over_http1 = curl("--http1.1", "-D", "-", "-H", "Content-Type: application/grpc", "--data-binary", "@-",
                      mock.url + "/grpc.Echo/Say", input=GRPC_MESSAGE)
    assert over_http1.stdout.endswith(GRPC_MESSAGE + b"\r\n") or GRPC_MESSAGE in over_http1.stdout


def test_post_json_matches_structurally(recorded, mocks):
    proxy, sessions = recorded
    mock = mocks(proxy.home, proxy.capture_dir, *sessions)
    status, body, _ = curl_status("-H", "Content-Type: application/json", "--data-binary",
                                  '{ "page": 1.0, "q": "tapline" }', mock.url + "/api/search")
    assert (status, body) == (200, SEARCH), "member order, whitespace and 1.0 == 1 do not count"


def test_sequences_last_loop_strict(recorded, mocks):
    proxy, sessions = recorded
    last = mocks(proxy.home, proxy.capture_dir, *sessions)
    assert [curl(last.url + "/count").stdout for _ in range(5)] == COUNTS + [COUNTS[-1]] * 2
    loop = mocks(proxy.home, proxy.capture_dir, *sessions, "--sequence", "loop")
    assert [curl(loop.url + "/count").stdout for _ in range(4)] == COUNTS + [COUNTS[0]]
    strict = mocks(proxy.home, proxy.capture_dir, *sessions, "--sequence", "strict")
    assert [curl(strict.url + "/count").stdout for _ in range(3)] == COUNTS
    status, body, _ = curl_status(strict.url + "/count")
    assert status == 404 and "--sequence strict" in json.loads(body)["error"]


def test_unmatched_gets_the_near_miss_report(recorded, mocks):
    proxy, sessions = recorded
    mock = mocks(proxy.home, proxy.capture_dir, *sessions)
    status, body, _ = curl_status(mock.url + "/api/items?a=1&b=3")
    assert status == 404
    report = json.loads(body)
    assert report["error"] == "no recorded request matches"
    assert report["request"]["query"] == ["a=1", "b=3"]
    closest = report["closest"][0]
    assert closest["request"]["path"] == "/api/items"
    assert closest["differences"] == [{"field": "query", "recorded": "a=1&b=2", "received": "a=1&b=3"}]

    status, body, _ = curl_status("-H", "Content-Type: application/json", "--data-binary", '{"q": "other", "page": 1}',
                                  mock.url + "/api/search")
    closest = json.loads(body)["closest"][0]
    assert status == 404 and closest["differences"][0]["field"] == "body"
    assert "/q" in closest["differences"][0]["received"], "the JSON Pointer that differs is named"
    util.wait_until(lambda: "GET /api/items?a=1&b=3 -> 404 no match" in mock.stderr(), timeout=10, message="the live line")

    ignoring = mocks(proxy.home, proxy.capture_dir, *sessions, "--ignore-query", "b", "--ignore-body-path", "/q",
                     "--unmatched", "502")
    assert curl_status(ignoring.url + "/api/items?a=1&b=3")[:2] == (200, b'{"items": []}')
    assert curl_status("-H", "Content-Type: application/json", "--data-binary", '{"q": "other", "page": 1}',
                       ignoring.url + "/api/search")[:2] == (200, SEARCH)
    assert curl_status(ignoring.url + "/nowhere")[0] == 502


@pytest.fixture
def recorded_websocket(tapline):
    """A greeting-first WebSocket conversation on /feed?room=1 recorded through the proxy
    (test_mock_websocket.py has the whole behaviour); returns the session's directory."""
    from test_replay_websocket import greeting_origin, record_conversation

    origin = greeting_origin([], {})
    try:
        return record_conversation(tapline, origin)
    finally:
        origin.stop()


def test_a_websocket_upgrade_is_accepted_when_a_recorded_websocket_matches(recorded, recorded_websocket, mocks):
    from tapline_testkit import websocket as wsk

    proxy, sessions = recorded
    mock = mocks(proxy.home, proxy.capture_dir, *sessions, recorded_websocket)
    # 101 with the accept value of this key (checked by the helper), then the recorded greeting
    sock = wsk.raw_client_handshake(HOST, mock.port, "/feed?room=1", f"{HOST}:{mock.port}")
    with sock:
        assert sock.recv(9) == b"\x81\x07welcome", "the recorded greeting, as an unmasked text frame"
    # an Upgrade to a path recorded without one is a near miss that says so
    status, body, _ = curl_status("-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                                  "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                  mock.url + "/api/users")
    closest = json.loads(body)["closest"][0]
    assert status == 404 and {"field": "upgrade", "recorded": "none", "received": "websocket"} in closest["differences"]


def test_fallback_forwards_misses_and_capture_records_them(recorded, mocks):
    proxy, sessions = recorded
    live = ScriptedHTTP1Origin({"/live": answer(b'{"live": true}')})
    try:
        mock = mocks(proxy.home, proxy.capture_dir, *sessions, "--fallback", live.url, "--capture")
        assert curl_status(mock.url + "/live")[:2] == (200, b'{"live": true}')
        assert curl_status(mock.url + "/api/users")[:2] == (200, USERS)
        assert mock.stop() == 0
    finally:
        live.stop()
    newest = max((d for d in proxy.capture_dir.iterdir() if str(d) not in sessions), key=lambda d: d.stat().st_mtime)
    shown = proxy.cli("show", str(newest))
    assert shown.returncode == 0, describe(shown)
    listing = util.text(shown)
    assert "/live" in listing and "/api/users" in listing, listing


def test_bad_input_exits_2(recorded):
    proxy, sessions = recorded
    for args, message in [
        (["no-such-session"], "no-such-session"),
        ([sessions[0], "--match-header"], "--match-header"),
        ([], "name at least one SESSION"),
        ([sessions[0], "--sequence", "sometimes"], "--sequence takes loop, last or strict"),
        ([sessions[0], "--latency", "soon"], "--latency takes recorded, none"),
        ([sessions[0], "--unmatched", "500"], "--unmatched takes 404 or 502"),
        ([sessions[0], "--ignore-body-path", "q"], "--ignore-body-path takes a JSON Pointer"),
    ]:
        p = proxy.cli("mock", *args, "--sessions", str(proxy.capture_dir))
        assert p.returncode == 2, (args, describe(p))
        assert message in p.stderr, (args, p.stderr)
    damaged = Path(sessions[0]) / "session.json"
    damaged.write_bytes(b"{not json\n")
    p = proxy.cli("mock", sessions[0], "--sessions", str(proxy.capture_dir))
    assert p.returncode == 2 and sessions[0] in p.stderr, describe(p)


def test_latency_and_sighup_reload(recorded, mocks):
    proxy, sessions = recorded
    slow = mocks(proxy.home, proxy.capture_dir, *sessions, "--latency", "400", "--sequence", "strict")
    r = curl("--write-out", "%{stderr}%{time_starttransfer}", slow.url + "/count")
    assert r.stdout == COUNTS[0] and float(r.stderr) >= 0.4, "the response waits --latency ms"
    for body in COUNTS[1:]:
        assert curl(slow.url + "/count").stdout == body
    assert curl_status(slow.url + "/count")[0] == 404, "the strict sequence is used up"
    slow.proc.send_signal(signal.SIGHUP)
    util.wait_until(lambda: "reloaded" in slow.stderr(), timeout=10)
    assert curl(slow.url + "/count").stdout == COUNTS[0], "SIGHUP reloads the sessions and starts the sequences again"


def test_a_recorded_grpc_call_is_mocked_with_its_message_and_status(tapline, mocks):
    import grpc

    from tapline_testkit.grpc_origin import GrpcOrigin, call

    origin = GrpcOrigin()
    try:
        proxy = tapline("--reverse", f"h2c://{origin.authority}")
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            reply, recorded_call = call(channel, "Unary").with_call(b"hello mock", metadata=[("x-tag", "t1")], timeout=10)
            assert reply == b"hello mock"
            with pytest.raises(grpc.RpcError) as failed:
                call(channel, "Fail")(b"", timeout=10)
            assert failed.value.code() == grpc.StatusCode.NOT_FOUND
        session = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()

    mock = mocks(proxy.home, proxy.capture_dir, session)
    with grpc.insecure_channel(f"{HOST}:{mock.port}") as channel:
        reply, mocked_call = call(channel, "Unary").with_call(b"hello mock", timeout=10)
        assert reply == b"hello mock"
        assert ("x-trailer", "done") in mocked_call.trailing_metadata(), "the recorded trailers"
        assert mocked_call.code() == grpc.StatusCode.OK
        with pytest.raises(grpc.RpcError) as failed:
            call(channel, "Fail")(b"", timeout=10)
        assert (failed.value.code(), failed.value.details()) == (grpc.StatusCode.NOT_FOUND, "no such thing")
        with pytest.raises(grpc.RpcError) as unmatched:
            call(channel, "Unary")(b"another message", timeout=10)
        assert unmatched.value.code() != grpc.StatusCode.OK, "an unrecorded message is not answered as a recorded one"


def test_an_rfc8441_websocket_over_h2c_is_accepted_when_a_recorded_websocket_matches(recorded, recorded_websocket, mocks):
    proxy, sessions = recorded
    mock = mocks(proxy.home, proxy.capture_dir, *sessions, recorded_websocket)
    client = H2Client(mock.port)
    try:
        client.wait(lambda: client.conn.remote_settings.get(0x8) == 1)  # SETTINGS_ENABLE_CONNECT_PROTOCOL
        sid = client.request("/feed?room=1", method="CONNECT", end=False,
                             headers=[(":protocol", "websocket"), ("sec-websocket-version", "13")])
        client.wait(lambda: client.responses[sid]["status"] is not None or sid in client.resets)
        client.wait(lambda: len(client.responses[sid]["body"]) >= 9 or sid in client.resets)
        response = client.responses[sid]
    finally:
        client.close()
    assert response["status"] == 200, response
    assert bytes(response["body"][:9]) == b"\x81\x07welcome", "the recorded greeting on the stream"


def test_near_miss_report_over_h2c(recorded, mocks):
    proxy, sessions = recorded
    mock = mocks(proxy.home, proxy.capture_dir, *sessions)
    status, body, _ = curl_status("--http2-prior-knowledge", mock.url + "/blobs")
    assert status == 404
    assert json.loads(body)["closest"][0]["differences"] == [{"field": "path", "recorded": "/blob", "received": "/blobs"}], \
        "of the recordings that differ only in their path, the one sharing the longest prefix is the closest"


def test_fallback_to_https_verifies_the_server(recorded, mocks, https_origin, test_ca):
    proxy, sessions = recorded
    trusting = mocks(proxy.home, proxy.capture_dir, *sessions, "--fallback", https_origin.url,
                     "--upstream-ca", str(test_ca.ca_cert))
    status, body, _ = curl_status(trusting.url + "/users/7")
    assert status == 200 and json.loads(body)["id"] == 7, body
    assert curl_status(trusting.url + "/api/users")[:2] == (200, USERS), "recorded requests are still mocked"
    assert https_origin.requests_for("/api/users") == [], "a matched request does not reach the fallback"
    untrusting = mocks(proxy.home, proxy.capture_dir, *sessions, "--fallback", https_origin.url)
    assert curl_status(untrusting.url + "/users/7")[0] == 502, "an untrusted certificate fails the forwarded request"


def test_a_truncated_recorded_body_is_refused_with_the_reason(tapline, mocks):
    origin = ScriptedHTTP1Origin({"/blob": answer(BINARY, content_type="application/octet-stream")})
    try:
        proxy = tapline("--max-body-capture", "1000")
        assert curl("-x", proxy.proxy_url, origin.url + "/blob").stdout == BINARY
        session = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()
    mock = mocks(proxy.home, proxy.capture_dir, session)
    status, body, _ = curl_status(mock.url + "/blob")
    assert status == 502
    assert b"truncated by --max-body-capture (1000 of 200000 bytes kept)" in body, body
