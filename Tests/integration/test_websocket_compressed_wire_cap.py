"""The cap a WebSocket message was cut at is stated by the capture and printed by `show`
(rv-export review item 5), for the cut where guessing it from the message's size fails: a
compressed message whose compressed payload is itself over the 64 MiB cap on the wire. The
proxy keeps its first 64 MiB and inflates those, so the message's recorded `size` (what was
decoded) is no whole number of MiB; the `wsMessage` line records `"cap": 67108864` and
`tapline show --flow N` says "cut at 64 MiB", where an inference from the size said
"cut at 67xxxxxx bytes".

65 MiB of random bytes (incompressible: over the cap after permessage-deflate too), sent
once from the client to an origin that only counts what it got, then a clean close."""

from __future__ import annotations

import asyncio
import os
import threading

from tapline_testkit import websocket as wsk

MIB = 1 << 20
CAP = 64 * MIB  # WebSocketMessageDecoder.defaultMaxMessageBytes
MESSAGE = os.urandom(65 * MIB)


def test_a_compressed_message_over_the_cap_on_the_wire_is_said_to_be_cut_at_the_recorded_cap(tapline):
    received: list[int] = []
    handler_done = threading.Event()

    async def count_until_closed(ws):
        try:
            async for message in ws:  # ends when the client's close frame was answered
                received.append(len(message))
        finally:
            handler_done.set()

    origin = wsk.WebSocketOrigin(count_until_closed, compression="deflate", max_size=None)
    try:
        proxy = tapline()

        async def run() -> None:
            # The close waits for the server's close frame for as long as the test may take:
            # while the capture inflates (or stores) the message, the proxy reads no more of
            # either side, so on a loaded machine the answer can take longer than the default
            # close timeout, after which the client would abort and the message never arrive.
            ws = await wsk.connect(origin.url, "/big", mode="absolute", proxy=proxy,
                                   extensions=wsk.deflate_extensions(), max_size=None, close_timeout=110)
            await ws.send(MESSAGE)
            await ws.close(code=1000, reason="done")  # waits for the server's close frame

        asyncio.run(asyncio.wait_for(run(), 120))
        # The origin's library answers the close as soon as it reads it, while its handler may
        # still be taking the 65 MiB message off its queue: wait for the handler to finish.
        assert handler_done.wait(60), "the origin's handler did not finish"
        if received != [len(MESSAGE)]:
            # Say what the proxy recorded and logged, so that a failure explains itself.
            flows = wsk.websocket_flows(proxy.session_dir())
            raise AssertionError(f"the proxy relays the whole message: the origin got {received}; "
                                 f"recorded flows: {flows}\n{proxy.stderr_tail()}")

        flow = wsk.wait_for_ended_websocket_flow(proxy, timeout=60)[0]
        big = flow["messages"][0]
        assert (big["dir"], big["opcode"], big["compressed"]) == ("client", "binary", True), big
        assert big["wireBytes"] > CAP, "the compressed message must be over the cap on the wire"
        assert big["capped"] is True, {k: v for k, v in big.items() if k != "text"}
        assert big["size"] % MIB != 0, "what the kept bytes inflated to is no whole number of MiB"

        shown = proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow["request"]["flow"]))
        assert shown.returncode == 0, shown.stderr
        out = shown.stdout if isinstance(shown.stdout, str) else shown.stdout.decode()
        lines = [line.strip() for line in out.splitlines()]
        assert ("message 1 (from the client) was cut at 64 MiB for the capture only: the proxy relayed all "
                "its bytes") in lines, out
        timeline = [line for line in lines if line.startswith("+") and "→ binary" in line]
        assert len(timeline) == 1 and "(message 1 cut at 64 MiB for the capture only; relayed whole" in timeline[0], out
        # What show printed is what the capture recorded.
        assert big.get("cap") == CAP, {k: v for k, v in big.items() if k != "text"}
    finally:
        origin.stop()
