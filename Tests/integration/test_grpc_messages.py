"""gRPC captured message by message (#24 item 4): for each gRPC call through Tapline the
capture holds one `grpcMessage` line per message of each direction (index, compressed
flag, wire length, extent in the body, the time its last byte arrived), and `tapline show`
builds the call from those lines. A grpcio client calls every method of the `proto/`
Orders service (`tapline_testkit.orders_origin`, no server reflection) through Tapline in
reverse h2c, forward with TLS (CONNECT, interception) and on a `--listen-tls` listener;
every message decoded from the capture equals `json_format.MessageToDict` on the peer
side. Then: interactive bidi ping-pong (times increase, directions interleave), gzip on
both sides, a 4 MiB message, bodies cut by `--max-body-capture`, an error status with
details, a deadline, a client cancelling mid-stream, a body that ends inside a frame, and
the schemaless decode of a server without reflection."""

from __future__ import annotations

import base64
import json
import queue
import threading
from pathlib import Path

import grpc
import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.orders_origin import PACKAGE, SERVICE, OrdersOrigin, as_dict
from tapline_testkit.protoc import compile_descriptor_set, descriptor_pool_of, message_class
from tapline_testkit.util import describe, run_tapline, text

pytest.importorskip("google.protobuf.json_format")

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
MODES = ["reverse-h2c", "forward-tls", "listen-tls"]
BIG = 16 << 20  # message size limit for the 4 MiB test, both peers


@pytest.fixture(scope="module")
def types(tmp_path_factory):
    descriptor_set = compile_descriptor_set(tmp_path_factory.mktemp("grpcmessages") / "orders.pb", [PROTO_ROOT],
                                            ["tapline/example/v1/orders.proto"])
    pool = descriptor_pool_of(descriptor_set)
    return lambda name: message_class(pool, f"{PACKAGE}.{name}")


@pytest.fixture
def orders(types):
    origin = OrdersOrigin(types)
    yield origin
    origin.stop()


def open_channel(tapline, origin: OrdersOrigin, mode: str, *proxy_args: str, test_ca=None, options=(), compression=None):
    """Starts Tapline in `mode` in front of `origin`; returns (proxy, channel)."""
    options = list(options)
    if mode == "forward-tls":
        proxy = tapline("--upstream-ca", str(test_ca.ca_cert), *proxy_args)
        credentials = grpc.ssl_channel_credentials(proxy.wait_for_ca().read_bytes())
        channel = grpc.secure_channel(f"localhost:{origin.port}", credentials, compression=compression,
                                      options=options + [("grpc.http_proxy", f"http://127.0.0.1:{proxy.port}")])
    elif mode == "listen-tls":
        proxy = tapline("--reverse", f"h2c://{origin.authority}", "--listen-tls", *proxy_args)
        credentials = grpc.ssl_channel_credentials(proxy.wait_for_ca().read_bytes())
        channel = grpc.secure_channel(f"localhost:{proxy.port}", credentials, compression=compression, options=options)
    else:
        proxy = tapline("--reverse", f"h2c://{origin.authority}", *proxy_args)
        channel = grpc.insecure_channel(f"127.0.0.1:{proxy.port}", compression=compression, options=options)
    return proxy, channel


def stub(channel, types, method: str):
    kinds = {"GetOrder": ("unary_unary", "GetOrderRequest", "Order"),
             "WatchOrders": ("unary_stream", "WatchOrdersRequest", "OrderEvent"),
             "UploadItems": ("stream_unary", "Order.Item", "UploadSummary"),
             "Chat": ("stream_stream", "ChatMessage", "ChatMessage")}
    if method == "Ping":
        from google.protobuf import empty_pb2
        kind, request_type, response_type = "unary_unary", empty_pb2.Empty, empty_pb2.Empty
    else:
        kind, request_name, response_name = kinds[method]
        request_type, response_type = types(request_name), types(response_name)
    return getattr(channel, kind)(f"/{SERVICE}/{method}", request_serializer=request_type.SerializeToString,
                                  response_deserializer=response_type.FromString)


def grpc_lines(session: Path) -> dict[str, list[dict]]:
    """The `grpcMessage` lines of each call in the capture, by method name (calls of one
    method in order, their lines concatenated)."""
    events = read_events(session)
    method_of = {e["flow"]: e["target"].rsplit("/", 1)[-1] for e in events if e["type"] == "requestHead"}
    lines: dict[str, list[dict]] = {method: [] for method in method_of.values()}
    for e in events:
        if e["type"] == "grpcMessage":
            lines[method_of[e["flow"]]].append(e)
    return lines


def show_json(session: Path, *args: str):
    p = run_tapline("show", str(session), "--json", *args, timeout=120)
    assert p.returncode == 0, describe(p)
    return json.loads(text(p))


