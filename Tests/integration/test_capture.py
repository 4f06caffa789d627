"""Capture sessions, read back with `tapline sessions` and `tapline show`."""

from __future__ import annotations

import hashlib
import json

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.util import curl, describe, text, wait_until


def sessions(proxy, *args):
    return proxy.cli("sessions", "--capture", str(proxy.capture_dir), *args)


def show(proxy, session: str, *args):
    return proxy.cli("show", session, "--capture", str(proxy.capture_dir), *args)


def _line_with(output: str, needle: str) -> str:
    for line in output.splitlines():
        if needle in line:
            return line
    raise AssertionError(f"no line mentions {needle!r} in:\n{output}")


def test_sessions_lists_the_session_with_its_flow_count(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    session = proxy.session_id
    for i in (1, 2, 3):
        assert curl(f"{proxy.url}/users/{i}").returncode == 0
    proxy.stop()

    p = sessions(proxy)
    assert p.returncode == 0, describe(p)
    _line_with(text(p), session)

    p = sessions(proxy, "--json")
    assert p.returncode == 0, describe(p)
    listed = [s for s in json.loads(text(p)) if s.get("id") == session]
    assert len(listed) == 1, text(p)
    assert listed[0]["flows"] == 3, listed[0]


def test_show_lists_flows(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    session = proxy.session_id
    assert curl(f"{proxy.url}/users/1").returncode == 0
    assert curl(f"{proxy.url}/status/404").returncode == 0
    proxy.stop()

    p = show(proxy, session)
    assert p.returncode == 0, describe(p)
    out = text(p)
    line = _line_with(out, "/users/1")
    assert "GET" in line and "200" in line, line
    line = _line_with(out, "/status/404")
    assert "GET" in line and "404" in line, line

    p = show(proxy, session, "--json")
    assert p.returncode == 0, describe(p)
    assert "/users/1" in json.dumps(json.loads(text(p)))


@pytest.mark.parametrize("path", ["bytes/100000", "chunked/70000", "users/9"])
def test_show_body_is_what_the_client_received(tapline, origin, path):
    proxy = tapline("--reverse", origin.url)
    session = proxy.session_id
    r = curl(f"{proxy.url}/{path}")
    assert r.returncode == 0, r.stderr
    proxy.stop()

    p = show(proxy, session, "--flow", "1", "--body", "response")
    assert p.returncode == 0, describe(p)
    assert len(p.stdout) == len(r.stdout)
    assert hashlib.sha256(p.stdout).hexdigest() == hashlib.sha256(r.stdout).hexdigest()


def test_show_request_body(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    session = proxy.session_id
    assert curl("--data-binary", "a=1&b=2", f"{proxy.url}/echo").returncode == 0
    proxy.stop()
    p = show(proxy, session, "--flow", "1", "--body", "request")
    assert p.returncode == 0, describe(p)
    assert p.stdout == b"a=1&b=2"


def test_client_abort_mid_upload_is_recorded(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    session = proxy.session_id
    with rawhttp.connect(proxy.port) as s:
        s.sendall(rawhttp.request_bytes("POST", "/sha256", f"127.0.0.1:{proxy.port}",
                                        [("Content-Length", "1000000")], content_length=False)
                  + b"x" * 1000)
    # The flow may be written while running or at shutdown; accept either.
    try:
        wait_until(lambda: "abort" in text(show(proxy, session)).lower(), 10,
                   interval=0.25, message="the aborted flow in `tapline show`")
    except TimeoutError:
        pass
    proxy.stop()
    p = show(proxy, session)
    assert p.returncode == 0, describe(p)
    line = _line_with(text(p), "/sha256")
    assert "abort" in line.lower(), f"flow not marked aborted: {line!r}"


def test_session_survives_kill9_mid_download(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    session = proxy.session_id
    target = "/bytes/200000000"
    with rawhttp.connect(proxy.port, timeout=15) as s:
        s.sendall(rawhttp.request_bytes("GET", target, f"127.0.0.1:{proxy.port}"))
        got = 0
        while got < 1 << 20:  # read a little, then stop reading: a slow client
            data = s.recv(65536)
            assert data, "connection closed early"
            got += len(data)
        wait_until(lambda: target in text(show(proxy, session)), 10, interval=0.25,
                   message="the in-progress flow to be on disk")
        proxy.kill9()

    p = sessions(proxy)
    assert p.returncode == 0, describe(p)
    assert session in text(p)
    p = show(proxy, session)
    assert p.returncode == 0, describe(p)
    assert target in text(p)
