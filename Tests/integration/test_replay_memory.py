"""`tapline replay` in bounded memory (issue #23, "Memory stays bounded ... state the
bound"; docs/replay.md, "Memory"): the CI-sized versions of the benchmark's cases
(bench/replay.sh: 100,000 flows, and 1 GiB bodies with `--only big`). Peak RSS is the
replay process's `ru_maxrss` from `wait4`, taken by a small launcher (`scripts/peak-rss.py`).

- 20,000 recorded GETs replayed with `--concurrency 10`: the source is streamed, each
  flow compared as it ends, and only a compact outcome kept per flow.
- a POST with a 64 MiB request body answered with a 64 MiB body: the request is sent
  from the capture a chunk at a time, the response matched against the recording as it
  arrives; neither is held.

The bound, 96 MiB, is generous (the replay needs ~30-45 MiB for either); the previous
design held both sessions' flows and loaded both bodies whole to compare them, and needs
~200 MiB and ~170 MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tapline_testkit.streaming_origin import StreamingOrigin
from tapline_testkit.util import curl, tapline_bin

BOUND_KIB = 96 * 1024
MIB = 1 << 20


# The replay's peak RSS is taken by scripts/peak-rss.py: a child that pytest starts directly
# inherits pytest's own peak RSS (vfork, and exec keeps the larger high-water mark).
PEAK_RSS = Path(__file__).resolve().parents[2] / "scripts" / "peak-rss.py"


def replay_rss(binary: str, session: Path, captures: Path, *args: str) -> tuple[int, str, str, int]:
    """Runs `tapline replay` to its end; returns (exit status, stdout, stderr, peak RSS in KiB)."""
    out, err, rss = captures.parent / "replay.out", captures.parent / "replay.err", captures.parent / "replay.rss"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.run([sys.executable, str(PEAK_RSS), str(rss), binary, "replay", str(session),
                               "--capture", str(captures), *args], stdout=stdout, stderr=stderr, timeout=280)
    return proc.returncode, out.read_text(), err.read_text(), int(rss.read_text().split()[0])


def synthesise(template: Path, captures: Path, flows: int, connections: int) -> Path:
    """A closed session of `flows` copies of `template`'s one flow, back to back on
    `connections` recorded connections, written straight in the capture format
    (docs/capture-format.md); every copy's response body is the template's bytes."""
    events = [json.loads(line) for line in (template / "events.jsonl").read_text().splitlines()]
    flow_events = [e for e in events if "flow" in e]
    assert flow_events and all(e["flow"] == 1 for e in flow_events), "one flow in the template"
    conn = flow_events[0]["conn"]
    opened = next(e for e in events if e["type"] == "connectionOpened" and e["conn"] == conn)
    closed = next(e for e in events if e["type"] == "connectionClosed" and e["conn"] == conn)
    start, span = flow_events[0]["t"], flow_events[-1]["t"] - flow_events[0]["t"] + 100
    directory = captures / (template.name[:-4] + "beef")
    (directory / "bodies").mkdir(parents=True)
    for segment in (template / "bodies").iterdir():
        (directory / "bodies" / segment.name).write_bytes(segment.read_bytes())
    flow_id = 0
    with open(directory / "events.jsonl", "w") as out:
        for connection in range(1, connections + 1):
            out.write(json.dumps(dict(opened, conn=connection, t=start)) + "\n")
            for position in range(flows // connections):
                flow_id += 1
                shift = position * span + connection
                for e in flow_events:
                    copy = dict(e, flow=flow_id, t=e["t"] + shift)
                    if "conn" in copy:
                        copy["conn"] = connection
                    if e["type"] == "flowEnded":
                        copy["timings"] = {k: v + shift for k, v in e["timings"].items()}
                    out.write(json.dumps(copy, separators=(",", ":")) + "\n")
            out.write(json.dumps(dict(closed, conn=connection, t=start + shift + span)) + "\n")
    meta = json.loads((template / "session.json").read_text())
    meta["id"] = directory.name
    meta.pop("stats", None)
    (directory / "session.json").write_text(json.dumps(meta))
    return directory


@pytest.mark.timeout(300)  # 20,000 flows through a Python origin, on a debug build too
def test_a_20000_flow_replay_compares_every_flow_in_bounded_memory(tapline, tmp_path):
    origin = StreamingOrigin(response_bytes=1024)
    try:
        proxy = tapline()
        r = curl("-x", proxy.proxy_url, origin.url + "/f/1.bin")
        assert r.returncode == 0, r.stderr
        template = proxy.session_dir()
        proxy.stop()
        session = synthesise(template, tmp_path / "sessions", 20_000, 10)

        status, out, err, rss = replay_rss(str(tapline_bin()), session, tmp_path / "replays", "--concurrency", "10")
        assert status == 0, out[-2000:] + err[-2000:]
        assert "all matched: sent 20000: 20000 equal, 0 different, 0 failed; 0 skipped" in out, out[-2000:]
        assert len(origin.requests) == 1 + 20_000  # the recording's and the replay's
        assert rss < BOUND_KIB, f"peak RSS {rss / 1024:.1f} MiB for 20,000 flows (bound {BOUND_KIB // 1024} MiB)"
    finally:
        origin.stop()


@pytest.mark.timeout(300)
def test_64_mib_request_and_response_bodies_replay_in_bounded_memory(tapline, tmp_path):
    size = 64 * MIB
    origin = StreamingOrigin(response_bytes=size)
    try:
        upload = tmp_path / "upload.bin"
        with open(upload, "wb") as f:
            for i in range(64):
                f.write(bytes([i]) * MIB)
        proxy = tapline()
        r = curl("-x", proxy.proxy_url, "-H", "Expect:", "--data-binary", f"@{upload}", "-o", os.devnull,
                 origin.url + "/big", timeout=120)
        assert r.returncode == 0, r.stderr
        session = proxy.session_dir()
        proxy.stop()
        upload.unlink()
        recorded = origin.requests[0]

        status, out, err, rss = replay_rss(str(tapline_bin()), session, tmp_path / "replays")
        assert status == 0, out[-2000:] + err[-2000:]
        assert "all matched: sent 1: 1 equal, 0 different, 0 failed; 0 skipped" in out, out
        assert origin.requests[1] == recorded, "the request body arrived as recorded"
        assert rss < BOUND_KIB, f"peak RSS {rss / 1024:.1f} MiB for 64 MiB bodies (bound {BOUND_KIB // 1024} MiB)"
    finally:
        origin.stop()
