"""Request smuggling probes through the reverse proxy: each malformed request
gets a 400 and never reaches the origin."""

from __future__ import annotations

import pytest

from tapline_testkit import rawhttp

BARRIER = "/users/42"


def _head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# Malformed in the head: the origin must not see the request at all.
HEAD_CASES = {
    "te_and_cl": _head("POST /echo HTTP/1.1", "Host: H", "Content-Length: 6",
                       "Transfer-Encoding: chunked") + b"0\r\n\r\nX",
    "duplicate_differing_cl": _head("POST /echo HTTP/1.1", "Host: H", "Content-Length: 5",
                                    "Content-Length: 6") + b"hello!",
    "obs_fold": _head("GET /headers HTTP/1.1", "Host: H", "X-Folded: a", " b"),
    "bare_cr_in_value": _head("GET /headers HTTP/1.1", "Host: H", "X-Bad: a\rb"),
    "space_before_colon": _head("GET /headers HTTP/1.1", "Host: H", "X-Bad : a"),
    "invalid_header_name_char": _head("GET /headers HTTP/1.1", "Host: H", "X-B@d: a"),
    "oversized_header_section": _head("GET /headers HTTP/1.1", "Host: H",
                                      *[f"X-Pad-{i}: {'a' * 1000}" for i in range(80)]),
}

# Malformed in the body: a streaming proxy may already have sent the head, but
# the origin must never get a complete request.
BODY_CASES = {
    "bad_chunk_size": _head("POST /sha256 HTTP/1.1", "Host: H", "Transfer-Encoding: chunked")
    + b"zz\r\nhello\r\n0\r\n\r\n",
}


def _probe(proxy, origin, payload: bytes):
    payload = payload.replace(b"Host: H", f"Host: 127.0.0.1:{proxy.port}".encode())
    try:
        [resp] = rawhttp.exchange(proxy.port, payload)
    except rawhttp.NoResponse as e:
        pytest.fail(f"no HTTP response, expected 400: {e}")
    # A well-formed request afterwards: once the origin has it, anything the
    # proxy forwarded from the probe would have arrived too.
    barrier = rawhttp.request_bytes("GET", BARRIER, f"127.0.0.1:{proxy.port}")
    [ok] = rawhttp.exchange(proxy.port, barrier)
    assert ok.status == 200
    origin.wait_for_request(lambda r: r.path == BARRIER)
    return resp, [r for r in origin.requests if r.path != BARRIER]


@pytest.mark.parametrize("case", sorted(HEAD_CASES))
def test_malformed_head_is_rejected(tapline, origin, case):
    proxy = tapline("--reverse", origin.url)
    resp, leaked = _probe(proxy, origin, HEAD_CASES[case])
    allowed = (400, 431) if case == "oversized_header_section" else (400,)
    assert resp.status in allowed, resp
    assert leaked == [], f"origin received: {leaked}"


@pytest.mark.parametrize("case", sorted(BODY_CASES))
def test_malformed_body_is_rejected(tapline, origin, case):
    proxy = tapline("--reverse", origin.url)
    resp, leaked = _probe(proxy, origin, BODY_CASES[case])
    assert resp.status == 400, resp
    assert [r for r in leaked if r.complete] == [], f"origin received: {leaked}"
