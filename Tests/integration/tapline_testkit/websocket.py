"""WebSocket helpers for the integration tests and the benchmark.

  WebSocketOrigin        a `websockets` server on its own thread and event loop
                         (optionally TLS, with or without permessage-deflate)
  RawWebSocketOrigin     a bare TCP server that answers the opening handshake and
                         then runs a script (misbehaving peers)
  connect(...)           open a `websockets` client directly, through Tapline as a
                         forward proxy (absolute-form or CONNECT) or as a reverse proxy
  captured_ws_messages   read a flow's messages from events.jsonl as documented in
                         docs/capture-format.md (`wsMessage` lines)
  frame(...)             build a raw frame
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import threading
from pathlib import Path
from typing import Awaitable, Callable, Optional

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import (ClientPerMessageDeflateFactory,
                                                       ServerPerMessageDeflateFactory)

from .capture import read_events  # noqa: F401  (also used by tests as wsk.read_events)
from .rawhttp import receive_head
from .util import HOST, free_port, wait_until

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_value(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bool = True) -> bytes:
    """One frame; masked (as a client must) unless `mask` is False."""
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


# --- servers --------------------------------------------------------------------------

class WebSocketOrigin:
    """A `websockets` server. `handler(ws)` is an async function run per connection
    (default: echo). `compression` is None or "deflate"; `subprotocols` the ones it selects from."""

    def __init__(self, handler: Optional[Callable[..., Awaitable[None]]] = None,
                 tls: Optional[ssl.SSLContext] = None, compression: Optional[str] = None,
                 max_size: Optional[int] = 2 ** 26, subprotocols: Optional[list] = None):
        self.handler = handler or self.echo
        self.subprotocols = subprotocols
        self.tls = tls
        self.port = free_port()
        self.compression = compression
        self.max_size = max_size
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="ws-origin", daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the WebSocket origin did not start")

    @staticmethod
    async def echo(ws) -> None:
        async for message in ws:
            await ws.send(message)

    async def _handle(self, ws) -> None:
        try:
            await self.handler(ws)
        except Exception as e:  # recorded for the test to look at
            self.errors.append(e)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main():
            extensions = None
            if self.compression == "deflate":
                extensions = [ServerPerMessageDeflateFactory()]
            async with serve(self._handle, HOST, self.port, ssl=self.tls, compression=None,
                             extensions=extensions, max_size=self.max_size, ping_interval=None,
                             subprotocols=self.subprotocols) as server:
                self.server = server
                self.stop_event = asyncio.Event()
                self.ready.set()
                await self.stop_event.wait()

        self.loop.run_until_complete(main())

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{HOST}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)


class RawWebSocketOrigin:
    """Answers one opening handshake per connection (101, no extensions), then calls
    `script(sock, leftover)` on the server thread; the socket is closed after it."""

    def __init__(self, script: Callable[[socket.socket, bytes], None]):
        self.script = script
        self.request_head: Optional[bytes] = None   # the opening handshake's head, as received
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _run(self) -> None:
        self.listener.settimeout(60)
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        with sock:
            data = receive_head(sock)
            if data is None:
                return
            head, leftover = data.split(b"\r\n\r\n", 1)
            self.request_head = head + b"\r\n\r\n"
            key = ""
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "sec-websocket-key":
                    key = value.strip()
            sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Accept: {accept_value(key)}\r\n\r\n").encode())
            try:
                self.script(sock, leftover)
            finally:
                self.closed.set()

    def stop(self) -> None:
        self.listener.close()


def raw_client_handshake(host: str, port: int, target: str, host_header: str) -> socket.socket:
    """Opens a TCP connection, sends an upgrade request for `target` (origin- or
    absolute-form) and reads the 101; returns the socket. The 101 is read a byte at a
    time, so frames the server sent right after it are still in the socket."""
    sock = socket.create_connection((host, port), timeout=15)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)
        assert chunk, f"connection closed during the handshake: {data!r}"
        data += chunk
    assert data.startswith(b"HTTP/1.1 101"), data
    assert accept_value(key).encode() in data, data
    return sock


# --- clients --------------------------------------------------------------------------

def deflate_extensions(client_no_context_takeover: bool = False):
    return [ClientPerMessageDeflateFactory(client_no_context_takeover=client_no_context_takeover)]


class _AbsoluteFormConnection(ClientConnection):
    """Sends the handshake request line in absolute form (`GET http://host:port/path`),
    as a client configured with a plain HTTP proxy does for ws:// URLs."""

    async def handshake(self, *args, **kwargs):
        original = self.protocol.connect
        uri = self.protocol.uri

        def connect():
            request = original()
            request.path = f"http://{uri.host}:{uri.port}{request.path}"
            return request

        self.protocol.connect = connect
        await super().handshake(*args, **kwargs)


