"""Origins whose every byte is scripted, for tests that compare a capture byte for byte
(test_capture_equivalence.py): no Date or Server header, no random ids, one write per
answer so that the proxy reads each answer the same way every run.

  ScriptedHTTP1Origin  HTTP/1.1 on raw sockets (plain or TLS), keep-alive; answers each
                       request with the `HTTP1Answer` scripted for its path (requests are
                       read as a strict server would, with recording_upstream.parse_request)
  ScriptedH2Origin     h2c prior knowledge or TLS with ALPN h2 (H2Origin's connection
                       handling and endpoints), plus the `H2Answer`s scripted by path

Both listen on 127.0.0.1 only; `stop()` closes the listening socket.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from typing import Optional

import h2.events

from .h2 import H2Origin
from .recording_upstream import UpstreamParseError, parse_request
from .util import ThreadedTestServer
from .websocket import accept_value

HOLD_TIMEOUT = 20.0


@dataclass
class HTTP1Answer:
    """What a `ScriptedHTTP1Origin` sends for one request path.

    `interim` is written as soon as the request head has arrived, before the body is
    read (a `100 Continue` the client waits for). `response` is written in one write once
    the whole request has arrived. `then` is what follows: "keep" (next request on the
    connection), "websocket" (see `websocket()`), or "reset": wait for `hold` to be set
    (the test saw the partial body arrive through the proxy), then close with a TCP RST
    (SO_LINGER 0)."""

    response: bytes
    interim: bytes = b""
    then: str = "keep"
    hold: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def websocket(cls) -> "HTTP1Answer":
        """Answers an opening handshake with a 101 for its Sec-WebSocket-Key (no extension),
        then echoes each message, answers a ping with a pong and a close with a close, and
        closes the connection."""
        return cls(b"", then="websocket")


class ScriptedHTTP1Origin(ThreadedTestServer):
    """An HTTP/1.1 origin that answers by path from `answers`; anything else gets
    `404 Not Found` with a fixed body. `tls` (an ssl.SSLContext) makes it HTTPS."""

    NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n"

    def __init__(self, answers: dict[str, HTTP1Answer], tls: Optional[ssl.SSLContext] = None):
        self.answers = answers
        self.tls = tls
        self.errors: list[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.authority}"

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self._serve_requests(conn)
        except (OSError, ssl.SSLError):
            pass  # the proxy closing a connection is routine
        except UpstreamParseError as e:
            self.errors.append(str(e))
        finally:
            conn.close()

    def _serve_requests(self, conn: socket.socket) -> None:
        buf = b""
        interim_sent = False
        while True:
            parsed = parse_request(buf)
            if parsed is None:
                if not interim_sent and b"\r\n\r\n" in buf:
                    target = buf.split(b" ", 2)[1].decode("latin-1")
                    answer = self.answers.get(target)
                    if answer is not None and answer.interim:
                        conn.sendall(answer.interim)
                    interim_sent = True
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                continue
            request, used = parsed
            interim_due, interim_sent = not interim_sent, False
            buf = buf[used:]
            answer = self.answers.get(request.target)
            if answer is None:
                conn.sendall(self.NOT_FOUND)
                continue
            response = _websocket_switch(request.head) if answer.then == "websocket" else answer.response
            # the whole request came in one read: the interim answer goes first, in the same write
            conn.sendall((answer.interim if interim_due else b"") + response)
            if answer.then == "websocket":
                _echo_websocket(conn, buf)
                return
            if answer.then == "reset":
                if not answer.hold.wait(HOLD_TIMEOUT):
                    self.errors.append(f"{request.target}: the test never released the reset")
                answer.hold.clear()  # the next request for this path waits again
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return


def _websocket_switch(head: bytes) -> bytes:
    """The 101 answer to the opening handshake whose request head is `head`."""
    fields = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line)
    key = next((v for k, v in fields.items() if k.lower() == "sec-websocket-key"), "")
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_value(key)}\r\n\r\n").encode()


def _read_frame(conn: socket.socket, buf: bytes) -> tuple[Optional[tuple[int, bytes]], bytes]:
    """One masked client frame (opcode, unmasked payload) from `buf` plus reads, and what
    is left; (None, b"") when the connection closed first."""
    def need(n: int) -> bool:
        nonlocal buf
        while len(buf) < n:
            data = conn.recv(65536)
            if not data:
                return False
            buf += data
        return True

    if not need(2):
        return None, b""
    opcode, length = buf[0] & 0x0F, buf[1] & 0x7F
    pos = 2
    if length == 126:
        if not need(4):
            return None, b""
        length, pos = struct.unpack("!H", buf[2:4])[0], 4
    elif length == 127:
        if not need(10):
            return None, b""
        length, pos = struct.unpack("!Q", buf[2:10])[0], 10
    if not need(pos + 4 + length):
        return None, b""
    key = buf[pos:pos + 4]
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(buf[pos + 4:pos + 4 + length]))
    return (opcode, payload), buf[pos + 4 + length:]


def _echo_websocket(conn: socket.socket, buf: bytes) -> None:
    """Echoes each (unfragmented) message, answers a ping with a pong and a close with
    the same close; then returns, and the caller closes the connection."""
    while True:
        frame, buf = _read_frame(conn, buf)
        if frame is None:
            return
        opcode, payload = frame
        answer = 0xA if opcode == 0x9 else opcode
        conn.sendall(bytes([0x80 | answer, len(payload)]) + payload)  # payloads here are < 126 bytes
        if opcode == 0x8:
            return


@dataclass
class H2Answer:
    """What a `ScriptedH2Origin` sends for one stream: `on_head` (1xx header lists, a
    `100 Continue`) as soon as the request's HEADERS arrive; once the request has ended,
    each of `interim` (1xx header lists), then `headers`, `body` in one DATA frame, and
    `trailers` if any (the stream ends with the last of them). With `reset` (an error
    code) the stream does not end: once `hold` is set (the test saw the partial body
    arrive through the proxy), it is reset with that code."""

    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    interim: list[list[tuple[str, str]]] = field(default_factory=list)
    on_head: list[list[tuple[str, str]]] = field(default_factory=list)
    reset: Optional[int] = None
    hold: threading.Event = field(default_factory=threading.Event)


class ScriptedH2Origin(H2Origin):
    """H2Origin (its endpoints: /echo, /bytes/N, ...) plus `answers` by path; `tls` (an
    ssl.SSLContext) makes it TLS with ALPN h2 instead of h2c."""

    def __init__(self, answers: dict[str, H2Answer], tls: Optional[ssl.SSLContext] = None):
        self.answers = answers
        self.tls = tls
        self.errors: list[str] = []
        self._connection = threading.local()  # the socket the serving thread writes to
        if tls is not None:
            tls.set_alpn_protocols(["h2"])
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        self._connection.socket = conn
        super()._serve(conn)

    def _handle(self, h2c, event, streams) -> None:
        super()._handle(h2c, event, streams)
        if isinstance(event, h2.events.RequestReceived):
            answer = self.answers.get(streams[event.stream_id]["path"])
            for interim in answer.on_head if answer is not None else []:
                h2c.send_headers(event.stream_id, interim)

    def _respond(self, h2c, stream_id: int, s: dict) -> None:
        answer = self.answers.get(s["path"])
        if answer is None:
            super()._respond(h2c, stream_id, s)
            return
        for interim in answer.interim:
            h2c.send_headers(stream_id, interim)
        ends = answer.reset is None
        h2c.send_headers(stream_id, answer.headers, end_stream=ends and not answer.body and not answer.trailers)
        if answer.body:
            h2c.send_data(stream_id, answer.body, end_stream=ends and not answer.trailers)
        if answer.trailers:
            h2c.send_headers(stream_id, answer.trailers, end_stream=ends)
        if not ends:
            self._connection.socket.sendall(h2c.data_to_send())
            if not answer.hold.wait(HOLD_TIMEOUT):
                self.errors.append(f"{s['path']}: the test never released the reset")
            answer.hold.clear()  # the next request for this path waits again
            h2c.reset_stream(stream_id, error_code=answer.reset)
