"""WebSocket through Tapline: Python `websockets` client and server in forward mode
(ws:// absolute-form, ws:// and wss:// through CONNECT) and reverse mode (ws:// and
wss:// upstreams), with and without permessage-deflate. 1,000 messages of random
size and kind each way must arrive intact, and the capture must hold exactly those
messages, in order, decompressed."""

from __future__ import annotations

import asyncio
import json
import ssl

import pytest

from tapline_testkit import websocket as wsk
from tapline_testkit.ws_messages import exchange_server, random_messages
from tapline_testkit.util import run_tapline

MESSAGES = 1000


WORDS = ["tapline", "proxy", "ünïcödé", "✓", "𝄞", "frame", "{i}", "{\"json\": true}", "\n"]
CLIENT_MESSAGES = random_messages(1, MESSAGES, empty=0.02, large=0.02, large_max=200_000, words=WORDS)
SERVER_MESSAGES = random_messages(2, MESSAGES, empty=0.02, large=0.02, large_max=200_000, words=WORDS)
_exchange_server = exchange_server(SERVER_MESSAGES, CLIENT_MESSAGES)


async def _exchange_client(ws):
    async def send():
        for m in CLIENT_MESSAGES:
            await ws.send(m)

    sender = asyncio.create_task(send())
    received = []
    while len(received) < MESSAGES:
        received.append(await ws.recv())
    await sender
    await ws.close(1000, "done")
    return received


def _as_bytes(m) -> bytes:
    return m.encode("utf-8") if isinstance(m, str) else m


def _check_capture(proxy, compressed: bool, client_no_context_takeover: bool = False):
    flows = wsk.wait_for_ended_websocket_flow(proxy)
    assert len(flows) == 1
    flow = flows[0]
    assert flow["response"]["status"] == 101
    extensions = [v for k, v in flow["response"]["headers"] if k.lower() == "sec-websocket-extensions"]
    if compressed:
        assert extensions and "permessage-deflate" in extensions[0], extensions
        if client_no_context_takeover:
            assert "client_no_context_takeover" in extensions[0], extensions
    else:
        assert not extensions
    assert flow["ended"].get("error") is None, flow["ended"]
    session = proxy.session_dir()
    for direction, sent in (("client", CLIENT_MESSAGES), ("server", SERVER_MESSAGES)):
        got = [m for m in flow["messages"] if m["dir"] == direction and m["opcode"] in ("text", "binary")]
        assert len(got) == len(sent), f"{direction}: captured {len(got)} of {len(sent)} messages"
        for i, (event, message) in enumerate(zip(got, sent)):
            expected = _as_bytes(message)
            assert event["opcode"] == ("text" if isinstance(message, str) else "binary"), (direction, i)
            assert event["size"] == len(expected), (direction, i, event)
            assert wsk.payload_of(session, event) == expected, f"{direction} message {i} differs"
            assert event["wireBytes"] >= 2
            if not compressed:
                assert event["compressed"] is False
        if compressed:
            assert any(m["compressed"] for m in got), f"{direction}: nothing was compressed"
            # Compressed messages are smaller on the wire than decompressed (for compressible ones).
            assert sum(m["wireBytes"] for m in got) < sum(m["size"] for m in got)
    closes = [m for m in flow["messages"] if m["opcode"] == "close"]
    assert [c["dir"] for c in closes] == ["client", "server"], closes
    assert closes[0]["code"] == 1000 and closes[0]["reason"] == "done"
    return flow


CASES = [
    # (mode, tls, compression, client_no_context_takeover)
    ("absolute", False, None, False),
    ("absolute", False, "deflate", False),
    ("connect", False, "deflate", True),
    ("connect", True, None, False),
    ("connect", True, "deflate", False),
    ("connect", True, "deflate", True),
    ("reverse", False, None, False),
    ("reverse", False, "deflate", False),
    ("reverse", True, None, False),
    ("reverse", True, "deflate", True),
]


@pytest.mark.parametrize("mode,tls,compression,no_takeover", CASES,
                         ids=[f"{m}-{'wss' if t else 'ws'}-{c or 'plain'}{'-client_no_context_takeover' if n else ''}"
                              for m, t, c, n in CASES])
def test_thousand_messages_each_way_arrive_and_are_captured(tapline, test_ca, mode, tls, compression, no_takeover):
    origin = wsk.WebSocketOrigin(_exchange_server, tls=test_ca.server_context() if tls else None,
                                 compression=compression)
    try:
        args = ["--upstream-ca", str(test_ca.ca_cert)]
        if mode == "reverse":
            args += ["--reverse", origin.http_url]
        proxy = tapline(*args)
        client_tls = None
        if tls and mode != "reverse":
            client_tls = ssl.create_default_context(cafile=str(proxy.wait_for_ca()))
        extensions = wsk.deflate_extensions(no_takeover) if compression else None

        async def run():
            async with wsk.connect(origin.url, "/chat?room=1", mode=mode, proxy=proxy, ssl_context=client_tls,
                                   extensions=extensions) as ws:
                return await _exchange_client(ws)

        received = asyncio.run(asyncio.wait_for(run(), 90))
        assert received == SERVER_MESSAGES, "the client did not receive the server's messages intact"
        flow = _check_capture(proxy, compression is not None, no_takeover)
        assert not origin.errors, origin.errors
        # The reader reports the flow as a WebSocket, with the messages.
        flow_id = flow["request"]["flow"]
        shown = proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow_id), "--json")
        assert shown.returncode == 0, shown.stderr
        detail = json.loads(shown.stdout)
        assert detail["kind"] == "websocket"
        assert len(detail["webSocketMessages"]) == 2 * MESSAGES + 2
        first = detail["webSocketMessages"][0]
        assert first["size"] == len(_as_bytes(CLIENT_MESSAGES[0])) or first["dir"] == "server"
    finally:
        origin.stop()


def test_show_prints_the_message_timeline(tapline):
    async def handler(ws):
        async for m in ws:
            await ws.send(m)

    origin = wsk.WebSocketOrigin(handler, compression="deflate")
    try:
        proxy = tapline("--reverse", origin.http_url)

        async def run():
            async with wsk.connect(origin.url, mode="reverse", proxy=proxy, extensions=wsk.deflate_extensions()) as ws:
                await ws.send("hello timeline " * 10)
                assert await ws.recv() == "hello timeline " * 10
                await ws.send(b"\x00\x01\x02binary")
                await ws.recv()
                await ws.ping(b"are you there")
                await ws.close(1001, "going away")

        asyncio.run(asyncio.wait_for(run(), 30))
        flows = wsk.wait_for_ended_websocket_flow(proxy)
        flow_id = flows[0]["request"]["flow"]
        r = proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow_id))
        assert r.returncode == 0, r.stderr
        out = r.stdout if isinstance(r.stdout, str) else r.stdout.decode()
        assert "websocket" in out
        assert "WebSocket messages" in out
        assert "→ text" in out and "← text" in out
        assert "deflate" in out
        assert '"hello timeline hello timeline' in out
        assert "00 01 02 62" in out
        assert "→ ping" in out and "← pong" in out
        assert "code 1001 \"going away\"" in out
        listing = proxy.cli("show", str(proxy.session_dir()))
        assert listing.returncode == 0
    finally:
        origin.stop()
