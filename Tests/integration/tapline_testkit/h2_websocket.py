"""WebSocket over HTTP/2 (RFC 8441) helpers: a blocking h2 client that opens an
extended CONNECT (`:protocol websocket`) and speaks WebSocket frames over the
stream with `wsproto`'s frame layer (client masking, permessage-deflate), and an
h2 WebSocket origin (TLS with ALPN h2, SETTINGS_ENABLE_CONNECT_PROTOCOL) that
echoes every message. Everything listens on 127.0.0.1 and polls, never sleeps."""

from __future__ import annotations

import select
import socket
import ssl
from typing import Callable, Optional

import h2.config
import h2.connection
import h2.events
import h2.settings
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameProtocol, Opcode

from .rawhttp import receive_head
from .util import HOST, ThreadedTestServer
from .websocket import accept_value


class H2WebSocketClient:
    """One extended CONNECT stream on a fresh h2 connection. `open()` sends the request
    and waits for the response head; `send`/`recv_message` move whole messages.
    `before_preface` is called once the connection (and TLS) is up, before the client's
    connection preface goes out: a test that needs the proxy's other events first waits there."""

    def __init__(self, port: int, authority: str, path: str = "/chat", *, deflate: bool = False,
                 tls_ca=None, connect_to: Optional[str] = None, scheme: str = "http", timeout: float = 30.0,
                 before_preface: Optional[Callable[[], None]] = None):
        sock = socket.create_connection((HOST, port), timeout=timeout)
        if connect_to:
            sock.sendall(f"CONNECT {connect_to} HTTP/1.1\r\nHost: {connect_to}\r\n\r\n".encode())
            answer = receive_head(sock)
            assert answer is not None, "proxy closed the connection after CONNECT"
            assert answer.startswith(b"HTTP/1.1 200"), answer
        if tls_ca is not None:
            ctx = ssl.create_default_context(cafile=str(tls_ca))
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock = sock
        if before_preface is not None:
            before_preface()
        self.authority, self.path, self.scheme = authority, path, scheme
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(16 << 20)
        self._flush()
        self.deflate = PerMessageDeflate() if deflate else None
        self.frames: Optional[FrameProtocol] = None
        self.stream = 0
        self.status: Optional[int] = None
        self.headers: list = []
        self.ended = False
        self.reset_code: Optional[int] = None
        self.closed = False
        self.peer_enables_connect = False
        self.outbox = bytearray()
        self.messages: list = []          # completed (kind, payload) from the server, in order
        self.close_received: Optional[tuple] = None  # (code, reason)
        self._parts: list = []
        self._kind = None

    def _flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def open(self, extra_headers: Optional[list] = None) -> int:
        """Sends the extended CONNECT; returns the response status."""
        while not self.peer_enables_connect:  # RFC 8441 §3: wait for the server's SETTINGS
            self._read()
            assert not self.closed, "connection closed before the server's SETTINGS"
        self.stream = self.conn.get_next_available_stream_id()
        headers = [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", self.scheme),
                   (":path", self.path), (":authority", self.authority), ("sec-websocket-version", "13")]
        if self.deflate:
            headers.append(("sec-websocket-extensions", f"{self.deflate.name}; {self.deflate.offer()}"))
        headers += extra_headers or []
        self.conn.send_headers(self.stream, headers)
        self._flush()
        while self.status is None and self.reset_code is None and not self.closed:
            self._read()
        return self.status if self.status is not None else -1

    def _start_frames(self) -> None:
        """The 200 arrived: frames may follow in the same read."""
        extensions = []
        accepted = dict(self.headers).get("sec-websocket-extensions")
        if self.deflate and accepted:
            self.deflate.finalize(accepted)
            extensions = [self.deflate]
        self.frames = FrameProtocol(client=True, extensions=extensions)

    # --- sending ---------------------------------------------------------------

    def send(self, message) -> None:
        self.outbox += self.frames.send_data(message, fin=True)
        self._push()

    def send_close(self, code: int, reason: str) -> None:
        self.outbox += self.frames.close(code, reason)
        self._push()

    def _push(self) -> None:
        while self.outbox and self.reset_code is None:
            window = min(self.conn.local_flow_control_window(self.stream), self.conn.max_outbound_frame_size)
            if window <= 0:
                return
            n = min(window, len(self.outbox))
            self.conn.send_data(self.stream, bytes(self.outbox[:n]))
            del self.outbox[:n]
        self._flush()

    def end_stream(self) -> None:
        self.conn.end_stream(self.stream)
        self._flush()

    def reset(self) -> None:
        self.conn.reset_stream(self.stream)
        self._flush()

    # --- receiving -------------------------------------------------------------

    def _read(self, timeout: float = 30.0) -> None:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        assert ready, "nothing from the proxy for 30 s"
        try:
            data = self.sock.recv(1 << 20)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return
        for ev in self.conn.receive_data(data):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                code = h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL
                if code in ev.changed_settings and ev.changed_settings[code].new_value == 1:
                    self.peer_enables_connect = True
            elif isinstance(ev, h2.events.ResponseReceived):
                self.headers = ev.headers
                self.status = int(dict(ev.headers)[":status"])
                if self.status == 200:
                    self._start_frames()
            elif isinstance(ev, h2.events.DataReceived):
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if self.frames is not None:
                    self._frames_in(ev.data)
            elif isinstance(ev, h2.events.StreamEnded):
                self.ended = True
            elif isinstance(ev, h2.events.StreamReset):
                self.reset_code = int(ev.error_code)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.closed = True
        self._push()
        self._flush()

    def _frames_in(self, data: bytes) -> None:
        self.frames.receive_bytes(data)
        for frame in self.frames.received_frames():
            if frame.opcode is Opcode.CLOSE:
                self.close_received = frame.payload
            elif frame.opcode in (Opcode.PING, Opcode.PONG):
                continue
            else:
                if frame.opcode is not Opcode.CONTINUATION:
                    self._kind = frame.opcode
                self._parts.append(frame.payload)
                if frame.message_finished:
                    if self._kind is Opcode.TEXT:
                        self.messages.append("".join(self._parts))
                    else:
                        self.messages.append(b"".join(bytes(p) for p in self._parts))
                    self._parts = []

    def wait(self, predicate, what: str) -> None:
        while not predicate():
            assert not self.closed, f"connection closed while waiting for {what}"
            assert self.reset_code is None, f"stream reset ({self.reset_code}) while waiting for {what}"
            self._read()

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self._flush()
        except Exception:
            pass
        self.sock.close()


