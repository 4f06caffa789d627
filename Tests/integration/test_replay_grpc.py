"""`tapline replay` of recorded gRPC calls, all four kinds (and a trailers-only error), at
byte level (issue #23): a grpcio server with generic handlers on raw bytes, called
through Tapline (reverse h2c) by a grpcio client; the session is replayed against the server (h2c by prior knowledge,
and over TLS with ALPN h2). The server must get the same request messages, byte for byte,
and metadata; the replay compares each call with its recording (`grpc-status`, trailers,
bodies): equal against the same server, and exactly the changed status and the changed
response message against a changed one.

Bidi: the recording client is interactive (each message once the answer to the one before
arrived); replay sends the recorded request body as it was recorded (all its DATA, then
the end), and this server, which answers each message as it comes, answers it the same.
"""

from __future__ import annotations

import json
import queue
import threading
from typing import Optional

import grpc

from tapline_testkit.grpc_origin import start_generic_server
from tapline_testkit.origin import TestCA
from tapline_testkit.util import HOST, describe, text

from test_replay import replay

SERVICE = "tapline.test.ReplayEcho"
UNARY_REQUEST = b"\x00ping\xff"
SERVER_STREAM_REQUEST = b"3"
CLIENT_STREAM_REQUESTS = [b"a", b"", b"c" * 70_000]  # an empty message and one over a DATA frame
BIDI_REQUESTS = [b"one", b"two", b"three"]


