"""Kept-alive upstream connections that the server closes just as they are reused."""

from __future__ import annotations

import socket
import threading

from tapline_testkit.util import HOST, curl


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

    @staticmethod
    def _read_head(conn: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
        return data

    def _handle(self, conn: socket.socket, number: int) -> None:
        with conn:
            answered = 0
            while True:
                head = self._read_head(conn)
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