def calls(session: Path, *schema: str) -> dict[str, list[dict]]:
    """The `grpc` object of every flow's `show --flow N --json`, by method name."""
    found: dict[str, list[dict]] = {}
    for flow in show_json(session, *schema):
        detail = show_json(session, "--flow", str(flow["id"]), *schema)
        found.setdefault(detail["grpc"]["method"], []).append(detail["grpc"])
    return found


def decoded(call: dict, direction: str) -> list[dict]:
    return [m["json"] for m in call["messages"] if m["direction"] == direction]


def assert_lines_frame_the_body(lines: list[dict], direction: str, sizes: list[int]) -> None:
    """The direction's message lines: indexes from 0, each payload right after the last
    (5-byte prefixes), wire lengths as the peer serialized them."""
    mine = [line for line in lines if line["dir"] == direction]
    assert [line["index"] for line in mine] == list(range(len(sizes))), mine
    assert [line["wireBytes"] for line in mine] == sizes, mine
    offset = 0
    for line in mine:
        assert line["off"] == offset + 5, mine
        offset = line["off"] + line["wireBytes"]
        assert "malformed" not in line and "truncated" not in line, line


@pytest.mark.parametrize("mode", MODES)
def test_every_method_is_captured_message_by_message_and_decodes_to_what_the_peers_saw(tapline, types, test_ca, mode):
    origin = OrdersOrigin(types, tls=test_ca if mode == "forward-tls" else None)
    T = types
    sent: dict[str, list] = {}
    got: dict[str, list] = {}
    try:
        proxy, channel = open_channel(tapline, origin, mode, test_ca=test_ca)
        with channel:
            sent["GetOrder"] = [T("GetOrderRequest")(id="o-1")]
            got["GetOrder"] = [stub(channel, T, "GetOrder")(sent["GetOrder"][0], timeout=20)]
            sent["WatchOrders"] = [T("WatchOrdersRequest")(statuses=[1, 2])]
            got["WatchOrders"] = list(stub(channel, T, "WatchOrders")(sent["WatchOrders"][0], timeout=20))
            sent["UploadItems"] = [T("Order.Item")(sku=f"S-{i}", quantity=i + 1) for i in range(3)]
            got["UploadItems"] = [stub(channel, T, "UploadItems")(iter(sent["UploadItems"]), timeout=20)]
            sent["Chat"] = [T("ChatMessage")(sequence=i, text=f"hi {i}") for i in range(3)]
            got["Chat"] = list(stub(channel, T, "Chat")(iter(sent["Chat"]), timeout=20))
            from google.protobuf import empty_pb2
            sent["Ping"] = [empty_pb2.Empty()]
            got["Ping"] = [stub(channel, T, "Ping")(sent["Ping"][0], timeout=20)]
        proxy.stop()
    finally:
        origin.stop()

    session = proxy.session_dir()
    lines = grpc_lines(session)
    assert set(lines) == set(sent), lines
    for method in sent:
        assert_lines_frame_the_body(lines[method], "request", [m.ByteSize() for m in sent[method]])
        assert_lines_frame_the_body(lines[method], "response", [m.ByteSize() for m in got[method]])
    shown = calls(session, "--proto", str(PROTO_ROOT))
    for method in sent:
        (call,) = shown[method]
        assert decoded(call, "request") == [as_dict(m) for m in sent[method]] == origin.received[method], method
        assert decoded(call, "response") == [as_dict(m) for m in got[method]] == origin.sent[method], method
        # each message's time is its grpcMessage line's: when its last byte passed
        assert [m["time"] for m in call["messages"]] == [line["t"] for line in sorted(
            lines[method], key=lambda line: (line["dir"] != "request", line["index"]))], method


def test_interactive_bidi_ping_pong_is_recorded_as_interleaved_messages_in_time_order(tapline, orders, types):
    T = types
    proxy, channel = open_channel(tapline, orders, "reverse-h2c")
    replies: queue.Queue = queue.Queue()
    rounds = 5

    def ask():
        for index in range(rounds):
            yield T("ChatMessage")(sequence=index, text=f"ping {index}")
            assert replies.get(timeout=20) == index + 100  # the answer came back before the next ping

    with channel:
        for answer in stub(channel, T, "Chat")(ask(), timeout=30):
            replies.put(answer.sequence)
    proxy.stop()

    lines = grpc_lines(proxy.session_dir())["Chat"]
    assert [(line["dir"], line["index"]) for line in lines] == [
        (direction, index) for index in range(rounds) for direction in ("request", "response")]
    times = [line["t"] for line in lines]
    assert times == sorted(times) and len(set(times)) == len(times), times
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["Chat"]
    assert [int(m.get("sequence", 0)) for m in decoded(call, "response")] == [100 + i for i in range(rounds)]
    ordered = sorted(call["messages"], key=lambda m: m["time"])
    assert [m["direction"] for m in ordered] == ["request", "response"] * rounds


