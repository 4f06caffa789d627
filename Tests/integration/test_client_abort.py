"""A client that hangs up while its request is in flight and the upstream is silent
(follow-up to issue #21): a browser closing an EventSource on an idle Server-Sent
Events stream, a curl killed while it waits for a slow response. Tapline must close
the upstream connection at once and end the flow `client-aborted`, as nginx
(`proxy_ignore_client_abort off`), mitmproxy and Envoy do, instead of keeping both
until the server writes or a timeout fires.

The rule for a FIN (docs/architecture.md, "A client connection's life"): it ends the
exchange in flight, unless the last request the client sent whole (the one in flight,
or the last pipelined behind it) said it was the connection's last
(`Connection: close`): such a client may shut down its sending side and still reads
every response (RFC 9112 §9.6).

The origin is a raw socket server that says exactly what the test needs (nothing, or
an SSE head and one event) and reports when Tapline closes its connection."""

from __future__ import annotations

import hashlib
import json
import queue
import socket
import ssl
import threading
import time
from typing import Optional

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.origin import pattern_bytes
from tapline_testkit.util import HOST, ThreadedTestServer, wait_until

# Far below the 60 s response timeout, so only noticing the client's hang-up passes.
HANGUP_BOUND = 10.0
SSE_EVENT = b"id: 1\ndata: the only event\n\n"
SLOW_BODY = pattern_bytes(100_000)
# How long /slow keeps the client waiting. Tapline reads the client's FIN microseconds
# after its request, and nothing it does then can be observed from outside when the
# FIN is honoured; this delay puts the answer well after it.
SLOW_ANSWER_DELAY = 0.5


class SilentOrigin(ThreadedTestServer):
    """An HTTP/1.1 origin on 127.0.0.1 (TLS with `tls_context`) that reads one request
    head, then: `/silent` says nothing; `/sse` sends an event-stream head and SSE_EVENT,
    then nothing; `/slow` answers SLOW_BODY after SLOW_ANSWER_DELAY. `received` gets the
    path of each request head as it arrives, `closed` the path of each connection the
    proxy then closed (read EOF or reset)."""

    authority_host = "localhost"

    def __init__(self, tls_context: Optional[ssl.SSLContext] = None):
        self.tls_context = tls_context
        self.received: queue.Queue[str] = queue.Queue()
        self.closed: queue.Queue[str] = queue.Queue()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(60)
        try:
            if self.tls_context is not None:
                conn = self.tls_context.wrap_socket(conn, server_side=True)
            head = rawhttp.receive_head(conn)
            if head is None:
                return
            path = head.split(b" ", 2)[1].decode()
            self.received.put(path)
            if path == "/sse":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n"
                             + b"%x\r\n%s\r\n" % (len(SSE_EVENT), SSE_EVENT))
            elif path == "/slow":
                time.sleep(SLOW_ANSWER_DELAY)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(SLOW_BODY), SLOW_BODY))
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            self.closed.put(path)
        except OSError:
            pass
        finally:
            conn.close()

    def wait_for_request(self, path: str) -> None:
        assert self.received.get(timeout=HANGUP_BOUND) == path

    def wait_for_close(self, path: str) -> None:
        try:
            closed = self.closed.get(timeout=HANGUP_BOUND)
        except queue.Empty:
            raise AssertionError(f"the client hung up, but the upstream connection of {path} was still open "
                                 f"{HANGUP_BOUND:.0f} s later") from None
        assert closed == path


@pytest.fixture
def silent_origin():
    server = SilentOrigin()
    yield server
    server.stop()


@pytest.fixture
def silent_tls_origin(test_ca):
    server = SilentOrigin(tls_context=test_ca.server_context())
    yield server
    server.stop()


