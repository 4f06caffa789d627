"""The out-of-descriptors warning must not stall the proxy (review of issue #21, item 5):
Tapline writes it to stderr, and a stderr pipe nobody reads (a supervisor that stopped
draining it) blocks the write. Written on the loop that accepts, it stopped accepting
and serving every connection on that loop; written from a queue of its own, only the
warning waits."""

from __future__ import annotations

import fcntl
import os
import resource
import socket
import subprocess

from tapline_testkit.rawhttp import read_response, request_bytes
from tapline_testkit.util import HOST, clean_env, free_port, stop_peer, tapline_bin, wait_for_port, wait_until


def _fill_pipe(path: str) -> None:
    """Writes into the pipe at `path` until it holds no more."""
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)  # the smallest a pipe gets: quick to fill
        for size in (4096, 512, 64, 8, 1):  # a write that does not fit is refused whole
            try:
                while True:
                    os.write(fd, b"x" * size)
            except BlockingIOError:
                pass
    finally:
        os.close(fd)


def test_a_refusal_warning_into_a_full_stderr_pipe_does_not_stop_the_proxy(tmp_path, origin):
    port = free_port()
    proxy = subprocess.Popen(
        [str(tapline_bin()), "proxy", "--listen", f"{HOST}:{port}", "--no-capture", "--quiet", "--threads", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=clean_env({"TAPLINE_HOME": str(tmp_path / "home")}))
    clients: list[socket.socket] = []
    try:
        wait_for_port(port)
        existing = socket.create_connection((HOST, port), timeout=10)
        clients.append(existing)
        reader = existing.makefile("rb")
        existing.sendall(request_bytes("GET", f"{origin.url}/users/1", origin.authority))
        assert read_response(reader).status == 200
        # Nobody reads Tapline's stderr any more, and the pipe is full.
        _fill_pipe(f"/proc/{proxy.pid}/fd/2")
        # Out of descriptors: the next client is turned away, which Tapline warns about.
        in_use = len(os.listdir(f"/proc/{proxy.pid}/fd"))
        _, hard = resource.prlimit(proxy.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(proxy.pid, resource.RLIMIT_NOFILE, (in_use, hard))
        turned_away = socket.create_connection((HOST, port), timeout=10)
        clients.append(turned_away)
        assert turned_away.recv(1) == b"", "the client beyond the descriptor limit was not closed"
        # The connection already open is still served (its upstream connection is reused).
        existing.sendall(request_bytes("GET", f"{origin.url}/users/2", origin.authority))
        existing.settimeout(5)
        try:
            response = read_response(reader)
        except (TimeoutError, socket.timeout):
            raise AssertionError("the proxy stopped serving while its stderr pipe was full") from None
        assert response.status == 200
        resource.prlimit(proxy.pid, resource.RLIMIT_NOFILE, (hard, hard))
        # Reading stderr again lets the warning through.
        assert b"closed 1 new connection without serving" in _read_until(proxy, b"without serving")
    finally:
        for s in clients:
            s.close()
        stop_peer(proxy)
        proxy.stderr.close()


def _read_until(proxy: subprocess.Popen, marker: bytes) -> bytes:
    received = b""
    os.set_blocking(proxy.stderr.fileno(), False)

    def found():
        nonlocal received
        try:
            received += os.read(proxy.stderr.fileno(), 65536)
        except BlockingIOError:
            pass
        return marker in received
    wait_until(found, 10, message="the warning on stderr")
    return received
