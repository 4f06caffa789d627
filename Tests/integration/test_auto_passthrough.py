"""Auto pass-through for clients that pin (issue #25 item 4).

The pinning client is Python's `ssl` trusting only the origin's own CA: it refuses
the leaf Tapline mints (alert unknown_ca). After N refusals in a row for a host,
Tapline relays that host's tunnels untouched for the rest of the run (a `tunnel`
flow with its bytes counted), says so once on stderr, and the client gets through;
`--no-auto-passthrough` keeps intercepting."""

from __future__ import annotations

import ssl

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.util import wait_until

SWITCH_LOG = r"passed through untouched, not intercepted, for the rest of this run"


def _ended_flows(proxy) -> list[dict]:
    return [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded"]


def _get_trusting(proxy, origin, cafile) -> bytes:
    """CONNECT localhost:PORT, then TLS trusting the CA certificates in `cafile` only, then
    GET /users/1; the whole response. Raises ssl.SSLCertVerificationError when the
    certificate presented is not signed by them (Tapline's, to a client pinning the origin's CA)."""
    context = ssl.create_default_context(cafile=str(cafile))
    authority = f"localhost:{origin.port}"
    with rawhttp.connect(proxy.port) as raw, raw.makefile("rb") as f:
        raw.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        assert f.readline().startswith(b"HTTP/1.1 200")
        while f.readline() not in (b"\r\n", b""):
            pass
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(f"GET /users/1 HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode())
            response = b""
            while chunk := tls.recv(65536):
                response += chunk
            return response


def _refused(proxy, origin, test_ca, attempt: int) -> None:
    """One attempt the client refuses; returns once the proxy has recorded it (and counted it)."""
    with pytest.raises(ssl.SSLCertVerificationError):
        _get_trusting(proxy, origin, test_ca.ca_cert)
    wait_until(lambda: len(_ended_flows(proxy)) >= attempt, 10, message=f"flow {attempt} in the capture")


@pytest.mark.parametrize("threshold", [None, 2])
def test_a_pinning_client_gets_through_after_n_refusals(tapline, https_origin, test_ca, threshold):
    args = ["--upstream-ca", str(test_ca.ca_cert)]
    if threshold is not None:
        args += ["--auto-passthrough-after", str(threshold)]
    proxy = tapline(*args)
    n = threshold or 3                     # the default
    for attempt in range(1, n + 1):
        _refused(proxy, https_origin, test_ca, attempt)
    proxy.wait_for_log(SWITCH_LOG)
    for _ in range(2):                     # switched for the rest of the run
        response = _get_trusting(proxy, https_origin, test_ca.ca_cert)
        assert response.startswith(b"HTTP/1.0 200") or response.startswith(b"HTTP/1.1 200"), response[:200]
        assert b'"id": 1' in response
    flows = wait_until(lambda: (lambda f: f if len(f) >= n + 2 else None)(_ended_flows(proxy)), 10,
                       message="the pass-through flows in the capture")
    failed, passed = flows[:n], flows[n:]
    assert all(f["error"]["kind"] == "client-tls" for f in failed), failed
    started = {e["flow"]: e for e in read_events(proxy.session_dir()) if e["type"] == "flowStarted"}
    for flow in passed:
        assert started[flow["flow"]]["kind"] == "tunnel", started[flow["flow"]]
        assert flow.get("error") is None and flow["bytesFromClient"] > 0 and flow["bytesFromServer"] > 0, flow
    assert proxy.stderr_text().count("passed through untouched") == 1, proxy.stderr_tail()


def test_no_auto_passthrough_keeps_intercepting(tapline, https_origin, test_ca):
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert), "--no-auto-passthrough")
    for attempt in range(1, 6):
        _refused(proxy, https_origin, test_ca, attempt)
    assert "passed through untouched" not in proxy.stderr_text()
    assert https_origin.requests_for("/users/1") == []


def test_a_client_that_trusts_tapline_resets_the_count(tapline, https_origin, test_ca):
    """Two refusals, an accepted interception, two more: never three in a row."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    _refused(proxy, https_origin, test_ca, 1)
    _refused(proxy, https_origin, test_ca, 2)
    assert _get_trusting(proxy, https_origin, ca).startswith(b"HTTP/1.1 200")  # intercepted: Tapline's CA
    wait_until(lambda: len(_ended_flows(proxy)) >= 3, 10, message="the intercepted flow in the capture")
    _refused(proxy, https_origin, test_ca, 4)
    _refused(proxy, https_origin, test_ca, 5)
    assert "passed through untouched" not in proxy.stderr_text()
