"""HTTP/2 limits that protect Tapline stay on, and what a user sees when they bite:
nghttp2's flood and rapid-reset protections end the abusing connection with a
GOAWAY (and nothing else), more streams than SETTINGS_MAX_CONCURRENT_STREAMS is a
connection error, and a header list over SETTINGS_MAX_HEADER_LIST_SIZE (64 KiB) is
answered (431 for a request, 502 for a response) and captured with a message that
says why, instead of a bare RST_STREAM."""

from __future__ import annotations

import math
import socket
import time

import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client, error_code, raw_frame, read_frames
from tapline_testkit.util import HOST, curl_status, wait_until

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = raw_frame(4, 0, 0, b"")
SETTINGS_ACK = raw_frame(4, 1, 0, b"")
PROTOCOL_ERROR, INTERNAL_ERROR, CANCEL, ENHANCE_YOUR_CALM = 0x1, 0x2, 0x8, 0xB
GOAWAY = 7
# HPACK (no Huffman): :method GET, :scheme http, :authority a.test, then a literal :path
REQUEST_START = bytes([0x82, 0x86, 0x41, 6]) + b"a.test"


def request_block(path: bytes) -> bytes:
    return REQUEST_START + bytes([0x04, len(path)]) + path  # :path, literal without indexing


@pytest.fixture
def proxy(tapline, h2_upstream):
    return tapline("--reverse", f"h2c://{h2_upstream.authority}")


def assert_serves_a_new_connection(proxy) -> None:
    """The limit ended one connection or stream, not the proxy."""
    client = H2Client(proxy.port)
    sid = client.request("/bytes/100")
    client.wait_streams([sid])
    assert client.responses[sid]["status"] == 200
    client.close()


def goaways(frames) -> list[tuple[int, int]]:
    """(last stream id, error code) of each GOAWAY."""
    return [(int.from_bytes(f[3][:4], "big") & 0x7FFFFFFF, error_code(f)) for f in frames if f[0] == GOAWAY]


@pytest.mark.parametrize("frame", [
    pytest.param(raw_frame(6, 0, 0, b"12345678"), id="ping"),
    pytest.param(raw_frame(4, 0, 0, (4).to_bytes(2, "big") + (65535).to_bytes(4, "big")), id="settings"),
])
def test_a_flood_of_frames_to_acknowledge_from_a_client_that_does_not_read_ends_its_connection(proxy, frame):
    # Every PING and SETTINGS must be acknowledged; a client that never reads lets the
    # acknowledgements pile up until nghttp2 calls it a flood (more than 1,000 queued).
    with socket.create_connection((HOST, proxy.port), timeout=10) as s:
        s.sendall(PREFACE + SETTINGS)
        sent = 0
        try:
            while sent < 400_000:
                s.sendall(frame * 2000)
                sent += 2000
        except OSError:
            pass  # the proxy closed the connection under us: expected
        assert sent < 400_000, "the proxy took 400,000 frames without calling it a flood"
        frames = read_frames(s, until_type=GOAWAY)
    assert [code for _, code in goaways(frames)] == [ENHANCE_YOUR_CALM]
    assert proxy.peak_rss_kb() < 200_000
    assert_serves_a_new_connection(proxy)


