#!/usr/bin/env python3
"""Two Tapline builds side by side on the HTTP/1.1-client -> h2c-upstream path (wall clock).

`wrk -t2 -c50` sends 1 KiB GETs over HTTP/1.1 through `tapline proxy --reverse
h2c://nghttpd` (capture on), which translates every request to an HTTP/2 stream on
its upstream connections. The builds alternate within each round (A, B, then B, A in
the next round), so a drift of the machine's speed hits both alike; the table gives
each build's median req/s and the median of the per-round ratios B/A.

  bench/ab_h1_to_h2c.py BASE_BIN NEW_BIN [--rounds 4] [--duration 8] [--no-capture]

Needs wrk and nghttpd (make test-deps). Wall clock on a shared machine drifts by
±15%: for small differences count instructions (bench/instructions.py, case h1-to-h2c).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Process helpers shared with the other benchmarks (same directory).
from bench import HOST, free_port, parse_wrk, run_wrk, spawn, start_nghttpd_h2c, stop, stop_all, wait_for_port


def run_case(binary: str, upstream_port: int, work: Path, tag: str, capture: bool, duration: int) -> float:
    """Requests/s of wrk through one Tapline run; the run's capture is deleted after."""
    port = free_port()
    captures = work / f"captures-{tag}"
    cmd = [binary, "proxy", "--listen", f"{HOST}:{port}", "--quiet", "--reverse", f"h2c://{HOST}:{upstream_port}",
           *(["--capture", str(captures)] if capture else ["--no-capture"])]
    proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 env=dict(os.environ, TAPLINE_HOME=str(work / "home")))
    try:
        wait_for_port(port, proc)
        url = f"http://{HOST}:{port}/1k.bin"
        run_wrk(url, 2, 50, 1)  # warm-up: connections and the upstream's session
        result = parse_wrk(run_wrk(url, 2, 50, duration))
    finally:
        stop(proc)
        shutil.rmtree(captures, ignore_errors=True)
    if result["rps"] is None or result["non2xx"] or result["socket_errors"]:
        raise RuntimeError(f"wrk through {binary} failed: {result}")
    return result["rps"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--no-capture", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1 or args.duration < 1:
        print("bench/ab_h1_to_h2c: --rounds and --duration must be at least 1", file=sys.stderr)
        return 2
    for tool in ("wrk", "nghttpd"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            print(f"bench/ab_h1_to_h2c: {tool} not found: run 'make test-deps'", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="tapline-ab-h1-h2c-"))
    try:
        upstream_port = start_nghttpd_h2c(work)
        subprocess.run([args.base, "ca", "--path"], env=dict(os.environ, TAPLINE_HOME=str(work / "home")),
                       capture_output=True, check=True)
        rates: dict[str, list[float]] = {"base": [], "new": []}
        ratios = []
        for round_index in range(args.rounds):
            order = ["base", "new"] if round_index % 2 == 0 else ["new", "base"]
            got = {}
            for which in order:
                binary = args.base if which == "base" else args.new
                got[which] = run_case(binary, upstream_port, work, f"{which}-{round_index}",
                                      not args.no_capture, args.duration)
                rates[which].append(got[which])
            ratios.append(got["new"] / got["base"])
            print(f"round {round_index + 1}: base {got['base']:,.0f} req/s, new {got['new']:,.0f} req/s, "
                  f"new/base {ratios[-1]:.3f}", flush=True)
        mode = "no capture" if args.no_capture else "capture"
        print(f"\nwrk -t2 -c50 -d{args.duration}s, HTTP/1.1 client -> tapline -> h2c nghttpd, 1 KiB, {mode}, "
              f"{args.rounds} round(s): medians")
        print(f"base {statistics.median(rates['base']):,.0f} req/s  ({args.base})")
        print(f"new  {statistics.median(rates['new']):,.0f} req/s  ({args.new})")
        print(f"new/base {statistics.median(ratios):.3f}  (rounds {min(ratios):.3f}-{max(ratios):.3f})")
        return 0
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
