"""`tapline mock` of a WebSocket flow whose server pushed far more than a slow client
reads at once, and of a client that floods pings without reading the pongs (issue #23: the mock's memory stays bounded, bodies streamed). The
recorded server sends 40 binary messages of 1 MiB as soon as the client subscribes; the
mock (`--latency none`) says them all at once too. A client that reads one message at a
time, slowly, must still get every byte in order, and the mock must not read the whole
recording into memory to wait for it: what it has said waits as message positions
past a 1 MiB outbox (`MockWebSocketServer.outboxLimit`), as a real server's socket
would hold it back.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import struct

from tapline_testkit import util
from tapline_testkit.util import HOST
from tapline_testkit import websocket as wsk

from test_mock import mocks  # noqa: F401  (the fixture)

MESSAGES = 40
MESSAGE_BYTES = 1 << 20
#: The mock's peak RSS may grow by this much while the client reads (the recording is 40 MiB).
GROWTH_LIMIT_KIB = 16 * 1024


def pusher_session(tapline) -> tuple:
    """An origin that answers "subscribe" with MESSAGES incompressible binary messages at
    once, then closes (1000, "done"); recorded through the proxy. Returns (proxy, session,
    the SHA-256 of each message)."""
    payloads = [os.urandom(MESSAGE_BYTES) for _ in range(MESSAGES)]

    async def handler(ws):
        assert await ws.recv() == "subscribe"
        for payload in payloads:
            await ws.send(payload)
        await ws.close(1000, "done")

    async def converse(ws):
        await ws.send("subscribe")
        for payload in payloads:
            assert await ws.recv() == payload
        await ws.wait_closed()

    proxy, session = wsk.record_through_proxy(tapline, handler, "/push", converse, timeout=60)
    return proxy, str(session), [hashlib.sha256(p).hexdigest() for p in payloads]


def test_a_slow_client_gets_every_pushed_byte_and_the_mock_does_not_hold_the_recording(tapline, mocks):
    proxy, session, digests = pusher_session(tapline)
    mock = mocks(proxy.home, proxy.capture_dir, session, "--latency", "none")
    before = util.read_proc_status(mock.proc.pid, "VmHWM")
    assert before is not None

    async def read_slowly():
        # max_queue=1: the client stops reading its socket while a message waits, so the
        # mock's relay fills the socket and pauses the mock, as a slow client would.
        async with wsk.connect(mock.url.replace("http", "ws"), "/push", max_queue=1) as ws:
            await ws.send("subscribe")
            got = []
            for _ in range(MESSAGES):
                got.append(hashlib.sha256(await ws.recv()).hexdigest())
                await asyncio.sleep(0.05)  # the client's pace, not a wait for an event
            await ws.wait_closed()
            return got, (ws.close_code, ws.close_reason)

    got, close = asyncio.run(asyncio.wait_for(read_slowly(), 60))
    assert got == digests, "every recorded message, whole and in order"
    assert close == (1000, "done")
    peak = util.read_proc_status(mock.proc.pid, "VmHWM")
    assert peak is not None
    assert peak - before < GROWTH_LIMIT_KIB, (
        f"the mock's peak RSS grew by {(peak - before) // 1024} MiB serving a 40 MiB recording to a slow client")


PINGS = 300_000
PING_PAYLOAD = 125  # the largest a control frame carries


def test_a_ping_flood_from_a_client_that_does_not_read_holds_one_pong(tapline, mocks):
    """A client sends 300,000 pings (~39 MB of pongs to answer) and reads nothing until it
    has sent its close. The mock must not queue a pong per ping behind its full outbox: it
    answers the latest ping (RFC 6455 section 5.5.3), and its memory stays bounded. Then
    every pong the client gets answers one of its pings, in order, the last one answers
    the last ping, and the close comes after them."""
    async def handler(ws):
        assert await ws.recv() == "hello"
        await ws.send("world")
        await ws.wait_closed()

    async def converse(ws):
        await ws.send("hello")
        assert await ws.recv() == "world"

    proxy, session = wsk.record_through_proxy(tapline, handler, "/chat", converse)
    mock = mocks(proxy.home, proxy.capture_dir, str(session), "--latency", "none")
    before = util.read_proc_status(mock.proc.pid, "VmHWM")
    assert before is not None

    sock = wsk.raw_client_handshake(HOST, mock.port, "/chat", f"{HOST}:{mock.port}")
    sock.settimeout(60)
    # Masked with the all-zero key (a valid mask that leaves the payload as it is): the
    # payload is the ping's number, padded.
    pings = b"".join(bytes([0x89, 0x80 | PING_PAYLOAD]) + bytes(4) + struct.pack("!Q", n) + bytes(PING_PAYLOAD - 8)
                     for n in range(PINGS))
    sock.sendall(pings)
    sock.sendall(wsk.frame(0x8, struct.pack("!H", 1000)))
    sock.shutdown(socket.SHUT_WR)

    received = bytearray()
    while chunk := sock.recv(1 << 20):
        received += chunk
    sock.close()
    peak = util.read_proc_status(mock.proc.pid, "VmHWM")
    assert peak is not None

    answered = []
    close = None
    position = 0
    while position < len(received):
        opcode, length = received[position] & 0x0F, received[position + 1]
        assert length < 126 and received[position + 1] & 0x80 == 0, "a small, unmasked server frame"
        payload = bytes(received[position + 2:position + 2 + length])
        position += 2 + length
        if opcode == 0xA:
            assert close is None, "no pong after the close"
            assert len(payload) == PING_PAYLOAD
            answered.append(struct.unpack("!Q", payload[:8])[0])
        elif opcode == 0x8:
            close = payload
    assert close is not None, "the mock closed the WebSocket"
    assert answered, "pings were answered"
    assert answered == sorted(set(answered)), "each pong answers a different ping, in the order they came"
    assert answered[-1] == PINGS - 1, "the last pong answers the last ping"
    assert peak - before < GROWTH_LIMIT_KIB, (
        f"the mock's peak RSS grew by {(peak - before) // 1024} MiB answering {PINGS} pings a client did not read")
