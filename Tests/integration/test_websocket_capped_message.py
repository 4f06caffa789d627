"""A WebSocket message over the 64 MiB decoding cap (issue #21 follow-up): the capture keeps
its first 64 MiB, but the proxy relays every byte, and `tapline show` says the message was cut
for the capture only — in the timeline and at the top of `--flow N` — while the flow's end
reason stays what happened on the wire (here: the client left without a close frame).

A fast cousin of test_websocket_bombs.py: one 65 MiB message of zeros (about 65 kB with
permessage-deflate) to an echo origin and back."""

from __future__ import annotations

import asyncio
import json

from tapline_testkit import websocket as wsk

MIB = 1 << 20
MESSAGE = 65 * MIB  # over the cap
CAP = 64 * MIB  # WebSocketMessageDecoder.defaultMaxMessageBytes


def test_a_message_over_the_cap_is_relayed_whole_and_show_says_it_was_cut_for_the_capture(tapline):
    received: list[bytes] = []

    async def echo_once(ws):
        message = await ws.recv()
        received.append(message)
        await ws.send(message)
        try:
            await ws.wait_closed()
        except Exception:
            pass  # the client vanishes without a close frame

    origin = wsk.WebSocketOrigin(echo_once, compression="deflate", max_size=None)
    try:
        proxy = tapline()

        async def run() -> bytes:
            ws = await wsk.connect(origin.url, "/big", mode="absolute", proxy=proxy,
                                   extensions=wsk.deflate_extensions(), max_size=None)
            await ws.send(bytes(MESSAGE))
            echoed = await ws.recv()
            ws.transport.abort()  # leave without a close frame
            return echoed

        echoed = asyncio.run(asyncio.wait_for(run(), 120))
        # Every byte went through the proxy, both ways.
        assert len(received) == 1 and len(received[0]) == MESSAGE and received[0] == bytes(MESSAGE)
        assert len(echoed) == MESSAGE and echoed == bytes(MESSAGE)

        flow = wsk.wait_for_ended_websocket_flow(proxy, timeout=60)[0]
        flow_id = flow["request"]["flow"]
        session = str(proxy.session_dir())

        shown = proxy.cli("show", session, "--flow", str(flow_id), "--json")
        assert shown.returncode == 0, shown.stderr
        detail = json.loads(shown.stdout)
        assert detail["error"]["kind"] == "client-aborted", detail["error"]
        assert "without a WebSocket close frame" in detail["error"]["message"]
        messages = detail["webSocketMessages"]
        assert [(m["dir"], m["size"], m["truncated"], m["capped"]) for m in messages] == [
            ("client", CAP, True, True), ("server", CAP, True, True)]

        shown = proxy.cli("show", session, "--flow", str(flow_id))
        assert shown.returncode == 0, shown.stderr
        out = shown.stdout if isinstance(shown.stdout, str) else shown.stdout.decode()
        lines = [line.strip() for line in out.splitlines()]
        summary = lines[:lines.index("Connection " + str(detail["connection"]))]
        assert ("message 1 (from the client) was cut at 64 MiB for the capture only: the proxy relayed all its bytes; "
                "the client's later frames were relayed but not recorded") in summary, out
        assert ("message 2 (from the server) was cut at 64 MiB for the capture only: the proxy relayed all its bytes; "
                "the server's later frames were relayed but not recorded") in summary, out
        timeline = [line for line in lines if "→ binary" in line or "← binary" in line]
        assert len(timeline) == 2, out
        assert timeline[0].endswith("(message 1 cut at 64 MiB for the capture only; relayed whole)"), timeline
        assert timeline[1].endswith("(message 2 cut at 64 MiB for the capture only; relayed whole)"), timeline
        assert "capture kept 67108864 of 67108864 bytes" not in out
        assert "client-aborted" in out  # the end reason is still what happened on the wire
    finally:
        origin.stop()
