"""Auto pass-through for clients that pin AFTER the TLS handshake (issue #25 item 4).

OkHttp, and any client that checks its pins once the TLS library has finished,
completes the handshake with Tapline's leaf and then closes without sending a
request. The client here is Python's `ssl` with verification off (so the handshake
always completes), comparing the SHA-256 of the leaf's public key (SubjectPublicKeyInfo,
as OkHttp's `sha256/...` pins) with the origin's, and closing when they differ.
After N such closes in a row for a host Tapline passes that host through; the
client then sees the origin's own key and gets its response. A client that sent
requests and then closed an idle connection is not counted."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
import subprocess

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.util import wait_until

SWITCH_LOG = r"passed through untouched, not intercepted, for the rest of this run"


def spki_sha256(certificate_pem_or_der: bytes, form: str) -> str:
    """SHA-256 of a certificate's SubjectPublicKeyInfo (DER), hex."""
    key_pem = subprocess.run(["openssl", "x509", "-inform", form, "-pubkey", "-noout"], input=certificate_pem_or_der,
                             capture_output=True, check=True, timeout=10).stdout
    key_der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=key_pem,
                             capture_output=True, check=True, timeout=10).stdout
    return hashlib.sha256(key_der).hexdigest()


def _ended_flows(proxy) -> list[dict]:
    return [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded"]


def _tunnel(proxy, authority: str) -> socket.socket:
    raw = rawhttp.connect(proxy.port)
    raw.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        chunk = raw.recv(1)
        assert chunk, f"the proxy closed during CONNECT: {head!r}"
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head
    return raw


def _pinning_get(proxy, origin, pin: str, refusal: str = "close") -> bytes | None:
    """CONNECT, a TLS handshake that accepts any certificate, then the pin check:
    None after refusing on a mismatch (no request byte sent: `close` the socket, or send
    a close_notify alert first), else the response to GET /users/1."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    authority = f"localhost:{origin.port}"
    with _tunnel(proxy, authority) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls:
        if spki_sha256(tls.getpeercert(binary_form=True), "DER") != pin:
            if refusal == "close_notify":  # an alert after Finished; Tapline closes without answering it
                with contextlib.suppress(ssl.SSLError, OSError):
                    tls.unwrap()
            return None  # what a pinning client does: close, nothing sent
        tls.sendall(f"GET /users/1 HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := tls.recv(65536):
            response += chunk
        return response


@pytest.mark.parametrize("refusal", ["close", "close_notify"])
def test_a_client_that_pins_after_the_handshake_gets_through_after_n_closes(tapline, https_origin, test_ca, refusal):
    pin = spki_sha256(test_ca.server_cert.read_bytes(), "PEM")
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert), "--auto-passthrough-after", "2")
    for attempt in (1, 2):
        assert _pinning_get(proxy, https_origin, pin, refusal) is None, f"attempt {attempt} saw the origin's key"
        wait_until(lambda: len(_ended_flows(proxy)) >= attempt, 10, message=f"flow {attempt} in the capture")
    proxy.wait_for_log(SWITCH_LOG)
    response = _pinning_get(proxy, https_origin, pin)
    assert response is not None, "still intercepted after 2 closes right after the handshake"
    assert response.startswith(b"HTTP/1.0 200") or response.startswith(b"HTTP/1.1 200"), response[:200]
    assert b'"id": 1' in response
    flows = wait_until(lambda: (lambda f: f if len(f) >= 3 else None)(_ended_flows(proxy)), 10,
                       message="the pass-through flow in the capture")
    for failed in flows[:2]:
        assert failed["error"]["kind"] == "client-tls", failed
        assert "right after the TLS handshake" in failed["error"]["message"], failed
    started = {e["flow"]: e for e in read_events(proxy.session_dir()) if e["type"] == "flowStarted"}
    assert started[flows[2]["flow"]]["kind"] == "tunnel", started[flows[2]["flow"]]
    assert flows[2].get("error") is None and flows[2]["bytesFromServer"] > 0, flows[2]
    assert proxy.stderr_text().count("passed through untouched") == 1, proxy.stderr_tail()


def test_clients_that_sent_a_request_then_closed_are_not_counted(tapline, https_origin, test_ca):
    """A kept-alive connection closed by the client once idle, after its requests, is not a refusal."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert), "--auto-passthrough-after", "2")
    ca = proxy.wait_for_ca()
    context = ssl.create_default_context(cafile=str(ca))
    authority = f"localhost:{https_origin.port}"
    for attempt in range(1, 5):
        with _tunnel(proxy, authority) as raw, context.wrap_socket(raw, server_hostname="localhost") as tls, \
                tls.makefile("rb") as f:
            tls.sendall(f"GET /users/1 HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())  # kept alive
            assert f.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := f.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert b'"id": 1' in f.read(length)
        # ... and closed while idle, no request in progress.
        wait_until(lambda: len(_ended_flows(proxy)) >= attempt, 10, message=f"flow {attempt} in the capture")
    proxy.stop()
    assert "passed through untouched" not in proxy.stderr_text()
    ended = _ended_flows(proxy)
    assert len(ended) == 4 and all(f.get("error") is None for f in ended), ended
