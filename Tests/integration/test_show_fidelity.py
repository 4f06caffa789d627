"""What `tapline show` (and the session files) tell a user about flows that did not go
to plan (issue #21, item 9): the sizes of messages that did not end (a torn response, a
Server-Sent Events stream the client closed), encoded (compressed) sizes, the upstream
of `--reverse h2c://`, a resolve error said once, and a session whose proxy is still
running read as "still being written" rather than as damaged.

The origin is a raw socket server so each response can be cut exactly where the test
says; clients are curl or a raw socket through the forward proxy."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time

import pytest

from tapline_testkit import websocket as wsk
from tapline_testkit.rawhttp import receive_head
from tapline_testkit.util import HOST, ThreadedTestServer, curl, free_port, text, wait_until

TORN_SENT = 93_000          # bytes of a 200,000-byte response sent before the origin closes
SSE_EVENTS = [f"id: {n}\ndata: event {n} {'x' * 2000}\n\n".encode() for n in range(40)]
HEARTBEAT = b": keep-alive\n\n"
TEXT = ("The quick brown fox jumps over the lazy dog. " * 72_000).encode()  # ~3.2 MB, compresses well


class CuttingOrigin(ThreadedTestServer):
    """An HTTP/1.1 origin on 127.0.0.1 whose responses go wrong on purpose:
    `/torn` promises 200,000 bytes, sends TORN_SENT and closes; `/sse` sends SSE_EVENTS
    (chunked), then keep-alive comments until the other side goes away; `/gzip` sends TEXT gzipped."""

    def __init__(self):
        self.sse_done = threading.Event()  # the SSE stream's reader went away
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            head = receive_head(conn)
            if head is None:
                return
            path = head.split(b" ", 2)[1].decode()
            if path == "/torn":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: 200000\r\n\r\n" + b"t" * TORN_SENT)
            elif path == "/sse":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
                for event in SSE_EVENTS:
                    conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
                # Then a keep-alive comment every 50 ms, as SSE servers do, until the write
                # fails: the proxy closed the connection because its client closed the stream.
                try:
                    while not self.stopped:
                        conn.sendall(b"%x\r\n%s\r\n" % (len(HEARTBEAT), HEARTBEAT))
                        time.sleep(0.05)
                except OSError:
                    self.sse_done.set()
            elif path == "/gzip":
                body = gzip.compress(TEXT)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        except OSError:
            pass
        finally:
            conn.close()



@pytest.fixture
def cutting_origin():
    server = CuttingOrigin()
    yield server
    server.stop()


def _flows_by_path(proxy) -> dict[str, dict]:
    """`tapline show --json`'s flows by the last segment of their URL."""
    listed = json.loads(text(proxy.cli("show", str(proxy.session_dir()), "--json")))
    return {flow["url"].rsplit("/", 1)[-1]: flow for flow in listed}


def _dechunked(data: bytes) -> bytes:
    """The body carried by the complete chunks at the start of `data` (chunked coding)."""
    body = b""
    while b"\r\n" in data:
        size_line, rest = data.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0 or len(rest) < size + 2:
            break
        body += rest[:size]
        data = rest[size + 2:]
    return body


def _row(proxy, path: str) -> str:
    table = text(proxy.cli("show", str(proxy.session_dir())))
    rows = [line for line in table.splitlines() if line.split()[2:3] and line.split()[2].endswith(path)]
    assert len(rows) == 1, table
    return rows[0]


def _wait_for_flow_end(proxy, count: int) -> None:
    wait_until(lambda: sum(e["type"] == "flowEnded" for e in wsk.read_events(proxy.session_dir())) >= count,
               20, message=f"{count} flows to end in the capture")


def test_torn_response_counts_the_captured_bytes_and_says_it_was_cut(tapline, cutting_origin):
    proxy = tapline()
    result = curl("-x", proxy.proxy_url, f"http://{cutting_origin.authority}/torn", "-o", "/dev/null")
    assert result.returncode == 18, result  # curl: partial file
    _wait_for_flow_end(proxy, 1)
    flow = _flows_by_path(proxy)["torn"]
    assert flow["responseBytes"] == TORN_SENT and flow["responsePartial"] is True, flow
    assert flow["requestPartial"] is False, flow
    assert "93 kB cut" in _row(proxy, "/torn")


