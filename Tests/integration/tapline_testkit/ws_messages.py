"""Random WebSocket message sets for the message-level tests, and an origin
handler that sends one set while checking it receives another."""

from __future__ import annotations

import asyncio
import random
from typing import Awaitable, Callable, Sequence


def random_messages(seed: int, count: int, *, empty: float, large: float, large_max: int,
                    words: Sequence[str]) -> list:
    """`count` text and binary messages, deterministic for `seed`: a share `empty` of
    them empty, a share `large` over 64 KiB (up to `large_max`, stored in the body
    segment by the capture), the rest 1..3000 bytes. Text is built from `words`
    (plus the index); binary is half random, half compressible."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        roll = rng.random()
        size = 0 if roll < empty else rng.randint(65_537, large_max) if roll < empty + large else rng.randint(1, 3000)
        if rng.random() < 0.5:
            choices = [w if w != "{i}" else str(i) for w in words]
            text = ""
            while len(text.encode()) < size:
                text += rng.choice(choices) + " "
            out.append(text)
        else:
            out.append(bytes(rng.getrandbits(8) for _ in range(size)) if rng.random() < 0.5
                       else bytes((i + j) % 7 for j in range(size)))
    return out


def exchange_server(send: list, expect: list) -> Callable[[object], Awaitable[None]]:
    """A `websockets` handler that sends `send` while receiving, and asserts it got `expect`."""
    async def handler(ws) -> None:
        async def sender():
            for m in send:
                await ws.send(m)

        task = asyncio.create_task(sender())
        received = []
        async for m in ws:
            received.append(m)
            if len(received) == len(expect):
                break
        await task
        assert received == expect, "the server did not receive the client's messages intact"
        await ws.wait_closed()

    return handler
