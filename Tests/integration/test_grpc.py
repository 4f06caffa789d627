"""gRPC through Tapline with a real gRPC stack on both sides (grpcio client and server):
unary, server-streaming, client-streaming and bidirectional calls, metadata and
trailers both ways, an error status, a cancelled call and a deadline;
in reverse mode (h2c in and out), forward mode (CONNECT, then h2c) and on a TLS
listener (ALPN h2). Every call is one captured HTTP/2 flow with its trailers."""

from __future__ import annotations

import hashlib
import json
import re

import grpc
import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.grpc_origin import GrpcOrigin, call
from tapline_testkit.origin import pattern_bytes
from tapline_testkit.util import text

MODES = ["reverse-h2c", "forward-connect", "reverse-tls"]


@pytest.fixture
def grpc_origin():
    server = GrpcOrigin()
    yield server
    server.stop()


def open_channel(tapline, origin: GrpcOrigin, mode: str):
    """Starts Tapline in `mode` in front of `origin`; returns (proxy, channel)."""
    if mode == "forward-connect":
        proxy = tapline()
        # grpcio tunnels through an HTTP proxy with CONNECT, then speaks h2c inside
        channel = grpc.insecure_channel(origin.authority, options=[("grpc.http_proxy", f"http://127.0.0.1:{proxy.port}")])
    elif mode == "reverse-tls":
        proxy = tapline("--reverse", f"h2c://{origin.authority}", "--listen-tls")
        credentials = grpc.ssl_channel_credentials(proxy.wait_for_ca().read_bytes())
        channel = grpc.secure_channel(f"localhost:{proxy.port}", credentials)
    else:
        proxy = tapline("--reverse", f"h2c://{origin.authority}")
        channel = grpc.insecure_channel(f"127.0.0.1:{proxy.port}")
    return proxy, channel


def flows_by_method(events: list[dict]) -> dict[str, list[dict]]:
    """Each call's events, keyed by its method name (the last path segment)."""
    flow_of = {e["flow"]: e["target"].rsplit("/", 1)[-1] for e in events if e["type"] == "requestHead"}
    calls: dict[str, list[dict]] = {}
    for e in events:
        if e.get("flow") in flow_of:
            calls.setdefault(flow_of[e["flow"]], []).append(e)
    return calls


def one(events: list[dict], kind: str) -> dict:
    found = [e for e in events if e["type"] == kind]
    assert len(found) == 1, (kind, events)
    return found[0]


@pytest.mark.parametrize("mode", MODES)
def test_grpc_calls_of_every_kind_and_their_status_pass_through_and_are_captured(tapline, grpc_origin, mode):
    proxy, channel = open_channel(tapline, grpc_origin, mode)
    with channel:
        answer, unary = call(channel, "Unary").with_call(b"hello", metadata=(("x-tag", "t1"),), timeout=20)
        assert answer == b"hello"
        assert ("x-seen-tag", "t1") in [(m.key, m.value) for m in unary.initial_metadata()]
        assert ("x-trailer", "done") in [(m.key, m.value) for m in unary.trailing_metadata()]

        streamed = list(call(channel, "ServerStream", "unary_stream")(b"5,100000", timeout=20))
        assert streamed == [i.to_bytes(4, "big") + pattern_bytes(100_000 - 4) for i in range(5)]

        uploads = [bytes([i]) * 70_000 for i in range(20)]
        summary = call(channel, "ClientStream", "stream_unary")(iter(uploads), timeout=20)
        assert summary == f"20,{hashlib.sha256(b''.join(uploads)).hexdigest()}".encode()

        echoed = list(call(channel, "Bidi", "stream_stream")(iter([b"x" * 10, b"y" * 200_000, b""]), timeout=20))
        assert echoed == [b"x" * 10, b"y" * 200_000, b""]

        with pytest.raises(grpc.RpcError) as failed:
            call(channel, "Fail")(b"", timeout=20)
        assert failed.value.code() == grpc.StatusCode.NOT_FOUND
        assert failed.value.details() == "no such thing"
        assert ("x-why", "testing") in [(m.key, m.value) for m in failed.value.trailing_metadata()]
    proxy.stop()

    calls = flows_by_method(read_events(proxy.session_dir()))
    assert set(calls) == {"Unary", "ServerStream", "ClientStream", "Bidi", "Fail"}
    for method, events in calls.items():
        assert one(events, "flowStarted")["stream"] > 0, method
        head = one(events, "requestHead")
        assert head["method"] == "POST" and head["version"] == "HTTP/2"
        fields = dict((name.lower(), value) for name, value in head["headers"])
        assert fields["content-type"].startswith("application/grpc") and fields["te"] == "trailers"
        assert "error" not in one(events, "flowEnded"), (method, events)
    # bodies are the length-prefixed messages (5-byte header each), as on the wire
    assert one(calls["Unary"], "requestEnd")["bodyBytes"] == 5 + 5
    assert one(calls["ServerStream"], "responseEnd")["bodyBytes"] == 5 * (5 + 100_000)
    assert one(calls["ClientStream"], "requestEnd")["bodyBytes"] == 20 * (5 + 70_000)
    trailers = dict(one(calls["Unary"], "responseEnd")["trailers"])
    assert trailers["grpc-status"] == "0" and trailers["x-trailer"] == "done"
    # a trailers-only answer: grpc-status in the one HEADERS frame, which ended the stream
    failed_head = dict(one(calls["Fail"], "responseHead")["headers"])
    assert failed_head[":status"] == "200" and failed_head["grpc-status"] == "5"
    assert failed_head["grpc-message"] == "no such thing"


