"""`tapline show --proto` decode-rate benchmark (see bench/grpc_show.sh).

Writes a synthetic capture session in the capture format (docs/capture-format.md):
FLOWS bidi-streaming `tapline.example.v1.Orders/Chat` calls of MESSAGES/FLOWS
ChatMessages each, half each way, every message in its own body chunk (as an
interactive call stores them). Then times `tapline show SESSION --json` (the list:
every call's messages are framed and decoded to count them) with the `proto/`
schema and without one (schemaless), and `--flow 1 --json` for one call in full.
Prints messages per second. Not a test."""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def chat_message(sequence: int) -> bytes:
    """tapline.example.v1.ChatMessage{sequence, text, sent_at: Timestamp{seconds, nanos}}."""
    text = f"message number {sequence}".encode()
    stamp = b"\x08" + varint(1_790_000_000 + sequence) + b"\x10" + varint(sequence * 1000 % 1_000_000_000)
    return b"\x08" + varint(sequence) + b"\x12" + varint(len(text)) + text + b"\x22" + varint(len(stamp)) + stamp


def write_session(directory: Path, flows: int, per_direction: int) -> int:
    """The session; returns how many messages it holds."""
    (directory / "bodies").mkdir(parents=True)
    t = 1_790_000_000_000_000
    lines = []
    offset = 0
    with open(directory / "bodies" / "000001.bin", "wb") as segment:
        def event(**fields):
            nonlocal t
            t += 10
            lines.append(json.dumps({"t": t, **fields}, separators=(",", ":")))

        event(type="connectionOpened", conn=1, client="127.0.0.1:50000", listener="127.0.0.1:8080")
        for flow in range(1, flows + 1):
            event(type="flowStarted", flow=flow, conn=1, kind="http", scheme="http", authority="127.0.0.1:50051",
                  stream=2 * flow - 1)
            event(type="requestHead", flow=flow, method="POST", target="/tapline.example.v1.Orders/Chat",
                  version="HTTP/2", headers=[["content-type", "application/grpc"], ["te", "trailers"]])
            event(type="responseHead", flow=flow, status=200, version="HTTP/2",
                  headers=[["content-type", "application/grpc"]])
            sizes = {"request": 0, "response": 0}
            for index in range(per_direction):
                for direction in ("request", "response"):
                    payload = chat_message(index)
                    frame = b"\x00" + struct.pack(">I", len(payload)) + payload
                    segment.write(frame)
                    event(type="body", flow=flow, dir=direction, seg=1, off=offset, len=len(frame))
                    offset += len(frame)
                    sizes[direction] += len(frame)
            event(type="requestEnd", flow=flow, bodyBytes=sizes["request"], capturedBytes=sizes["request"], truncated=False)
            event(type="responseEnd", flow=flow, trailers=[["grpc-status", "0"]], bodyBytes=sizes["response"],
                  capturedBytes=sizes["response"], truncated=False)
            event(type="flowEnded", flow=flow, timings={}, bytesFromClient=sizes["request"],
                  bytesFromServer=sizes["response"])
        event(type="connectionClosed", conn=1, received=offset, sent=offset)
    (directory / "events.jsonl").write_text("\n".join(lines) + "\n")
    (directory / "session.json").write_text(json.dumps({
        "format": "tapline-capture", "version": 2, "id": directory.name,
        "started": "2026-09-21T12:26:40.000Z", "ended": "2026-09-21T12:26:41.000Z", "tapline": "bench",
        "proxy": {"listen": "127.0.0.1:8080", "mode": "reverse"}, "maxBodyBytes": None}))
    return flows * per_direction * 2


def timed(command: list[str]) -> float:
    start = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--flows", type=int, default=100)
    args = parser.parse_args()
    per_direction = max(1, args.messages // args.flows // 2)
    with tempfile.TemporaryDirectory(prefix="tapline-grpc-show-") as temporary:
        session = Path(temporary) / "20260921-122640-beef"
        total = write_session(session, args.flows, per_direction)
        schema = ["--proto", str(ROOT / "proto")]
        show = [args.bin, "show", str(session)]
        timed(show + ["--json"] + schema)  # warm the page cache
        with_schema = min(timed(show + ["--json"] + schema) for _ in range(3))
        raw = min(timed(show + ["--json"]) for _ in range(3))
        one = min(timed(show + ["--flow", "1", "--json"] + schema) for _ in range(3))
    print(f"grpc show: {total} messages in {args.flows} bidi calls")
    print(f"  show --json --proto proto/ (list, every message decoded): {with_schema:.2f} s, {total / with_schema:,.0f} messages/s")
    print(f"  show --json, no schema (raw decode):                     {raw:.2f} s, {total / raw:,.0f} messages/s")
    print(f"  show --flow 1 --json --proto proto/ ({2 * per_direction} messages, printed):   {one:.2f} s, {2 * per_direction / one:,.0f} messages/s")


if __name__ == "__main__":
    main()
