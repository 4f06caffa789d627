#!/usr/bin/env python3
"""Tapline gRPC unary benchmark (called by bench/grpc_unary.sh and `make bench`).

Two clients send gRPC unary calls (`POST /tapline.example.v1.Orders/GetOrder`, one
framed GetOrderRequest) over one h2c connection, 1 and 16 calls in flight:

  h2load   nghttp2's load generator (`-d` the framed request, `content-type:
           application/grpc`, `te: trailers`): the cheapest client, so the proxy's own
           cost shows most.
  grpcio   a Python grpcio client (bench/grpc_unary_client.py, asyncio API, the calls on
           one channel): what an application's calls look like; its own CPU shares the
           cores with the server and the proxy.

and two servers:

  grpcio   a Python grpcio server with a generic unary handler (bench/grpc_unary_server.py;
           bytes in, bytes out). The server is the slowest part: it bounds both cases.
  mock     `tapline mock` answering from a session that recorded one such call (head,
           message, trailers `grpc-status: 0`): a server fast enough that the proxy's
           own cost shows in the ratio.

Each server is measured direct and through `tapline proxy --reverse h2c://SERVER` (h2c
both legs) with capture on: every call's request, response and one `grpcMessage` line per
message are recorded, and the proxy is given the schemas (`--proto proto/`), as the issue
asks. It only validates them at start-up and keeps a copy in the session: messages are
decoded when a session is read (`tapline show`), never in the proxy.

The floor of any proxy: nghttpx (nghttp2-proxy) as an h2c reverse proxy in front of the
same server (`-f 'HOST,PORT;no-tls' -b 'HOST,PORT;;proto=h2'`, one worker, no capture),
measured the same way. With one call in flight the ratio is a latency ratio, so the
extra hop alone (two more sockets, one more process taking turns on the cores) bounds
it: nghttpx's ratio is the best an HTTP/2 proxy has done on this machine. Skipped without nghttpx.

Below every proxy: `socat` relaying the TCP bytes, h2c unparsed (`TCP-LISTEN:PORT,fork,nodelay`
to `TCP:SERVER,nodelay`, column `tcp-relay`). It reads and writes, nothing else: its ratio
is what the extra hop alone costs (two more sockets, one more process woken per direction),
the ceiling of any proxy on this machine. Skipped without socat.

Rounds are interleaved as in bench/h2.py: each proxied run sits between two direct runs
and its ratio is taken against their mean; the table gives medians, the ratio range and
the mean time per call the client saw (direct, proxied). `--previous-bin OTHER` adds another
Tapline build as the proxy `previous`, run in the same rounds right after `--bin`'s, so two
builds are compared in one sitting.
mitmdump is not measured: it cannot speak h2c to an upstream (its reverse mode to http://
is HTTP/1.1, and gRPC needs HTTP/2 trailers), so it cannot proxy these calls at all.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# Process helpers shared with the HTTP/1 bench (bench/bench.py, same directory).
from bench import HOST, free_port, spawn, stop, stop_all, wait_for_port

METHOD_PATH = "/tapline.example.v1.Orders/GetOrder"
# GetOrderRequest{id: "o-1"}, framed: flag 0, length 5, payload.
REQUEST = b"\x00\x00\x00\x00\x05" + b"\x0a\x03o-1"


def h2load(url: str, in_flight: int, seconds: int, body: Path) -> tuple[float, float]:
    """Runs h2load for `seconds` after a 1 s warm-up; returns calls/s and the mean time per
    call in microseconds (every call must get a 200)."""
    out = subprocess.run(["h2load", "-c", "1", "-m", str(in_flight), "-D", str(seconds), "--warm-up-time", "1",
                          "-d", str(body), "-H", "content-type: application/grpc", "-H", "te: trailers",
                          url + METHOD_PATH],
                         capture_output=True, text=True, timeout=seconds + 60)
    rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out.stdout)
    done = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded", out.stdout)
    # (the status counts include the warm-up's calls; only 2xx may be among them)
    status = re.search(r"status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out.stdout)
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\b", out.stdout)
    if not rate or not mean or not done or int(done.group(3)) == 0 or int(done.group(2)) != int(done.group(3)) \
            or not status or any(int(count) for count in status.groups()):
        raise RuntimeError(f"h2load failed for {url}:\n{out.stdout}\n{out.stderr}")
    return float(rate.group(1)), float(mean.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[mean.group(2)]


def grpcio_client(python: str, url: str, in_flight: int, seconds: int) -> tuple[float, float]:
    """Runs bench/grpc_unary_client.py for `seconds` after a 1 s warm-up; returns calls/s and
    the mean time per call in microseconds (every answer must equal the first one)."""
    client = Path(__file__).with_name("grpc_unary_client.py")
    out = subprocess.run([python, str(client), url.removeprefix("http://"), str(in_flight), str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"the grpcio client failed for {url}:\n{out.stdout}\n{out.stderr}")
    rate, mean = out.stdout.split()
    return float(rate), float(mean)


def grpc_status_of_one_call(url: str, body: Path) -> str:
    """The grpc-status trailer of one call (nghttp -v prints the trailing HEADERS)."""
    out = subprocess.run(["nghttp", "-v", "-d", str(body), "-H", "content-type: application/grpc",
                          "-H", "te: trailers", url + METHOD_PATH], capture_output=True, timeout=30)
    # The response body is binary: read the frame log as Latin-1.
    output = out.stdout.decode("latin-1")
    found = re.findall(r"grpc-status: (\d+)", output)
    return found[-1] if found else f"none:\n{output}\n{out.stderr.decode('latin-1')}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release/tapline")
    parser.add_argument("--python", default=".venv/bin/python", help="a Python with grpcio (the server and the client)")
    parser.add_argument("--clients", default="h2load,grpcio", help="which clients, comma-separated (h2load, grpcio)")
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--previous-bin", help="another tapline build, measured as the proxy `previous` in the same "
                        "rounds, right after --bin's run (compare two builds in one sitting)")
    args = parser.parse_args()
    clients = {"h2load": lambda url, in_flight: h2load(url, in_flight, args.seconds, body),
               "grpcio": lambda url, in_flight: grpcio_client(args.python, url, in_flight, args.seconds)}
    chosen = args.clients.split(",")
    if unknown := [name for name in chosen if name not in clients]:
        parser.error(f"--clients: unknown {', '.join(unknown)} (known: h2load, grpcio)")
    for tool in ("h2load", "nghttp"):
        if not shutil.which(tool):
            print(f"bench/grpc_unary: {tool} not found: run 'make test-deps'", file=sys.stderr)
            return 1
    work = Path(tempfile.mkdtemp(prefix="tapline-grpcbench-"))
    try:
        body = work / "request.bin"
        body.write_bytes(REQUEST)
        env = {"TAPLINE_HOME": str(work / "home"), "PATH": "/usr/bin:/bin"}
        server = spawn([args.python, str(Path(__file__).with_name("grpc_unary_server.py"))],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        grpcio_port = int(server.stdout.readline())
        wait_for_port(grpcio_port, server)

        def start_proxy(upstream_port: int, capture: Path, binary: str = args.bin) -> tuple[subprocess.Popen, int]:
            port = free_port()
            proc = spawn([binary, "proxy", "--listen", f"{HOST}:{port}", "--quiet", "--threads", str(args.threads),
                          "--reverse", f"h2c://{HOST}:{upstream_port}", "--capture", str(capture),
                          "--proto", str(Path(__file__).resolve().parents[1] / "proto")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            wait_for_port(port, proc)
            return proc, port

        def start_nghttpx(upstream_port: int) -> tuple[subprocess.Popen, int]:
            port = free_port()
            proc = spawn(["nghttpx", f"--frontend={HOST},{port};no-tls", f"--backend={HOST},{upstream_port};;proto=h2",
                          "--workers", "1", "--conf", "/dev/null", "--no-ocsp", "--errorlog-file", "/dev/null"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_port(port, proc)
            return proc, port

        def start_tcp_relay(upstream_port: int) -> tuple[subprocess.Popen, int]:
            port = free_port()
            proc = spawn(["socat", f"TCP-LISTEN:{port},bind={HOST},reuseaddr,fork,nodelay",
                          f"TCP:{HOST}:{upstream_port},nodelay"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_port(port, proc)
            return proc, port

        proxies = {"tapline": lambda upstream_port: start_proxy(upstream_port, work / "captures")}
        if args.previous_bin:
            proxies["previous"] = lambda upstream_port: start_proxy(upstream_port, work / "captures", args.previous_bin)
        if shutil.which("nghttpx"):
            proxies["nghttpx"] = start_nghttpx
        if shutil.which("socat"):
            proxies["tcp-relay"] = start_tcp_relay

        # The mock's session: one call recorded through the proxy.
        recording, port = start_proxy(grpcio_port, work / "recorded")
        status = grpc_status_of_one_call(f"http://{HOST}:{port}", body)
        stop(recording)
        if status != "0":
            raise RuntimeError(f"the grpcio server's answer through tapline has grpc-status {status}")
        (session,) = (work / "recorded").iterdir()
        mock_port = free_port()
        mock = spawn([args.bin, "mock", str(session), "--listen", f"{HOST}:{mock_port}", "--quiet"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        wait_for_port(mock_port, mock)
        status = grpc_status_of_one_call(f"http://{HOST}:{mock_port}", body)
        if status != "0":
            raise RuntimeError(f"tapline mock's answer has grpc-status {status}")

        load_before = os.getloadavg()[0]
        rates: dict[str, list[float]] = {}
        means: dict[str, list[float]] = {}
        ratios: dict[str, list[float]] = {}
        servers = {"grpcio": grpcio_port, "mock": mock_port}

        def measure(key: str, client: str, port: int, in_flight: int) -> float:
            rate, mean = clients[client](f"http://{HOST}:{port}", in_flight)
            rates.setdefault(key, []).append(rate)
            means.setdefault(key, []).append(mean)
            return rate

        for _ in range(args.rounds):
            for client, (name, port), in_flight in itertools.product(chosen, servers.items(), (1, 16)):
                key = f"{client}-{name}-m{in_flight}"
                for proxy, start in proxies.items():
                    before = measure(f"{key}-direct", client, port, in_flight)
                    proc, proxy_port = start(port)
                    rate = measure(f"{key}-{proxy}", client, proxy_port, in_flight)
                    stop(proc)
                    shutil.rmtree(work / "captures", ignore_errors=True)
                    after = measure(f"{key}-direct", client, port, in_flight)
                    ratios.setdefault(f"{key}-{proxy}", []).append(rate / ((before + after) / 2))

        print(f"\ngRPC unary calls over one h2c connection, 1|16 in flight, {args.seconds} s each, h2c both legs, "
              f"capture on, tapline --threads {args.threads}, {args.rounds} round(s): medians; "
              f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
        print(f"{'client':<7} {'server':<8} {'in flight':>9} {'proxy':<9} {'direct calls/s':>15} {'proxied calls/s':>16} "
              f"{'ratio':>7} {'range':>12} {'mean µs/call direct, proxied':>29}")
        for client, name, in_flight in itertools.product(chosen, servers, (1, 16)):
            key = f"{client}-{name}-m{in_flight}"
            for proxy in proxies:
                spread = ratios[f"{key}-{proxy}"]
                print(f"{client:<7} {name:<8} {in_flight:>9} {proxy:<9} {statistics.median(rates[key + '-direct']):>15.0f} "
                      f"{statistics.median(rates[f'{key}-{proxy}']):>16.0f} {statistics.median(spread):>6.2f}x "
                      f"{min(spread):>5.2f}-{max(spread):.2f}x "
                      f"{statistics.median(means[key + '-direct']):>14.0f}, {statistics.median(means[f'{key}-{proxy}']):.0f}")
        if "nghttpx" not in proxies:
            print("nghttpx: not measured (not installed: make test-deps installs nghttp2-proxy).")
        if "tcp-relay" not in proxies:
            print("tcp-relay: not measured (socat not installed: make test-deps installs it).")
        print("mitmdump: not measured; it cannot proxy to an h2c upstream (gRPC needs HTTP/2 on both legs).")
        return 0
    finally:
        stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
