#!/usr/bin/env python3
"""Tapline HTTP/2 benchmark (called by bench/h2.sh and `make bench`; Python stdlib only).

h2load -c 10 -m 10 -n N against a 1 KiB file served by nghttpd on 127.0.0.1:
  direct-h2c        straight to nghttpd --no-tls
  h2c-no-capture    tapline --reverse h2c://nghttpd --no-capture (h2c in and out)
  h2c-capture       the same with --capture TMP
  direct-tls        straight to nghttpd with TLS
  tls-capture       tapline --listen-tls --reverse https://nghttpd (h2 over TLS on both legs), capturing
Prints req/s, p99 latency (from h2load's per-request --log-file), Tapline's peak RSS and
the ratio to direct h2c (to direct TLS for the TLS case).

The machine's speed drifts by ±15% within minutes on shared VMs, so the cases run in
`--rounds` rounds (5 by default). In each round every Tapline case runs between two
runs of its baseline (direct h2c: before, between and after the two h2c cases; direct
TLS around the TLS case) and its ratio is taken against the mean of those two. The
table shows medians (req/s, p99, ratio) with the lowest and highest ratio of the
rounds. Five rounds, not three: the rounds of one run have spread by as much as
0.27-0.40x, so three left the median at the mercy of one hiccup of the host during a
two-second case.
"""

from __future__ import annotations

import argparse
import re
import statistics
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Process helpers shared with the HTTP/1 bench (bench/bench.py, same directory).
from bench import HOST, free_port, one_kib_docroot, spawn, stop, stop_all, vm_hwm_kb, wait_for_port


def start(cmd: list[str], port: int, **kw) -> subprocess.Popen:
    proc = spawn(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    wait_for_port(port, proc)
    return proc


def h2load(url: str, requests: int, log: Path) -> tuple[float, float]:
    """Runs h2load; returns (req/s, p99 ms)."""
    out = subprocess.run(["h2load", "-c", "10", "-m", "10", "-n", str(requests), "--log-file", str(log), url],
                         capture_output=True, text=True, timeout=300)
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out.stdout)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out.stdout)
    if not m or not done or int(done.group(2)) != requests:
        raise RuntimeError(f"h2load failed for {url}:\n{out.stdout}\n{out.stderr}")
    durations = sorted(int(line.split("\t")[2]) for line in log.read_text().splitlines() if line.strip())
    p99 = durations[min(len(durations) - 1, int(len(durations) * 0.99))] / 1000.0
    return float(m.group(1)), p99


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default="build/release/tapline")
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.rounds < 1 or args.requests < 1:
        print("bench/h2: --rounds and --requests must be at least 1", file=sys.stderr)
        return 2
    for tool in ("h2load", "nghttpd", "openssl"):
        if not (shutil.which(tool) or Path(f"/usr/sbin/{tool}").exists()):
            print(f"bench/h2: {tool} not found: run 'make test-deps'", file=sys.stderr)
            return 1
    nghttpd = shutil.which("nghttpd") or "/usr/sbin/nghttpd"
    work = Path(tempfile.mkdtemp(prefix="tapline-h2bench-"))
    try:
        docroot = one_kib_docroot(work)
        key, cert = work / "key.pem", work / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
        plain_port, tls_port = free_port(), free_port()
        start([nghttpd, "--no-tls", "-d", str(docroot), "--address", HOST, str(plain_port)], plain_port)
        start([nghttpd, "-d", str(docroot), "--address", HOST, str(tls_port), str(key), str(cert)], tls_port)
        env_home = work / "home"
        runs: dict[str, list[tuple[float, float, int]]] = {}

        def case(name: str, url_for, proxy_args=None):
            pid = None
            proc = None
            if proxy_args is not None:
                port = free_port()
                cmd = [args.bin, "proxy", "--listen", f"{HOST}:{port}", "--quiet", "--threads", str(args.threads),
                       *proxy_args]
                proc = start(cmd, port, env={"TAPLINE_HOME": str(env_home), "PATH": "/usr/bin:/bin"})
                pid = proc.pid
                url = url_for(port)
            else:
                url = url_for(None)
            h2load(url, min(args.requests, 20_000), work / "warmup.log")
            rps, p99 = h2load(url, args.requests, work / f"{name}.log")
            rss = (vm_hwm_kb(pid) or 0) if pid else 0
            if proc:
                stop(proc)
            shutil.rmtree(work / "captures", ignore_errors=True)
            runs.setdefault(name, []).append((rps, p99, rss))
            return rps

        def direct_h2c() -> float:
            return case("direct-h2c", lambda _: f"http://{HOST}:{plain_port}/1k.bin")

        def direct_tls() -> float:
            return case("direct-tls", lambda _: f"https://{HOST}:{tls_port}/1k.bin")

        # Each Tapline case runs between two runs of its baseline and is compared with
        # their mean, so a drift of the machine's speed during the round cancels out.
        ratios: dict[str, list[float]] = {"direct-h2c": [], "direct-tls": []}

        def compare(name: str, before: float, url_for, proxy_args: list[str], baseline) -> float:
            rps = case(name, url_for, proxy_args)
            after = baseline()
            ratios.setdefault(name, []).append(rps / ((before + after) / 2))
            return after

        h2c_url = lambda p: f"http://{HOST}:{p}/1k.bin"
        for _ in range(args.rounds):
            before = direct_h2c()
            before = compare("h2c-no-capture", before, h2c_url,
                             ["--reverse", f"h2c://{HOST}:{plain_port}", "--no-capture"], direct_h2c)
            compare("h2c-capture", before, h2c_url,
                    ["--reverse", f"h2c://{HOST}:{plain_port}", "--capture", str(work / "captures")], direct_h2c)
            compare("tls-capture", direct_tls(), lambda p: f"https://{HOST}:{p}/1k.bin",
                    ["--reverse", f"https://localhost:{tls_port}", "--upstream-ca", str(cert), "--listen-tls",
                     "--capture", str(work / "captures")], direct_tls)

        print(f"\nh2load -c 10 -m 10 -n {args.requests}, 1 KiB, tapline --threads {args.threads}, "
              f"{args.rounds} round(s): medians")
        print(f"{'case':<16} {'req/s':>10} {'p99 ms':>8} {'peak RSS':>10} {'ratio':>7}  {'ratio range':>13}")
        for name in ("direct-h2c", "h2c-no-capture", "h2c-capture", "direct-tls", "tls-capture"):
            results = runs[name]
            rss = max(r[2] for r in results)
            rss_text = f"{rss // 1024} MB" if rss else "-"
            case_ratios = ratios[name] or [1.0] * len(results)  # a baseline against itself
            spread = f"{min(case_ratios):.2f}-{max(case_ratios):.2f}x" if len(case_ratios) > 1 else ""
            print(f"{name:<16} {statistics.median(r[0] for r in results):>10.0f} "
                  f"{statistics.median(r[1] for r in results):>8.2f} {rss_text:>10} "
                  f"{statistics.median(case_ratios):>6.2f}x  {spread:>13}")
        return 0
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
