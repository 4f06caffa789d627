"""An HTTP/1.1 upstream that closes its connection right after a response (Connection:
close, or a body delimited by the close) while an HTTP/2 client is still taking the
response at its window's pace: the client gets the whole body, and the capture records a
complete response, not "closed the connection before the response was complete".

The client keeps the default 64 KiB windows, so most of the body is still in the proxy
(the stream's send queue and the upstream parser) when the upstream's FIN is read."""

from __future__ import annotations

import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.origin import pattern_bytes
from tapline_testkit.rawhttp import receive_head
from tapline_testkit.util import ThreadedTestServer

SIZE = 2_000_000


class ClosingOrigin(ThreadedTestServer):
    """Answers one request per connection with SIZE bytes of the pattern, then closes:
    framed by Content-Length (with Connection: close) or by the close itself."""

    def __init__(self, framing: str):
        self.framing = framing
        super().__init__()

    def _serve(self, conn) -> None:
        with conn:
            if receive_head(conn) is None:
                return
            length = f"Content-Length: {SIZE}\r\n" if self.framing == "content-length" else ""
            conn.sendall(f"HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n".encode() + pattern_bytes(SIZE))


@pytest.mark.parametrize("framing", ["content-length", "close-delimited"])
def test_the_whole_response_reaches_a_slower_http2_client(tapline, framing):
    origin = ClosingOrigin(framing)
    try:
        proxy = tapline("--reverse", f"http://{origin.authority}")
        client = H2Client(proxy.port, window=65536, stream_window=65535)
        try:
            stream = client.request("/download", authority=f"127.0.0.1:{proxy.port}")
            client.wait_streams([stream])
            response = client.responses[stream]
            assert stream not in client.resets, (
                f"the proxy reset the stream ({client.resets[stream]}) after {len(response['body'])} bytes\n"
                f"{proxy.stderr_tail(5)}")
            assert response["status"] == 200
            assert bytes(response["body"]) == pattern_bytes(SIZE), f"{len(response['body'])} of {SIZE} bytes"
        finally:
            client.close()
        proxy.stop()
        events = read_events(proxy.session_dir())
        ended = [e for e in events if e["type"] == "flowEnded"]
        assert len(ended) == 1 and "error" not in ended[0], ended
        assert [e["bodyBytes"] for e in events if e["type"] == "responseEnd"] == [SIZE]
    finally:
        origin.stop()
