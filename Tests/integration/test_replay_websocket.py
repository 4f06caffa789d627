"""`tapline replay` of WebSocket flows (issue #23): a conversation recorded through the
proxy with a Python `websockets` client is opened again (HTTP/1.1 Upgrade, a fresh key,
the recorded extensions offered), the client's recorded messages are sent in order,
each after the server message recorded before it, then closed as recorded. The replay
session records the conversation as the proxy does, so `tapline diff` compares it
message by message.

Each test checks what a user would: the exit code, the replayed messages (at the origin
and in the replay session), the differences reported (direction, index, JSON Pointer),
and the error of a flow whose server stops answering.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tapline_testkit import websocket as wsk
from tapline_testkit.util import HOST, describe, text

from test_replay import replay

# What the client says, and the close it ends with (recorded, then replayed).
CLIENT_MESSAGES: list = ["hello", b"\x00\x01binary\xff", '{"subscribe": "prices"}']
CLOSE = (4000, "client done")


def greeting_origin(received: list, answers: dict, compression=None, subprotocols=None) -> wsk.WebSocketOrigin:
    """Greets first, then answers each client message with `answers[message]` (default:
    an echo) until the client's close; appends what it got to `received`. `subprotocols`:
    those it selects from (none by default)."""
    async def handler(ws):
        await ws.send("welcome")
        async for message in ws:
            received.append(message)
            await ws.send(answers.get(message, message))

    return wsk.WebSocketOrigin(handler, compression=compression, subprotocols=subprotocols)


def record_conversation(tapline, origin: wsk.WebSocketOrigin, extensions=None) -> str:
    """The greeting, then each of CLIENT_MESSAGES and its answer, then CLOSE, through a new
    proxy (absolute form); returns the closed session's directory."""
    proxy = tapline()

    async def converse():
        async with wsk.connect(origin.url, "/feed?room=1", mode="absolute", proxy=proxy, extensions=extensions,
                               subprotocols=["chat.v1"]) as ws:
            assert await ws.recv() == "welcome"
            for message in CLIENT_MESSAGES:
                await ws.send(message)
                await ws.recv()
            await ws.close(*CLOSE)

    asyncio.run(asyncio.wait_for(converse(), 20))
    wsk.wait_for_ended_websocket_flow(proxy)
    session = proxy.session_dir()
    proxy.stop()
    return str(session)


def replayed_session(proxy, report: Path) -> Path:
    return proxy.capture_dir / json.loads(report.read_text())["replay"]["session"]


def conversation(session: Path) -> list[tuple]:
    """(direction, opcode, payload or close code and reason) of the session's one WebSocket flow."""
    (flow,) = wsk.websocket_flows(session).values()
    return [(m["dir"], m["opcode"], (m.get("code"), m.get("reason")) if m["opcode"] == "close"
             else wsk.payload_of(session, m)) for m in flow["messages"]]


def test_a_recorded_conversation_replays_equal_and_is_recorded_like_the_proxy_records_one(tapline, tmp_path):
    received: list = []
    origin = greeting_origin(received, {"hello": "hi there"})
    try:
        source = record_conversation(tapline, origin)
        assert received == CLIENT_MESSAGES
        received.clear()
        proxy = tapline.started[0]
        report = tmp_path / "r.json"
        p = replay(proxy, source, "--report", str(report))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 1: 1 equal, 0 different, 0 failed; 0 skipped" in text(p), describe(p)
        # the origin got the client's messages again, in order, text and binary as recorded
        assert received == CLIENT_MESSAGES
    finally:
        origin.stop()
    replayed = replayed_session(proxy, report)
    assert conversation(replayed) == conversation(Path(source))
    assert conversation(replayed)[-2:] == [("client", "close", CLOSE), ("server", "close", CLOSE)]
    (flow,) = wsk.websocket_flows(replayed).values()
    request = {name.lower(): value for name, value in flow["request"]["headers"]}
    (recorded,) = wsk.websocket_flows(Path(source)).values()
    recorded_request = {name.lower(): value for name, value in recorded["request"]["headers"]}
    assert request["sec-websocket-protocol"] == "chat.v1" and flow["response"]["status"] == 101
    assert request["sec-websocket-key"] != recorded_request["sec-websocket-key"], "a fresh key"
    assert flow["ended"].get("error") is None
    # diff pairs it with its source and compares it message by message
    p = proxy.cli("diff", source, str(replayed))
    assert p.returncode == 0, describe(p)


