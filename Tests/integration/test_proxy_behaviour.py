"""HTTP/1.1 behaviours a user relies on beyond the basics: 100-continue, HEAD,
HTTP/1.0 clients, CONNECT carrying plain HTTP or raw TCP, pinned clients,
body capture limits, the JSON log, and a graceful shutdown mid-flow."""

from __future__ import annotations

import json
import socket
import threading

from tapline_testkit import rawhttp
from tapline_testkit.util import HOST, curl, describe, text, wait_until


def show_json(proxy, *args):
    p = proxy.cli("show", proxy.session_id, "--capture", str(proxy.capture_dir), "--json", *args)
    assert p.returncode == 0, describe(p)
    return json.loads(p.stdout)


def flows_of(proxy) -> list[dict]:
    document = show_json(proxy)
    return document["flows"] if isinstance(document, dict) else document


def read_connect_established(f) -> None:
    """Reads the proxy's answer to CONNECT: a 2xx head and nothing else (the tunnel follows)."""
    status = f.readline()
    assert status.startswith(b"HTTP/1.1 200"), status
    while f.readline() not in (b"\r\n", b""):
        pass


def test_expect_100_continue_is_relayed(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    body = b"x" * 5000
    with rawhttp.connect(proxy.port) as s, s.makefile("rb") as f:
        s.sendall(rawhttp.request_bytes("POST", "/echo", "a", [("Expect", "100-continue"),
                                                             ("Content-Length", str(len(body)))]))
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
        assert f.readline() == b"\r\n"
        s.sendall(body)
        final = rawhttp.read_response(f, "POST")
    assert final.status == 200
    assert final.body == body


def test_head_response_has_no_body_and_connection_is_reused(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    data = (rawhttp.request_bytes("HEAD", "/bytes/5000", "a")
            + rawhttp.request_bytes("GET", "/users/1", "a"))
    with rawhttp.connect(proxy.port) as s, s.makefile("rb") as f:
        s.sendall(data)
        head = rawhttp.read_response(f, "HEAD")
        after = rawhttp.read_response(f, "GET")
    assert head.status == 200 and head.body == b""
    assert after.status == 200 and b'"id": 1' in after.body


def test_taplines_own_error_answer_to_head_has_no_body(tapline):
    """A HEAD that Tapline itself answers (here a 502: nothing listens upstream) gets the
    head alone, its Content-Length that of the reason (RFC 9110 §9.3.2), then the close."""
    with socket.socket() as unused:
        unused.bind((HOST, 0))
        dead_port = unused.getsockname()[1]
    proxy = tapline("--reverse", f"http://{HOST}:{dead_port}")
    with rawhttp.connect(proxy.port) as s:
        s.sendall(rawhttp.request_bytes("HEAD", "/", "a"))
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    head, _, after = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502"), received
    assert b"Content-Length: " in head, head
    assert after == b"", f"a body after the head of a HEAD answer: {after!r}"


def test_http10_client_gets_a_close_delimited_answer(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    with rawhttp.connect(proxy.port) as s:
        s.sendall(b"GET /chunked/2000 HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"chunked" not in head.lower(), "an HTTP/1.0 client cannot read chunked encoding"
    assert len(body) == 2000


def test_connect_carrying_plain_http_is_proxied_and_captured(tapline, origin):
    proxy = tapline()
    with rawhttp.connect(proxy.port) as s, s.makefile("rb") as f:
        s.sendall(f"CONNECT {origin.authority} HTTP/1.1\r\nHost: {origin.authority}\r\n\r\n".encode())
        read_connect_established(f)
        s.sendall(rawhttp.request_bytes("GET", "/users/2", origin.authority))
        inner = rawhttp.read_response(f)
    assert inner.status == 200 and b'"id": 2' in inner.body
    proxy.wait_for_log(rf"GET http://{origin.authority}/users/2 -> 200\b")


def test_connect_carrying_other_bytes_is_a_counted_tunnel(tapline):
    echo = socket.socket()
    echo.bind((HOST, 0))
    echo.listen(1)
    port = echo.getsockname()[1]

    def serve():
        conn, _ = echo.accept()
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    proxy = tapline()
    with rawhttp.connect(proxy.port) as s, s.makefile("rb") as f:
        s.sendall(f"CONNECT {HOST}:{port} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        read_connect_established(f)
        s.sendall(b"\x00binary protocol hello")
        got = b""
        while len(got) < 22:
            got += s.recv(64)
        assert got == b"\x00BINARY PROTOCOL HELLO"
    echo.close()
    proxy.wait_for_log(rf"CONNECT {HOST}:{port} -> tunnel 22 B up 22 B down")


def test_client_rejecting_our_certificate_is_a_tls_failed_flow_with_a_hint(tapline, https_origin, test_ca):
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    r = curl("-x", proxy.proxy_url, f"{https_origin.url}/users/1")
    assert r.returncode == 60, describe(r)
    line = proxy.wait_for_log(r"CONNECT .* -> client-tls: .*").group(0)
    assert "--passthrough" in line and "unknown ca" in line, line
    flows = flows_of(proxy)
    wait_until(lambda: any(fl.get("kind") == "tls-failed" for fl in flows_of(proxy)), 10,
               message="a tls-failed flow in the capture")


def test_max_body_capture_keeps_a_prefix_and_passes_everything(tapline, origin):
    proxy = tapline("--reverse", origin.url, "--max-body-capture", "1000")
    r = curl("-o", "-", f"{proxy.url}/bytes/50000")
    assert r.returncode == 0 and len(r.stdout) == 50000
    proxy.stop()
    p = proxy.cli("show", proxy.session_id, "--capture", str(proxy.capture_dir), "--flow", "1",
                  "--body", "response")
    assert p.returncode == 0, describe(p)
    assert p.stdout == r.stdout[:1000]
    detail = proxy.cli("show", proxy.session_id, "--capture", str(proxy.capture_dir), "--flow", "1")
    assert "kept 1000 of 50000 bytes" in text(detail), text(detail)


def test_json_log_format_has_one_object_per_flow(tapline, origin):
    proxy = tapline("--reverse", origin.url, "--log-format", "json")
    assert curl(f"{proxy.url}/users/3").returncode == 0
    line = proxy.wait_for_log(r'\{.*"url":"http://[^"]+/users/3".*\}').group(0)
    record = json.loads(line)
    assert record["method"] == "GET" and record["status"] == 200
    assert record["contentType"] == "application/json"


def test_quiet_prints_no_flow_lines(tapline, origin):
    proxy = tapline("--reverse", origin.url, "--quiet")
    assert curl(f"{proxy.url}/users/3").returncode == 0
    proxy.stop()
    assert "/users/3" not in proxy.stderr_text()


def test_sigterm_lets_an_in_flight_download_finish(tapline, origin):
    proxy = tapline("--reverse", origin.url, "--grace", "10")
    size = 30_000_000
    with rawhttp.connect(proxy.port, timeout=30) as s:
        s.sendall(rawhttp.request_bytes("GET", f"/bytes/{size}", "a"))
        received = len(s.recv(65536))
        stopper = threading.Thread(target=proxy.stop)
        stopper.start()
        # The signal has landed: the proxy says it is finishing in-flight flows. The body
        # is still flowing, as this client has read only its first bytes.
        proxy.wait_for_log(r"tapline: terminated, finishing in-flight flows")
        while chunk := s.recv(1 << 20):
            received += len(chunk)
        stopper.join()
    head_bytes = 200  # the status line and headers are a few hundred bytes at most
    assert size <= received <= size + head_bytes * 2, received
    assert proxy.returncode == 0
    assert "session saved" in proxy.stderr_text()