def connect(origin_url: str, path: str = "/", *, mode: str = "direct", proxy=None,
            ssl_context: Optional[ssl.SSLContext] = None, extensions=None, **kwargs):
    """A `websockets` client connection (use with `async with`).

    mode: "direct"; "absolute" (forward proxy, ws:// request in absolute form);
    "connect" (forward proxy through CONNECT; wss:// is then intercepted);
    "reverse" (Tapline in front of the origin: connect to the proxy itself)."""
    common = dict(compression=None, extensions=extensions or None, max_size=2 ** 26,
                  ping_interval=None, open_timeout=15, close_timeout=15)
    common.update(kwargs)
    if mode == "direct":
        return ws_connect(origin_url + path, ssl=ssl_context, proxy=None, **common)
    if mode == "absolute":
        return ws_connect(origin_url + path, proxy=None, host=HOST, port=proxy.port,
                          create_connection=_AbsoluteFormConnection, **common)
    if mode == "connect":
        return ws_connect(origin_url + path, proxy=proxy.proxy_url, ssl=ssl_context, **common)
    if mode == "reverse":
        return ws_connect(f"ws://{HOST}:{proxy.port}{path}", proxy=None, **common)
    raise ValueError(mode)


# --- capture --------------------------------------------------------------------------

def payload_of(session_dir: Path, event: dict) -> bytes:
    """A wsMessage's stored payload: `text`, `base64`, or `seg`/`off`/`len` in a segment."""
    if "text" in event:
        return event["text"].encode("utf-8")
    if "base64" in event:
        return base64.b64decode(event["base64"])
    segment = Path(session_dir) / "bodies" / f"{event['seg']:06d}.bin"
    with open(segment, "rb") as f:
        f.seek(event["off"])
        data = f.read(event["len"])
    assert len(data) == event["len"], f"segment {segment} is shorter than {event}"
    return data


def websocket_flows(session_dir: Path) -> dict[int, dict]:
    """flow id -> {"request", "response", "messages", "ended", "resets"} for flows with
    a WebSocket handshake request (HTTP/1.1 Upgrade)."""
    def upgrades(request: dict) -> bool:
        names = {k.lower(): v for k, v in request["headers"]}
        return names.get("upgrade", "").lower() == "websocket"
    return _handshake_flows(session_dir, upgrades)


def extended_connect_flows(session_dir: Path) -> dict[int, dict]:
    """The same for flows opened by an HTTP/2 extended CONNECT (RFC 8441)."""
    return _handshake_flows(session_dir, lambda request: request["method"] == "CONNECT")


def _handshake_flows(session_dir: Path, opens: Callable[[dict], bool]) -> dict[int, dict]:
    """flow id -> its handshake, messages, end and HTTP/2 resets, for the flows whose
    requestHead event `opens` a WebSocket."""
    flows: dict[int, dict] = {}
    for e in read_events(session_dir):
        flow = e.get("flow")
        if e["type"] == "requestHead":
            if opens(e):
                flows[flow] = {"request": e, "response": None, "messages": [], "ended": None, "resets": []}
        elif flow in flows:
            if e["type"] == "responseHead":
                flows[flow]["response"] = e
            elif e["type"] == "wsMessage":
                flows[flow]["messages"].append(e)
            elif e["type"] == "flowEnded":
                flows[flow]["ended"] = e
            elif e["type"] == "http2StreamReset":
                flows[flow]["resets"].append(e)
    return flows


def wait_for_ended_websocket_flow(proxy, count: int = 1, timeout: float = 20.0) -> list[dict]:
    """Waits until `count` WebSocket flows have ended in the capture; returns them in order."""
    session = proxy.session_dir()

    def ended():
        flows = websocket_flows(session)
        done = [f for f in flows.values() if f["ended"] is not None]
        return done if len(done) >= count else None
    try:
        return wait_until(ended, timeout, interval=0.1, message="the WebSocket flow to end in the capture")
    except TimeoutError as e:
        raise AssertionError(f"{e}\n{proxy.stderr_tail()}") from None


