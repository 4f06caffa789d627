"""WebSocket endings that are not a clean close handshake: a peer that vanishes in
the middle of a message, a close frame without a status code, a peer that never
answers a close. Each time the flow ends, is captured as such, and nothing hangs."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from tapline_testkit import websocket as wsk
from tapline_testkit.util import HOST


def _capture_messages(flow):
    return [(m["dir"], m["opcode"]) for m in flow["messages"]]


def test_server_vanishes_mid_message(tapline):
    complete = wsk.frame(0x1, b"complete", mask=False)
    partial = bytes([0x82, 126, 0x03, 0xE8]) + b"0123456789"  # 10 bytes of a 1000-byte binary frame
    client_got_partial = threading.Event()

    def script(sock, leftover):
        sock.sendall(complete)
        sock.sendall(partial)
        # Once the client has the partial frame, the proxy has read it: it is in the
        # middle of the message when the server is gone (a reset, SO_LINGER 0).
        client_got_partial.wait(10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    origin = wsk.RawWebSocketOrigin(script)
    try:
        proxy = tapline("--reverse", origin.http_url)
        sock = wsk.raw_client_handshake(HOST, proxy.port, "/", f"{HOST}:{proxy.port}")
        started = time.monotonic()
        received = b""
        while len(received) < len(complete + partial):
            chunk = sock.recv(4096)
            assert chunk, f"the proxy closed the connection after {received!r}"
            received += chunk
        assert received == complete + partial, received
        client_got_partial.set()
        sock.settimeout(10)
        try:
            while sock.recv(4096):
                pass  # the proxy closes the client's connection: nothing hangs
        except ConnectionResetError:
            pass
        sock.close()
        flow = wsk.wait_for_ended_websocket_flow(proxy)[0]
        assert time.monotonic() - started < 10
        assert _capture_messages(flow) == [("server", "text")]
        error = flow["ended"]["error"]
        assert error["kind"] == "upstream-aborted", error
    finally:
        origin.stop()


def test_client_vanishes_mid_message(tapline):
    first = wsk.frame(0x1, b"first")
    partial = wsk.frame(0x2, bytes(500))[:100]  # the header and part of the payload
    received = bytearray()
    origin_got_partial = threading.Event()

    def script(sock, leftover):
        received.extend(leftover)
        sock.settimeout(20)
        try:
            while chunk := sock.recv(4096):
                received.extend(chunk)
                if len(received) >= len(first + partial):
                    origin_got_partial.set()
        except OSError:
            pass

    origin = wsk.RawWebSocketOrigin(script)
    try:
        proxy = tapline()
        sock = wsk.raw_client_handshake(HOST, proxy.port, f"http://{HOST}:{origin.port}/x", f"{HOST}:{origin.port}")
        sock.sendall(first + partial)
        # Once the origin has the partial frame, the proxy has read it: it is in the
        # middle of the message when the client is gone.
        assert origin_got_partial.wait(10), f"the origin got {bytes(received)!r}"
        sock.close()
        flow = wsk.wait_for_ended_websocket_flow(proxy)[0]
        assert _capture_messages(flow) == [("client", "text")]
        error = flow["ended"]["error"]
        assert error["kind"] == "client-aborted", error
        assert "in the middle of a message" in error["message"], error
        assert origin.closed.wait(10), "the proxy did not close the upstream after the client vanished"
        assert bytes(received) == first + partial
    finally:
        origin.stop()


def test_close_without_status_code(tapline):
    origin = wsk.WebSocketOrigin()  # echo; answers a close like any websockets server
    try:
        proxy = tapline("--reverse", origin.http_url)
        sock = wsk.raw_client_handshake(HOST, proxy.port, "/", f"{HOST}:{proxy.port}")
        sock.sendall(wsk.frame(0x1, b"hi"))
        sock.sendall(wsk.frame(0x8, b""))  # close, no status code, no reason
        data = b""
        sock.settimeout(10)
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        assert data.startswith(wsk.frame(0x1, b"hi", mask=False)), data
        assert data[len(b"\x81\x02hi"):][:1] == b"\x88", data  # the server's close
        flow = wsk.wait_for_ended_websocket_flow(proxy)[0]
        assert _capture_messages(flow) == [("client", "text"), ("server", "text"), ("client", "close"), ("server", "close")]
        client_close = flow["messages"][2]
        assert "code" not in client_close and client_close["size"] == 0, client_close
        assert flow["ended"].get("error") is None, flow["ended"]
    finally:
        origin.stop()


def test_peer_that_never_answers_close(tapline):
    def script(sock, leftover):
        # Read and ignore everything (including the close frame) until the proxy gives up.
        sock.settimeout(30)
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    origin = wsk.RawWebSocketOrigin(script)
    try:
        proxy = tapline("--websocket-close-timeout", "1.5")

        async def run():
            async with wsk.connect(origin.url, mode="absolute", proxy=proxy, close_timeout=30) as ws:
                await ws.send("bye soon")
                started = time.monotonic()
                await ws.close(1000, "bye")
                return time.monotonic() - started

        waited = asyncio.run(asyncio.wait_for(run(), 40))
        assert 1.4 <= waited < 4.5, \
            f"Tapline should close both sides 1.5 s (--websocket-close-timeout) after an unanswered close, took {waited:.1f} s"
        assert origin.closed.wait(10), "the server side was not closed"
        flow = wsk.wait_for_ended_websocket_flow(proxy)[0]
        assert _capture_messages(flow) == [("client", "text"), ("client", "close")]
        assert flow["messages"][1]["code"] == 1000 and flow["messages"][1]["reason"] == "bye"
        error = flow["ended"]["error"]
        assert error["kind"] == "upstream-timeout", error
        assert "did not answer" in error["message"] and "within 1.5 s" in error["message"], error
    finally:
        origin.stop()
