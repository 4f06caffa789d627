"""Transparent-interception benchmark driver (see bench/transparent.sh).

One nginx serving 1 KiB on 127.0.0.1, and wrk (keep-alive: each connection is
reused for all its requests) fetching it three ways, in interleaved rounds, all
with --no-capture and the same number of proxy threads:
  - forward: `tapline proxy`, wrk on the host sending absolute-form requests to its
    listener (a Lua script sets the request-target to http://127.0.0.1:NGINX/1k.bin);
  - tproxy and redirect: `tapline run --transparent --transparent-method METHOD -- wrk
    http://127.0.0.1:NGINX/1k.bin`, wrk in its own network namespace with its TCP sent
    to Tapline by nftables `tproxy` (no nat table) or `redirect` (a nat table).
and, in the same rounds, the kernel's part on its own, without Tapline: wrk to an
nginx inside a namespace with no nftables rules ("ns direct") vs wrk to an nginx
inside a namespace whose output chain redirects its port ("ns redirect"), which is
what the transparent client's packets pay for conntrack and NAT on every packet.

Besides requests/s, each case's CPU time per request is measured: user and system
time of the client and the server (wrk and Tapline; wrk and nginx), taken from
getrusage(RUSAGE_CHILDREN) around the round (every process of a case is a reaped
descendant of this script by its end). On loopback the kernel's work for a packet,
conntrack and NAT included, runs in the sending process's context, so the system time
per request shows what the redirect costs; unlike requests/s it barely moves with the
load other users put on the machine.

Prints the rounds, the medians, the ratios and the load average. Needs root.

--instructions: instead, callgrind's instructions per request in Tapline itself
(`--threads 1`), forward vs transparent, with one Python keep-alive client sending
SHORT then LONG requests (bench/instructions.py's method: the difference cancels
start-up and connection set-up), so the proxy's own cost is compared without the
kernel's or the machine's load. The figure is the event loop's (inclusive), since
`run`'s start-up (trust files, key generation) differs from one run to the next."""

from __future__ import annotations

import argparse
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (bench/bench.py: nginx, wrk and process helpers)

SEPARATOR = "--- tapline bench: warm-up above, measured below ---"

WRK_FORWARD_LUA = """
-- Absolute-form request-target: wrk talks to the proxy as a forward-proxy client.
wrk.path = "{url}"
"""

# A keep-alive HTTP/1.1 client for --instructions: CONNS connections, REQUESTS requests
# round robin, each response read whole (Content-Length). TARGET is the request-target.
KEEPALIVE_CLIENT = r"""
import socket, sys
host, port, target, conns, requests = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
socks = [socket.create_connection((host, port)) for _ in range(conns)]
files = [s.makefile("rb") for s in socks]
request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
for i in range(requests):
    s, f = socks[i % conns], files[i % conns]
    s.sendall(request)
    assert f.readline().startswith(b"HTTP/1.1 200")
    length = 0
    while (line := f.readline()) != b"\r\n":
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    assert len(f.read(length)) == length
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


def children_cpu() -> tuple[float, float]:
    """User and system seconds of every reaped descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def measured(outputs: list[str], cpu_before: tuple[float, float]) -> dict:
    """The last wrk output's numbers, plus CPU microseconds per request over every wrk
    output (warm-ups included) and the CPU the case's processes used since `cpu_before`."""
    result = bench.parse_wrk(outputs[-1])
    requests = sum(int(m.group(1)) for out in outputs for m in re.finditer(r"(\d+) requests in", out))
    user, system = (after - before for after, before in zip(children_cpu(), cpu_before))
    result["user_us"] = user * 1e6 / requests if requests else None
    result["sys_us"] = system * 1e6 / requests if requests else None
    return result


def sh(*args: str, input: str | None = None) -> None:
    subprocess.run(list(args), input=input, text=True, check=True, capture_output=True, timeout=30)


