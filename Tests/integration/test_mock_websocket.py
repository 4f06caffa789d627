"""`tapline mock` of WebSocket flows (issue #23, the mock's WebSocket bullet): a
conversation recorded through the proxy with a Python `websockets` client is served
back. The mock accepts an Upgrade (or an RFC 8441 extended CONNECT over h2c) that
matches a recorded WebSocket flow with the recorded subprotocol and permessage-deflate,
sends the recorded server messages in order, each after the client message the recording
has before it, unsolicited ones after their recorded delay, and ends with the recorded
close. A client message that differs is logged and, with --strict, closed with 1008.

Each test checks what a user would: the handshake's subprotocol and extensions, the
messages and close a client gets, the time an unsolicited message takes, the live line,
and the session `--capture` writes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tapline_testkit import websocket as wsk
from tapline_testkit.h2_websocket import H2WebSocketClient
from tapline_testkit.util import HOST, wait_until

from test_mock import mocks  # noqa: F401  (the fixture)
from test_replay_websocket import CLIENT_MESSAGES, CLOSE, conversation, greeting_origin, record_conversation

ANSWERS = {"hello": "hi there", '{"subscribe": "prices"}': '{"prices": [1, 2]}'}


def recorded_answers() -> list:
    """What the recorded server said after its greeting: each client message's answer."""
    return [ANSWERS.get(m, m) for m in CLIENT_MESSAGES]


def newest_session(proxy, known: list[str]) -> Path:
    return max((d for d in proxy.capture_dir.iterdir() if str(d) not in known and d.is_dir()),
               key=lambda d: d.stat().st_mtime)


@pytest.fixture
def deflate_session(tapline):
    """A greeting-first origin with permessage-deflate; the conversation recorded with the
    `chat.v1` subprotocol and permessage-deflate negotiated. Returns (proxy, session)."""
    received: list = []
    origin = greeting_origin(received, ANSWERS, compression="deflate", subprotocols=["chat.v1"])
    try:
        session = record_conversation(tapline, origin, extensions=wsk.deflate_extensions())
    finally:
        origin.stop()
    assert received == CLIENT_MESSAGES
    return tapline.started[0], session


def test_a_websockets_client_gets_the_recorded_conversation_with_subprotocol_and_deflate(deflate_session, mocks):
    proxy, session = deflate_session
    mock = mocks(proxy.home, proxy.capture_dir, session, "--capture")

    async def converse():
        async with wsk.connect(mock.url.replace("http", "ws"), "/feed?room=1", extensions=wsk.deflate_extensions(),
                               subprotocols=["chat.v1"]) as ws:
            assert ws.subprotocol == "chat.v1"
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
            assert extensions.startswith("permessage-deflate"), ws.response.headers
            got = [await ws.recv()]
            for message in CLIENT_MESSAGES:
                await ws.send(message)
                got.append(await ws.recv())
            await ws.close(*CLOSE)
            return got, (ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason)

    got, close = asyncio.run(asyncio.wait_for(converse(), 20))
    assert got == ["welcome"] + recorded_answers(), "the recorded server messages, in order, text and binary"
    assert close == CLOSE, "the client's close is answered as recorded"
    assert mock.stop() == 0
    assert "-> 101 WebSocket" in mock.stderr(), mock.stderr()
    # --capture records the mocked WebSocket like any flow: the server's messages compressed, as negotiated
    captured = newest_session(proxy, [session])
    assert conversation(captured) == conversation(Path(session))
    (flow,) = wsk.websocket_flows(captured).values()
    server_data = [m for m in flow["messages"] if m["dir"] == "server" and m["opcode"] in ("text", "binary")]
    assert server_data and all(m["compressed"] for m in server_data), server_data
    assert flow["ended"].get("error") is None, flow["ended"]


def test_without_a_deflate_offer_or_subprotocol_the_messages_go_uncompressed(deflate_session, mocks):
    proxy, session = deflate_session
    mock = mocks(proxy.home, proxy.capture_dir, session)

    async def converse():
        async with wsk.connect(mock.url.replace("http", "ws"), "/feed?room=1") as ws:
            assert ws.subprotocol is None and "Sec-WebSocket-Extensions" not in ws.response.headers
            got = [await ws.recv()]
            await ws.send(CLIENT_MESSAGES[0])
            got.append(await ws.recv())
            return got

    assert asyncio.run(asyncio.wait_for(converse(), 20)) == ["welcome", ANSWERS["hello"]]


def ticker_session(tapline) -> tuple:
    """An origin that answers "subscribe" with "ok", pushes "tick" 600 ms later unasked,
    then closes (1000, "bye"); recorded through the proxy. Returns (proxy, session)."""
    async def handler(ws):
        assert await ws.recv() == "subscribe"
        await ws.send("ok")
        await asyncio.sleep(0.6)  # the origin's own pace: what the recording keeps
        await ws.send("tick")
        await ws.close(1000, "bye")

    async def converse(ws):
        await ws.send("subscribe")
        assert [await ws.recv(), await ws.recv()] == ["ok", "tick"]
        await ws.wait_closed()

    proxy, session = wsk.record_through_proxy(tapline, handler, "/ticker", converse)
    return proxy, str(session)