def test_an_altered_server_message_is_reported_with_its_index_and_json_pointer(tapline, tmp_path):
    received: list = []
    answers = {'{"subscribe": "prices"}': '{"prices": [1, 2], "currency": "EUR"}'}
    origin = greeting_origin(received, answers)
    try:
        source = record_conversation(tapline, origin)
        answers['{"subscribe": "prices"}'] = '{"prices": [1, 3], "currency": "EUR"}'
        proxy = tapline.started[0]
        report = tmp_path / "r.json"
        p = replay(proxy, source, "--report", str(report))
        assert p.returncode == 1, describe(p)
    finally:
        origin.stop()
    (flow,) = json.loads(report.read_text())["flows"]
    assert flow["result"] == "different", flow
    # the server's messages: 0 welcome, 1 hello's echo, 2 the binary echo, 3 the prices
    assert flow["differences"] == [{"kind": "message", "from": "server", "index": 3, "change": "payload",
                                    "format": "json", "changes": [
                                        {"path": "/prices/1", "change": "changed", "a": 2, "b": 3}]}], flow


def test_permessage_deflate_is_negotiated_and_replayed_compressed(tapline, tmp_path):
    received: list = []
    origin = greeting_origin(received, {}, compression="deflate")
    try:
        source = record_conversation(tapline, origin, extensions=wsk.deflate_extensions())
        received.clear()
        proxy = tapline.started[0]
        report = tmp_path / "r.json"
        p = replay(proxy, source, "--report", str(report))
        assert p.returncode == 0, describe(p)
        assert received == CLIENT_MESSAGES  # the origin inflated what the replay compressed
    finally:
        origin.stop()
    replayed = replayed_session(proxy, report)
    (flow,) = wsk.websocket_flows(replayed).values()
    assert "permessage-deflate" in dict((k.lower(), v) for k, v in flow["response"]["headers"])["sec-websocket-extensions"]
    data = [m for m in flow["messages"] if m["opcode"] in ("text", "binary")]
    assert data and all(m["compressed"] for m in data), data
    assert conversation(replayed) == conversation(Path(source))


def test_a_server_that_stops_answering_fails_the_flow_naming_the_awaited_message(tapline, tmp_path):
    received: list = []
    origin = greeting_origin(received, {})
    try:
        source = record_conversation(tapline, origin)
    finally:
        origin.stop()

    async def greets_then_goes_silent(ws):
        await ws.send("welcome")
        await ws.recv()
        await ws.wait_closed()  # never answers "hello": the replay gives up and closes

    silent = wsk.WebSocketOrigin(greets_then_goes_silent)
    try:
        proxy = tapline.started[0]
        report = tmp_path / "r.json"
        started = time.monotonic()
        p = replay(proxy, source, "--target", f"http://{HOST}:{silent.port}", "--timeout", "1",
                   "--report", str(report))
        assert time.monotonic() - started < 10
        assert p.returncode == 1, describe(p)
    finally:
        silent.stop()
    (flow,) = json.loads(report.read_text())["flows"]
    assert flow["result"] == "failed" and flow["error"]["kind"] == "upstream-timeout", flow
    assert flow["error"]["message"] == (
        f"the WebSocket server ({HOST}:{silent.port}) did not send its message 1 (0-based among the server's "
        "messages), which the recording has before the client's message 1 within 1 s"), flow


def test_a_websocket_recorded_over_http2_replays_over_http1_and_says_so(tapline, tmp_path):
    """Recorded as RFC 8441 (an h2c client's extended CONNECT, which the reverse proxy
    bridged to the HTTP/1.1 origin): replayed as an HTTP/1.1 Upgrade, with a note."""
    from tapline_testkit.h2_websocket import H2WebSocketClient

    received: list = []
    origin = greeting_origin(received, {})
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}", "/feed?room=1")
        try:
            assert client.open() == 200, client.headers
            client.wait(lambda: client.messages == ["welcome"], "the greeting")
            client.send("hello")
            client.wait(lambda: len(client.messages) == 2, "the echo")
            client.send_close(*CLOSE)
            client.wait(lambda: client.close_received is not None, "the server's close")
            client.end_stream()
            client.wait(lambda: client.ended, "the end of the stream")
        finally:
            client.close()
        source = proxy.session_dir()
        proxy.stop()
        assert received == ["hello"]
        received.clear()
        report = tmp_path / "r.json"
        p = replay(proxy, str(source), "--target", origin.http_url, "--report", str(report))
        assert p.returncode == 0, describe(p)
        assert "flow 1: recorded as a WebSocket over HTTP/2 (RFC 8441 extended CONNECT); replayed as an HTTP/1.1 " \
               "Upgrade" in p.stderr, describe(p)
        assert received == ["hello"]
    finally:
        origin.stop()
    replayed = replayed_session(proxy, report)
    (flow,) = wsk.websocket_flows(replayed).values()
    assert flow["request"]["method"] == "GET" and flow["request"]["target"] == "/feed?room=1"
    assert [(d, o) for d, o, _ in conversation(replayed)] == [
        ("server", "text"), ("client", "text"), ("server", "text"), ("client", "close"), ("server", "close")]