def test_rapid_reset_ends_the_connection_after_the_burst_nghttp2_allows(proxy, h2_upstream):
    # CVE-2023-44487: open and reset streams as fast as possible. nghttp2 allows a
    # burst of 1,000 resets, refilled by 33 at each tick of its whole-second clock; the
    # first reset past them ends the connection: stream 2,001, or 66 streams later for
    # each second boundary the burst crossed (2,067 when it straddles one), never earlier.
    pairs = b"".join(raw_frame(1, 0x5, sid, request_block(b"/silent")) + raw_frame(3, 0, sid, (8).to_bytes(4, "big"))
                     for sid in range(1, 2 * 1500, 2))
    started = time.monotonic()
    with socket.create_connection((HOST, proxy.port), timeout=10) as s:
        s.sendall(PREFACE + SETTINGS + pairs)
        frames = read_frames(s, until_type=GOAWAY)
    refilled = 33 * (math.floor(time.monotonic() - started) + 1)  # tokens of the ticks it may have crossed
    [(last_stream, error)] = goaways(frames)
    assert error == INTERNAL_ERROR and last_stream % 2 == 1 and 2001 <= last_stream <= 2001 + 2 * refilled, \
        (last_stream, error, refilled)
    assert_serves_a_new_connection(proxy)
    proxy.stop()
    # Every stream nghttp2 handed over before its GOAWAY went out (the rest of the bytes
    # read with the 1,001st reset) is a flow, ended as reset by the client.
    ended = [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded" and "error" in e]
    assert len(ended) >= 1001
    assert {e["error"]["kind"] for e in ended} == {"client-aborted"}


def test_a_burst_under_the_reset_limit_keeps_the_connection(proxy):
    pairs = b"".join(raw_frame(1, 0x5, sid, request_block(b"/silent")) + raw_frame(3, 0, sid, (8).to_bytes(4, "big"))
                     for sid in range(1, 2 * 900, 2))
    ping = raw_frame(6, 0, 0, b"still-up")
    with socket.create_connection((HOST, proxy.port), timeout=10) as s:
        s.sendall(PREFACE + SETTINGS + pairs + ping)
        frames = read_frames(s, until_type=6)
    assert [f[3] for f in frames if f[0] == 6] == [b"still-up"]  # the PING's ACK: the connection lives
    assert goaways(frames) == []
    assert_serves_a_new_connection(proxy)


def test_more_streams_than_max_concurrent_streams_is_a_connection_error(proxy):
    # Tapline announces SETTINGS_MAX_CONCURRENT_STREAMS 100. Once the client has
    # acknowledged it, a 101st open stream is a PROTOCOL_ERROR (RFC 9113 §5.1.2);
    # GOAWAY names the 100th stream as the last one processed.
    headers = b"".join(raw_frame(1, 0x5, 1 + 2 * i, request_block(b"/silent")) for i in range(101))
    with socket.create_connection((HOST, proxy.port), timeout=10) as s:
        s.sendall(PREFACE + SETTINGS)
        read_frames(s, until_type=4)  # the proxy's SETTINGS
        s.sendall(SETTINGS_ACK + headers)
        frames = read_frames(s, until_type=GOAWAY)
    assert goaways(frames) == [(199, PROTOCOL_ERROR)]
    assert_serves_a_new_connection(proxy)


def big_fields(kib: int) -> list[tuple[str, str]]:
    return [(f"x-big-{i:03d}", "a" * 1000) for i in range(kib)]


def test_a_request_header_list_over_64_kib_gets_431_and_is_captured(proxy, h2_upstream):
    client = H2Client(proxy.port)
    big = client.request("/too-big", headers=big_fields(80))
    client.wait_streams([big])
    answer = client.responses[big]
    assert answer["status"] == 431
    assert b"SETTINGS_MAX_HEADER_LIST_SIZE" in bytes(answer["body"])
    # the same connection goes on
    ok = client.request("/bytes/100")
    client.wait_streams([ok])
    assert client.responses[ok]["status"] == 200
    client.close()
    assert "/too-big" not in [r["path"] for r in h2_upstream.requests]
    assert_serves_a_new_connection(proxy)
    proxy.stop()
    events = read_events(proxy.session_dir())
    head = next(e for e in events if e["type"] == "requestHead" and e["target"] == "/too-big")
    assert head["method"] == "GET"
    kept = [name for name, _ in head["headers"] if name.startswith("x-big-")]
    assert 50 < len(kept) < 80  # the fields that fit in 64 KiB, in order
    assert kept == [f"x-big-{i:03d}" for i in range(len(kept))]
    ended = next(e for e in events if e["type"] == "flowEnded" and e["flow"] == head["flow"])
    assert ended["error"]["kind"] == "bad-request"
    assert "over the 65536 Tapline accepts" in ended["error"]["message"]


@pytest.mark.parametrize("client_kind", ["h2", "http1"])
def test_a_response_header_list_over_64_kib_is_a_502_that_says_why(proxy, h2_upstream, client_kind):
    if client_kind == "h2":
        client = H2Client(proxy.port)
        sid = client.request("/big-headers/80")
        client.wait_streams([sid])
        status, body = client.responses[sid]["status"], bytes(client.responses[sid]["body"])
        client.close()
    else:
        status, body, _ = curl_status("--http1.1", f"http://{HOST}:{proxy.port}/big-headers/80")
    assert status == 502
    assert b"response header list of" in body and b"SETTINGS_MAX_HEADER_LIST_SIZE" in body
    # the upstream stream was cancelled, not left open
    wait_until(lambda: ("/big-headers/80", CANCEL) in h2_upstream.resets, timeout=10,
               message="the origin to see RST_STREAM CANCEL")
    assert_serves_a_new_connection(proxy)
    proxy.stop()
    ended = [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded" and "error" in e]
    assert [e["error"]["kind"] for e in ended] == ["bad-response"]
    assert f"{h2_upstream.authority} sent a response header list of" in ended[0]["error"]["message"]
