"""A raw-TCP peer for tunnel tests: bytes that are neither TLS nor HTTP."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Iterator


@contextlib.contextmanager
def upper_case_echo(host: str) -> Iterator[int]:
    """Listens on `host` (a port the kernel picks) and answers every chunk a client
    sends with its upper-case copy until that client closes; connections are served
    one after another on one daemon thread. Yields the port; on exit the listener is
    closed and the thread joined."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.bind((host, 0))
    listener.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)