def test_the_grpc_status_is_shown_live_and_by_tapline_show(tapline, grpc_origin):
    """What grpcurl would print: the call's gRPC status (and message), not only HTTP's 200."""
    proxy, channel = open_channel(tapline, grpc_origin, "reverse-h2c")
    with channel:
        assert call(channel, "Unary")(b"hi", timeout=20) == b"hi"
        with pytest.raises(grpc.RpcError):
            call(channel, "Fail")(b"", timeout=20)
    proxy.stop()
    live = proxy.stderr_text()
    assert re.search(r"/tapline\.test\.Echo/Unary -> 200 application/grpc OK ", live), live
    assert re.search(r"/tapline\.test\.Echo/Fail -> 200 application/grpc NOT_FOUND: no such thing ", live), live
    session = str(proxy.session_dir())
    listing = text(proxy.cli("show", session))
    # a gRPC call is listed as Service/Method, its kind and message counts (#24), then HTTP and gRPC status
    assert re.search(r"tapline\.test\.Echo/Fail unary \(inferred\) →1 ←0\s+200 NOT_FOUND\s+application/grpc", listing), listing
    assert re.search(r"tapline\.test\.Echo/Unary unary \(inferred\) →1 ←1\s+200 OK\s+application/grpc", listing), listing
    fail = flows_by_method(read_events(proxy.session_dir()))["Fail"][0]["flow"]
    detail = text(proxy.cli("show", session, "--flow", str(fail)))
    assert "gRPC status" in detail and "NOT_FOUND (5): no such thing" in detail, detail
    shown = json.loads(proxy.cli("show", session, "--flow", str(fail), "--json").stdout)
    assert shown["grpcStatus"] == {"code": 5, "name": "NOT_FOUND", "message": "no such thing"}

    logging = tapline("--reverse", f"h2c://{grpc_origin.authority}", "--log-format", "json")
    with grpc.insecure_channel(f"127.0.0.1:{logging.port}") as json_channel, pytest.raises(grpc.RpcError):
        call(json_channel, "Fail")(b"", timeout=20)
    logging.stop()
    lines = [json.loads(line) for line in logging.stderr_text().splitlines() if line.startswith("{")]
    failed = next(line for line in lines if line.get("url", "").endswith("/Fail"))
    assert (failed["status"], failed["grpcStatus"], failed["grpcMessage"]) == (200, 5, "no such thing")


@pytest.mark.parametrize("mode", ["reverse-h2c", "forward-connect"])
def test_a_cancelled_grpc_call_cancels_the_upstream_call_and_is_captured_as_a_reset(tapline, grpc_origin, mode):
    proxy, channel = open_channel(tapline, grpc_origin, mode)
    with channel:
        pending = call(channel, "Hang").future(b"")  # no deadline: only the cancel ends it
        assert grpc_origin.hanging.wait(10), "the call did not reach the server"
        pending.cancel()  # the client's RST_STREAM(CANCEL)
        assert grpc_origin.cancelled.wait(10), "the upstream call was not cancelled"
        assert call(channel, "Unary")(b"still there", timeout=20) == b"still there"
    proxy.stop()
    hang = flows_by_method(read_events(proxy.session_dir()))["Hang"]
    reset = one(hang, "http2StreamReset")
    assert (reset["side"], reset["errorCode"]) == ("client", 8)
    assert one(hang, "flowEnded")["error"]["kind"] == "client-aborted"


def test_a_grpc_deadline_travels_to_the_server(tapline, grpc_origin):
    proxy, channel = open_channel(tapline, grpc_origin, "reverse-h2c")
    with channel:
        with pytest.raises(grpc.RpcError) as late:
            call(channel, "Hang")(b"", timeout=0.5)
        assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert grpc_origin.cancelled.wait(10), "the server did not end the call at its deadline"
    proxy.stop()
    head = one(flows_by_method(read_events(proxy.session_dir()))["Hang"], "requestHead")
    assert "grpc-timeout" in dict(head["headers"])  # the server enforced the client's deadline
