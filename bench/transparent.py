"""Transparent-interception benchmark driver (see bench/transparent.sh).

One nginx serving 1 KiB on 127.0.0.1, and wrk fetching it two ways in one run, both
with --no-capture:
  - forward: `tapline proxy`, wrk sending absolute-form requests to its listener
    (a Lua script sets the request-target to http://127.0.0.1:NGINX/1k.bin);
  - transparent: `tapline run --transparent -- wrk http://127.0.0.1:NGINX/1k.bin`,
    wrk in its own network namespace with its TCP redirected to Tapline by nftables.
Prints requests/s and p99 for both and the ratio transparent / forward. Needs root."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (bench/bench.py: nginx, wrk and process helpers)

WRK_FORWARD_LUA = """
-- Absolute-form request-target: wrk talks to the proxy as a forward-proxy client.
wrk.path = "{url}"
"""


def wrk_command(url: str, threads: int, conns: int, duration: int, script: Path | None = None) -> list[str]:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    return cmd + [url]


def run(cmd: list[str], duration: int, env: dict) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({p.returncode}): {p.stderr}")
    return p.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=50)
    opts = ap.parse_args()
    if os.geteuid() != 0:
        print("bench (transparent): skipped: needs root (a network namespace and nftables rules)")
        return 0
    signal.signal(signal.SIGTERM, bench._on_signal)
    with tempfile.TemporaryDirectory(prefix="tapline-bench-transparent-") as tmp:
        workdir = Path(tmp)
        env = dict(os.environ, TAPLINE_HOME=str(workdir / "home"))
        (workdir / "home").mkdir()
        try:
            _, nginx_port = bench.start_nginx(workdir / "nginx")
            url = f"http://{bench.HOST}:{nginx_port}/1k.bin"
            bench.check_get(url, bench.FILES["1k"])

            proxy_port = bench.free_port()
            proxy = bench.spawn([opts.bin, "proxy", "--listen", f"{bench.HOST}:{proxy_port}", "--no-capture", "--quiet"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            bench.wait_for_port(proxy_port, proxy)
            script = workdir / "forward.lua"
            script.write_text(WRK_FORWARD_LUA.format(url=url))
            forward_url = f"http://{bench.HOST}:{proxy_port}/"
            run(wrk_command(forward_url, opts.threads, opts.connections, 1, script), 1, env)  # warm up
            forward = bench.parse_wrk(run(wrk_command(forward_url, opts.threads, opts.connections, opts.duration, script),
                                          opts.duration, env))
            bench.stop(proxy)

            transparent_cmd = [opts.bin, "run", "--no-capture", "--quiet", "--transparent", "--", "sh", "-c",
                               " ".join(wrk_command(url, opts.threads, opts.connections, 1)) + " >/dev/null && exec "
                               + " ".join(wrk_command(url, opts.threads, opts.connections, opts.duration))]
            transparent = bench.parse_wrk(run(transparent_cmd, opts.duration, env))
        finally:
            bench.stop_all()
    print(f"bench (transparent, 1 KiB, wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s, --no-capture):")
    for name, r in (("forward proxy", forward), ("transparent", transparent)):
        print(f"  {name:14} {bench.fmt(r['rps'], ',.0f'):>10} req/s   p99 {bench.fmt(r['p99_ms'], '.2f')} ms"
              f"   non-2xx {r['non2xx']}  {r['socket_errors']}")
    if forward["rps"] and transparent["rps"]:
        print(f"  transparent / forward: {transparent['rps'] / forward['rps']:.2f}x (aim: >= 0.9x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