def _ended_flow(proxy) -> dict:
    """The one flow's `flowEnded` event, once it is in the capture."""
    def ended():
        return [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded"]
    flows = wait_until(ended, HANGUP_BOUND, message="the flow to end in the capture")
    assert len(flows) == 1, flows
    return flows[0]


def _request(target: str, authority: str, connection: str = "keep-alive") -> bytes:
    return (f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\n"
            f"Connection: {connection}\r\n\r\n").encode()


def _read_sse_event(sock) -> None:
    received = b""
    while SSE_EVENT not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the proxy closed the SSE stream early: {received!r}"
        received += chunk


def _hang_up(sock: socket.socket, how: str) -> None:
    if how == "close":
        sock.close()
    else:  # a keep-alive request, then only the sending side shut: it left all the same
        sock.shutdown(socket.SHUT_WR)


@pytest.mark.parametrize("how", ["close", "shutdown-write"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_client_hanging_up_on_a_silent_upstream_aborts_it(tapline, silent_origin, mode, how):
    proxy = tapline("--reverse", f"http://{silent_origin.authority}") if mode == "reverse" else tapline()
    target = "/silent" if mode == "reverse" else f"http://{silent_origin.authority}/silent"
    client = rawhttp.connect(proxy.port)
    try:
        client.sendall(_request(target, silent_origin.authority))
        silent_origin.wait_for_request("/silent")
        _hang_up(client, how)
        silent_origin.wait_for_close("/silent")
    finally:
        client.close()
    flow = _ended_flow(proxy)
    assert flow["error"]["kind"] == "client-aborted", flow
    assert "while waiting for the response" in flow["error"]["message"], flow
    assert flow["bytesFromServer"] == 0, flow


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_client_closing_an_idle_event_stream_aborts_it_and_keeps_what_was_relayed(tapline, silent_origin, mode):
    """A browser closing its EventSource: the head and an event went through, then the
    server is silent."""
    proxy = tapline("--reverse", f"http://{silent_origin.authority}") if mode == "reverse" else tapline()
    target = "/sse" if mode == "reverse" else f"http://{silent_origin.authority}/sse"
    with rawhttp.connect(proxy.port) as client:
        client.sendall(_request(target, silent_origin.authority))
        _read_sse_event(client)
    silent_origin.wait_for_close("/sse")
    flow = _ended_flow(proxy)
    assert flow["error"]["kind"] == "client-aborted", flow
    assert "before the response was complete" in flow["error"]["message"], flow
    assert flow["bytesFromServer"] == len(SSE_EVENT), flow


@pytest.mark.parametrize("how", ["close", "close_notify"])
@pytest.mark.parametrize("path", ["/silent", "/sse"])
def test_a_tls_client_hanging_up_inside_connect_aborts_the_upstream(tapline, silent_tls_origin, test_ca, path, how):
    """CONNECT, TLS intercepted with Tapline's CA: the client closes its socket (as a
    killed process does: no close_notify), or only sends close_notify and keeps the TCP
    connection."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    authority = silent_tls_origin.authority
    raw = rawhttp.connect(proxy.port)
    tls: Optional[ssl.SSLSocket] = None
    try:
        raw.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        answer = raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        context = ssl.create_default_context(cafile=str(ca))
        context.set_alpn_protocols(["http/1.1"])
        tls = context.wrap_socket(raw, server_hostname="localhost")
        tls.sendall(_request(path, authority))
        if path == "/sse":
            _read_sse_event(tls)
        silent_tls_origin.wait_for_request(path)
        if how == "close":
            tls.close()
        else:
            # unwrap() sends close_notify, then reads for Tapline's; without blocking it
            # returns at once with close_notify sent, and the TCP connection stays open.
            # Its read may already find Tapline's answer to the abort (the connection
            # closed): both are fine, what matters is what the origin sees next.
            tls.setblocking(False)
            with pytest.raises((ssl.SSLWantReadError, ssl.SSLEOFError)):
                tls.unwrap()
        silent_tls_origin.wait_for_close(path)
    finally:
        (tls or raw).close()
    flow = _ended_flow(proxy)
    assert flow["error"]["kind"] == "client-aborted", flow
    assert flow["bytesFromServer"] == (len(SSE_EVENT) if path == "/sse" else 0), flow


def test_a_client_hanging_up_while_its_pipelined_bytes_wait_unread_is_noticed(tapline, silent_origin):
    """Pipelined bytes behind the request in flight fill the request parser, so Tapline
    stops reading the client (backpressure); its FIN must be noticed all the same. (The
    bytes fit in the socket buffers: a FIN behind bytes the receiver has no room for is
    not sent at all.)"""
    proxy = tapline("--reverse", f"http://{silent_origin.authority}")
    authority = silent_origin.authority
    pipelined = (f"POST /next HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 100000\r\n\r\n".encode()
                 + b"p" * 100_000)
    client = rawhttp.connect(proxy.port)
    try:
        client.sendall(_request("/silent", authority) + pipelined)
        silent_origin.wait_for_request("/silent")
        client.close()
        silent_origin.wait_for_close("/silent")
    finally:
        client.close()
    flow = _ended_flow(proxy)
    assert flow["error"]["kind"] == "client-aborted", flow


def test_an_http2_client_closing_its_connection_aborts_streams_waiting_on_a_silent_upstream(tapline, silent_origin):
    proxy = tapline("--reverse", f"http://{silent_origin.authority}")
    client = H2Client(proxy.port)
    try:
        client.request("/silent", authority=silent_origin.authority)
        silent_origin.wait_for_request("/silent")
        client.sock.close()  # no GOAWAY: the process went away
        silent_origin.wait_for_close("/silent")
    finally:
        client.sock.close()
    flow = _ended_flow(proxy)
    assert flow["error"]["kind"] == "client-aborted", flow


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_client_that_half_closes_after_its_last_request_gets_the_whole_response(tapline, silent_origin, mode):
    """`Connection: close`, then shutdown(SHUT_WR): the client said it sends nothing
    more and waits for the answer (RFC 9112 §9.6), which a slow server sends later."""
    proxy = tapline("--reverse", f"http://{silent_origin.authority}") if mode == "reverse" else tapline()
    target = "/slow" if mode == "reverse" else f"http://{silent_origin.authority}/slow"
    with rawhttp.connect(proxy.port) as client:
        client.sendall(_request(target, silent_origin.authority, connection="close"))
        client.shutdown(socket.SHUT_WR)
        response = rawhttp.read_response(client.makefile("rb"))
        assert client.recv(1) == b"", "the proxy must close after a Connection: close exchange"
    assert response.status == 200, response
    assert response.body == SLOW_BODY
    flow = _ended_flow(proxy)
    assert flow.get("error") is None, flow
    assert flow["bytesFromServer"] == len(SLOW_BODY), flow


# Pipelined requests, then the client's FIN: the FIN is judged by the last request the
# client sent whole (docs/architecture.md, "A client connection's life"). When it said
# `Connection: close`, every complete request is answered in order, then the connection
# closes; otherwise the client has left and the exchange in flight is aborted.


def _ended_flows(proxy, count: int) -> list[dict]:
    def ended():
        flows = [e for e in read_events(proxy.session_dir()) if e["type"] == "flowEnded"]
        return flows if len(flows) >= count else None
    flows = wait_until(ended, HANGUP_BOUND, message=f"{count} flows to end in the capture")
    assert len(flows) == count, flows
    return flows


def _read_responses_then_close(sock: socket.socket, count: int) -> list:
    stream = sock.makefile("rb")
    responses = [rawhttp.read_response(stream) for _ in range(count)]
    assert stream.read(1) == b"", "the proxy must close after the Connection: close exchange"
    return responses


def test_pipelined_requests_half_closed_after_a_connection_close_one_are_all_answered_in_order(tapline, origin):
    """`printf 'GET /a ...\\r\\n\\r\\nGET /b ... Connection: close\\r\\n\\r\\n' | nc -N`: the
    client's last request announced the close, so its FIN is no abort."""
    proxy = tapline("--reverse", origin.url)
    with rawhttp.connect(proxy.port) as client:
        client.sendall(rawhttp.request_bytes("GET", "/users/1", origin.authority)
                       + rawhttp.request_bytes("GET", "/users/2", origin.authority, [("Connection", "close")]))
        client.shutdown(socket.SHUT_WR)
        responses = _read_responses_then_close(client, 2)
    assert [r.status for r in responses] == [200, 200], responses
    assert [json.loads(r.body)["id"] for r in responses] == [1, 2], responses
    flows = _ended_flows(proxy, 2)
    assert [f.get("error") for f in flows] == [None, None], flows


def test_pipelined_requests_filling_the_parser_then_half_closed_are_all_answered(tapline, origin):
    """Over 64 KiB of complete requests behind one whose large response the client does
    not read yet: Tapline stops reading the client (backpressure) and sees its FIN while
    paused, with the request in flight complete and most requests behind it unread."""
    proxy = tapline("--reverse", origin.url)
    first_size = 16_000_000  # more than the socket buffers hold: its exchange stays in flight
    bodies = [bytes([ord("a") + i]) * 40_000 for i in range(3)]
    pipelined = b"".join(rawhttp.request_bytes("POST", "/sha256", origin.authority, body=body) for body in bodies)
    pipelined += rawhttp.request_bytes("GET", "/users/7", origin.authority, [("Connection", "close")])
    with rawhttp.connect(proxy.port) as client:
        client.sendall(rawhttp.request_bytes("GET", f"/bytes/{first_size}", origin.authority))
        origin.wait_for_request(lambda r: r.path == f"/bytes/{first_size}")
        client.sendall(pipelined)
        client.shutdown(socket.SHUT_WR)
        responses = _read_responses_then_close(client, 5)
    assert [r.status for r in responses] == [200] * 5, responses
    assert responses[0].body == pattern_bytes(first_size)
    assert [json.loads(r.body)["sha256"] for r in responses[1:4]] == [hashlib.sha256(b).hexdigest() for b in bodies]
    assert json.loads(responses[4].body)["id"] == 7, responses[4]
    flows = _ended_flows(proxy, 5)
    assert [f.get("error") for f in flows] == [None] * 5, flows


@pytest.mark.parametrize("behind", ["keep-alive request", "partial request"])
def test_a_fin_behind_pipelined_keep_alive_requests_still_aborts(tapline, silent_origin, behind):
    """The client's last request meant to keep the connection (or was cut by the FIN):
    it left, so the exchange in flight is aborted and nothing behind it is served."""
    proxy = tapline("--reverse", f"http://{silent_origin.authority}")
    authority = silent_origin.authority
    tail = (_request("/next", authority) if behind == "keep-alive request"
            else f"GET /next HTTP/1.1\r\nHost: {authority}\r\n".encode())
    client = rawhttp.connect(proxy.port)
    try:
        client.sendall(_request("/silent", authority) + tail)
        silent_origin.wait_for_request("/silent")
        client.shutdown(socket.SHUT_WR)
        silent_origin.wait_for_close("/silent")
        assert client.recv(1) == b"", "nothing is answered to a client that left"
    finally:
        client.close()
    flow = _ended_flow(proxy)
    assert flow["error"]["kind"] == "client-aborted", flow
    assert silent_origin.received.empty(), "a request behind the aborted one was forwarded"
