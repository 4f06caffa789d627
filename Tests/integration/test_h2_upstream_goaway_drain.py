"""RFC 9113 §6.8 through Tapline: an h2c origin says GOAWAY(NO_ERROR, last-stream-id 1)
while stream 1 is in flight on its connection; the proxy's next stream goes on a new
connection, and stream 1 still finishes on the old one (the proxy must not close it
while a stream it allowed is unanswered)."""

from __future__ import annotations

import socket
import threading

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions

from tapline_testkit.h2 import H2Client, raw_frame
from tapline_testkit.shown_flows import finished_flows
from tapline_testkit.util import ThreadedTestServer

GOAWAY_FRAME = 0x7
HELD_BODY = b"answered on the connection that said GOAWAY\n"
NEW_BODY = b"answered on the new connection\n"


class GoAwayThenFinishOrigin(ThreadedTestServer):
    """An h2c origin (prior knowledge). Its first connection answers its first request
    (stream 1) with GOAWAY(NO_ERROR, last-stream-id 1) and a PING, and holds the response;
    `goaway_acknowledged` is set when the PING's ACK arrives (so the proxy has read the
    GOAWAY). A request on any later connection is answered at once, and then so is the
    held stream 1. `paths` lists (connection index, path) of every request."""

    def __init__(self):
        self.lock = threading.Lock()        # guards everything below, and every connection's h2 state
        self.connections = 0
        self.paths: list[tuple[int, str]] = []
        self.held = None                    # (socket, H2Connection, stream id) of the held response
        self.goaway_acknowledged = threading.Event()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        with self.lock:
            index = self.connections
            self.connections += 1
            h2c.initiate_connection()
            conn.sendall(h2c.data_to_send())
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                with self.lock:
                    for event in h2c.receive_data(data):
                        self._handle(conn, h2c, index, event)
                    out = h2c.data_to_send()
                    if out:
                        conn.sendall(out)
        except (OSError, h2.exceptions.ProtocolError):
            return
        finally:
            conn.close()

    def _handle(self, conn, h2c, index: int, event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self.paths.append((index, dict(event.headers)[":path"]))
        elif isinstance(event, h2.events.PingAckReceived):
            self.goaway_acknowledged.set()
        elif isinstance(event, h2.events.StreamEnded):
            if index == 0 and self.held is None:
                # GOAWAY by hand: the h2 library accepts no frame of the connection after its own GOAWAY.
                conn.sendall(h2c.data_to_send() + raw_frame(GOAWAY_FRAME, 0, 0, event.stream_id.to_bytes(4, "big")
                                                             + int(h2.errors.ErrorCodes.NO_ERROR).to_bytes(4, "big")))
                h2c.ping(b"goaway!!")
                self.held = (conn, h2c, event.stream_id)
                return
            self._answer(h2c, event.stream_id, NEW_BODY)
            if self.held is not None:
                held_conn, held_h2c, held_stream = self.held
                self._answer(held_h2c, held_stream, HELD_BODY)
                held_conn.sendall(held_h2c.data_to_send())

    @staticmethod
    def _answer(h2c, stream_id: int, body: bytes) -> None:
        h2c.send_headers(stream_id, [(":status", "200"), ("content-length", str(len(body)))])
        h2c.send_data(stream_id, body, end_stream=True)


def test_a_stream_in_flight_when_the_upstream_said_goaway_finishes_on_that_connection(tapline):
    origin = GoAwayThenFinishOrigin()
    try:
        proxy = tapline("--reverse", f"h2c://{origin.authority}")
        client = H2Client(proxy.port)
        held = client.request("/held")
        assert origin.goaway_acknowledged.wait(10), "the proxy never read the origin's GOAWAY"
        later = client.request("/later")
        client.wait_streams([held, later])
        client.close()

        assert origin.paths == [(0, "/held"), (1, "/later")]
        assert client.resets == {}
        assert (client.responses[held]["status"], bytes(client.responses[held]["body"])) == (200, HELD_BODY)
        assert (client.responses[later]["status"], bytes(client.responses[later]["body"])) == (200, NEW_BODY)

        proxy.stop()  # the capture is read whole, once written
        flows = sorted(finished_flows(proxy, 2), key=lambda flow: flow["request"]["target"])
        assert [(flow["request"]["target"], (flow["response"] or {}).get("status"), flow["error"],
                 flow["responseBody"]["complete"]) for flow in flows] \
            == [("/held", 200, None, True), ("/later", 200, None, True)], flows
    finally:
        origin.stop()
