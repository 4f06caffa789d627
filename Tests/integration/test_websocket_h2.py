"""WebSocket over HTTP/2 (RFC 8441) through Tapline: an h2 client (Python `h2`, frames
by `wsproto`, masked as RFC 8441 requires) opens an extended CONNECT (`:protocol
websocket`). Reverse mode with h2c prior knowledge bridges it to a Python `websockets`
server over HTTP/1.1 (Upgrade), with and without permessage-deflate; forward mode
(CONNECT + TLS, ALPN h2) passes it to an h2 origin that announced
SETTINGS_ENABLE_CONNECT_PROTOCOL. Messages must arrive intact both ways and the
capture must hold exactly them, in order, decompressed; a refused upgrade gives the
stream the upstream's status; a client RST closes the upstream and ends the flow."""

from __future__ import annotations

import json
import threading

import pytest

from tapline_testkit import websocket as wsk
from tapline_testkit.ws_messages import exchange_server, random_messages
from tapline_testkit.h2_websocket import H2WebSocketClient, H2WebSocketOrigin
from tapline_testkit.util import HOST, wait_until

MESSAGES = 200


WORDS = ["tapline", "h2", "ünïcödé", "✓", "𝄞", "{i}", "{\"json\": true}"]
CLIENT_MESSAGES = random_messages(11, MESSAGES, empty=0.03, large=0.03, large_max=150_000, words=WORDS)
SERVER_MESSAGES = random_messages(12, MESSAGES, empty=0.03, large=0.03, large_max=150_000, words=WORDS)
_exchange_server = exchange_server(SERVER_MESSAGES, CLIENT_MESSAGES)


def _as_bytes(m) -> bytes:
    return m.encode("utf-8") if isinstance(m, str) else m


def _events(proxy) -> list[dict]:
    return wsk.read_events(proxy.session_dir())


def _extended_connect_flows(proxy) -> dict[int, dict]:
    """flow id -> {"request", "response", "messages", "ended", "resets"} for extended CONNECT flows."""
    return wsk.extended_connect_flows(proxy.session_dir())


def _ended_flow(proxy) -> dict:
    def ended():
        done = [f for f in _extended_connect_flows(proxy).values() if f["ended"] is not None]
        return done[0] if done else None
    try:
        return wait_until(ended, 20, interval=0.1, message="the extended CONNECT flow to end in the capture")
    except TimeoutError as e:
        raise AssertionError(f"{e}\n{proxy.stderr_tail()}") from None


def _run_client(client: H2WebSocketClient) -> None:
    """Sends CLIENT_MESSAGES while receiving the server's MESSAGES messages, then closes (1000 "done")."""
    for m in CLIENT_MESSAGES:
        client.send(m)
        if client.outbox:
            client.wait(lambda: not client.outbox, "flow-control credit")
    client.wait(lambda: len(client.messages) >= MESSAGES, "the server's messages")
    client.send_close(1000, "done")
    client.wait(lambda: client.close_received is not None, "the server's close frame")
    client.end_stream()
    client.wait(lambda: client.ended, "the end of the stream")


def _check_messages(proxy, flow: dict, compressed: bool) -> None:
    session = proxy.session_dir()
    for direction, sent in (("client", CLIENT_MESSAGES), ("server", SERVER_MESSAGES)):
        got = [m for m in flow["messages"] if m["dir"] == direction and m["opcode"] in ("text", "binary")]
        assert len(got) == len(sent), f"{direction}: captured {len(got)} of {len(sent)} messages"
        for i, (event, message) in enumerate(zip(got, sent)):
            expected = _as_bytes(message)
            assert event["opcode"] == ("text" if isinstance(message, str) else "binary"), (direction, i)
            assert event["size"] == len(expected), (direction, i, event)
            assert wsk.payload_of(session, event) == expected, f"{direction} message {i} differs"
        if compressed:
            assert any(m["compressed"] for m in got), f"{direction}: nothing was compressed"
        else:
            assert not any(m["compressed"] for m in got)
    closes = [m for m in flow["messages"] if m["opcode"] == "close"]
    assert [c["dir"] for c in closes] == ["client", "server"], closes
    assert closes[0]["code"] == 1000 and closes[0]["reason"] == "done"


