"""WebSocket echo benchmark driver (see bench/websocket.sh).

Runs the echo server in its own process, Tapline as a reverse proxy in front of
it (once capturing into a temporary directory, once with --no-capture), and the
client in this process, so they do not share one interpreter."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


async def serve_echo(port: int, compression: str | None) -> None:
    from websockets.asyncio.server import serve

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async with serve(echo, HOST, port, compression=compression, max_size=None, ping_interval=None):
        await asyncio.Future()


async def measure(url: str, seconds: float, compression: str | None) -> tuple[float, float]:
    """(64 B round trips per second, 1 MiB echo MB/s)."""
    from websockets.asyncio.client import connect

    async with connect(url, compression=compression, max_size=None, ping_interval=None, proxy=None) as ws:
        small = os.urandom(64)
        for _ in range(200):  # warm up
            await ws.send(small)
            await ws.recv()
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            for _ in range(100):
                await ws.send(small)
                await ws.recv()
            count += 100
        rate = count / (time.perf_counter() - start)

        big = os.urandom(1 << 20)
        await ws.send(big)
        await ws.recv()
        moved = 0
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            await ws.send(big)
            echoed = await ws.recv()
            assert len(echoed) == len(big)
            moved += len(big)
        throughput = moved / (time.perf_counter() - start) / 1e6
    return rate, throughput


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--compression", choices=["deflate"], default=None)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_echo(args.serve, args.compression))
        return 0

    children: list[subprocess.Popen] = []

    def cleanup(*_):
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (cleanup(), sys.exit(1)))
    try:
        server_port, capture_port, plain_port = free_port(), free_port(), free_port()
        extra = ["--compression", args.compression] if args.compression else []
        children.append(subprocess.Popen([sys.executable, __file__, "--bin", args.bin, "--serve", str(server_port), *extra]))
        wait_for_port(server_port)
        capture = tempfile.mkdtemp(prefix="tapline-ws-bench-")
        env = dict(os.environ, TAPLINE_HOME=os.path.join(capture, "home"))
        for port, flags in ((capture_port, ["--capture", capture]), (plain_port, ["--no-capture"])):
            children.append(subprocess.Popen([args.bin, "proxy", "--listen", f"{HOST}:{port}", "--quiet",
                                              "--reverse", f"http://{HOST}:{server_port}", *flags],
                                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_port(port)
        compression = "deflate" if args.compression else None
        # Two interleaved rounds, best of each: on a small shared machine the first
        # case run would otherwise carry the warm-up and any passing load.
        results: dict[int, list[tuple[float, float]]] = {server_port: [], capture_port: [], plain_port: []}
        for _ in range(2):
            for port in results:
                results[port].append(asyncio.run(measure(f"ws://{HOST}:{port}/", args.seconds, compression)))
        direct, captured, plain = (tuple(max(r[i] for r in results[port]) for i in range(2))
                                   for port in (server_port, capture_port, plain_port))
    finally:
        cleanup()
        shutil.rmtree(capture, ignore_errors=True)

    title = f"WebSocket echo (Python websockets, best of 2 x {args.seconds:g} s per case{', permessage-deflate' if args.compression else ''})"
    print(title)
    print(f"  {'case':<22}{'direct':>10}{'tapline':>10}{'ratio':>8}{'--no-capture':>14}{'ratio':>8}")
    for i, (name, fmt) in enumerate((("64 B round trips/s", ".0f"), ("1 MiB echo MB/s", ".1f"))):
        print(f"  {name:<22}{direct[i]:>10{fmt}}{captured[i]:>10{fmt}}{captured[i] / direct[i]:>7.2f}x"
              f"{plain[i]:>14{fmt}}{plain[i] / direct[i]:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
