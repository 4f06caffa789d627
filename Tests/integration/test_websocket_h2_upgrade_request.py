"""The HTTP/1.1 Upgrade request Tapline builds from an h2 client's extended CONNECT
(RFC 8441, `:protocol websocket`) is a GET without a body: it goes out with no
Transfer-Encoding or Content-Length, although the h2 stream stays open (no
END_STREAM), and the stream's DATA after the 101 reaches the upstream as the
WebSocket byte stream."""

from __future__ import annotations

import socket
import struct

from tapline_testkit import websocket as wsk
from tapline_testkit.h2_websocket import H2WebSocketClient
from tapline_testkit.util import HOST

TEXT, CLOSE = 0x1, 0x8


def read_frame(sock: socket.socket, buf: bytearray) -> tuple[int, bytes]:
    """One whole client frame (masked, unfragmented) from `buf` + the socket: (opcode, payload)."""
    def need(n: int) -> None:
        while len(buf) < n:
            chunk = sock.recv(65536)
            assert chunk, "the proxy closed the upstream connection mid-frame"
            buf.extend(chunk)
    need(2)
    opcode, length = buf[0] & 0x0F, buf[1] & 0x7F
    assert buf[1] & 0x80, "a client frame must be masked"
    offset = 2
    if length == 126:
        need(4)
        length, offset = struct.unpack("!H", bytes(buf[2:4]))[0], 4
    elif length == 127:
        need(10)
        length, offset = struct.unpack("!Q", bytes(buf[2:10]))[0], 10
    need(offset + 4 + length)
    key = buf[offset:offset + 4]
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(buf[offset + 4:offset + 4 + length]))
    del buf[:offset + 4 + length]
    return opcode, payload


def echo_one_message_then_close(sock: socket.socket, leftover: bytes) -> None:
    buf = bytearray(leftover)
    opcode, payload = read_frame(sock, buf)
    sock.sendall(wsk.frame(opcode, payload, mask=False))
    opcode, payload = read_frame(sock, buf)
    assert opcode == CLOSE, opcode
    sock.sendall(wsk.frame(CLOSE, payload, mask=False))


def header_names(head: bytes) -> list[str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return [line.partition(":")[0].strip().lower() for line in lines if line]


def test_upgrade_request_from_extended_connect_has_no_framing_field(tapline):
    origin = wsk.RawWebSocketOrigin(echo_one_message_then_close)
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}")
        try:
            assert client.open() == 200
            client.send("through the bridge")
            client.wait(lambda: client.messages, "the echoed message")
            client.send_close(1000, "done")
            client.wait(lambda: client.close_received is not None, "the server's close frame")
        finally:
            client.close()
        assert origin.closed.wait(10), "the upstream did not see the WebSocket close"
        head = origin.request_head
        assert head is not None and head.startswith(b"GET /chat HTTP/1.1\r\n"), head
        names = header_names(head)
        assert "upgrade" in names and "sec-websocket-key" in names, head
        assert "transfer-encoding" not in names, head
        assert "content-length" not in names, head
        assert client.messages == ["through the bridge"], client.messages
        assert client.close_received[0] == 1000, client.close_received
    finally:
        origin.stop()