def test_gzip_compressed_messages_both_ways_are_marked_and_decoded(tapline, types):
    T = types
    origin = OrdersOrigin(types, compression=grpc.Compression.Gzip)
    try:
        proxy, channel = open_channel(tapline, origin, "reverse-h2c", compression=grpc.Compression.Gzip)
        said = [T("ChatMessage")(sequence=i, text="compress me " * 20) for i in range(2)]
        with channel:
            answers = list(stub(channel, T, "Chat")(iter(said), timeout=20))
        proxy.stop()
    finally:
        origin.stop()
    lines = grpc_lines(proxy.session_dir())["Chat"]
    assert len(lines) == 4 and all(line["compressed"] for line in lines), lines
    assert all(line["wireBytes"] < said[0].ByteSize() for line in lines), lines  # as sent: compressed
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["Chat"]
    assert decoded(call, "request") == [as_dict(m) for m in said]
    assert decoded(call, "response") == [as_dict(m) for m in answers]
    assert all(m["compressed"] and m["decoding"] == "schema" for m in call["messages"]), call["messages"]


def test_a_4_mib_message_passes_and_is_one_captured_message(tapline, types):
    T = types
    limits = [("grpc.max_receive_message_length", BIG), ("grpc.max_send_message_length", BIG)]
    origin = OrdersOrigin(types, options=limits)
    attachment = bytes(range(256)) * (4 << 12)  # 4 MiB
    try:
        proxy, channel = open_channel(tapline, origin, "reverse-h2c", options=limits)
        with channel:
            (answer,) = list(stub(channel, T, "Chat")(iter([T("ChatMessage")(sequence=1, attachment=attachment)]),
                                                      timeout=60))
        proxy.stop()
    finally:
        origin.stop()
    assert answer.attachment == attachment
    lines = grpc_lines(proxy.session_dir())["Chat"]
    assert [(line["dir"], line["off"]) for line in lines] == [("request", 5), ("response", 5)]
    assert all(line["wireBytes"] > 4 << 20 for line in lines), lines
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["Chat"]
    assert [m["attachment"] for m in decoded(call, "response")] == [base64.b64encode(attachment).decode()]


def test_messages_beyond_max_body_capture_keep_their_wire_length_and_are_marked_truncated(tapline, orders, types):
    T = types
    proxy, channel = open_channel(tapline, orders, "reverse-h2c", "--max-body-capture", "1500")
    said = [T("ChatMessage")(sequence=i, attachment=bytes([i]) * 1000) for i in range(3)]
    with channel:
        answers = list(stub(channel, T, "Chat")(iter(said), timeout=20))
    proxy.stop()
    assert len(answers) == 3  # forwarding is not limited by the capture
    lines = [line for line in grpc_lines(proxy.session_dir())["Chat"] if line["dir"] == "request"]
    assert [line["wireBytes"] for line in lines] == [m.ByteSize() for m in said]
    assert [line.get("truncated", False) for line in lines] == [False, True, True]
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["Chat"]
    requests = [m for m in call["messages"] if m["direction"] == "request"]
    assert requests[0]["json"] == as_dict(said[0])
    assert [(m["decoding"], m.get("declaredBytes")) for m in requests[1:]] == [
        ("incomplete", said[1].ByteSize()), ("incomplete", said[2].ByteSize())]
    assert any("--max-body-capture" in note for note in call["notes"]), call["notes"]


def test_an_error_status_with_details_has_its_request_message_and_decoded_details(tapline, orders, types):
    T = types
    proxy, channel = open_channel(tapline, orders, "reverse-h2c")
    with channel, pytest.raises(grpc.RpcError) as failed:
        stub(channel, T, "GetOrder")(T("GetOrderRequest")(id="missing"), timeout=20)
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    proxy.stop()
    lines = grpc_lines(proxy.session_dir())["GetOrder"]
    assert [(line["dir"], line["index"]) for line in lines] == [("request", 0)]
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["GetOrder"]
    assert decoded(call, "request") == [{"id": "missing"}]
    assert call["status"]["code"] == 5
    assert call["statusDetails"]["details"] == [
        {"@type": f"type.googleapis.com/{PACKAGE}.Money", "currency": "CURRENCY_EUR", "minorUnits": "-250"}]