def record_through_proxy(tapline, handler: Callable[..., Awaitable[None]], path: str,
                         converse: Callable[..., Awaitable[None]], timeout: float = 20.0) -> tuple:
    """Records one WebSocket conversation: an origin running `handler`, a new proxy
    (`tapline()`), and a client connected through it in absolute form to `path`, running
    `converse(ws)`; waits until the flow has ended in the capture, stops the proxy and
    the origin. Returns (proxy, the closed session's directory)."""
    origin = WebSocketOrigin(handler)
    try:
        proxy = tapline()

        async def client():
            async with connect(origin.url, path, mode="absolute", proxy=proxy) as ws:
                await converse(ws)

        asyncio.run(asyncio.wait_for(client(), timeout))
        wait_for_ended_websocket_flow(proxy)
        session = proxy.session_dir()
        proxy.stop()
    finally:
        origin.stop()
    return proxy, session


def exported_message_markers(proxy, workdir: Path) -> dict[str, list[Optional[dict]]]:
    """The truncation markers of the WebSocket messages of the proxy's (one-flow) session as
    exported (docs/export.md, "WebSocket messages the capture could not hold"), one per message,
    None for a message exported whole: `har` (`_webSocketMessages[i]._tapline`), `postman`
    (`truncated`/`size`/`reason` on `_tapline.messages[i]`), and `reimported` (the HAR imported
    with `tapline import` and exported again)."""
    def export(session: str, capture: str, *args: str) -> None:
        p = proxy.cli("export", session, "--capture", capture, *args, timeout=120)
        assert p.returncode == 0, (p.stdout, p.stderr)

    def har_markers(path: Path) -> list[Optional[dict]]:
        entries = json.loads(path.read_text())["log"]["entries"]
        assert len(entries) == 1, entries
        return [m.get("_tapline") for m in entries[0]["_webSocketMessages"]]

    def tapline_extension(items: list) -> Optional[dict]:
        for item in items:
            found = item.get("_tapline") or tapline_extension(item.get("item", []))
            if found:
                return found
        return None

    capture = str(proxy.capture_dir)
    har, postman = workdir / "out.har", workdir / "out.postman.json"
    export(proxy.session_id, capture, "--har", str(har))
    export(proxy.session_id, capture, "--postman", str(postman))
    messages = tapline_extension(json.loads(postman.read_text())["item"])["messages"]
    markers = {"har": har_markers(har),
               "postman": [{k: m[k] for k in ("truncated", "size", "reason")} if "truncated" in m else None
                           for m in messages]}
    imported_capture = workdir / "imported"
    p = proxy.cli("import", str(har), "--capture", str(imported_capture), timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    session = (p.stdout if isinstance(p.stdout, str) else p.stdout.decode()).strip()
    again = workdir / "again.har"
    export(session, str(imported_capture), "--har", str(again))
    markers["reimported"] = har_markers(again)
    return markers


def echo_through_proxy(proxy, origin: "WebSocketOrigin", received: list, message: bytes, later: str, *,
                       deflate: bool, timeout: float) -> tuple[bytes, str]:
    """Sends `message`, then `later`, through `proxy` (absolute form) to an origin that echoes
    each one (its handler appends what it got to `received`), waits for both echoes and
    closes cleanly (the close waits for the server's close frame). Checks that every byte
    went through both ways, and returns the two echoes."""
    async def run() -> tuple[bytes, str]:
        extensions = deflate_extensions() if deflate else None
        ws = await connect(origin.url, "/big", mode="absolute", proxy=proxy, extensions=extensions, max_size=None)
        await ws.send(message)
        echoed = await ws.recv()
        await ws.send(later)
        echoed_later = await ws.recv()
        await ws.close(code=1000, reason="done")
        return echoed, echoed_later

    echoed, echoed_later = asyncio.run(asyncio.wait_for(run(), timeout))
    assert len(received) == 2 and len(received[0]) == len(message) and received[0] == message
    assert len(echoed) == len(message) and echoed == message
    assert received[1] == later and echoed_later == later
    return echoed, echoed_later


def echoing_origin(received: list, *, deflate: bool) -> "WebSocketOrigin":
    """A WebSocket origin (permessage-deflate offered when `deflate`, no size limit) that
    echoes every message until the client's close frame, appending each to `received`."""
    async def echo_until_closed(ws):
        async for message in ws:  # ends when the client's close frame was answered
            received.append(message)
            await ws.send(message)

    return WebSocketOrigin(echo_until_closed, compression="deflate" if deflate else None, max_size=None)
