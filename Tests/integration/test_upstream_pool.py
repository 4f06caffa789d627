"""One pool of upstream legs per client connection (issue #22): an HTTP/1.1 client's requests
to several origins reuse each origin's idle connection, an idle parked connection is closed after
the idle timeout while its client connection is still in use, and an HTTP/2 client's streams
reuse the HTTP/1.1 connection an ALPN answer left them."""

from __future__ import annotations

import json
import time

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.origin import OriginServer, user_record
from tapline_testkit.rawhttp import connect, read_response, request_bytes
from tapline_testkit.util import wait_until


class ForwardClient:
    """One keep-alive HTTP/1.1 client connection to a forward proxy, sending one
    absolute-form GET at a time."""

    def __init__(self, proxy_port: int) -> None:
        self.sock = connect(proxy_port)
        self.file = self.sock.makefile("rb")

    def get_user(self, origin: OriginServer, user: int) -> None:
        self.sock.sendall(request_bytes("GET", f"{origin.url}/users/{user}", origin.authority))
        response = read_response(self.file)
        assert response.status == 200, response
        assert json.loads(response.body) == user_record(user)

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def reused_flags(proxy) -> list[bool]:
    """`reused` of every upstreamConnected the capture recorded, in order."""
    return [e["reused"] for e in read_events(proxy.session_dir()) if e["type"] == "upstreamConnected"]


def test_requests_alternating_between_two_origins_reuse_both_connections(tapline):
    a, b = OriginServer(), OriginServer()
    try:
        proxy = tapline()
        client = ForwardClient(proxy.port)
        for origin, user in [(a, 1), (b, 2), (a, 3), (b, 4)]:
            client.get_user(origin, user)
        client.close()
        assert (a.connection_count, b.connection_count) == (1, 1), \
            "each origin saw one connection: the request to the other origin did not close it"
        proxy.stop()
        assert reused_flags(proxy) == [False, False, True, True]
    finally:
        a.stop()
        b.stop()


def test_an_idle_parked_connection_is_closed_after_the_idle_timeout(tapline):
    idle_timeout = 1.5
    a, b = OriginServer(), OriginServer()
    try:
        proxy = tapline("--idle-timeout", str(idle_timeout))
        client = ForwardClient(proxy.port)
        client.get_user(a, 1)
        parked_at = time.monotonic()
        client.get_user(b, 2)
        # The client stays busy with b, so its connection never idles out: only the pool's
        # timer can close a's parked connection. The pause paces the client, it waits for nothing.
        while a.open_connection_count:
            assert time.monotonic() - parked_at < idle_timeout + 5, "a's idle connection was never closed"
            time.sleep(0.2)
            client.get_user(b, 3)
        closed_after = time.monotonic() - parked_at
        assert closed_after >= idle_timeout - 0.3, \
            f"a's parked connection closed after {closed_after:.2f} s, before the idle timeout"
        assert b.connection_count == 1 and b.open_connection_count == 1, "b's connection, in use, stayed"
        client.get_user(a, 4)
        assert a.connection_count == 2, "the next request to a opened a new connection"
        client.close()
        wait_until(lambda: a.open_connection_count == 0 and b.open_connection_count == 0, 10,
                   message="the pooled connections closed with their client connection")
    finally:
        a.stop()
        b.stop()


def test_h2_client_streams_reuse_the_connection_an_http1_alpn_answer_left(tapline, https_origin, test_ca):
    proxy = tapline("--reverse", https_origin.url, "--upstream-ca", str(test_ca.ca_cert))
    client = H2Client(proxy.port)
    for user in [1, 2, 3]:
        sid = client.request(f"/users/{user}")
        client.wait_streams([sid])
        response = client.responses[sid]
        assert response["status"] == 200 and response["ended"], response
        assert json.loads(bytes(response["body"])) == user_record(user)
    client.close()
    assert https_origin.connection_count == 1, \
        "the streams after the first reuse the connection whose ALPN answer was http/1.1"
    proxy.stop()
    assert reused_flags(proxy) == [False, True, True]
