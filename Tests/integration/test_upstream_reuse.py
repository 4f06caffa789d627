"""Kept-alive upstream connections: reused by HTTP/1.1 and HTTP/2 clients, and closed by the
server just as they are reused."""

from __future__ import annotations

import json
import socket
import threading

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.origin import pattern_bytes, pattern_sha256, user_record
from tapline_testkit.rawhttp import receive_head
from tapline_testkit.util import HOST, curl, wait_until


class ClosingAfterFirstOrigin:
    """An origin whose first connection answers one request with keep-alive, then
    reads the next request and closes without answering (a keep-alive timeout
    racing the client). Later connections answer every request."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests_seen = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        with conn:
            answered = 0
            while True:
                head = receive_head(conn)
                if head is None:
                    return
                self.requests_seen += 1
                if number == 1 and answered == 1:
                    return  # close instead of answering the reused connection's second request
                path = head.split(b" ")[1]
                body = b"answer for " + path
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                answered += 1

    def stop(self) -> None:
        self._stop = True
        self.sock.close()


def test_bodyless_request_is_retried_when_reused_upstream_closes(tapline):
    origin = ClosingAfterFirstOrigin()
    try:
        proxy = tapline("--reverse", f"http://{HOST}:{origin.port}")
        r = curl(f"{proxy.url}/first", f"{proxy.url}/second")
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"answer for /firstanswer for /second"
        assert origin.connections == 2, "the second request was sent again on a new connection"
        proxy.wait_for_log(r"GET http://[^ ]+/second -> 200\b")
    finally:
        origin.stop()


# --- HTTP/2 clients in front of an HTTP/1.1 upstream -----------------------------------------------

def upstream_connected(proxy) -> list[dict]:
    """The capture's upstreamConnected events, in order."""
    return [e for e in read_events(proxy.session_dir()) if e["type"] == "upstreamConnected"]


def test_h2_client_reuses_one_http1_upstream_connection(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    client = H2Client(proxy.port)
    answers = []
    for path, method, body in [("/users/1", "GET", b""), ("/sha256", "POST", pattern_bytes(70_000)),
                               ("/chunked/5000", "GET", b""), ("/users/4", "GET", b""),
                               ("/sha256", "POST", b"x")]:
        sid = client.request(path, method=method, body=body)
        client.wait_streams([sid])
        r = client.responses[sid]
        assert r["status"] == 200 and r["ended"], r
        answers.append(bytes(r["body"]))
    client.close()
    assert json.loads(answers[0]) == user_record(1)
    assert json.loads(answers[1])["sha256"] == pattern_sha256(70_000)
    assert answers[2] == pattern_bytes(5000)
    assert origin.connection_count == 1, "every stream after the first reuses the idle upstream connection"
    proxy.stop()
    connected = upstream_connected(proxy)
    assert [e["flow"] for e in connected] == [1, 2, 3, 4, 5]
    assert [e["reused"] for e in connected] == [False, True, True, True, True]


def test_h2_client_does_not_reuse_a_close_delimited_upstream(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    client = H2Client(proxy.port)
    for path in ["/close-delimited/3000", "/users/2", "/users/3"]:
        sid = client.request(path)
        client.wait_streams([sid])
        assert client.responses[sid]["status"] == 200
    client.close()
    assert origin.connection_count == 2, "the close-delimited response's connection is not reused"
    proxy.stop()
    assert [e["reused"] for e in upstream_connected(proxy)] == [False, False, True]


def test_h2_client_pool_keeps_at_most_eight_idle_connections(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    client = H2Client(proxy.port)
    flush, client.flush = client.flush, lambda: None  # all 12 requests in one write: 12 upstream connections
    sids = [client.request(f"/bytes/{1000 + i}") for i in range(12)]
    client.flush = flush
    client.flush()
    client.wait_streams(sids)
    assert all(client.responses[s]["status"] == 200 for s in sids)
    assert origin.connection_count > 8
    wait_until(lambda: origin.open_connection_count == 8, 10, message="4 of 12 idle upstream connections closed")
    client.close()
    wait_until(lambda: origin.open_connection_count == 0, 10,
               message="the idle upstream connections closed with their client connection")


def test_h2_bodyless_request_is_retried_when_reused_upstream_closes(tapline):
    origin = ClosingAfterFirstOrigin()
    try:
        proxy = tapline("--reverse", f"http://{HOST}:{origin.port}")
        client = H2Client(proxy.port)
        bodies = []
        for path in ["/first", "/second"]:
            sid = client.request(path)
            client.wait_streams([sid])
            assert client.responses[sid]["status"] == 200, client.responses[sid]
            bodies.append(bytes(client.responses[sid]["body"]))
        client.close()
        assert bodies == [b"answer for /first", b"answer for /second"]
        assert origin.connections == 2, "the second request was sent again on a new connection"
        proxy.stop()
        assert [(e["flow"], e["reused"]) for e in upstream_connected(proxy)] == [(1, False), (2, True), (2, False)]
    finally:
        origin.stop()
