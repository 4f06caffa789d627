"""Malformed HTTP/2 from a client: Tapline answers with the GOAWAY or RST_STREAM
code RFC 9113 asks for, never crashes, and keeps serving other connections."""

from __future__ import annotations

import socket

import pytest

from tapline_testkit.h2 import H2Client, error_code, raw_frame, read_frames
from tapline_testkit.util import HOST

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = raw_frame(4, 0, 0, b"")
PROTOCOL_ERROR, STREAM_CLOSED, FRAME_SIZE_ERROR = 0x1, 0x5, 0x6
# HPACK (no Huffman): :method GET, :scheme http, :path /, :authority a.test
REQUEST = bytes([0x82, 0x86, 0x84, 0x41, 6]) + b"a.test"


def literal(name: bytes, value: bytes) -> bytes:
    """A literal header field without indexing, new name (RFC 7541 §6.2.2)."""
    return bytes([0x00, len(name)]) + name + bytes([len(value)]) + value


@pytest.fixture
def proxy(tapline, h2_upstream):
    p = tapline("--reverse", f"h2c://{h2_upstream.authority}", capture=False)
    yield p
    # still alive and serving
    client = H2Client(p.port)
    sid = client.request("/bytes/100")
    client.wait_streams([sid])
    assert client.responses[sid]["status"] == 200
    client.close()


def send(proxy, data: bytes, until_type: int):
    with socket.create_connection((HOST, proxy.port), timeout=10) as s:
        s.sendall(data)
        return read_frames(s, until_type=until_type)


def goaway_code(frames):
    goaways = [f for f in frames if f[0] == 7]
    assert goaways, f"no GOAWAY in {[(f[0], f[2]) for f in frames]}"
    return error_code(goaways[0])


def rst_code(frames, stream=1):
    rsts = [f for f in frames if f[0] == 3 and f[2] == stream]
    assert rsts, f"no RST_STREAM in {[(f[0], f[2]) for f in frames]}"
    return error_code(rsts[0])


def test_bad_preface(proxy):
    assert goaway_code(send(proxy, b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + SETTINGS, 7)) == PROTOCOL_ERROR


def test_data_on_stream_zero(proxy):
    assert goaway_code(send(proxy, PREFACE + SETTINGS + raw_frame(0, 0, 0, b"x"), 7)) == PROTOCOL_ERROR


def test_oversize_frame(proxy):
    frames = send(proxy, PREFACE + SETTINGS + raw_frame(0, 0, 1, b"\0" * 16385), 7)
    assert goaway_code(frames) == FRAME_SIZE_ERROR


def test_headers_on_closed_stream(proxy):
    headers = raw_frame(1, 0x5, 1, REQUEST)  # END_STREAM | END_HEADERS
    reset = raw_frame(3, 0, 1, (8).to_bytes(4, "big"))
    frames = send(proxy, PREFACE + SETTINGS + headers + reset + headers, 7)
    assert goaway_code(frames) in (STREAM_CLOSED, PROTOCOL_ERROR)


@pytest.mark.parametrize("block", [
    pytest.param(REQUEST + literal(b":bogus", b"1"), id="unknown-pseudo-header"),
    pytest.param(bytes([0x82, 0x86, 0x41, 6]) + b"a.test", id="missing-path"),
    pytest.param(REQUEST + literal(b"x-ok", b"1") + literal(b":path", b"/late"), id="pseudo-after-regular"),
    pytest.param(REQUEST + literal(b"X-Upper", b"1"), id="uppercase-name"),
    pytest.param(REQUEST + literal(b"connection", b"keep-alive"), id="connection-header"),
    pytest.param(REQUEST + literal(b"transfer-encoding", b"chunked"), id="transfer-encoding"),
    pytest.param(REQUEST + literal(b"te", b"gzip"), id="te-not-trailers"),
])
def test_invalid_request_headers_reset_the_stream(proxy, block):
    frames = send(proxy, PREFACE + SETTINGS + raw_frame(1, 0x5, 1, block), 3)
    assert rst_code(frames) == PROTOCOL_ERROR