def test_aborted_server_sent_events_response_keeps_its_size(tapline, cutting_origin):
    """A client (as a browser closing its EventSource) reads every event, then hangs up."""
    proxy = tapline()
    expected = b"".join(SSE_EVENTS)
    with socket.create_connection((HOST, proxy.port), timeout=30) as client:
        client.sendall(f"GET http://{cutting_origin.authority}/sse HTTP/1.1\r\n"
                       f"Host: {cutting_origin.authority}\r\nAccept: text/event-stream\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received or not _dechunked(received.split(b"\r\n\r\n", 1)[1]).startswith(expected):
            chunk = client.recv(65536)
            assert chunk, "the proxy closed the SSE stream early"
            received += chunk
    assert cutting_origin.sse_done.wait(20), "the proxy did not close the upstream after its client left"
    _wait_for_flow_end(proxy, 1)
    flow = _flows_by_path(proxy)["sse"]
    assert flow["error"]["kind"] == "client-aborted", flow
    stored = proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow["id"]), "--body", "response").stdout
    assert stored.startswith(expected), "every event the client read was captured"
    assert flow["responseBytes"] == len(stored) and flow["responsePartial"] is True, flow
    assert f"{round(len(stored) / 1000)} kB cut" in _row(proxy, "/sse")


def test_encoded_response_size_is_marked_with_its_coding(tapline, cutting_origin):
    proxy = tapline()
    result = curl("-x", proxy.proxy_url, f"http://{cutting_origin.authority}/gzip", "-o", "/dev/null")
    assert result.returncode == 0, result
    _wait_for_flow_end(proxy, 1)
    flow = _flows_by_path(proxy)["gzip"]
    assert flow["responseEncoding"] == "gzip" and flow["responsePartial"] is False, flow
    assert flow["responseBytes"] == len(gzip.compress(TEXT)), flow
    row = _row(proxy, "/gzip")
    assert " kB gzip " in row, row


def test_session_json_names_an_h2c_upstream_as_given(tapline):
    port = free_port()  # nothing needs to listen: the session starts before any request
    proxy = tapline("--reverse", f"h2c://127.0.0.1:{port}")
    session = json.loads((proxy.session_dir() / "session.json").read_text())
    assert session["proxy"]["upstream"] == f"h2c://127.0.0.1:{port}", session["proxy"]


def test_resolve_error_says_cannot_resolve_once(tapline):
    proxy = tapline()
    result = curl("-x", proxy.proxy_url, "http://no-such-host.invalid/x", "--write-out", "%{http_code}")
    assert result.stdout.endswith(b"502"), result
    assert result.stdout.count(b"cannot resolve") == 1, result.stdout
    _wait_for_flow_end(proxy, 1)
    flow = json.loads(text(proxy.cli("show", str(proxy.session_dir()), "--json")))[0]
    message = flow["error"]["message"]
    assert message.startswith("cannot resolve no-such-host.invalid: ") and message.count("cannot resolve") == 1, message
    assert flow["requestPartial"] is False, "a bodyless request that was never sent on was not cut"


def test_show_says_still_being_written_while_the_proxy_runs(tapline, cutting_origin):
    proxy = tapline()
    curl("-x", proxy.proxy_url, f"http://{cutting_origin.authority}/gzip", "-o", "/dev/null")
    _wait_for_flow_end(proxy, 1)
    for command in (["show", str(proxy.session_dir())],
                    ["export", str(proxy.session_dir()), "--har", str(proxy.workdir / "live.har")]):
        shown = proxy.cli(*command)
        assert shown.returncode == 0, shown.stderr
        assert "is still being written" in shown.stderr, shown.stderr
        assert "not closed" not in shown.stderr and "warning" not in shown.stderr, shown.stderr
    listing = text(proxy.cli("sessions", "--capture", str(proxy.capture_dir)))
    assert "being written" in listing, listing

    proxy.kill9()  # a dead writer: now the session really was not closed
    shown = proxy.cli("show", str(proxy.session_dir()))
    assert "still being written" not in shown.stderr, shown.stderr
    assert "session was not closed (the proxy was killed)" in shown.stderr, shown.stderr
    assert "not closed" in text(proxy.cli("sessions", "--capture", str(proxy.capture_dir)))
