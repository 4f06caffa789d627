"""A WebSocket message over the 64 MiB decoding cap (issue #21 follow-ups): the capture keeps
its first 64 MiB, but the proxy relays every byte, and `tapline show` says the message was cut
for the capture only — in the timeline and at the top of `--flow N`. The tap goes on parsing
that side's frames after the cap: a later small message is recorded (with context takeover,
as here, only its compressed size: the DEFLATE window was lost with the cut) and the close
handshake is seen, so the flow ends as it did on the wire (a clean close, not `client-aborted`).
HAR and Postman exports mark the messages the capture could not hold (`truncated`, size, reason).

A fast cousin of test_websocket_bombs.py: one 65 MiB message of zeros (about 65 kB with
permessage-deflate) to an echo origin and back, then one small message each way and a close."""

from __future__ import annotations

import json

from tapline_testkit import websocket as wsk

MIB = 1 << 20
MESSAGE = 65 * MIB  # over the cap
CAP = 64 * MIB  # WebSocketMessageDecoder.defaultMaxMessageBytes
LATER = "after the cap"


def test_a_message_over_the_cap_is_relayed_whole_and_later_frames_are_still_recorded(tapline, tmp_path):
    received: list[bytes | str] = []
    origin = wsk.echoing_origin(received, deflate=True)
    try:
        proxy = tapline()
        wsk.echo_through_proxy(proxy, origin, received, bytes(MESSAGE), LATER, deflate=True, timeout=120)

        flow = wsk.wait_for_ended_websocket_flow(proxy, timeout=60)[0]
        flow_id = flow["request"]["flow"]
        session = str(proxy.session_dir())

        shown = proxy.cli("show", session, "--flow", str(flow_id), "--json")
        assert shown.returncode == 0, shown.stderr
        detail = json.loads(shown.stdout)
        # The client closed properly and the server answered: a clean end, as on the wire.
        assert detail["error"] is None, detail["error"]
        messages = detail["webSocketMessages"]
        assert [(m["dir"], m["opcode"], m["capped"], m.get("undecoded")) for m in messages] == [
            ("client", "binary", True, False), ("server", "binary", True, False),
            ("client", "text", False, True), ("server", "text", False, True),
            ("client", "close", False, False), ("server", "close", False, False)], messages
        assert [m["size"] for m in messages[:2]] == [CAP, CAP]
        # Context takeover: the later message could not be inflated; its size is the compressed
        # payload's (its frame minus a 2-byte header, and the client's 4-byte mask).
        client_later, server_later = messages[2], messages[3]
        assert client_later["compressed"] and server_later["compressed"]
        assert client_later["size"] == client_later["wireBytes"] - 6
        assert server_later["size"] == server_later["wireBytes"] - 2
        assert client_later["truncated"] and client_later["text"] == ""
        assert (messages[4]["code"], messages[4]["reason"]) == (1000, "done")
        assert messages[5]["code"] == 1000
        # The capture file itself carries the marker.
        lines = {(m["dir"], m["opcode"]): m for m in flow["messages"]}
        assert lines[("client", "text")].get("undecoded") is True and "capped" not in lines[("client", "text")]

        shown = proxy.cli("show", session, "--flow", str(flow_id))
        assert shown.returncode == 0, shown.stderr
        out = shown.stdout if isinstance(shown.stdout, str) else shown.stdout.decode()
        lines = [line.strip() for line in out.splitlines()]
        summary = lines[:lines.index("Connection " + str(detail["connection"]))]
        for number, side in [(1, "client"), (2, "server")]:
            assert (f"message {number} (from the {side}) was cut at 64 MiB for the capture only: the proxy relayed all "
                    f"its bytes; 1 later compressed message from the {side} could not be decoded (the compression "
                    "context was lost with the cut)") in summary, out
        timeline = [line for line in lines if line.startswith("+") and ("→" in line or "←" in line)]
        assert len(timeline) == 6, out
        assert timeline[0].endswith("(message 1 cut at 64 MiB for the capture only; relayed whole)"), timeline
        assert timeline[1].endswith("(message 2 cut at 64 MiB for the capture only; relayed whole)"), timeline
        for line, number, size in [(timeline[2], 1, client_later["size"]), (timeline[3], 2, server_later["size"])]:
            assert f"{size} B compressed (wire" in line, line
            assert line.endswith(f"(not decoded: the compression context was lost when message {number} was cut "
                                 "at the cap; relayed whole)"), line
        assert "→ close" in timeline[4] and 'code 1000 "done"' in timeline[4], timeline
        assert "← close" in timeline[5] and "code 1000" in timeline[5], timeline
        assert "capture kept" not in out
        assert "aborted" not in out  # the end reason is what happened on the wire

        # HAR and Postman mark the messages the capture could not hold: the capped ones with the
        # bytes decoded, the undecoded ones with their compressed size; import keeps the marks.
        markers = wsk.exported_message_markers(proxy, tmp_path)
        assert markers["har"] == [
            {"truncated": True, "size": CAP, "reason": "capped"}, {"truncated": True, "size": CAP, "reason": "capped"},
            {"truncated": True, "size": client_later["size"], "reason": "undecoded"},
            {"truncated": True, "size": server_later["size"], "reason": "undecoded"}, None, None], markers["har"]
        assert markers["postman"] == markers["har"]
        assert markers["reimported"] == markers["har"]
    finally:
        origin.stop()