class H2WebSocketOrigin(ThreadedTestServer):
    """An h2 origin over TLS (ALPN h2) that announces SETTINGS_ENABLE_CONNECT_PROTOCOL,
    answers extended CONNECT with 200 and echoes every WebSocket message (no extensions).

    With `extended_connect=False` it does not announce the setting (an h2 server without
    RFC 8441) and also takes ALPN http/1.1, where it answers a WebSocket upgrade with 101
    and echoes the same way: the case where a proxy must fall back to HTTP/1.1.

    `pages` maps a path to an HTML document served to a GET (a browser test loads the page
    that opens the WebSocket from the same h2 origin). Every complete text or binary
    message it received is appended to `received`, in order."""

    authority_host = "localhost"  # the name its certificate carries

    def __init__(self, tls_context: ssl.SSLContext, extended_connect: bool = True,
                 pages: Optional[dict] = None):
        self.pages = pages or {}
        self.received: list = []
        self._parts: dict = {}  # id(frames) -> fragments of the message that stream is receiving
        tls_context.set_alpn_protocols(["h2"] if extended_connect else ["h2", "http/1.1"])
        self.tls = tls_context
        self.extended_connect = extended_connect
        self.http1_requests: list[str] = []
        self.h2_connections = 0
        self.requests: list = []
        self.errors: list = []
        super().__init__()

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self.tls.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.errors.append(e)
            return
        if conn.selected_alpn_protocol() == "http/1.1":
            self._serve_http1(conn)
            return
        self.h2_connections += 1
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        h2c = h2.connection.H2Connection(config)
        if self.extended_connect:
            h2c.local_settings = h2.settings.Settings(client=False, initial_values={
                h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: 1})
        h2c.initiate_connection()
        streams: dict = {}
        pending: dict = {}   # stream -> echoed bytes waiting for flow-control credit
        ending: set = set()  # streams the client ended (ended here once their echo is out)
        try:
            # Inside the try: a client may leave right after the handshake (Chromium closes
            # connections it opened ahead), and that is recorded like any other error.
            conn.sendall(h2c.data_to_send())
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for ev in h2c.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        fields = dict(ev.headers)
                        if fields.get(":method") == "GET":
                            page = self.pages.get(fields.get(":path"))
                            body = page.encode() if page is not None else b"not found"
                            h2c.send_headers(ev.stream_id, [(":status", "200" if page is not None else "404"),
                                                            ("content-type", "text/html; charset=utf-8"),
                                                            ("content-length", str(len(body)))])
                            h2c.send_data(ev.stream_id, body, end_stream=True)
                            continue
                        self.requests.append(ev.headers)
                        h2c.send_headers(ev.stream_id, [(":status", "200")])
                        streams[ev.stream_id] = FrameProtocol(client=False, extensions=[])
                    elif isinstance(ev, h2.events.DataReceived):
                        h2c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                        pending[ev.stream_id] = pending.get(ev.stream_id, b"") + \
                            self._echo(streams[ev.stream_id], ev.data)
                    elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id in streams:
                        ending.add(ev.stream_id)  # a page's GET stream is over already
                self._send_pending(h2c, pending, ending)
                out = h2c.data_to_send()
                if out:
                    conn.sendall(out)
        except Exception as e:  # noqa: BLE001 - recorded for the test
            self.errors.append(e)
        finally:
            conn.close()

    def _serve_http1(self, conn: ssl.SSLSocket) -> None:
        """One HTTP/1.1 WebSocket upgrade (101), then echo until the client closes."""
        try:
            data = receive_head(conn)
            if data is None:
                return
            head, leftover = data.split(b"\r\n\r\n", 1)
            text = head.decode("latin-1")
            self.http1_requests.append(text)
            key = ""
            for line in text.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "sec-websocket-key":
                    key = value.strip()
            conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept_value(key)}\r\n\r\n").encode())
            frames = FrameProtocol(client=False, extensions=[])
            data = leftover
            while True:
                if data:
                    out = self._echo(frames, data)
                    if out:
                        conn.sendall(out)
                data = conn.recv(65536)
                if not data:
                    return
        except Exception as e:  # noqa: BLE001 - recorded for the test
            self.errors.append(e)
        finally:
            conn.close()

    def _echo(self, frames: FrameProtocol, data: bytes) -> bytes:
        frames.receive_bytes(data)
        out = b""
        for frame in frames.received_frames():
            if frame.opcode is Opcode.CLOSE:
                code, reason = frame.payload  # (code, reason)
                out += frames.close(code, reason)
            elif frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONTINUATION):
                out += frames.send_data(frame.payload, fin=frame.message_finished)
                parts = self._parts.setdefault(id(frames), [])
                parts.append(frame.payload)
                if frame.message_finished:
                    del self._parts[id(frames)]
                    self.received.append("".join(parts) if isinstance(parts[0], str) else b"".join(parts))
        return out

    @staticmethod
    def _send_pending(h2c, pending: dict, ending: set) -> None:
        for stream_id, data in list(pending.items()):
            while data:
                n = min(len(data), h2c.max_outbound_frame_size, h2c.local_flow_control_window(stream_id))
                if n <= 0:
                    break
                h2c.send_data(stream_id, data[:n])
                data = data[n:]
            pending[stream_id] = data
        for stream_id in list(ending):
            if not pending.get(stream_id):
                ending.discard(stream_id)
                h2c.end_stream(stream_id)

