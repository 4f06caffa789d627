"""Decompression bombs over WebSocket (issue #21, item 6a): one permessage-deflate
message of 1 GiB of zeros is ~1 MB on the wire. Tapline inflates its copy for the
capture in bounded steps and streams it to the capture as it goes (instead of holding
up to the 64 MiB message cap), so ten such connections at once stay within a small,
stated amount of memory, and each message is still recorded (its first 64 MiB, marked
truncated)."""

from __future__ import annotations

import base64
import os
import socket
import threading
import zlib

import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.rawhttp import receive_head
from tapline_testkit.util import HOST, wait_until
from tapline_testkit.websocket import accept_value

GIB = 1 << 30
CAP = 64 << 20  # the largest message Tapline decodes (WebSocketMessageDecoder.defaultMaxMessageBytes)
CONNECTIONS = 10
# Stated in docs/architecture.md (WebSocket, "Memory"): decoding holds per side its
# compressed message plus ~200 KiB, and the capture queue at most ~4 MiB plus 320 KiB
# per loop; measured 60-65 MB here (debug build). Before, one bomb took tapline to
# 96 MB and ten to 232 MB.
PEAK_RSS_LIMIT_KB = 90_000


@pytest.fixture(scope="module")
def bomb_frame() -> bytes:
    """A masked (key 0) binary frame with RSV1: 1 GiB of zeros, raw DEFLATE, sync-flushed
    and without its trailing 00 00 ff ff (RFC 7692 §7.2.1)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(16 << 20)
    payload = b"".join(deflater.compress(zeros) for _ in range(GIB // len(zeros))) + deflater.flush(zlib.Z_SYNC_FLUSH)
    assert payload.endswith(b"\x00\x00\xff\xff")
    payload = payload[:-4]
    assert len(payload) < 2 << 20
    return bytes([0xC2, 0x80 | 127]) + len(payload).to_bytes(8, "big") + bytes(4) + payload


class DeflateSink:
    """A WebSocket origin that accepts permessage-deflate on every connection and reads
    (and drops) whatever comes until the client leaves."""

    def __init__(self):
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self.threads.append(thread)

    @staticmethod
    def _serve(sock: socket.socket) -> None:
        with sock:
            data = receive_head(sock)
            if data is None:
                return
            key = next(line.split(":", 1)[1].strip() for line in data.decode("latin-1").split("\r\n")
                       if line.lower().startswith("sec-websocket-key:"))
            sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept_value(key)}\r\n"
                          "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
            try:
                while sock.recv(1 << 20):
                    pass
            except OSError:
                pass

    def stop(self) -> None:
        self.listener.close()
        for thread in self.threads:
            thread.join(10)


@pytest.fixture
def sink():
    server = DeflateSink()
    yield server
    server.stop()


def send_bomb(proxy_port: int, origin_port: int, frame: bytes) -> socket.socket:
    sock = socket.create_connection((HOST, proxy_port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET http://{HOST}:{origin_port}/bomb HTTP/1.1\r\nHost: {HOST}:{origin_port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed during the handshake: {data!r}"
        data += chunk
    assert data.startswith(b"HTTP/1.1 101"), data
    sock.sendall(frame)
    return sock


def test_ten_concurrent_one_gib_deflate_bombs_stay_in_bounded_memory_and_are_recorded(tapline, sink, bomb_frame):
    proxy = tapline()
    clients: list[socket.socket] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            clients.append(send_bomb(proxy.port, sink.port, bomb_frame))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not errors, errors
        session = proxy.session_dir()

        def recorded() -> list[dict]:
            return [e for e in read_events(session) if e["type"] == "wsMessage"]
        try:
            wait_until(lambda: len(recorded()) == CONNECTIONS, 60, interval=0.2, message=f"{CONNECTIONS} wsMessage lines")
        except TimeoutError:
            pass  # reported below, after the memory
        messages = recorded()
        peak = proxy.peak_rss_kb()
    finally:
        for sock in clients:
            sock.close()
    print(f"peak RSS with {CONNECTIONS} bombs: {peak} kB")
    assert peak < PEAK_RSS_LIMIT_KB, f"peak RSS {peak} kB with {CONNECTIONS} bombs (limit {PEAK_RSS_LIMIT_KB} kB)"
    assert len(messages) == CONNECTIONS, f"{len(messages)} of {CONNECTIONS} bomb messages were recorded within 60 s"
    wire = len(bomb_frame)
    for message in messages:
        assert message["dir"] == "client" and message["opcode"] == "binary" and message["compressed"] is True
        assert message["wireBytes"] == wire
        assert message["size"] == CAP  # decoding stops at the cap ...
        assert message["truncated"] is True  # ... and says so
    proxy.stop()
    # The stored payload is the first 64 MiB of zeros, wherever its pieces went.
    events = read_events(session)
    first = next(e for e in events if e["type"] == "wsMessage")
    extents = first.get("extents") or [[first["seg"], first["off"], first["len"]]]
    assert sum(length for _, _, length in extents) == CAP
    segment, offset, length = extents[-1]
    with open(session / "bodies" / f"{segment:06d}.bin", "rb") as f:
        f.seek(offset)
        assert f.read(min(length, 1 << 20)) == bytes(min(length, 1 << 20))
    assert len([e for e in events if e["type"] == "flowEnded"]) == CONNECTIONS
