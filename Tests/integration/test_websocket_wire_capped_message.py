"""A WebSocket message over 64 MiB on the wire, uncompressed (issue #21 follow-up): the proxy
relays every byte; the capture keeps the first 64 MiB and records the real size, marked
`truncated` and `capped`; the tap goes on parsing that side, so the later message and the
close handshake are recorded and the flow ends as it did on the wire (a clean close, not
"without a WebSocket close frame"). `tapline show --flow N` says the message was cut for the
capture only, and the HAR export marks the message (`truncated`, its size, `capped`).

The uncompressed cousin of test_websocket_capped_message.py: one 65 MiB binary message to an
echo origin and back, then one small text message each way and a close."""

from __future__ import annotations

import base64
import json

from tapline_testkit import websocket as wsk

MIB = 1 << 20
CAP = 64 * MIB  # WebSocketMessageDecoder.defaultMaxMessageBytes
MESSAGE = bytes(range(256)) * (65 * MIB // 256)  # 65 MiB, over the cap; not all zeros, so a shifted cut shows
LATER = "after the cap"


def test_an_uncompressed_message_over_the_cap_is_recorded_cut_with_its_real_size_and_later_frames(tapline, tmp_path):
    received: list[bytes | str] = []
    origin = wsk.echoing_origin(received, deflate=False)
    try:
        proxy = tapline()
        wsk.echo_through_proxy(proxy, origin, received, MESSAGE, LATER, deflate=False, timeout=60)

        flow = wsk.wait_for_ended_websocket_flow(proxy, timeout=30)[0]
        flow_id = flow["request"]["flow"]
        session = proxy.session_dir()
        # The client closed properly and the server answered: a clean end, as on the wire.
        assert "error" not in flow["ended"] or flow["ended"]["error"] is None, flow["ended"]
        assert "without a WebSocket close frame" not in str(flow["ended"])

        messages = flow["messages"]
        assert [(m["dir"], m["opcode"]) for m in messages] == [
            ("client", "binary"), ("server", "binary"), ("client", "text"), ("server", "text"),
            ("client", "close"), ("server", "close")], messages
        for big in messages[:2]:
            # The real size, known exactly from the frame; the first 64 MiB are stored.
            assert big["size"] == len(MESSAGE), big
            assert big["truncated"] is True and big["capped"] is True, big
            assert big["compressed"] is False and "undecoded" not in big
            assert big["wireBytes"] > len(MESSAGE)
            assert big["len"] == CAP, big
            assert wsk.payload_of(session, big) == MESSAGE[:CAP]
        for small in messages[2:4]:
            assert small["text"] == LATER and "truncated" not in small and "capped" not in small, small
        assert (messages[4]["code"], messages[4]["reason"]) == (1000, "done")
        assert messages[5]["code"] == 1000

        shown = proxy.cli("show", str(session), "--flow", str(flow_id))
        assert shown.returncode == 0, shown.stderr
        out = shown.stdout if isinstance(shown.stdout, str) else shown.stdout.decode()
        lines = [line.strip() for line in out.splitlines()]
        for number, side in [(1, "client"), (2, "server")]:
            assert (f"message {number} (from the {side}) was cut at 64 MiB for the capture only: the proxy relayed all "
                    "its bytes") in lines, out
        timeline = [line for line in lines if line.startswith("+") and ("→" in line or "←" in line)]
        assert len(timeline) == 6, out
        for line, number in [(timeline[0], 1), (timeline[1], 2)]:
            assert "68 MB (wire 68 MB)" in line, line  # the real size, not the cap
            assert line.endswith(f"(message {number} cut at 64 MiB for the capture only; relayed whole)"), line
        assert f'"{LATER}"' in timeline[2] and f'"{LATER}"' in timeline[3], timeline
        assert "→ close" in timeline[4] and 'code 1000 "done"' in timeline[4], timeline
        assert "← close" in timeline[5] and "code 1000" in timeline[5], timeline
        assert "capture kept" not in out
        # The end reason is what happened on the wire (a timeline time may read "+1006 ms").
        assert "aborted" not in out and "code 1006" not in out

        # The HAR export says which messages are not whole, with the real size (Postman and the
        # import round trip are checked on test_websocket_capped_message.py's session).
        har = tmp_path / "out.har"
        p = proxy.cli("export", proxy.session_id, "--capture", str(proxy.capture_dir), "--har", str(har), timeout=60)
        assert p.returncode == 0, p.stderr
        exported = json.loads(har.read_text())["log"]["entries"][0]["_webSocketMessages"]
        capped = {"truncated": True, "size": len(MESSAGE), "reason": "capped"}
        assert [m.get("_tapline") for m in exported] == [capped, capped, None, None, None, None], exported[2:]
        assert base64.b64decode(exported[0]["data"]) == MESSAGE[:16 * MIB]  # the export's limit per message
    finally:
        origin.stop()