def _check_shown(proxy, flow: dict) -> None:
    flow_id = flow["request"]["flow"]
    shown = proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow_id), "--json")
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["kind"] == "websocket", detail.get("kind")
    messages = [m for m in detail["webSocketMessages"] if m["opcode"] in ("text", "binary")]
    assert len(messages) == 2 * MESSAGES


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_reverse_h2c_extended_connect_to_http1_websocket(tapline, compression):
    origin = wsk.WebSocketOrigin(_exchange_server, compression=compression)
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}", "/chat?room=1",
                                   deflate=compression is not None)
        try:
            assert client.open([("sec-websocket-protocol", "chat")]) == 200, client.headers
            names = dict(client.headers)
            assert "sec-websocket-accept" not in names and "upgrade" not in names
            if compression:
                assert "permessage-deflate" in names.get("sec-websocket-extensions", ""), client.headers
            _run_client(client)
        finally:
            client.close()
        assert client.messages == SERVER_MESSAGES, "the client did not receive the server's messages intact"
        flow = _ended_flow(proxy)
        assert flow["ended"].get("error") is None, flow["ended"]
        request_headers = dict(flow["request"]["headers"])
        assert flow["request"]["version"] == "HTTP/2" and request_headers[":protocol"] == "websocket"
        assert flow["request"]["target"] == "/chat?room=1"
        # The HTTP/1.1 upstream's 101 is the recorded response.
        assert flow["response"]["status"] == 101 and flow["response"]["version"] == "HTTP/1.1"
        extensions = [v for k, v in flow["response"]["headers"] if k.lower() == "sec-websocket-extensions"]
        assert bool(extensions) == (compression is not None), extensions
        _check_messages(proxy, flow, compression is not None)
        _check_shown(proxy, flow)
        assert not origin.errors, origin.errors
    finally:
        origin.stop()


def test_reverse_listen_tls_extended_connect_to_http1_websocket(tapline):
    """The TLS listener (ALPN h2, a leaf from Tapline's CA) takes extended CONNECT too."""
    origin = wsk.WebSocketOrigin(_exchange_server, compression="deflate")
    try:
        proxy = tapline("--reverse", origin.http_url, "--listen-tls")
        client = H2WebSocketClient(proxy.port, f"localhost:{proxy.port}", "/chat", deflate=True,
                                   tls_ca=proxy.wait_for_ca(), scheme="https")
        try:
            assert client.open() == 200, client.headers
            _run_client(client)
        finally:
            client.close()
        assert client.messages == SERVER_MESSAGES
        flow = _ended_flow(proxy)
        assert flow["ended"].get("error") is None, flow["ended"]
        assert flow["response"]["status"] == 101
        _check_messages(proxy, flow, compressed=True)
        assert not origin.errors, origin.errors
    finally:
        origin.stop()


