"""Reverse mode's header timeout is one budget from accept (review of issue #21,
item 5): `ReverseProtocolDetector` waits for the bytes that tell HTTP/1 from the
HTTP/2 preface, then hands the connection to a handler, which gets what is left of the
header timeout, not a fresh one (a client dribbling its first bytes used to get up to
twice --header-timeout)."""

from __future__ import annotations

import socket
import time

import pytest

from tapline_testkit.util import HOST

HEADER_TIMEOUT = 2.0
# The client spends most of the header timeout before the detector can decide.
DETECTION_DELAY = 1.6
# Timer slack on a loaded machine; a fresh timeout after the hand-over would close at
# DETECTION_DELAY + HEADER_TIMEOUT = 3.6 s.
SLACK = 0.9


@pytest.mark.parametrize("first, rest", [
    (b"P", b"OST / HTTP/1.1\r\n"),        # HTTP/1: a partial head after the first byte
    (b"PR", b"I * HTTP/2.0\r\n"),          # HTTP/2: a preface cut short
], ids=["http1-head", "http2-preface"])
def test_the_handler_gets_what_is_left_of_the_header_timeout(tapline, origin, first, rest):
    proxy = tapline("--reverse", origin.url, "--header-timeout", f"{HEADER_TIMEOUT:g}", capture=False)
    with socket.create_connection((HOST, proxy.port), timeout=10) as client:
        accepted = time.monotonic()
        client.sendall(first)
        time.sleep(DETECTION_DELAY)  # the slow client under test
        client.sendall(rest)
        received = b""
        while chunk := client.recv(65536):  # a 408 for the HTTP/1 head, nothing for h2
            received += chunk
        closed_after = time.monotonic() - accepted
    assert HEADER_TIMEOUT - 0.1 <= closed_after <= HEADER_TIMEOUT + SLACK, (
        f"closed {closed_after:.2f} s after accept with --header-timeout {HEADER_TIMEOUT:g}; received {received!r}")