def tick_timing(url: str) -> tuple:
    """Subscribes; returns (seconds from "ok" to "tick", the server's close)."""
    async def converse():
        async with wsk.connect(url, "/ticker") as ws:
            await ws.send("subscribe")
            assert await ws.recv() == "ok"
            answered = time.monotonic()
            assert await ws.recv() == "tick"
            waited = time.monotonic() - answered
            await ws.wait_closed()
            return waited, (ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason)

    return asyncio.run(asyncio.wait_for(converse(), 20))


def test_an_unsolicited_message_keeps_its_recorded_delay_and_latency_none_sends_it_at_once(tapline, mocks):
    proxy, session = ticker_session(tapline)
    paced = mocks(proxy.home, proxy.capture_dir, session)
    waited, close = tick_timing(paced.url.replace("http", "ws"))
    assert waited >= 0.55, f"the push came {waited:.3f} s after the answer; recorded 0.6 s"
    assert close == (1000, "bye"), "the recorded close ends it"
    at_once = mocks(proxy.home, proxy.capture_dir, session, "--latency", "none")
    waited, close = tick_timing(at_once.url.replace("http", "ws"))
    assert waited < 0.3, f"--latency none: the push came {waited:.3f} s after the answer"
    assert close == (1000, "bye")


def test_a_different_client_message_is_logged_and_strict_closes_with_1008(deflate_session, mocks):
    proxy, session = deflate_session
    lenient = mocks(proxy.home, proxy.capture_dir, session)
    strict = mocks(proxy.home, proxy.capture_dir, session, "--strict")

    async def say_something_else(url: str):
        async with wsk.connect(url, "/feed?room=1", subprotocols=["chat.v1"]) as ws:
            assert await ws.recv() == "welcome"
            await ws.send("goodbye")
            try:
                answer = await ws.recv()
            except ConnectionClosed:
                answer = None
            await ws.wait_closed()
            return answer, (ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason) if ws.protocol.close_rcvd else None

    answer, close = asyncio.run(asyncio.wait_for(say_something_else(strict.url.replace("http", "ws")), 20))
    assert answer is None and close == (1008, "client message 1 differs from the recording"), (answer, close)

    async def lenient_conversation(url: str):
        async with wsk.connect(url, "/feed?room=1", subprotocols=["chat.v1"]) as ws:
            assert await ws.recv() == "welcome"
            await ws.send("goodbye")
            return await ws.recv()

    answer = asyncio.run(asyncio.wait_for(lenient_conversation(lenient.url.replace("http", "ws")), 20))
    assert answer == ANSWERS["hello"], "without --strict the recorded answer goes on"
    wait_until(lambda: "WebSocket client message 1 differs from the recording: the text differs" in lenient.stderr(),
               10, message="the live line naming the differing message")


def h2_conversation(client: H2WebSocketClient, messages: list) -> None:
    """Over an opened RFC 8441 stream: waits for the greeting, sends each message and waits
    for its answer, then closes with CLOSE and waits for the server's close."""
    client.wait(lambda: client.messages == ["welcome"], "the greeting")
    for count, message in enumerate(messages, start=2):
        client.send(message)
        client.wait(lambda: len(client.messages) == count, f"the answer to {message!r}")
    client.send_close(*CLOSE)
    client.wait(lambda: client.close_received is not None, "the server's close")


def test_rfc8441_over_h2c_gets_a_conversation_recorded_over_http1(deflate_session, mocks):
    proxy, session = deflate_session
    mock = mocks(proxy.home, proxy.capture_dir, session)
    client = H2WebSocketClient(mock.port, f"{HOST}:{mock.port}", "/feed?room=1", deflate=True)
    try:
        assert client.open(extra_headers=[("sec-websocket-protocol", "chat.v1")]) == 200, client.headers
        headers = dict(client.headers)
        assert headers.get("sec-websocket-protocol") == "chat.v1", headers
        assert headers.get("sec-websocket-extensions", "").startswith("permessage-deflate"), headers
        h2_conversation(client, CLIENT_MESSAGES)
    finally:
        client.close()
    assert client.messages == ["welcome"] + recorded_answers()
    assert tuple(client.close_received) == CLOSE


def test_a_recorded_rfc8441_flow_is_served_to_an_http1_upgrade(tapline, mocks):
    received: list = []
    origin = greeting_origin(received, ANSWERS)
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}", "/feed?room=1")
        try:
            assert client.open() == 200, client.headers
            h2_conversation(client, ["hello"])
            client.end_stream()
            client.wait(lambda: client.ended, "the end of the stream")
        finally:
            client.close()
        session = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()
    assert any(e["type"] == "requestHead" and e["method"] == "CONNECT" for e in wsk.read_events(Path(session))), \
        "recorded as RFC 8441"

    mock = mocks(proxy.home, proxy.capture_dir, session)

    async def converse():
        async with wsk.connect(mock.url.replace("http", "ws"), "/feed?room=1") as ws:
            got = [await ws.recv()]
            await ws.send("hello")
            got.append(await ws.recv())
            await ws.close(*CLOSE)
            return got, (ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason)

    got, close = asyncio.run(asyncio.wait_for(converse(), 20))
    assert got == ["welcome", ANSWERS["hello"]] and close == CLOSE, (got, close)
