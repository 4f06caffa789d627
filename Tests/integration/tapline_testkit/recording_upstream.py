"""Upstreams that record exactly what reached them, for the smuggling suite.

  RecordingUpstream    HTTP/1.1 on raw sockets: every connection's bytes as received,
                       and the requests a strict server reads from them (Content-Length,
                       or a final `chunked` coding, else no body), each answered in turn.
  RecordingH2Upstream  h2c (prior knowledge, Python `h2`): every stream's header list,
                       DATA and trailers as received, each answered `200 ok`.

A test waits with `settled(barrier_path)`: the barrier request (sent last, on its own
client connection) has arrived and every connection the proxy opened is closed, so
nothing more can come. Both listen on 127.0.0.1 only; `stop()` closes everything.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Optional

import h2.events

from .h2 import H2Origin
from .util import ThreadedTestServer, wait_until

# Answers by path, for the response-side vectors; anything else gets OK.
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
RESPONSES = {
    # Connection names the framing field: stripped as hop-by-hop, the client would
    # not know where this response ends.
    "/response/connection-content-length":
        b"HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello",
    "/response/connection-transfer-encoding":
        b"HTTP/1.1 200 OK\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
    "/response/content-length-list":
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
    "/response/duplicate-content-length":
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    # Bodiless responses keep their Content-Length (the representation's length), but once.
    "/response/head-content-length-list":           # asked for with HEAD
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
    "/response/not-modified-duplicate-content-length":
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
    "/response/not-modified-conflicting-content-length":
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "/response/head-invalid-content-length":        # asked for with HEAD
        b"HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n",
    "/response/trailers":
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
        b"Content-Length: 99\r\nTransfer-Encoding: chunked\r\nHost: evil.invalid\r\nX-Checksum: abc\r\n\r\n",
}


class UpstreamParseError(ValueError):
    """What a strict server would answer 400 to."""


@dataclass
class UpstreamRequest:
    method: str
    target: str
    head: bytes                      # the request line and fields, up to the empty line
    body: bytes
    trailers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.target


@dataclass
class RecordedConnection:
    data: bytearray = field(default_factory=bytearray)
    requests: list[UpstreamRequest] = field(default_factory=list)
    error: Optional[str] = None
    closed: threading.Event = field(default_factory=threading.Event)


def _fields(lines: list[bytes]) -> list[tuple[str, str]]:
    out = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise UpstreamParseError(f"bad field line {line!r}")
        out.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return out


def parse_request(buf: bytes) -> Optional[tuple[UpstreamRequest, int]]:
    """One request from the start of `buf` and its length in bytes, or None when
    incomplete. Strict CRLF; framing as RFC 9112 §6.3 (CL + TE refused)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end]
    if b"\n" in head.replace(b"\r\n", b"") or b"\r" in head.replace(b"\r\n", b""):
        raise UpstreamParseError("bare CR or LF in the head")
    line, *rest = head.split(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise UpstreamParseError(f"bad request line {line!r}")
    fields = _fields(rest)
    lengths = [v for k, v in fields if k.lower() == "content-length"]
    codings = [c.strip().lower() for k, v in fields if k.lower() == "transfer-encoding" for c in v.split(",")]
    pos = end + 4
    request = UpstreamRequest(parts[0].decode("latin-1"), parts[1].decode("latin-1"), head + b"\r\n\r\n", b"")
    if codings:
        if lengths:
            raise UpstreamParseError("Transfer-Encoding with Content-Length")
        if codings[-1] != "chunked":
            raise UpstreamParseError(f"unknown Transfer-Encoding {codings}")
        body = bytearray()
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size_text = buf[pos:eol].split(b";", 1)[0]
            try:
                size = int(size_text, 16)
            except ValueError:
                raise UpstreamParseError(f"bad chunk size {size_text!r}") from None
            pos = eol + 2
            if size == 0:
                trailer_end = buf.find(b"\r\n", pos)
                if trailer_end < 0:
                    return None
                if trailer_end == pos:
                    request.body = bytes(body)
                    return request, pos + 2
                section_end = buf.find(b"\r\n\r\n", pos)
                if section_end < 0:
                    return None
                request.trailers = _fields(buf[pos:section_end].split(b"\r\n"))
                request.body = bytes(body)
                return request, section_end + 4
            if len(buf) < pos + size + 2:
                return None
            body += buf[pos:pos + size]
            if buf[pos + size:pos + size + 2] != b"\r\n":
                raise UpstreamParseError("no CRLF after chunk data")
            pos += size + 2
    if lengths:
        if len(set(lengths)) != 1 or not lengths[0].isdigit():
            raise UpstreamParseError(f"bad Content-Length {lengths}")
        n = int(lengths[0])
        if len(buf) < pos + n:
            return None
        request.body = bytes(buf[pos:pos + n])
        return request, pos + n
    return request, pos


class RecordingUpstream(ThreadedTestServer):
    """A raw-socket HTTP/1.1 upstream that logs the exact bytes it receives."""

    def __init__(self):
        self.connections: list[RecordedConnection] = []
        self.lock = threading.Lock()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        record = RecordedConnection()
        with self.lock:
            self.connections.append(record)
        buf = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                record.data += data
                buf += data
                while True:
                    parsed = parse_request(buf)
                    if parsed is None:
                        break
                    request, used = parsed
                    buf = buf[used:]
                    record.requests.append(request)
                    conn.sendall(RESPONSES.get(request.target, OK))
        except UpstreamParseError as e:
            record.error = str(e)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()
            record.closed.set()

    def settled(self, barrier_path: str, timeout: float = 10.0) -> list[RecordedConnection]:
        """The connections other than the barrier's, once the barrier request has
        arrived and the proxy has closed every connection."""
        def done():
            with self.lock:
                conns = list(self.connections)
            barrier = any(r.target.endswith(barrier_path) for c in conns for r in c.requests)
            return barrier and all(c.closed.is_set() for c in conns) and conns
        conns = wait_until(done, timeout, message=f"{barrier_path} upstream and every proxy connection closed")
        return [c for c in conns if not any(r.target.endswith(barrier_path) for r in c.requests)]


@dataclass
class H2Stream:
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    ended: bool = False

    @property
    def path(self) -> str:
        return dict(self.headers).get(":path", "")

    @property
    def method(self) -> str:
        return dict(self.headers).get(":method", "")


class RecordingH2Upstream(H2Origin):
    """An h2c upstream that logs each stream's header list, DATA and trailers, and
    answers every stream `200 ok` (H2Origin's connection handling, other endpoints)."""

    def __init__(self):
        self.streams: list[H2Stream] = []
        self.open_connections = 0
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        with self.lock:
            self.open_connections += 1
        try:
            super()._serve(conn)
        finally:
            with self.lock:
                self.open_connections -= 1

    def _handle(self, h2c, event, streams: dict[int, H2Stream]) -> None:
        if isinstance(event, h2.events.RequestReceived):
            stream = H2Stream(list(event.headers))
            streams[event.stream_id] = stream
            with self.lock:
                self.streams.append(stream)
        elif isinstance(event, h2.events.DataReceived):
            streams[event.stream_id].body += event.data
            h2c.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            streams[event.stream_id].trailers = list(event.headers)
        if isinstance(event, h2.events.StreamEnded):
            streams[event.stream_id].ended = True
            h2c.send_headers(event.stream_id, [(":status", "200"), ("content-length", "2")])
            h2c.send_data(event.stream_id, b"ok", end_stream=True)

    def settled(self, barrier_path: str, timeout: float = 10.0) -> list[H2Stream]:
        """The streams other than the barrier's, once the barrier stream has ended and
        the proxy has closed every connection."""
        def done():
            with self.lock:
                barrier = any(s.path.endswith(barrier_path) and s.ended for s in self.streams)
                return barrier and self.open_connections == 0
        wait_until(done, timeout, message=f"{barrier_path} upstream and every proxy connection closed")
        with self.lock:
            return [s for s in self.streams if not s.path.endswith(barrier_path)]