def _echo_through_forward_tls(tapline, test_ca, origin: H2WebSocketOrigin):
    """An h2 client opens a WebSocket by extended CONNECT through forward mode (CONNECT,
    then TLS with our CA) to `origin`, exchanges CLIENT_MESSAGES, and gets them all back."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    client = H2WebSocketClient(proxy.port, origin.authority, "/echo", tls_ca=ca, connect_to=origin.authority,
                               scheme="https")
    try:
        assert client.open() == 200, client.headers
        _run_client(client)
    finally:
        client.close()
    assert client.messages == CLIENT_MESSAGES
    return proxy


def test_forward_tls_h2_extended_connect_to_h2_origin(tapline, test_ca):
    origin = H2WebSocketOrigin(test_ca.server_context())
    try:
        proxy = _echo_through_forward_tls(tapline, test_ca, origin)
        assert origin.requests and dict(origin.requests[0])[":protocol"] == "websocket"
        flow = _ended_flow(proxy)
        assert flow["ended"].get("error") is None, flow["ended"]
        assert flow["response"]["status"] == 200 and flow["response"]["version"] == "HTTP/2"
        session = proxy.session_dir()
        for direction in ("client", "server"):
            got = [m for m in flow["messages"] if m["dir"] == direction and m["opcode"] in ("text", "binary")]
            assert [wsk.payload_of(session, m) for m in got] == [_as_bytes(m) for m in CLIENT_MESSAGES], direction
        shown = proxy.cli("show", str(session), "--flow", str(flow["request"]["flow"]), "--json")
        assert json.loads(shown.stdout)["kind"] == "websocket"
        assert not origin.errors, origin.errors
    finally:
        origin.stop()


def test_h2_upstream_without_extended_connect_falls_back_to_http1(tapline, test_ca):
    """The upstream speaks h2 but does not announce SETTINGS_ENABLE_CONNECT_PROTOCOL: the
    client's extended CONNECT still works, through an HTTP/1.1 upgrade on a connection of its own."""
    origin = H2WebSocketOrigin(test_ca.server_context(), extended_connect=False)
    try:
        proxy = _echo_through_forward_tls(tapline, test_ca, origin)
        assert origin.h2_connections >= 1, "the proxy should have tried the upstream's h2 first"
        assert not origin.requests, "the WebSocket must not be opened as an h2 stream"
        assert len(origin.http1_requests) == 1, origin.http1_requests
        upgrade = origin.http1_requests[0].lower()
        assert upgrade.startswith("get /echo http/1.1") and "upgrade: websocket" in upgrade, upgrade
        flow = _ended_flow(proxy)
        assert flow["ended"].get("error") is None, flow["ended"]
        assert flow["response"]["status"] == 101, flow["response"]
        assert not origin.errors, origin.errors
    finally:
        origin.stop()


def test_refused_upgrade_gives_the_stream_the_upstream_status(tapline):
    def refuse(connection, request):
        return connection.respond(403, "no sockets for you\n")

    origin = _RefusingOrigin(refuse)
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}")
        try:
            assert client.open() == 403
            client.wait(lambda: client.ended or client.reset_code is not None, "the end of the refusal")
        finally:
            client.close()
        flow = _ended_flow(proxy)
        assert flow["response"]["status"] == 403
        assert flow["messages"] == []
        assert flow["ended"].get("error") is None, flow["ended"]
        shown = proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow["request"]["flow"]), "--json")
        assert json.loads(shown.stdout)["kind"] == "http"
    finally:
        origin.stop()


class _RefusingOrigin(wsk.WebSocketOrigin):
    """A `websockets` server whose process_request refuses every handshake."""

    def __init__(self, refuse):
        self.refuse = refuse
        super().__init__()

    def _run(self) -> None:
        import asyncio
        from websockets.asyncio.server import serve

        asyncio.set_event_loop(self.loop)

        async def main():
            async with serve(self._handle, HOST, self.port, process_request=self.refuse, ping_interval=None):
                self.stop_event = asyncio.Event()
                self.ready.set()
                await self.stop_event.wait()

        self.loop.run_until_complete(main())


def test_client_reset_mid_stream_closes_the_upstream_and_ends_the_flow(tapline):
    closed = threading.Event()
    got_first = threading.Event()

    async def handler(ws):
        try:
            async for _ in ws:
                got_first.set()
        finally:
            closed.set()

    origin = wsk.WebSocketOrigin(handler)
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}")
        try:
            assert client.open() == 200
            client.send("first")
            assert got_first.wait(10), "the first message did not reach the server"
            # Half a frame, then RST_STREAM.
            client.outbox += client.frames.send_data(b"x" * 1000, fin=True)[:500]
            client._push()
            client.reset()
            assert closed.wait(10), "the upstream WebSocket connection was not closed after the client's RST_STREAM"
        finally:
            client.close()
        flow = _ended_flow(proxy)
        error = flow["ended"].get("error")
        assert error and error["kind"] == "client-aborted", flow["ended"]
        assert [r["side"] for r in flow["resets"]] == ["client"], flow["resets"]
        texts = [m for m in flow["messages"] if m["opcode"] == "text"]
        assert [wsk.payload_of(proxy.session_dir(), m) for m in texts] == [b"first"]
    finally:
        origin.stop()