class ReplayEchoOrigin:
    """Unary, ServerStream, ClientStream, Bidi and Fail (trailers-only NOT_FOUND) on raw bytes;
    `received[method]` lists each call's request messages as the handler got them, and
    `metadata[method]` its `x-tag`.
    `changed`: Unary answers the same message with status DATA_LOSS, and ServerStream's
    second message is different; everything else as before.
    `tls`: serve over TLS (ALPN h2) with the test CA's certificate."""

    def __init__(self, changed: bool = False, tls: Optional[TestCA] = None):
        self.changed = changed
        self.received: dict[str, list[list[bytes]]] = {}
        self.metadata: dict[str, list[Optional[str]]] = {}
        self.lock = threading.Lock()
        handlers = {
            "Unary": grpc.unary_unary_rpc_method_handler(self._unary),
            "ServerStream": grpc.unary_stream_rpc_method_handler(self._server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(self._client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(self._bidi),
            "Fail": grpc.unary_unary_rpc_method_handler(self._fail),
        }
        self.server, self.port = start_generic_server(SERVICE, handlers, tls)

    def stop(self) -> None:
        self.server.stop(grace=None)

    def _note(self, method: str, messages: list[bytes], context) -> None:
        with self.lock:
            self.received.setdefault(method, []).append(list(messages))
            self.metadata.setdefault(method, []).append(dict(context.invocation_metadata()).get("x-tag"))

    def _unary(self, request: bytes, context) -> bytes:
        self._note("Unary", [request], context)
        context.set_trailing_metadata((("x-trailer", "done"),))
        if self.changed:
            context.set_code(grpc.StatusCode.DATA_LOSS)
            context.set_details("lost")
        return b"unary:" + request

    def _server_stream(self, request: bytes, context):
        self._note("ServerStream", [request], context)
        for index in range(int(request)):
            yield b"message-X" if self.changed and index == 1 else f"message-{index}".encode()

    def _client_stream(self, requests, context) -> bytes:
        messages = list(requests)
        self._note("ClientStream", messages, context)
        return b"count=%d;" % len(messages) + b"|".join(messages)

    def _fail(self, request: bytes, context) -> bytes:
        """A trailers-only answer: NOT_FOUND with a message and trailing metadata, no message."""
        self._note("Fail", [request], context)
        context.set_trailing_metadata((("x-why", "testing"),))
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    def _bidi(self, requests, context):
        messages = []
        for message in requests:  # answered one by one, as they arrive
            messages.append(message)
            yield message[::-1]
        self._note("Bidi", messages, context)


def call_each_kind(channel: grpc.Channel) -> None:
    """One call of each kind and one that fails (with an `x-tag` each), checking the answers."""
    def method(name: str, kind: str):
        return getattr(channel, kind)(f"/{SERVICE}/{name}")

    assert method("Unary", "unary_unary")(UNARY_REQUEST, metadata=(("x-tag", "u"),), timeout=20) == \
        b"unary:" + UNARY_REQUEST
    assert list(method("ServerStream", "unary_stream")(SERVER_STREAM_REQUEST, metadata=(("x-tag", "s"),),
                                                          timeout=20)) == [b"message-0", b"message-1", b"message-2"]
    assert method("ClientStream", "stream_unary")(iter(CLIENT_STREAM_REQUESTS), metadata=(("x-tag", "c"),),
                                                  timeout=20).startswith(b"count=3;")
    answered: queue.Queue = queue.Queue()

    def ping_pong():  # each message once the answer to the one before arrived: an interactive client
        for message in BIDI_REQUESTS:
            yield message
            answered.get(timeout=20)

    replies = []
    for reply in method("Bidi", "stream_stream")(ping_pong(), metadata=(("x-tag", "b"),), timeout=20):
        replies.append(reply)
        answered.put(reply)
    assert replies == [m[::-1] for m in BIDI_REQUESTS]
    try:
        method("Fail", "unary_unary")(b"?", metadata=(("x-tag", "f"),), timeout=20)
        raise AssertionError("Fail answered")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND and error.details() == "no such thing"


def record(tapline, upstream: str, *args: str) -> tuple:
    """The five calls through `tapline --reverse upstream` (h2c from the client); returns
    (the stopped proxy, the session directory)."""
    proxy = tapline("--reverse", upstream, *args)
    with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
        call_each_kind(channel)
    session = proxy.session_dir()
    proxy.stop()
    return proxy, str(session)


EXPECTED_RECEIVED = {
    "Unary": [[UNARY_REQUEST]], "ServerStream": [[SERVER_STREAM_REQUEST]],
    "ClientStream": [CLIENT_STREAM_REQUESTS], "Bidi": [BIDI_REQUESTS], "Fail": [[b"?"]],
}
EXPECTED_TAGS = {"Unary": ["u"], "ServerStream": ["s"], "ClientStream": ["c"], "Bidi": ["b"], "Fail": ["f"]}


def replayed_flows(proxy, report_path) -> dict[str, dict]:
    """The report's flows by gRPC method name (the last path segment)."""
    document = json.loads(report_path.read_text())
    return {flow["url"].rsplit("/", 1)[1]: flow for flow in document["flows"]}


def test_all_four_call_kinds_replay_byte_for_byte_and_equal_over_h2c(tapline, tmp_path):
    origin = ReplayEchoOrigin()
    try:
        proxy, source = record(tapline, f"h2c://{HOST}:{origin.port}")
        assert origin.received == EXPECTED_RECEIVED and origin.metadata == EXPECTED_TAGS
        origin.received.clear()
        origin.metadata.clear()
        report = tmp_path / "r.json"
        p = replay(proxy, source, "--target", f"h2c://{HOST}:{origin.port}", "--report", str(report))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 5: 5 equal, 0 different, 0 failed; 0 skipped" in text(p), describe(p)
        # the server got the recorded request messages again, byte for byte, with their metadata
        assert origin.received == EXPECTED_RECEIVED and origin.metadata == EXPECTED_TAGS
    finally:
        origin.stop()
    flows = replayed_flows(proxy, report)
    assert sorted(flows) == ["Bidi", "ClientStream", "Fail", "ServerStream", "Unary"], flows
    assert all(flow["result"] == "equal" for flow in flows.values()), flows


def test_a_changed_status_and_response_message_are_exactly_the_differences(tapline, tmp_path):
    origin = ReplayEchoOrigin()
    try:
        proxy, source = record(tapline, f"h2c://{HOST}:{origin.port}")
    finally:
        origin.stop()
    changed = ReplayEchoOrigin(changed=True)
    try:
        report = tmp_path / "r.json"
        p = replay(proxy, source, "--target", f"h2c://{HOST}:{changed.port}", "--report", str(report))
        assert p.returncode == 1, describe(p)
        assert "sent 5: 3 equal, 2 different, 0 failed; 0 skipped" in text(p), describe(p)
        assert changed.received == EXPECTED_RECEIVED
    finally:
        changed.stop()
    flows = replayed_flows(proxy, report)
    assert [flows[name]["result"] for name in ("ClientStream", "Bidi", "Fail")] == ["equal"] * 3, flows
    unary = flows["Unary"]
    assert unary["result"] == "different", unary
    (status,) = [d for d in unary["differences"] if d["kind"] == "grpcStatus"]
    assert (status["a"]["code"], status["b"]["code"], status["b"]["message"]) == (0, 15, "lost"), status
    # the gRPC status once (its grpc-* trailers are not repeated as fields): nothing else
    assert [(d["kind"], d.get("name")) for d in unary["differences"]] == [("grpcStatus", None)], unary["differences"]
    stream = flows["ServerStream"]
    assert stream["result"] == "different", stream
    assert [d["kind"] for d in stream["differences"]] == ["body"], stream["differences"]


def test_calls_replay_over_tls_h2(tapline, test_ca, tmp_path):
    """Recorded through a reverse proxy to the TLS server; replayed to it with ALPN h2."""
    origin = ReplayEchoOrigin(tls=test_ca)
    try:
        proxy, source = record(tapline, f"https://localhost:{origin.port}", "--upstream-ca", str(test_ca.ca_cert))
        origin.received.clear()
        origin.metadata.clear()
        report = tmp_path / "r.json"
        p = replay(proxy, source, "--target", f"https://localhost:{origin.port}", "--upstream-ca",
                   str(test_ca.ca_cert), "--report", str(report))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 5: 5 equal, 0 different, 0 failed; 0 skipped" in text(p), describe(p)
        assert origin.received == EXPECTED_RECEIVED and origin.metadata == EXPECTED_TAGS
    finally:
        origin.stop()
    for flow in replayed_flows(proxy, report).values():
        assert flow["result"] == "equal", flow
