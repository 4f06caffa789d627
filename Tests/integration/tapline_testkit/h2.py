"""HTTP/2 helpers for the integration tests: an nghttpd upstream (Debian
nghttp2-server), a small h2 origin written with the Python `h2` library, and a
synchronous h2 client over a socket (h2c, TLS with ALPN, optionally through
CONNECT). Everything listens on 127.0.0.1 only and polls, never sleeps.

H2Origin endpoints (h2c prior knowledge):
  /echo      the request body back, `x-request-sha256` header, and the request's
             trailers echoed as response trailers (plus `x-echo-trailer: yes`)
  /bytes/N   N bytes of the deterministic pattern
  /goaway    answers 200, then sends GOAWAY(NO_ERROR) on the connection
  /upload    reads the body without answering (resets are recorded in .resets)
  /silent    never answers (for the proxy's 504)
  /answer-early  answers 413 as soon as the head arrives, then RST_STREAM NO_ERROR
  /big-headers/N  a 200 head with N KiB of fields, the stream left open
  /reset-before-head/CODE, /reset-mid-body/CODE  RST_STREAM with CODE before the
             head, or after a 200 head and b"partial"
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Callable, Optional

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

from .origin import pattern_bytes
from .util import HOST, ThreadedTestServer, free_port, stop_peer, wait_for_port


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Nghttpd:
    """nghttpd serving `docroot` on a free port: h2c (--no-tls) or TLS with the test CA's certificate."""

    def __init__(self, docroot: Path, tls=None):
        exe = shutil.which("nghttpd") or "/usr/sbin/nghttpd"
        self.port = free_port()
        cmd = [exe, "-d", str(docroot), "--address", HOST]
        cmd += [str(self.port), str(tls.server_key), str(tls.server_cert)] if tls else ["--no-tls", str(self.port)]
        self.tls = tls is not None
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, 10, alive=lambda: self.proc.poll() is None)

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.authority}"

    def stop(self) -> None:
        stop_peer(self.proc)


class H2Origin(ThreadedTestServer):
    """A threaded h2c origin (prior knowledge) built on the `h2` state machine."""

    def __init__(self):
        self.resets: list[tuple[str, int]] = []     # (path, error code) of streams the client reset
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        h2c.initiate_connection()
        h2c.increment_flow_control_window(16 << 20)
        conn.sendall(h2c.data_to_send())
        streams: dict[int, dict] = {}
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                for event in h2c.receive_data(data):
                    self._handle(h2c, event, streams)
                out = h2c.data_to_send()
                if out:
                    conn.sendall(out)
        except (OSError, h2.exceptions.ProtocolError):
            return
        finally:
            conn.close()

    def _handle(self, h2c, event, streams) -> None:
        if isinstance(event, h2.events.RequestReceived):
            headers = dict(event.headers)
            streams[event.stream_id] = {"path": headers.get(":path", ""), "body": b"", "trailers": None,
                                        "headers": event.headers}
            with self.lock:
                self.requests.append({"path": headers.get(":path", ""), "headers": list(event.headers)})
            if headers.get(":path") == "/answer-early" and not event.stream_ended:
                # 413 before the body, then RST_STREAM NO_ERROR: "send no more" (RFC 9113
                # §8.1), as Go servers do when a handler leaves the request body unread
                h2c.send_headers(event.stream_id, [(":status", "413"), ("content-length", "8")])
                h2c.send_data(event.stream_id, b"too big\n", end_stream=True)
                h2c.reset_stream(event.stream_id, error_code=h2.errors.ErrorCodes.NO_ERROR)
        elif isinstance(event, h2.events.DataReceived):
            s = streams.get(event.stream_id)
            if s is not None:
                s["body"] += event.data
            h2c.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            streams[event.stream_id]["trailers"] = event.headers
        elif isinstance(event, h2.events.StreamReset):
            s = streams.pop(event.stream_id, None)
            with self.lock:
                self.resets.append((s["path"] if s else "?", int(event.error_code)))
        if isinstance(event, h2.events.StreamEnded):
            self._respond(h2c, event.stream_id, streams[event.stream_id])  # kept: a reset may follow

    def _respond(self, h2c, stream_id: int, s: dict) -> None:
        path = s["path"]
        if path == "/echo":
            h2c.send_headers(stream_id, [(":status", "200"), ("x-request-sha256", sha256(s["body"]))])
            self._send_body(h2c, stream_id, s["body"])
            trailers = [(k, v) for k, v in (s["trailers"] or [])] + [("x-echo-trailer", "yes")]
            h2c.send_headers(stream_id, trailers, end_stream=True)
        elif path.startswith("/bytes/"):
            body = pattern_bytes(int(path.split("/")[2]))
            h2c.send_headers(stream_id, [(":status", "200"), ("content-length", str(len(body)))])
            self._send_body(h2c, stream_id, body)
            h2c.end_stream(stream_id)
        elif path == "/goaway":
            h2c.send_headers(stream_id, [(":status", "200"), ("content-length", "2")])
            h2c.send_data(stream_id, b"ok", end_stream=True)
            h2c.close_connection(error_code=h2.errors.ErrorCodes.NO_ERROR)
        elif path.startswith("/big-headers/"):
            # N KiB of response header fields, and the stream left open: a proxy that
            # refuses the head must reset the stream itself (recorded in `resets`)
            fields = [(f"x-big-{i:03d}", "b" * 1000) for i in range(int(path.split("/")[2]))]
            h2c.send_headers(stream_id, [(":status", "200")] + fields)
        elif path.startswith("/reset-before-head/"):
            h2c.reset_stream(stream_id, error_code=int(path.split("/")[2]))
        elif path.startswith("/reset-mid-body/"):
            h2c.send_headers(stream_id, [(":status", "200")])
            h2c.send_data(stream_id, b"partial")
            h2c.reset_stream(stream_id, error_code=int(path.split("/")[2]))
        elif path in ("/upload", "/silent", "/answer-early"):
            pass  # never answered: the test resets it, or waits for the proxy's 504
        else:
            h2c.send_headers(stream_id, [(":status", "404")], end_stream=True)

    @staticmethod
    def _send_body(h2c, stream_id: int, body: bytes) -> None:
        # Small bodies only: the whole body must fit the windows the proxy grants (1 MiB / stream).
        view = memoryview(body)
        while view:
            n = min(len(view), h2c.max_outbound_frame_size, h2c.local_flow_control_window(stream_id))
            if n <= 0:
                raise RuntimeError("H2Origin: body larger than the flow-control window")
            h2c.send_data(stream_id, bytes(view[:n]))
            view = view[n:]

    def stop(self) -> None:
        self.stopped = True
        self.sock.close()


