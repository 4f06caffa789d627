"""Reverse proxy: `tapline proxy --reverse URL`."""

from __future__ import annotations

import json
import time

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.origin import user_record
from tapline_testkit.util import HOST, curl, curl_status, free_port, wait_until


def _headers(resp_body: bytes) -> dict:
    """/headers answer -> {lowercased name: [values]}"""
    out: dict = {}
    for k, v in json.loads(resp_body)["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_reverse_http(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    r = curl(f"{proxy.url}/users/1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(1)


def test_reverse_rewrites_host_and_adds_forwarded_for(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    status, body, err = curl_status(f"{proxy.url}/headers")
    assert status == 200, err
    h = _headers(body)
    assert h["host"] == [origin.authority]
    assert h.get("x-forwarded-for") == ["127.0.0.1"]
    seen = origin.requests_for("/headers")[0]
    assert seen.header("Host") == origin.authority


def test_header_bytes_that_are_not_utf8_reach_the_upstream_unchanged(tapline, origin):
    """obs-text (RFC 9110 §5.5), e.g. a Latin-1 value, is forwarded byte for byte;
    the capture, which must stay valid JSON, shows U+FFFD in its place."""
    proxy = tapline("--reverse", origin.url)
    request = (b"GET /headers HTTP/1.1\r\nHost: example.test\r\nX-Name: Jos\xe9 \xff!\r\n"
               b"Connection: close\r\n\r\n")
    [response] = rawhttp.exchange(proxy.port, request)
    assert response.status == 200
    # The origin (Python's http.server) decodes header bytes as Latin-1.
    assert origin.requests_for("/headers")[0].header("X-Name") == "Jos\xe9 \xff!"

    def captured_value():
        heads = [e for e in read_events(proxy.session_dir()) if e["type"] == "requestHead"]
        return dict(heads[0]["headers"]).get("X-Name") if heads else None
    wait_until(lambda: captured_value() is not None, 10, message="the request head was captured")
    assert captured_value() == "Jos\ufffd \ufffd!"


def test_no_forwarded_headers(tapline, origin):
    proxy = tapline("--reverse", origin.url, "--no-forwarded-headers")
    status, body, err = curl_status(f"{proxy.url}/headers")
    assert status == 200, err
    h = _headers(body)
    assert "x-forwarded-for" not in h
    assert h["host"] == [origin.authority]


def test_reverse_https_upstream(tapline, https_origin, test_ca):
    proxy = tapline("--reverse", https_origin.url, "--upstream-ca", str(test_ca.ca_cert))
    r = curl(f"{proxy.url}/users/5")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(5)
    assert https_origin.requests_for("/users/5")


def test_upstream_down_gives_502(tapline):
    closed = free_port()
    proxy = tapline("--reverse", f"http://{HOST}:{closed}", "--connect-timeout", "5")
    r = curl("-D", "-", f"{proxy.url}/users/1")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"502", head
    assert b"content-type: text/plain" in head.lower(), head
    assert body.strip(), "the 502 should say what went wrong"


def test_response_timeout_gives_504(tapline, origin):
    proxy = tapline("--reverse", origin.url, "--response-timeout", "1")
    started = time.monotonic()
    status, body, err = curl_status(f"{proxy.url}/slow", timeout=20)
    elapsed = time.monotonic() - started
    assert status == 504, err
    assert elapsed < 10, f"504 took {elapsed:.1f}s with --response-timeout 1"
    assert origin.requests_for("/slow")