def test_a_server_that_pings_and_closes_first_is_answered_as_recorded(tapline, tmp_path):
    """The origin pings after the client's messages (waiting for the pong) and then closes
    first (4001): the replay answers the ping and answers the close with the client's
    recorded close, and the conversation is the recorded one."""
    pongs: list = []

    async def handler(ws):
        await ws.send("welcome")
        for _ in CLIENT_MESSAGES:
            await ws.send(await ws.recv())
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        pongs.append(True)
        await ws.close(4001, "server done")

    origin = wsk.WebSocketOrigin(handler)
    try:
        proxy = tapline()

        async def converse():
            async with wsk.connect(origin.url, "/feed", mode="absolute", proxy=proxy) as ws:
                assert await ws.recv() == "welcome"
                for message in CLIENT_MESSAGES:
                    await ws.send(message)
                    await ws.recv()
                await ws.wait_closed()

        asyncio.run(asyncio.wait_for(converse(), 20))
        wsk.wait_for_ended_websocket_flow(proxy)
        source = proxy.session_dir()
        proxy.stop()
        assert pongs == [True]
        report = tmp_path / "r.json"
        p = replay(proxy, str(source), "--report", str(report), "--timeout", "5")
        assert p.returncode == 0, describe(p)
        assert pongs == [True, True], "the replay answered the server's ping"
        assert not origin.errors, origin.errors
    finally:
        origin.stop()
    replayed = replayed_session(proxy, report)
    assert conversation(replayed)[-2:] == [("server", "close", (4001, "server done")),
                                           ("client", "close", (4001, "server done"))]
    assert [m for m in conversation(replayed) if m[1] in ("text", "binary", "close")] == \
           [m for m in conversation(source) if m[1] in ("text", "binary", "close")]


def test_recorded_pace_sends_each_message_at_its_recorded_offset(tapline, tmp_path):
    """The client sent three messages 400 ms apart to a server that answers only after
    the last. Under --pace none nothing awaits a server message, so they go back to back;
    under --pace recorded each goes at its recorded offset (here at --speed 2: 200 ms apart)."""
    arrivals: list = []

    async def answers_after_three(ws):
        for _ in range(3):
            await ws.recv()
            arrivals.append(time.monotonic())
        await ws.send("got all three")
        await ws.wait_closed()

    origin = wsk.WebSocketOrigin(answers_after_three)
    try:
        proxy = tapline()

        async def converse():
            async with wsk.connect(origin.url, "/slow", mode="absolute", proxy=proxy) as ws:
                for message in ["one", "two", "three"]:
                    await ws.send(message)
                    await asyncio.sleep(0.4)
                assert await ws.recv() == "got all three"
                await ws.close(1000, "")

        asyncio.run(asyncio.wait_for(converse(), 20))
        wsk.wait_for_ended_websocket_flow(proxy)
        source = str(proxy.session_dir())
        proxy.stop()

        arrivals.clear()
        p = replay(proxy, source)
        assert p.returncode == 0, describe(p)
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
        assert max(gaps) < 0.15, gaps

        arrivals.clear()
        p = replay(proxy, source, "--pace", "recorded", "--speed", "2")
        assert p.returncode == 0, describe(p)
        # Each message goes at its recorded offset from the first (200 ms, 400 ms), never
        # earlier; a loaded machine can only make one late (and the next then closer to it).
        offsets = [t - arrivals[0] for t in arrivals]
        assert 0.15 < offsets[1] and 0.35 < offsets[2] < 2.0, offsets
    finally:
        origin.stop()