class H2Client:
    """A blocking h2 client on one connection: h2c prior knowledge, TLS (ALPN h2), optionally via CONNECT.
    `before_preface` is called once the connection (and TLS) is up, before the client's
    connection preface goes out: a test that needs the proxy's other events first waits there."""

    def __init__(self, port: int, tls_ca: Optional[Path] = None, connect_to: Optional[str] = None,
                 server_name: str = "localhost", window: int = 16 << 20, stream_window: int = 1 << 20,
                 timeout: float = 30.0, before_preface: Optional[Callable[[], None]] = None):
        sock = socket.create_connection((HOST, port), timeout=timeout)
        if connect_to:
            sock.sendall(f"CONNECT {connect_to} HTTP/1.1\r\nHost: {connect_to}\r\n\r\n".encode())
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("proxy closed the connection after CONNECT")
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer
        if tls_ca is not None:
            ctx = ssl.create_default_context(cafile=str(tls_ca))
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname=server_name)
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock = sock
        if before_preface is not None:
            before_preface()
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: stream_window,
            h2.settings.SettingCodes.ENABLE_PUSH: 0})
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(window - 65535)
        self.flush()
        self.responses: dict[int, dict] = {}
        self.goaway: Optional[h2.events.ConnectionTerminated] = None
        self.resets: dict[int, int] = {}
        self.stalled: set[int] = set()      # streams whose data is never acknowledged
        self.closed = False

    def flush(self) -> None:
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def request(self, path: str, method: str = "GET", authority: str = "example.test", body: bytes = b"",
                headers: Optional[list] = None, trailers: Optional[list] = None, scheme: str = "http",
                end: bool = True) -> int:
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", scheme), (":authority", authority), (":path", path)]
        hdrs += headers or []
        no_body = not body and not trailers and end
        self.conn.send_headers(sid, hdrs, end_stream=no_body)
        self.responses[sid] = {"status": None, "headers": [], "body": bytearray(), "trailers": [], "ended": False}
        if body:
            self.send_body(sid, body, end=end and not trailers)
        if trailers:
            self.conn.send_headers(sid, trailers, end_stream=True)
        self.flush()
        return sid

    def send_body(self, sid: int, body: bytes, end: bool) -> None:
        view = memoryview(body)
        while view:
            n = min(len(view), self.conn.max_outbound_frame_size, self.conn.local_flow_control_window(sid))
            if n <= 0:
                self.flush()
                self.read_once()
                continue
            self.conn.send_data(sid, bytes(view[:n]))
            view = view[n:]
        if end:
            self.conn.end_stream(sid)
        self.flush()

    def read_once(self) -> list:
        data = self.sock.recv(1 << 20)
        if not data:
            self.closed = True
            return []
        events = self.conn.receive_data(data)
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived):
                r = self.responses[ev.stream_id]
                r["headers"] = ev.headers
                r["status"] = int(dict(ev.headers)[":status"])
            elif isinstance(ev, h2.events.DataReceived):
                self.responses[ev.stream_id]["body"] += ev.data
                if ev.stream_id not in self.stalled:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                else:
                    # keep the connection window open, only this stream's stays shut
                    self.conn.increment_flow_control_window(ev.flow_controlled_length)
            elif isinstance(ev, h2.events.TrailersReceived):
                self.responses[ev.stream_id]["trailers"] = ev.headers
            elif isinstance(ev, h2.events.StreamEnded):
                self.responses[ev.stream_id]["ended"] = True
            elif isinstance(ev, h2.events.StreamReset):
                self.resets[ev.stream_id] = int(ev.error_code)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = ev
        self.flush()
        return events

    def wait(self, predicate, limit: int = 100000) -> None:
        for _ in range(limit):
            if predicate():
                return
            if self.closed:
                break
            self.read_once()
        assert predicate(), "condition not reached before the connection closed"

    def wait_streams(self, sids) -> None:
        self.wait(lambda: all(self.responses[s]["ended"] or s in self.resets for s in sids))

    def close(self) -> None:
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:
            pass
        self.sock.close()


def raw_frame(ftype: int, flags: int, stream: int, payload: bytes) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + stream.to_bytes(4, "big") + payload


def read_frames(sock: socket.socket, until_type: Optional[int] = None, timeout: float = 10.0) -> list:
    """Reads raw frames (type, flags, stream, payload) until a frame of `until_type` or EOF."""
    sock.settimeout(timeout)
    buf = b""
    frames = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            chunk = b""
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            frames.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]))
            buf = buf[9 + n:]
        if not chunk or (until_type is not None and any(f[0] == until_type for f in frames)):
            return frames


def error_code(frame) -> int:
    """The error code of a RST_STREAM (3) or GOAWAY (7) frame."""
    payload = frame[3]
    return int.from_bytes(payload[4:8] if frame[0] == 7 else payload[:4], "big")
