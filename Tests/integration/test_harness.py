"""Self-tests of the test harness itself (origin servers, test CA, helpers),
talking to the origins directly, without Tapline. If these fail, the other
integration tests' failures say nothing about Tapline."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.origin import OriginServer, pattern_bytes, pattern_sha256, user_record
from tapline_testkit.util import (curl, curl_status, free_port, port_is_open, wait_for_port,
                                  wait_until)


def test_free_port_and_wait_for_port(origin):
    wait_for_port(origin.port, timeout=2)
    port = free_port()
    assert not port_is_open(port)
    with pytest.raises(TimeoutError):
        wait_for_port(port, timeout=0.2)


def test_users_json_and_keep_alive(origin):
    r = curl("-v", f"{origin.url}/users/1", f"{origin.url}/users/2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (json.dumps(user_record(1)) + json.dumps(user_record(2))).encode()
    assert "Re-using existing connection" in r.stderr
    assert origin.connection_count == 1
    assert [q.path for q in origin.requests] == ["/users/1", "/users/2"]


def test_echo_and_headers(origin):
    r = curl("--data-binary", "hello", "-H", "Content-Type: text/x-test", "-D", "-",
             f"{origin.url}/echo")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    assert body == b"hello"
    assert b"X-Echo-Method: POST" in head
    r = curl("-H", "X-Dup: a", "-H", "X-Dup: b", f"{origin.url}/headers")
    got = json.loads(r.stdout)
    assert ["X-Dup", "a"] in got["headers"] and ["X-Dup", "b"] in got["headers"]
    assert origin.requests[-1].header_all("x-dup") == ["a", "b"]


def test_chunked_upload_sha256(origin):
    data = pattern_bytes(3 * 1024 * 1024 + 17)
    r = curl("-T", "-", f"{origin.url}/sha256", input=data)
    got = json.loads(r.stdout)
    assert got == {"sha256": hashlib.sha256(data).hexdigest(), "length": len(data),
                   "method": "PUT", "chunked": True}
    assert origin.requests[-1].complete


def test_bytes_chunked_close_delimited(origin):
    n = 1_000_003
    for path in ("bytes", "chunked", "close-delimited"):
        r = curl(f"{origin.url}/{path}/{n}")
        assert r.returncode == 0, (path, r.stderr)
        assert hashlib.sha256(r.stdout).hexdigest() == pattern_sha256(n), path
    raw = rawhttp.exchange(origin.port, rawhttp.request_bytes("GET", "/chunked/10", origin.authority))
    assert raw[0].trailers == [("X-Body-Sha256", pattern_sha256(10))]


def test_pattern_is_not_periodic():
    data = pattern_bytes(3 * 65536)
    assert data[:65536] != data[65536:131072]
    assert len(data) == 3 * 65536


def test_status_and_pipelining(origin):
    status, body, _ = curl_status(f"{origin.url}/status/418")
    assert (status, body) == (418, b"status 418\n")
    req = b"".join(rawhttp.request_bytes("GET", f"/users/{i}", origin.authority) for i in (1, 2))
    r1, r2 = rawhttp.exchange(origin.port, req, count=2)
    assert json.loads(r1.body)["id"] == 1 and json.loads(r2.body)["id"] == 2


def test_aborted_upload_is_recorded_incomplete(origin):
    with rawhttp.connect(origin.port) as s:
        s.sendall(rawhttp.request_bytes("POST", "/sha256", origin.authority,
                                        [("Content-Length", "1000000")], content_length=False)
                  + b"x" * 1000)
    r = origin.wait_for_request(lambda q: q.path == "/sha256")
    wait_until(lambda: origin.open_connection_count == 0, 5, message="origin to drop the connection")
    assert not r.complete


def test_https_origin_with_test_ca(https_origin, test_ca):
    r = curl("--cacert", str(test_ca.ca_cert), f"{https_origin.url}/users/7")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(7)
    r = curl(f"{https_origin.url}/users/7")
    assert r.returncode == 60  # not trusted by the system store


def test_slow_is_released_by_stop():
    server = OriginServer()
    result = {}

    def client():
        result["r"] = curl(f"{server.url}/slow", timeout=30)

    t = threading.Thread(target=client)
    t.start()
    server.wait_for_request(lambda q: q.path == "/slow")
    started = time.monotonic()
    server.stop()
    t.join(timeout=20)
    assert not t.is_alive()
    assert time.monotonic() - started < 10
