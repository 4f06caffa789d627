#!/usr/bin/env python3
"""The Python client of bench/grpc_unary.py: grpcio's asyncio API calling
/tapline.example.v1.Orders/GetOrder over one h2c channel (one connection), IN_FLIGHT
calls at a time, for SECONDS after a warm-up; every answer must be the server's Order
with status OK. Prints calls/s and the mean time per call in microseconds.

    grpc_unary_client.py HOST:PORT IN_FLIGHT SECONDS [--warm-up SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import grpc

METHOD = "/tapline.example.v1.Orders/GetOrder"
# GetOrderRequest{id: "o-1"} (bench/grpc_unary.py's REQUEST without its frame header).
REQUEST = b"\x0a\x03o-1"


async def run(target: str, in_flight: int, seconds: float, warm_up: float) -> tuple[int, float, float]:
    """Returns (calls, elapsed seconds, summed seconds per call) of the measured part."""
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.unary_unary(METHOD)
        expected = await call(REQUEST)  # the server's answer; every later one must equal it
        calls = 0
        per_call = 0.0

        async def caller(until: float, count: bool) -> None:
            nonlocal calls, per_call
            while (now := time.perf_counter()) < until:
                answer = await call(REQUEST)
                if answer != expected:
                    raise RuntimeError(f"answer {answer!r} differs from the first one {expected!r}")
                if count:
                    calls += 1
                    per_call += time.perf_counter() - now

        await asyncio.gather(*(caller(time.perf_counter() + warm_up, False) for _ in range(in_flight)))
        started = time.perf_counter()
        await asyncio.gather(*(caller(started + seconds, True) for _ in range(in_flight)))
        return calls, time.perf_counter() - started, per_call


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("in_flight", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--warm-up", type=float, default=1.0)
    args = parser.parse_args()
    calls, elapsed, per_call = asyncio.run(run(args.target, args.in_flight, args.seconds, args.warm_up))
    if calls == 0:
        print("grpc_unary_client: no call finished", file=sys.stderr)
        return 1
    print(f"{calls / elapsed:.1f} {per_call / calls * 1e6:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