class BenchNamespace:
    """A network namespace with loopback and an nginx of its own serving 1 KiB on 127.0.0.1:PORT;
    with `redirect_from`, an nftables output rule there redirects that port to nginx's."""

    def __init__(self, name: str, workdir: Path, redirect_from: int | None = None):
        self.name = name
        sh("ip", "netns", "add", name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        nginx = bench.nginx_binary()
        (workdir / "www").mkdir(parents=True)
        (workdir / "tmp").mkdir()
        (workdir / "www" / "1k.bin").write_bytes(bytes(range(256)) * 4)
        self.port = bench.free_port()
        (workdir / "nginx.conf").write_text(bench.nginx_config(nginx, workdir, self.port))
        self.nginx = bench.spawn(["ip", "netns", "exec", name, nginx, "-p", str(workdir), "-c", str(workdir / "nginx.conf"),
                                  "-e", str(workdir / "error.log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url_port = self.port
        if redirect_from is not None:
            self.url_port = redirect_from
            sh("ip", "netns", "exec", name, "nft", "-f", "-", input=f"""
table ip bench {{
    chain output {{
        type nat hook output priority -100; policy accept;
        tcp dport {redirect_from} redirect to :{self.port}
    }}
}}
""")
        deadline = time.monotonic() + 15
        while subprocess.run(["ip", "netns", "exec", name, "curl", "-sf", "-o", "/dev/null", self.url],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx in {name} did not answer {self.url}")
            time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.url_port}/1k.bin"

    def wrk(self, threads: int, conns: int, duration: int, env: dict) -> str:
        return run(["ip", "netns", "exec", self.name, *wrk_command(self.url, threads, conns, duration)], duration, env)

    def remove(self) -> None:
        bench.stop(self.nginx)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def forward_round(opts, env: dict, url: str, workdir: Path) -> dict:
    cpu_before = children_cpu()
    proxy_port = bench.free_port()
    proxy = bench.spawn([opts.bin, "proxy", "--listen", f"{bench.HOST}:{proxy_port}", "--no-capture", "--quiet"],
                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bench.wait_for_port(proxy_port, proxy)
        script = workdir / "forward.lua"
        script.write_text(WRK_FORWARD_LUA.format(url=url))
        forward_url = f"http://{bench.HOST}:{proxy_port}/"
        outputs = [run(wrk_command(forward_url, opts.threads, opts.connections, 1, script), 1, env),  # warm up
                   run(wrk_command(forward_url, opts.threads, opts.connections, opts.duration, script), opts.duration, env)]
    finally:
        bench.stop(proxy)
    return measured(outputs, cpu_before)


def transparent_round(opts, env: dict, url: str, method: str) -> dict:
    """wrk through `tapline run --transparent --transparent-method METHOD` (tproxy or redirect)."""
    warm = " ".join(wrk_command(url, opts.threads, opts.connections, 1))
    timed = " ".join(wrk_command(url, opts.threads, opts.connections, opts.duration))
    cmd = [opts.bin, "run", "--no-capture", "--quiet", "--transparent", "--transparent-method", method, "--", "sh", "-c",
           f"{warm} && echo '{SEPARATOR}' && exec {timed}"]
    cpu_before = children_cpu()
    return measured(run(cmd, opts.duration, env).split(SEPARATOR), cpu_before)


def kernel_round(opts, env: dict, workdir: Path, name: str, redirect: bool) -> dict:
    """wrk to an nginx in a namespace of its own, through an nft redirect or not."""
    cpu_before = children_cpu()
    namespace = BenchNamespace(name, workdir, redirect_from=bench.free_port() if redirect else None)
    try:
        outputs = [namespace.wrk(opts.threads, opts.connections, opts.duration, env)]
    finally:
        namespace.remove()
    return measured(outputs, cpu_before)


def callgrind_total(path: Path) -> int:
    for line in path.read_text().splitlines():
        m = re.match(r"(?:summary|totals):\s+(\d+)", line)
        if m:
            return int(m.group(1))
    raise RuntimeError(f"no instruction total in {path}")


def loop_instructions(path: Path) -> int:
    """Instructions spent under the event loops' run function (inclusive): the proxy's work
    on its connections, without start-up (CA loading, `run`'s trust files and namespace)."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*TaplineNet9EventLoopC3run", line)
        if m:
            return int(m.group(1).replace(",", ""))
    raise RuntimeError(f"no event loop in {path}")


def instructions(opts, env: dict, nginx_port: int, workdir: Path, mode: str, requests: int) -> tuple[int, int]:
    out = workdir / f"callgrind.{mode}.{requests}.out"
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    client = [sys.executable, "-c", KEEPALIVE_CLIENT]
    origin = f"http://127.0.0.1:{nginx_port}/1k.bin"
    if mode == "forward":
        port = bench.free_port()
        proxy = bench.spawn([*valgrind, opts.bin, "proxy", "--threads", "1", "--no-capture", "--quiet",
                             "--listen", f"127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bench.wait_for_port(port, proxy, timeout=60)
        subprocess.run([*client, "127.0.0.1", str(port), origin, "4", str(requests)], check=True, timeout=600)
        bench.stop(proxy, timeout=60)
    else:
        subprocess.run([*valgrind, opts.bin, "run", "--threads", "1", "--no-capture", "--quiet", "--transparent", "--",
                        *client, "127.0.0.1", str(nginx_port), "/1k.bin", "4", str(requests)],
                       env=env, check=True, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return callgrind_total(out), loop_instructions(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--instructions", action="store_true")
    ap.add_argument("--short", type=int, default=500)
    ap.add_argument("--long", type=int, default=2500)
    opts = ap.parse_args()
    if os.geteuid() != 0:
        print("bench (transparent): skipped: needs root (a network namespace and nftables rules)")
        return 0
    signal.signal(signal.SIGTERM, bench._on_signal)
    names = ("forward", "tproxy", "redirect", "ns direct", "ns redirect")
    results: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="tapline-bench-transparent-") as tmp:
        workdir = Path(tmp)
        env = dict(os.environ, TAPLINE_HOME=str(workdir / "home"))
        (workdir / "home").mkdir()
        try:
            _, nginx_port = bench.start_nginx(workdir / "nginx")
            url = f"http://{bench.HOST}:{nginx_port}/1k.bin"
            bench.check_get(url, bench.FILES["1k"])
            if opts.instructions:
                # Valgrind cannot read the DWARF 5 of Swift binaries: profile a copy without it
                # (bench/instructions.py does the same; symbols stay).
                stripped = workdir / "tapline-stripped"
                subprocess.run(["strip", "--strip-debug", "-o", str(stripped), opts.bin], check=True)
                opts.bin = str(stripped)
                print(f"bench (transparent, callgrind instructions per request in Tapline, --threads 1, "
                      f"1 KiB, 4 keep-alive connections, {opts.short} vs {opts.long} requests):")
                for mode in ("forward", "transparent"):
                    short = instructions(opts, env, nginx_port, workdir, mode, opts.short)
                    long = instructions(opts, env, nginx_port, workdir, mode, opts.long)
                    per_request = [(b - a) / (opts.long - opts.short) for a, b in zip(short, long)]
                    print(f"  {mode:12} {per_request[1]:>10,.0f} instructions/request on the event loop "
                          f"({per_request[0]:,.0f} in the whole process, start-up differences included)")
                return 0
            tag = os.getpid()
            for round_number in range(1, opts.rounds + 1):
                row = {
                    "forward": forward_round(opts, env, url, workdir),
                    "tproxy": transparent_round(opts, env, url, "tproxy"),
                    "redirect": transparent_round(opts, env, url, "redirect"),
                    "ns direct": kernel_round(opts, env, workdir / f"direct-{round_number}",
                                              f"tapline-bench-direct-{tag}", redirect=False),
                    "ns redirect": kernel_round(opts, env, workdir / f"redirect-{round_number}",
                                                f"tapline-bench-redirect-{tag}", redirect=True),
                }
                for name in names:
                    results[name].append(row[name])
                print(f"  round {round_number}: " + "   ".join(
                    f"{name} {r['rps']:,.0f}/s {r['user_us']:.1f}+{r['sys_us']:.1f} us" for name, r in row.items())
                    + f"   load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            bench.stop_all()
    load = os.getloadavg()
    print(f"bench (transparent, 1 KiB, wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s, --no-capture, "
          f"{opts.rounds} interleaved rounds, medians; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}):")
    print(f"  {'':12} {'req/s':>10}   CPU per request, client + server: {'user':>8} {'system':>8} {'total':>8}")
    medians = {}
    for name in names:
        rows = results[name]
        medians[name] = {key: statistics.median(r[key] for r in rows) for key in ("rps", "user_us", "sys_us")}
        m = medians[name]
        print(f"  {name:12} {m['rps']:>10,.0f}   {'':33}{m['user_us']:>7.1f}us {m['sys_us']:>7.1f}us "
              f"{m['user_us'] + m['sys_us']:>7.1f}us")
    for method in ("tproxy", "redirect"):
        ratios = [t["rps"] / f["rps"] for t, f in zip(results[method], results["forward"])]
        cpu = [(f["user_us"] + f["sys_us"]) / (t["user_us"] + t["sys_us"]) for t, f in zip(results[method], results["forward"])]
        print(f"  transparent ({method}) / forward: {statistics.median(ratios):.2f}x req/s "
              f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; aim: >= 0.9x), "
              f"{statistics.median(cpu):.2f}x requests per CPU second (rounds {', '.join(f'{r:.2f}' for r in cpu)})")
    kernel = [r["rps"] / d["rps"] for r, d in zip(results["ns redirect"], results["ns direct"])]
    print(f"  kernel alone, nginx behind an nft redirect / without: {statistics.median(kernel):.2f}x req/s "
          f"(rounds {', '.join(f'{r:.2f}' for r in kernel)})")
    for a, b in (("tproxy", "forward"), ("redirect", "forward"), ("ns redirect", "ns direct")):
        print(f"  CPU per request, {a} - {b}: user {medians[a]['user_us'] - medians[b]['user_us']:+.1f}us, "
              f"system {medians[a]['sys_us'] - medians[b]['sys_us']:+.1f}us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
