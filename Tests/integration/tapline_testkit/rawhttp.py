"""HTTP/1.1 over raw sockets, for what curl cannot do: pipelining, aborted
uploads, malformed requests (smuggling probes)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import BinaryIO, Optional

from .util import HOST

MAX_LINE = 1 << 20


@dataclass
class RawResponse:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    trailers: list[tuple[str, str]]

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self) -> str:
        return (f"<RawResponse {self.status} {self.reason!r} headers={self.headers!r} "
                f"body={self.body[:200]!r}{'...' if len(self.body) > 200 else ''}>")


class NoResponse(ConnectionError):
    """The connection closed (or reset) before a response head arrived."""


def connect(port: int, timeout: float = 10.0, host: str = HOST) -> socket.socket:
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def receive_head(sock: socket.socket) -> Optional[bytes]:
    """Reads from `sock` until a message head's blank line: the bytes read (the head and
    whatever followed it in the same reads), or None if the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def receive_exactly(sock: socket.socket, count: int) -> bytes:
    """Reads `count` bytes from `sock`, or fewer if the peer closed first."""
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _readline(f: BinaryIO) -> bytes:
    line = f.readline(MAX_LINE)
    if not line.endswith(b"\n"):
        raise ConnectionError(f"connection closed mid-line: {line[:200]!r}")
    return line.rstrip(b"\r\n")


def _read_fields(f: BinaryIO) -> list[tuple[str, str]]:
    fields = []
    while True:
        line = _readline(f)
        if not line:
            return fields
        name, _, value = line.decode("latin-1").partition(":")
        fields.append((name.strip(), value.strip()))


def read_response(f: BinaryIO, request_method: str = "GET") -> RawResponse:
    """Reads one final response (skipping 1xx) from a socket's makefile('rb')."""
    return read_response_body(f, read_response_head(f), request_method)


def read_response_head(f: BinaryIO) -> RawResponse:
    """Reads the head of one final response (skipping 1xx), not its body: for a test
    that must check the framing fields before trusting them to read the body."""
    while True:
        try:
            first = f.readline(MAX_LINE)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise NoResponse(f"connection reset before a response: {e}") from e
        if not first:
            raise NoResponse("connection closed before a response")
        status_line = first.rstrip(b"\r\n").decode("latin-1")
        version, _, rest = status_line.partition(" ")
        code, _, reason = rest.partition(" ")
        status = int(code)
        headers = _read_fields(f)
        if 100 <= status < 200 and status != 101:
            continue
        break
    return RawResponse(version, status, reason, headers, b"", [])


def read_response_body(f: BinaryIO, resp: RawResponse, request_method: str = "GET") -> RawResponse:
    """Reads the body (and trailers) of the response whose head `read_response_head` returned."""
    status = resp.status
    te = (resp.header("Transfer-Encoding") or "").lower()
    if request_method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return resp
    if "chunked" in te:
        parts = []
        while True:
            size = int(_readline(f).split(b";", 1)[0].strip(), 16)
            if size == 0:
                resp.trailers = _read_fields(f)
                break
            data = f.read(size)
            if len(data) != size:
                raise ConnectionError("connection closed inside a chunk")
            parts.append(data)
            _readline(f)
        resp.body = b"".join(parts)
    elif resp.header("Content-Length") is not None:
        n = int(resp.header("Content-Length"))
        resp.body = f.read(n)
        if len(resp.body) != n:
            raise ConnectionError(f"connection closed after {len(resp.body)} of {n} body bytes")
    else:
        resp.body = f.read()
    return resp


def exchange(port: int, data: bytes, count: int = 1, method: str = "GET",
             timeout: float = 15.0) -> list[RawResponse]:
    """Sends `data` in one write on a new connection and reads `count` responses."""
    with connect(port, timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the peer may answer and close before reading everything
        with s.makefile("rb") as f:
            return [read_response(f, method) for _ in range(count)]


def request_bytes(method: str, target: str, host: str, headers: Optional[list] = None,
                  body: bytes = b"", content_length: bool = True) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for k, v in headers or []:
        lines.append(f"{k}: {v}")
    if body and content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
