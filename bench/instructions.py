#!/usr/bin/env python3
"""Instructions per request of one or more Tapline builds, counted by callgrind.

Wall-clock benchmarks on a shared two-core machine drift by ±15% within minutes;
instruction counts do not: the same binary, inputs and environment give the same total
whatever else the machine is doing. So this is how two builds are compared when the
machine is busy, or when a change is expected to be small (docs/performance.md).

For each binary and each case, Tapline runs under `valgrind --tool=callgrind` as a
reverse proxy (`--threads 1`; capture on unless the case says otherwise), and h2load
sends first SHORT then LONG
requests through it in two separate runs. Instructions per request is
(total(LONG) - total(SHORT)) / (LONG - SHORT): start-up, shutdown and the first
connections' setup cancel out.

  h1            h2load --h1 -c 4 -n N  -> tapline --reverse http://nginx   (HTTP/1.1 both legs)
  h1-nocapture  the same with --no-capture
  h2c           h2load -c 4 -m 10 -n N -> tapline --reverse h2c://nghttpd  (h2c both legs)
  h1-to-h2c     h2load --h1 -c 4 -n N  -> tapline --reverse h2c://nghttpd  (HTTP/1.1 client, h2c upstream)
  grpc          h2load -c 4 -m 10 -n N -> tapline --reverse h2c://nghttpd: a gRPC unary call's shape (POST of
                one framed message, content-type application/grpc, te: trailers; a framed message back
                from a file, no trailers), so the capture splits both bodies into messages

  bench/instructions.py BIN [BIN ...] [--cases h1,h1-nocapture,h2c,h1-to-h2c] [--short 500] [--long 2500]
                        [--keep DIR]

--keep DIR keeps each run's callgrind output there (callgrind.CASE.INDEX.long.out, INDEX
the binary's position), to see where the difference goes: `callgrind_annotate FILE`.

Each binary is profiled as a copy made with `strip --strip-debug` (binutils). Needs valgrind, h2load, nghttpd and nginx (make test-deps installs all but valgrind;
`apt-get install valgrind`). Takes about a minute per binary and case.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

# Process helpers shared with the other benchmarks (same directory).
from bench import HOST, free_port, spawn, start_nghttpd_h2c, start_nginx, stop, stop_all, wait_for_port

# case: (upstream, HTTP/1.1 client, capture, gRPC call)
CASES = {
    "h1": ("nginx", True, True, False),
    "h1-nocapture": ("nginx", True, False, False),
    "h2c": ("nghttpd", False, True, False),
    "h1-to-h2c": ("nghttpd", True, True, False),
    "grpc": ("nghttpd", False, True, True),
}
# The grpc case's request body and nghttpd's answer: GetOrderRequest{id: "o-1"} and an
# Order, each as one length-prefixed gRPC message.
GRPC_REQUEST = b"\x00\x00\x00\x00\x05\x0a\x03o-1"
GRPC_RESPONSE = b"\x00\x00\x00\x00\x13\x0a\x03o-1\x10\x02\x1a\x07\x0a\x03A-1\x10\x03\x90\x01\x01"


def callgrind_total(out_file: Path) -> int:
    """The instruction total callgrind wrote for the whole run (its `summary:` or `totals:` line)."""
    for line in out_file.read_text().splitlines():
        m = re.match(r"(?:summary|totals):\s+(\d+)", line)
        if m:
            return int(m.group(1))
    raise RuntimeError(f"no instruction total in {out_file}")


def run_h2load(url: str, requests: int, h1: bool, grpc_body: Path | None = None) -> None:
    cmd = ["h2load", "-c", "4", "-n", str(requests)] + (["--h1"] if h1 else ["-m", "10"]) + [url]
    if grpc_body is not None:
        cmd[-1:-1] = ["-d", str(grpc_body), "-H", "content-type: application/grpc", "-H", "te: trailers"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    done = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out.stdout)
    if not done or int(done.group(1)) != requests:
        raise RuntimeError(f"h2load did not complete {requests} requests through {url}:\n{out.stdout}\n{out.stderr}")


def stripped_copy(binary: str, work: Path, index: int) -> str:
    """A copy without debug info: Valgrind 3.19 cannot read the DWARF 5 of Swift
    binaries (symbols stay, so callgrind_annotate still names functions)."""
    copy = work / f"tapline-{index}"
    subprocess.run(["strip", "--strip-debug", "-o", str(copy), binary], check=True)
    return str(copy)


def instructions(binary: str, upstream: str, requests: int, h1: bool, capture: bool, work: Path, tag: str,
                 grpc: bool = False) -> int:
    """Total instructions of one Tapline run that proxied `requests` requests."""
    port = free_port()
    out_file = work / f"callgrind.{tag}.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", binary, "proxy",
           "--listen", f"{HOST}:{port}", "--quiet", "--threads", "1", "--reverse", upstream,
           *(["--capture", str(work / "captures")] if capture else ["--no-capture"])]
    proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                 # Swift seeds its hashing at random per process, which moves a run's total by a
                 # few hundred instructions; a fixed seed makes two runs of one binary agree.
                 env={"TAPLINE_HOME": str(work / "home"), "PATH": "/usr/bin:/bin",
                      "SWIFT_DETERMINISTIC_HASHING": "1"})
    wait_for_port(port, proc, timeout=120.0)
    if grpc:
        run_h2load(f"http://{HOST}:{port}/grpc.bin", requests, h1, work / "grpc-request.bin")
    else:
        run_h2load(f"http://{HOST}:{port}/1k.bin", requests, h1)
    stop(proc, signal.SIGTERM, timeout=120.0)
    shutil.rmtree(work / "captures", ignore_errors=True)
    return callgrind_total(out_file)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--short", type=int, default=500)
    parser.add_argument("--long", type=int, default=2500)
    parser.add_argument("--keep", type=Path, help="directory to keep the callgrind outputs in")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    if any(c not in CASES for c in cases) or not 0 < args.short < args.long:
        print(f"bench/instructions: --cases takes {','.join(CASES)}; 0 < --short < --long", file=sys.stderr)
        return 2
    for tool in ("valgrind", "h2load"):
        if not shutil.which(tool):
            print(f"bench/instructions: {tool} not found (make test-deps; apt-get install valgrind)", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="tapline-instructions-"))
    try:
        h2c_port = start_nghttpd_h2c(work)
        (work / "doc" / "grpc.bin").write_bytes(GRPC_RESPONSE)  # nghttpd's docroot
        (work / "grpc-request.bin").write_bytes(GRPC_REQUEST)
        _, nginx_port = start_nginx(work)
        upstreams = {"nginx": f"http://{HOST}:{nginx_port}", "nghttpd": f"h2c://{HOST}:{h2c_port}"}
        # The CA is made once, outside the measured runs.
        subprocess.run([args.binaries[0], "ca", "--path"], env={"TAPLINE_HOME": str(work / "home")},
                       capture_output=True, check=True)
        print(f"instructions per request (callgrind; {args.long} - {args.short} requests, 1 thread)")
        print(f"{'case':13} " + " ".join(f"{Path(b).parent.name + '/' + Path(b).name:>28}" for b in args.binaries)
              + "   ratio to the first")
        profiled = [stripped_copy(b, work, i) for i, b in enumerate(args.binaries)]
        for case in cases:
            upstream, h1, capture, grpc = CASES[case]
            per_request = []
            for index, binary in enumerate(profiled):
                short = instructions(binary, upstreams[upstream], args.short, h1, capture, work, f"{case}.{index}.short",
                                     grpc)
                long = instructions(binary, upstreams[upstream], args.long, h1, capture, work, f"{case}.{index}.long",
                                    grpc)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    for run in ("short", "long"):
                        name = f"callgrind.{case}.{index}.{run}.out"
                        shutil.copy(work / name, args.keep / name)
                per_request.append((long - short) / (args.long - args.short))
            ratios = " ".join(f"{p / per_request[0]:.3f}" for p in per_request[1:])
            print(f"{case:13} " + " ".join(f"{p:>28,.0f}" for p in per_request) + f"   {ratios}", flush=True)
        return 0
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
