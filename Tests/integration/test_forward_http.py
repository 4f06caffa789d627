"""Forward proxy, plain HTTP: `curl -x http://127.0.0.1:PORT http://origin/...`."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import threading

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.origin import iter_pattern, pattern_sha256, user_record
from tapline_testkit.util import HOST, clean_env, curl

MB = 1000 * 1000
PEAK_RSS_LIMIT_KB = 64 * 1024  # "peak RSS under 64 MB"


def via(proxy, *args, **kw):
    return curl("-x", proxy.proxy_url, *args, **kw)


def test_get_json_through_proxy(tapline, origin):
    proxy = tapline()
    r = via(proxy, f"{origin.url}/users/1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(1)
    assert [q.path for q in origin.requests] == ["/users/1"]
    # one line per finished flow on stderr
    proxy.wait_for_log(rf"GET http://127\.0\.0\.1:{origin.port}/users/1 -> 200\b")


def test_client_connection_is_kept_alive(tapline, origin):
    proxy = tapline()
    r = via(proxy, "-v", f"{origin.url}/users/1", f"{origin.url}/users/2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (json.dumps(user_record(1)) + json.dumps(user_record(2))).encode()
    assert "Re-using existing connection" in r.stderr, r.stderr


def test_pipelined_requests_answered_in_order(tapline, origin):
    proxy = tapline()
    reqs = b"".join(rawhttp.request_bytes("GET", f"{origin.url}/users/{i}", origin.authority)
                    for i in (1, 2))
    first, second = rawhttp.exchange(proxy.port, reqs, count=2)
    assert (first.status, second.status) == (200, 200)
    assert json.loads(first.body) == user_record(1)
    assert json.loads(second.body) == user_record(2)


def test_post_body_is_forwarded(tapline, origin):
    proxy = tapline()
    r = via(proxy, "-D", "-", "--data-binary", "name=tapline&x=1", f"{origin.url}/echo")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    assert body == b"name=tapline&x=1"
    assert re.search(rb"(?im)^X-Echo-Method: POST\r?$", head), head


@pytest.mark.parametrize("path", ["chunked", "close-delimited"])
def test_response_framings_are_relayed(tapline, origin, path):
    proxy = tapline()
    n = 300_001
    r = via(proxy, f"{origin.url}/{path}/{n}")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == n
    assert hashlib.sha256(r.stdout).hexdigest() == pattern_sha256(n)


def _feed(stdin, total: int) -> None:
    try:
        for piece in iter_pattern(total):
            stdin.write(piece)
    except (OSError, ValueError):
        pass  # curl exited early; its exit status tells why
    finally:
        try:
            stdin.close()
        except (OSError, ValueError):
            pass


def _upload_chunked(proxy, origin, size: int) -> dict:
    """curl -T - (stdin, so chunked) to /sha256; the body is streamed in."""
    cmd = ["curl", "-q", "--silent", "--show-error", "--max-time", "300",
           "-x", proxy.proxy_url, "-T", "-", f"{origin.url}/sha256"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=clean_env())
    # Not communicate(): it would close stdin under the feeder thread.
    feeder = threading.Thread(target=_feed, args=(p.stdin, size), daemon=True)
    feeder.start()
    out = p.stdout.read()
    err = p.stderr.read()
    p.wait(timeout=30)
    feeder.join(timeout=10)
    assert p.returncode == 0, err.decode()
    return json.loads(out)


def _download_sha256(proxy, url: str) -> tuple[str, int, int, str]:
    """curl -o - through the proxy, hashed while streaming: (hex, bytes, status, stderr)."""
    cmd = ["curl", "-q", "--silent", "--show-error", "--max-time", "500",
           "-x", proxy.proxy_url, "-o", "-",
           "--write-out", "%{stderr}HTTP_STATUS=%{http_code}\n", url]
    h = hashlib.sha256()
    n = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env()) as p:
        while True:
            data = p.stdout.read(1 << 20)
            if not data:
                break
            h.update(data)
            n += len(data)
        err = p.stderr.read().decode()
        p.wait(timeout=30)
    status = int(re.search(r"HTTP_STATUS=(\d+)", err).group(1)) if "HTTP_STATUS=" in err else 0
    assert p.returncode == 0, err
    return h.hexdigest(), n, status, err


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_large_transfers_stream_in_bounded_memory(tapline, origin):
    proxy = tapline()

    size = 50 * MB
    got = _upload_chunked(proxy, origin, size)
    expected = hashlib.sha256()
    for piece in iter_pattern(size):
        expected.update(piece)
    assert got["length"] == size
    assert got["sha256"] == expected.hexdigest()

    gib = 1 << 30
    digest, n, status, err = _download_sha256(proxy, f"{origin.url}/bytes/{gib}")
    assert status == 200, err
    assert n == gib
    assert digest == pattern_sha256(gib)

    peak = proxy.peak_rss_kb()
    assert peak < PEAK_RSS_LIMIT_KB, f"tapline peak RSS {peak} kB >= {PEAK_RSS_LIMIT_KB} kB"
