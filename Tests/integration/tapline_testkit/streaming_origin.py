"""An HTTP/1.1 origin for large bodies that holds none of them: it reads a request's
body as it arrives (counting it and hashing it) and answers every request with
`response_bytes` bytes of `BLOCK` repeated, written a piece at a time. For replaying
sessions with bodies of hundreds of MiB or GiB without the test process growing."""

from __future__ import annotations

import hashlib
import socket
import threading

from .util import ThreadedTestServer

PIECE = 1 << 20
# What every response body is made of, repeated: the same bytes in every origin, so a
# recording and its replay agree, and none of it is all one value.
BLOCK = bytes((i * 131 + (i >> 10)) & 0xFF for i in range(PIECE))


class StreamingOrigin(ThreadedTestServer):
    """Answers each request (keep-alive) with `200 OK`, `Content-Length: response_bytes`
    and BLOCK repeated; records each request's (method, target, body length, body SHA-256)
    in `requests`."""

    def __init__(self, response_bytes: int):
        self.response_bytes = response_bytes
        self.requests: list[tuple[str, str, int, str]] = []
        self.lock = threading.Lock()
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://{self.authority}"

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if any(line.lower().startswith("expect:") for line in lines[1:]):
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                digest = hashlib.sha256()
                taken = min(length, len(buf))
                digest.update(buf[:taken])
                buf = buf[taken:]
                left = length - taken
                while left > 0:
                    data = conn.recv(min(left, PIECE))
                    if not data:
                        return
                    digest.update(data)
                    left -= len(data)
                with self.lock:
                    self.requests.append((method, target, length, digest.hexdigest()))
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             f"Content-Length: {self.response_bytes}\r\n\r\n".encode())
                sent = 0
                while sent < self.response_bytes:
                    size = min(PIECE, self.response_bytes - sent)
                    conn.sendall(BLOCK[:size])
                    sent += size
        except OSError:
            pass
        finally:
            conn.close()