def test_a_call_past_its_deadline_keeps_the_messages_sent_before_it(tapline, orders, types):
    T = types
    proxy, channel = open_channel(tapline, orders, "reverse-h2c")
    release = threading.Event()

    def items():
        yield T("Order.Item")(sku="first", quantity=1)
        release.wait(20)  # the stream stays open past the deadline

    with channel:
        with pytest.raises(grpc.RpcError) as late:
            stub(channel, T, "UploadItems")(items(), timeout=1)
        release.set()
        assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert stub(channel, T, "GetOrder")(T("GetOrderRequest")(id="after"), timeout=20).id == "after"
    proxy.stop()
    lines = grpc_lines(proxy.session_dir())["UploadItems"]
    assert [(line["dir"], line["index"], line["wireBytes"]) for line in lines] == [
        ("request", 0, T("Order.Item")(sku="first", quantity=1).ByteSize())]
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["UploadItems"]
    assert decoded(call, "request") == [{"sku": "first", "quantity": 1}]


def test_a_client_cancelling_mid_stream_keeps_the_messages_exchanged_before(tapline, orders, types):
    T = types
    proxy, channel = open_channel(tapline, orders, "reverse-h2c")
    more = threading.Event()

    def said():
        yield T("ChatMessage")(sequence=1, text="one")
        more.wait(20)

    with channel:
        answers = stub(channel, T, "Chat")(said(), timeout=30)
        assert next(answers).sequence == 101
        answers.cancel()
        more.set()
        assert stub(channel, T, "GetOrder")(T("GetOrderRequest")(id="after"), timeout=20).id == "after"
    proxy.stop()
    lines = grpc_lines(proxy.session_dir())["Chat"]
    assert [(line["dir"], line["index"]) for line in lines] == [("request", 0), ("response", 0)]
    (call,) = calls(proxy.session_dir(), "--proto", str(PROTO_ROOT))["Chat"]
    assert decoded(call, "request") == [{"sequence": "1", "text": "one"}]
    assert decoded(call, "response") == [{"sequence": "101", "text": "ONE", "attachment": "AP8="}]


def test_a_body_ending_inside_a_frame_is_recorded_as_malformed_and_the_proxy_keeps_serving(tapline, orders, types):
    """A raw h2 client sends a frame whose prefix declares 100 bytes, then 10, then ends the
    stream; the server answers with an error. Tapline forwards it all, records the frame as
    cut, and serves the next call."""
    proxy = tapline("--reverse", f"h2c://{orders.authority}")
    client = H2Client(proxy.port)
    try:
        headers = [("content-type", "application/grpc"), ("te", "trailers")]
        sid = client.request(f"/{SERVICE}/GetOrder", method="POST", authority=f"127.0.0.1:{proxy.port}",
                             body=b"\x00\x00\x00\x00\x64" + b"x" * 10, headers=headers)
        client.wait_streams([sid])
        answer = client.responses[sid]
        fields = dict(answer["headers"]) | dict(answer["trailers"])
        assert fields.get("grpc-status") not in (None, "0"), answer  # grpcio refused the cut message
    finally:
        client.close()
    with grpc.insecure_channel(f"127.0.0.1:{proxy.port}") as channel:
        assert stub(channel, types, "GetOrder")(types("GetOrderRequest")(id="next"), timeout=20).id == "next"
    proxy.stop()
    (cut,) = [line for line in read_events(proxy.session_dir()) if line["type"] == "grpcMessage" and "malformed" in line]
    assert (cut["dir"], cut["index"], cut["wireBytes"], cut["off"], cut["cut"]) == ("request", 0, 100, 5, True), cut
    assert "ends inside the frame at byte 0 (15 of 105 bytes)" in cut["malformed"], cut
    (call,) = calls(proxy.session_dir())["GetOrder"][:1]
    assert [(m["decoding"], m["declaredBytes"]) for m in call["messages"]] == [("incomplete", 100)], call


def test_a_server_without_reflection_is_decoded_raw_without_a_schema(tapline, orders, types):
    """The Orders origin has no reflection service: the proxy needs none, and without
    `--proto` each message is decoded schemaless, by field number."""
    T = types
    proxy, channel = open_channel(tapline, orders, "reverse-h2c")
    with channel:
        answers = list(stub(channel, T, "Chat")(iter([T("ChatMessage")(sequence=7, text="raw")]), timeout=20))
    proxy.stop()
    assert [a.sequence for a in answers] == [107]
    (call,) = calls(proxy.session_dir())["Chat"]
    assert call["kindInferred"] and len(grpc_lines(proxy.session_dir())["Chat"]) == 2
    assert decoded(call, "request") == [{"1": 7, "2": "raw"}]
    assert decoded(call, "response") == [{"1": 107, "2": "RAW", "3": {"bytes": "AP8="}}]
    assert all(m["decoding"] == "raw" for m in call["messages"]), call["messages"]
