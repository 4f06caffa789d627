"""An h2c upstream that breaks HTTP/2 (nghttp2 ends the connection itself: its first
frame is not SETTINGS, a SETTINGS value is out of range) is reported as a broken
upstream with nghttp2's reason, not as one that closed the connection: the client
(HTTP/2 or HTTP/1.1) gets a 502 saying so, the capture records a bad-response, and
the upstream gets GOAWAY with the error code."""

from __future__ import annotations

import socket
import threading

import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client, error_code, raw_frame, read_frames
from tapline_testkit.util import ThreadedTestServer, curl_status, wait_until

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEADERS, SETTINGS, PING, GOAWAY = 0x1, 0x4, 0x6, 0x7
PROTOCOL_ERROR, FLOW_CONTROL_ERROR = 0x1, 0x3


class BrokenH2Upstream(ThreadedTestServer):
    """An h2c 'server' that waits for the client's preface and first HEADERS, answers
    with `first_bytes` (a broken start of its side), then records the frames it
    receives until the client closes."""

    def __init__(self, first_bytes: bytes):
        self.first_bytes = first_bytes
        self.received: list[list] = []     # frames (type, flags, stream, payload) per connection
        self.lock = threading.Lock()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            buf = b""
            while len(buf) < len(PREFACE) or not self._has_headers(buf[len(PREFACE):]):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            conn.sendall(self.first_bytes)
            frames = read_frames(conn)     # until Tapline closes
            with self.lock:
                self.received.append(frames)

    @staticmethod
    def _has_headers(buf: bytes) -> bool:
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if buf[3] == HEADERS:
                return True
            buf = buf[9 + n:]
        return False

    def goaway_codes(self) -> list[int]:
        with self.lock:
            return [error_code(f) for frames in self.received for f in frames if f[0] == GOAWAY]


BROKEN_STARTS = {
    # nghttp2's error callback text, and the GOAWAY code it sends
    "ping-before-settings": (raw_frame(PING, 0, 0, bytes(8)), "expected SETTINGS frame", "PROTOCOL_ERROR",
                             PROTOCOL_ERROR),
    # SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (RFC 9113 §6.5.2): the GOAWAY's own text
    "window-too-large": (raw_frame(SETTINGS, 0, 0, (4).to_bytes(2, "big") + (1 << 31).to_bytes(4, "big")),
                         "too large SETTINGS_INITIAL_WINDOW_SIZE", "FLOW_CONTROL_ERROR", FLOW_CONTROL_ERROR),
}


@pytest.fixture(params=sorted(BROKEN_STARTS))
def broken(request):
    first_bytes, reason, code_name, code = BROKEN_STARTS[request.param]
    upstream = BrokenH2Upstream(first_bytes)
    yield upstream, reason, code_name, code
    upstream.stop()


def assert_reported(message: str, upstream: BrokenH2Upstream, reason: str, code_name: str) -> None:
    assert f"{upstream.authority} broke HTTP/2" in message, message
    assert reason in message, message
    assert f"GOAWAY {code_name}" in message, message
    assert "closed the HTTP/2 connection" not in message, message


def assert_recorded_and_ended(proxy, upstream: BrokenH2Upstream, reason: str, code_name: str, code: int) -> None:
    """The capture's one flow ended with a bad-response saying so, and the upstream got
    GOAWAY with `code`."""
    def ended():
        return [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded"]
    flows = wait_until(ended, timeout=10, message="the flow's end in the capture")
    assert len(flows) == 1, flows
    error = flows[0]["error"]
    assert error["kind"] == "bad-response", error
    assert_reported(error["message"], upstream, reason, code_name)
    wait_until(upstream.goaway_codes, timeout=10, message="Tapline's GOAWAY to the upstream")
    assert upstream.goaway_codes() == [code]


def test_h2_client_is_told_the_upstream_broke_http2(tapline, broken):
    upstream, reason, code_name, code = broken
    proxy = tapline("--reverse", f"h2c://{upstream.authority}")
    client = H2Client(proxy.port)
    sid = client.request("/")
    client.wait_streams([sid])
    response = client.responses[sid]
    client.close()
    assert response["status"] == 502
    assert_reported(response["body"].decode(), upstream, reason, code_name)
    assert_recorded_and_ended(proxy, upstream, reason, code_name, code)


def test_http1_client_is_told_the_upstream_broke_http2(tapline, broken):
    upstream, reason, code_name, code = broken
    proxy = tapline("--reverse", f"h2c://{upstream.authority}")
    status, body, _ = curl_status(f"http://127.0.0.1:{proxy.port}/")
    assert status == 502
    assert_reported(body.decode(), upstream, reason, code_name)
    assert_recorded_and_ended(proxy, upstream, reason, code_name, code)


def test_a_client_that_breaks_http2_is_recorded_with_nghttp2s_reason(tapline, h2_upstream):
    proxy = tapline("--reverse", f"h2c://{h2_upstream.authority}")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
        s.sendall(PREFACE + raw_frame(PING, 0, 0, bytes(8)))
        frames = read_frames(s)    # until Tapline closes
    assert [error_code(f) for f in frames if f[0] == GOAWAY] == [PROTOCOL_ERROR]

    def closed():    # the fixture's readiness probe is a connection too: ours is the one that sent bytes
        return [e for e in read_events(proxy.session_dir()) if e["type"] == "connectionClosed" and e["received"]]
    closes = wait_until(closed, timeout=10, message="the connection's close in the capture")
    assert len(closes) == 1, closes
    assert "expected SETTINGS frame" in closes[0].get("error", {}).get("message", ""), closes
