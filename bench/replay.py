#!/usr/bin/env python3
"""Tapline mock and replay benchmarks (called by bench/replay.sh and `make bench`;
Python stdlib only).

Both use a session made here: one real exchange recorded through `tapline proxy
--reverse` against nginx (GET of a 1 KiB file), copied into a session of N flows
(`--flows`) over C recorded connections, each flow a GET of one of 1,000 files
`/f/0000.bin` .. `/f/0999.bin` that nginx serves with the same bytes and the same
Last-Modified, so a replay against that nginx is equal flow for flow.

mock    `wrk -t2 -c50` cycling through the 1,000 paths, against
          nginx                      the same bytes as static files (the limit)
          tapline mock SESSION       a 1,000-flow session
          mitmdump --server-replay   the same session exported as HAR (`tapline export
                                     --har`; mitmproxy reads HAR as a flow file),
                                     reverse mode, lazy upstream, responses reused
        in interleaved rounds; req/s per round and the median ratio to nginx.

replay  `tapline replay SESSION --concurrency 50` of a session of `--flows` flows
        (100,000 by default; 50 recorded connections, so 50 run at once) against
        the nginx it was recorded from, capture on (the default: the replay session
        is written and compared). Its rate (flows / wall time of the whole command:
        loading, sending, writing, comparing) against `wrk -t2 -c50` on the same
        paths; peak RSS of the replay process (ru_maxrss from wait4). Interleaved
        rounds, median ratio.

big     (only with `--only big`, not in `make bench`) one POST with a `--big-mib`
        (1,024 by default) request body answered with a body of the same size,
        recorded through `tapline proxy` from a local streaming origin
        (Tests/integration/tapline_testkit/streaming_origin.py, which holds neither
        body), then replayed against it: wall time, and the replay's peak RSS, which
        must not grow with the bodies (docs/replay.md, "Memory").
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

# Process and nginx helpers shared with the HTTP/1 bench (bench/bench.py, same directory).
from bench import (HOST, _on_signal, check_get, free_port, launch_nginx, nginx_binary, nginx_config, parse_wrk,
                   spawn, stop, stop_all, wait_for_port)

PATHS = 1000
BODY = bytes(range(256)) * 4
MTIME = 1_790_000_000  # every file's Last-Modified, so recordings and replays agree


def path_of(index: int) -> str:
    return f"/f/{index % PATHS:04d}.bin"


# --- origin ------------------------------------------------------------------------
def start_origin(workdir: Path) -> int:
    """nginx (one worker, as bench/run.sh) serving the 1,000 files; returns its port."""
    files = workdir / "www" / "f"
    files.mkdir(parents=True)
    (workdir / "tmp").mkdir()
    for i in range(PATHS):
        target = files / f"{i:04d}.bin"
        target.write_bytes(BODY)
        os.utime(target, (MTIME, MTIME))
    nginx = nginx_binary()
    port = free_port()
    launch_nginx(nginx, workdir, port, nginx_config(nginx, workdir, port))
    return port


# --- sessions --------------------------------------------------------------------------
def record_template(binary: str, workdir: Path, origin: int) -> Path:
    """One GET recorded through `tapline proxy --reverse`: the session directory."""
    captures = workdir / "template"
    captures.mkdir()
    port = free_port()
    env = dict(os.environ, TAPLINE_HOME=str(workdir / "home"))
    proxy = spawn([binary, "proxy", "--listen", f"{HOST}:{port}", "--reverse", f"http://{HOST}:{origin}",
                   "--quiet", "--capture", str(captures)], env=env,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proxy)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{HOST}:{port}{path_of(0)}", timeout=10) as response:
        if response.status != 200 or response.read() != BODY:
            raise RuntimeError("bench: the template GET through tapline did not get the 1 KiB file")
    stop(proxy)  # SIGTERM closes the session
    (session,) = captures.iterdir()
    return session


def synthesise_session(template: Path, captures: Path, flows: int, connections: int) -> Path:
    """A closed session of `flows` copies of the template's one flow, spread evenly
    over `connections` recorded connections (back to back on each), flow i a GET of
    path_of(id - 1), each with its own 1 KiB of the body segment. Written straight into
    the capture format (docs/capture-format.md), so 100k flows take seconds."""
    events = [json.loads(line) for line in (template / "events.jsonl").read_text().splitlines()]
    flow_events = [e for e in events if "flow" in e]
    if not flow_events or any(e["flow"] != 1 for e in flow_events):
        raise RuntimeError(f"bench: expected one flow in the template session {template}")
    # (wait_for_port's probe is a connection of its own, without flows.)
    conn = flow_events[0]["conn"]
    opened = [e for e in events if e["type"] == "connectionOpened" and e["conn"] == conn]
    closed = [e for e in events if e["type"] == "connectionClosed" and e["conn"] == conn]
    start = flow_events[0]["t"]
    # On each recorded connection a flow starts 100 µs after the previous one ended;
    # the connections run side by side, 10 µs apart.
    span = flow_events[-1]["t"] - start + 100
    per_connection = -(-flows // connections)

    now = datetime.now(timezone.utc)
    session_id = now.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    directory = captures / session_id
    (directory / "bodies").mkdir(parents=True, mode=0o700)
    (directory / "writer.lock").touch(mode=0o600)
    lines = 0
    flow_id = 0
    with open(directory / "events.jsonl", "w") as out, open(directory / "bodies" / "000001.bin", "wb") as body:
        def write(event: dict) -> None:
            nonlocal lines
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")
            lines += 1

        for conn in range(1, connections + 1):
            base = conn * 10
            count = min(per_connection, flows - flow_id)
            if count <= 0:
                break
            write(dict(opened[0], conn=conn, t=start + base - 1))
            for position in range(count):
                flow_id += 1
                shift = base + position * span
                target = path_of(flow_id - 1)
                for e in flow_events:
                    copy = dict(e, flow=flow_id, t=e["t"] + shift)
                    if "conn" in copy:
                        copy["conn"] = conn
                    if e["type"] == "requestHead":
                        copy["target"] = target
                    elif e["type"] == "body":
                        copy["off"] = (flow_id - 1) * len(BODY)
                    elif e["type"] == "flowEnded":
                        copy["timings"] = {k: v + shift for k, v in e["timings"].items()}
                    write(copy)
                body.write(BODY)
            write(dict(closed[0], conn=conn, t=start + shift + span))

    meta = json.loads((template / "session.json").read_text())
    meta.update(id=session_id, started=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                ended=now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                stats={"flows": flows, "connections": min(connections, flows), "events": lines,
                       "bodyBytesStored": flows * len(BODY)})
    (directory / "session.json").write_text(json.dumps(meta, separators=(",", ":")))
    return directory


# --- measuring ---------------------------------------------------------------------------
def wrk_paths_script(workdir: Path) -> Path:
    """A wrk script that makes each request a GET of the next of the 1,000 paths."""
    script = workdir / "paths.lua"
    script.write_text(
        "local i = 0\n"
        "request = function()\n"
        f"  i = (i + 1) % {PATHS}\n"
        "  return wrk.format('GET', string.format('/f/%04d.bin', i))\n"
        "end\n")
    return script


def wrk_rate(port: int, script: Path, seconds: int) -> float:
    cmd = ["wrk", "-t2", "-c50", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), f"http://{HOST}:{port}/"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    result = parse_wrk(out.stdout)
    if out.returncode != 0 or result["rps"] is None:
        raise RuntimeError(f"wrk failed against port {port}:\n{out.stdout}{out.stderr}")
    if result["non2xx"] or result["socket_errors"]:
        raise RuntimeError(f"wrk against port {port}: {result['non2xx']} non-2xx, errors {result['socket_errors']}\n"
                           f"{out.stdout}")
    return result["rps"]


def run_replay(binary: str, session: Path, captures: Path, env: dict, concurrency: int = 50) -> tuple[float, int, str]:
    """Runs `tapline replay` through scripts/peak-rss.py; returns (wall seconds, peak RSS in
    KiB (its ru_maxrss from wait4, not inflated by this process's own), last line of its
    stdout)."""
    captures.mkdir()
    result = captures.with_suffix(".rss")
    args = [sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "peak-rss.py"), str(result),
            binary, "replay", str(session), "--concurrency", str(concurrency), "--capture", str(captures)]
    with open(captures.with_suffix(".out"), "w+b") as out, open(captures.with_suffix(".err"), "w+b") as err:
        proc = spawn(args, stdout=out, stderr=err, env=env)  # stopped by stop_all if this is interrupted
        proc.wait()
        stop(proc)  # (reaped already: only forgets it)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"tapline replay exited {proc.returncode}:\n{stdout[-2000:]}{stderr[-2000:]}")
    peak_kib, elapsed = result.read_text().split()
    shutil.rmtree(captures)
    return float(elapsed), int(peak_kib), (stdout.strip().splitlines() or [""])[-1]


# --- the benchmarks ---------------------------------------------------------------------------
def bench_big(args, workdir: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "integration"))
    from tapline_testkit.streaming_origin import StreamingOrigin

    size = args.big_mib << 20
    origin = StreamingOrigin(response_bytes=size)
    captures = workdir / "big-sessions"
    captures.mkdir()
    env = dict(os.environ, TAPLINE_HOME=str(workdir / "home"))
    upload = workdir / "upload.bin"
    with open(upload, "wb") as f:
        for i in range(args.big_mib):
            f.write(bytes([i & 0xFF]) * (1 << 20))
    port = free_port()
    proxy = spawn([args.bin, "proxy", "--listen", f"{HOST}:{port}", "--quiet", "--capture", str(captures)], env=env,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proxy)
        recorded = time.perf_counter()
        subprocess.run(["curl", "-sS", "-x", f"http://{HOST}:{port}", "-H", "Expect:", "-X", "POST", "-T", str(upload),
                        "-o", os.devnull, f"{origin.url}/big"], check=True, timeout=600)
        recorded = time.perf_counter() - recorded
        stop(proxy)
        upload.unlink()
        (session,) = captures.iterdir()
        elapsed, rss, summary = run_replay(args.bin, session, workdir / "replayed-big", env, concurrency=1)
    finally:
        stop(proxy)
        origin.stop()
    print(f"big: one POST of {args.big_mib:,} MiB answered with {args.big_mib:,} MiB, recorded in {recorded:.1f} s "
          f"through tapline proxy")
    print(f"  tapline replay: {elapsed:.1f} s ({2 * size / elapsed / (1 << 20):,.0f} MiB/s both ways), "
          f"peak RSS {rss / 1024:.1f} MiB; its last line: {summary}")


def bench_mock(args, workdir: Path, origin: int, template: Path, script: Path) -> None:
    captures = workdir / "mock-sessions"
    captures.mkdir()
    session = synthesise_session(template, captures, PATHS, 10)
    env = dict(os.environ, TAPLINE_HOME=str(workdir / "home"))
    port = free_port()
    mock = spawn([args.bin, "mock", session.name, "--sessions", str(captures), "--listen", f"{HOST}:{port}",
                  "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, mock)
    check_get(f"http://{HOST}:{port}{path_of(999)}", len(BODY))
    ports = {"nginx": origin, "tapline mock": port}
    servers = [mock]

    mitmdump = args.mitmdump
    if mitmdump and os.access(mitmdump, os.X_OK):
        har = workdir / "mock.har"
        subprocess.run([args.bin, "export", str(session), "--har", str(har)], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        mport = free_port()
        mitm = spawn([mitmdump, "--listen-host", HOST, "--listen-port", str(mport), "-q",
                      "--mode", f"reverse:http://{HOST}:{origin}", "--server-replay", str(har),
                      "--set", "server_replay_reuse=true", "--set", "server_replay_extra=kill",
                      "--set", "connection_strategy=lazy", "--set", f"confdir={workdir / 'mitm'}"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(mport, mitm, timeout=60)
        check_get(f"http://{HOST}:{mport}{path_of(999)}", len(BODY))
        ports["mitmdump"] = mport
        servers.append(mitm)
    else:
        print(f"  (mitmdump not found at {mitmdump!r}: its column is left out)")

    rates: dict[str, list[float]] = {name: [] for name in ports}
    for _ in range(args.rounds):
        for name, p in ports.items():
            rates[name].append(wrk_rate(p, script, args.seconds))
    for proc in servers:
        stop(proc)

    print(f"mock: wrk -t2 -c50, 1 KiB, {PATHS} recorded flows, {args.rounds} interleaved rounds x {args.seconds} s")
    print(f"  {'case':<16}{'req/s (median)':>16}{'vs nginx':>10}   rounds")
    for name, values in rates.items():
        ratios = [v / n for v, n in zip(values, rates["nginx"])]
        print(f"  {name:<16}{statistics.median(values):>16,.0f}{statistics.median(ratios):>9.2f}x   "
              + " ".join(f"{v:,.0f}" for v in values))


def bench_replay(args, workdir: Path, origin: int, template: Path, script: Path) -> None:
    captures = workdir / "replay-sessions"
    captures.mkdir()
    made = time.perf_counter()
    session = synthesise_session(template, captures, args.flows, 50)
    made = time.perf_counter() - made
    env = dict(os.environ, TAPLINE_HOME=str(workdir / "home"))
    wrk_rates, replay_rates, rss, summary = [], [], 0, ""
    for round_ in range(args.rounds):
        wrk_rates.append(wrk_rate(origin, script, args.seconds))
        elapsed, round_rss, summary = run_replay(args.bin, session, workdir / f"replayed-{round_}", env)
        replay_rates.append(args.flows / elapsed)
        rss = max(rss, round_rss)
    ratios = [r / w for r, w in zip(replay_rates, wrk_rates)]
    print(f"replay: {args.flows:,} recorded 1 KiB GETs (session made in {made:.1f} s), --concurrency 50, "
          f"{args.rounds} interleaved rounds")
    print(f"  {'case':<24}{'flows/s (median)':>18}{'vs wrk':>8}   rounds")
    print(f"  {'wrk -c50':<24}{statistics.median(wrk_rates):>18,.0f}{1:>7.2f}x   "
          + " ".join(f"{v:,.0f}" for v in wrk_rates))
    print(f"  {'tapline replay':<24}{statistics.median(replay_rates):>18,.0f}{statistics.median(ratios):>7.2f}x   "
          + " ".join(f"{v:,.0f}" for v in replay_rates))
    print(f"  peak RSS of tapline replay (highest of the rounds): {rss / 1024:.1f} MiB; its last line: {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--only", choices=["mock", "replay", "big"],
                        help="run one of mock and replay, or the 1 GiB-body replay (big, only when asked)")
    parser.add_argument("--big-mib", type=int, default=1024, help="--only big: each body's size in MiB (default 1024)")
    parser.add_argument("--flows", type=int, default=100_000, help="flows in the replayed session (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run (default 5)")
    parser.add_argument("--mitmdump", default=os.environ.get("TAPLINE_MITMDUMP") or shutil.which("mitmdump"),
                        help="mitmdump for the server-replay column (default: $TAPLINE_MITMDUMP, else on PATH)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    workdir = Path(tempfile.mkdtemp(prefix="tapline-replay-bench-"))
    try:
        if args.only == "big":
            bench_big(args, workdir)
            return 0
        origin = start_origin(workdir)
        check_get(f"http://{HOST}:{origin}{path_of(0)}", len(BODY))
        template = record_template(args.bin, workdir, origin)
        script = wrk_paths_script(workdir)
        if args.only in (None, "mock"):
            bench_mock(args, workdir, origin, template, script)
        if args.only in (None, "replay"):
            bench_replay(args, workdir, origin, template, script)
    finally:
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
