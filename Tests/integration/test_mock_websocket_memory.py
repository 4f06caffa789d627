"""`tapline mock` of a WebSocket flow whose server pushed far more than a slow client
reads at once (issue #23: the mock's memory stays bounded, bodies streamed). The
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

from tapline_testkit import util
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
