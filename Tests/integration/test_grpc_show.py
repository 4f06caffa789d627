"""`tapline show` reads captured gRPC calls as calls: a grpcio server for the `proto/` Orders
service and a grpcio client call all four kinds through Tapline (reverse h2c); then
`show --proto proto/` lists each call as `tapline.example.v1.Orders/Method` with its kind,
message counts and status, and each message it decodes equals what the peers sent and
received (`json_format.MessageToDict` on the peer side). The same with a descriptor set
written by protoc; without a schema, raw. The message classes come from protoc's descriptor
set at test time (no generated code)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import grpc
import pytest

from tapline_testkit.orders_origin import OrdersOrigin
from tapline_testkit.protoc import compile_descriptor_set, descriptor_pool_of, message_class
from tapline_testkit.proxy import TaplineProcess
from tapline_testkit.util import HOST, describe, run_tapline, text

json_format = pytest.importorskip("google.protobuf.json_format")

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
SERVICE = "tapline.example.v1.Orders"
PACKAGE = "tapline.example.v1"


@pytest.fixture(scope="module")
def descriptor_set(tmp_path_factory) -> Path:
    return compile_descriptor_set(tmp_path_factory.mktemp("grpcshow") / "orders.pb", [PROTO_ROOT],
                                  ["tapline/example/v1/orders.proto"])


@pytest.fixture(scope="module")
def types(descriptor_set):
    pool = descriptor_pool_of(descriptor_set)
    return lambda name: message_class(pool, f"{PACKAGE}.{name}")


def as_dict(message) -> dict:
    return json_format.MessageToDict(message)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, types):
    """One proxied session with every call kind and a failed call; what the client received."""
    origin = OrdersOrigin(types)
    workdir = tmp_path_factory.mktemp("grpcshow-proxy")
    proxy = TaplineProcess(workdir, ["--reverse", f"h2c://{HOST}:{origin.port}"]).start()
    client_got: dict[str, list[dict]] = {}
    T = types
    try:
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            def stub(kind, method, request_type, response_type):
                return getattr(channel, kind)(f"/{SERVICE}/{method}", request_serializer=request_type.SerializeToString,
                                              response_deserializer=response_type.FromString)
            get_order = stub("unary_unary", "GetOrder", T("GetOrderRequest"), T("Order"))
            answer = get_order(T("GetOrderRequest")(id="o-1"), metadata=(("x-tag", "t1"),), timeout=20)
            client_got["GetOrder"] = [as_dict(answer)]
            with pytest.raises(grpc.RpcError) as failed:
                get_order(T("GetOrderRequest")(id="missing"), timeout=20)
            assert failed.value.code() == grpc.StatusCode.NOT_FOUND
            watch = stub("unary_stream", "WatchOrders", T("WatchOrdersRequest"), T("OrderEvent"))
            client_got["WatchOrders"] = [as_dict(m) for m in watch(T("WatchOrdersRequest")(statuses=[1, 2]), timeout=20)]
            upload = stub("stream_unary", "UploadItems", T("Order.Item"), T("UploadSummary"))
            items = [T("Order.Item")(sku=f"S-{i}", quantity=i + 1) for i in range(3)]
            client_got["UploadItems"] = [as_dict(upload(iter(items), timeout=20))]
            chat = stub("stream_stream", "Chat", T("ChatMessage"), T("ChatMessage"))
            said = [T("ChatMessage")(sequence=i, text=f"hi {i}") for i in range(3)]
            client_got["Chat"] = [as_dict(m) for m in chat(iter(said), timeout=20)]
    finally:
        proxy.stop()
        origin.stop()
    yield proxy, origin, client_got


def show(proxy, *args: str):
    session = proxy.session_dir()
    p = run_tapline("show", str(session), *args, timeout=60)
    assert p.returncode == 0, describe(p)
    return p


def calls_by_method(proxy, *schema: str) -> dict[str, list[dict]]:
    """The `grpc` object of every flow's `show --flow N --json`, by method name."""
    listed = json.loads(text(show(proxy, "--json", *schema)))
    calls: dict[str, list[dict]] = {}
    for flow in listed:
        assert "grpc" in flow, flow
        detail = json.loads(text(show(proxy, "--flow", str(flow["id"]), "--json", *schema)))
        calls.setdefault(detail["grpc"]["method"], []).append(detail["grpc"])
    return calls


def messages(call: dict, direction: str) -> list[dict]:
    return [m["json"] for m in call["messages"] if m["direction"] == direction]


KINDS = {"GetOrder": "unary", "WatchOrders": "server streaming", "UploadItems": "client streaming", "Chat": "bidi streaming"}
COUNTS = {"GetOrder": (1, 1), "WatchOrders": (1, 3), "UploadItems": (3, 1), "Chat": (3, 3)}


def test_show_lists_each_call_as_service_method_with_kind_counts_and_status(recorded):
    proxy, _, _ = recorded
    listing = text(show(proxy, "--proto", str(PROTO_ROOT)))
    for method, kind in KINDS.items():
        request_count, response_count = COUNTS[method]
        assert f"{SERVICE}/{method} {kind} →{request_count} ←{response_count}" in listing, listing
    assert "NOT_FOUND" in listing and " OK " in listing, listing


def test_every_message_decoded_with_the_proto_files_equals_what_the_peers_saw(recorded):
    proxy, origin, client_got = recorded
    calls = calls_by_method(proxy, "--proto", str(PROTO_ROOT))
    assert sorted(calls) == sorted(KINDS)
    for method, kind in KINDS.items():
        ok = [c for c in calls[method] if c["status"]["name"] == "OK"]
        assert len(ok) == 1, calls[method]
        call = ok[0]
        assert call["fullMethod"] == f"{SERVICE}/{method}" and call["kind"] == kind and not call["kindInferred"]
        assert all(m["decoding"] == "schema" and m["timeIsChunkTime"] for m in call["messages"]), call
        assert messages(call, "response") == origin.sent[method] == client_got[method]
        expected_requests = [r for r in origin.received[method] if r.get("id") != "missing"]
        assert messages(call, "request") == expected_requests
        times = [m["time"] for m in call["messages"]]
        assert all(isinstance(t, int) for t in times), times
    get_order = next(c for c in calls["GetOrder"] if c["status"]["name"] == "OK")
    assert ["x-tag", "t1"] in get_order["requestMetadata"]
    assert ["x-served-by", "orders-1"] in get_order["responseMetadata"]
    assert ["grpc-status", "0"] in get_order["trailers"]


def test_status_details_are_decoded_with_their_detail_type(recorded):
    proxy, _, _ = recorded
    calls = calls_by_method(proxy, "--proto", str(PROTO_ROOT))
    failed = next(c for c in calls["GetOrder"] if c["status"]["name"] == "NOT_FOUND")
    assert failed["status"] == {"code": 5, "name": "NOT_FOUND", "message": "no order missing"}
    assert failed["statusDetails"] == {
        "code": 5, "message": "no order missing",
        "details": [{"@type": f"type.googleapis.com/{PACKAGE}.Money", "currency": "CURRENCY_EUR", "minorUnits": "-250"}],
    }
    assert messages(failed, "response") == []


def test_a_descriptor_set_from_protoc_decodes_the_same_json(recorded, descriptor_set):
    proxy, _, _ = recorded
    with_proto = calls_by_method(proxy, "--proto", str(PROTO_ROOT))
    with_set = calls_by_method(proxy, "--descriptor-set", str(descriptor_set))
    assert with_set == with_proto


def test_without_a_schema_messages_are_decoded_raw_and_the_kind_is_inferred(recorded):
    proxy, origin, _ = recorded
    calls = calls_by_method(proxy)
    chat = calls["Chat"][0]
    assert chat["kind"] == "bidi streaming" and chat["kindInferred"]
    assert all(m["decoding"] == "raw" for m in chat["messages"])
    # raw keys are field numbers: ChatMessage.sequence = 1, text = 2
    assert [m.get("1", 0) for m in messages(chat, "request")] == [0, 1, 2]  # 0 is not on the wire
    assert [m["1"] for m in messages(chat, "response")] == [int(r["sequence"]) for r in origin.sent["Chat"]]
    listing = text(show(proxy))
    assert f"{SERVICE}/WatchOrders server streaming (inferred) →1 ←3" in listing, listing


def test_the_detail_prints_each_message_as_json_with_direction_and_time(recorded):
    proxy, _, _ = recorded
    listed = json.loads(text(show(proxy, "--json")))
    chat = next(f for f in listed if f["grpc"]["method"] == "Chat")
    detail = text(show(proxy, "--flow", str(chat["id"]), "--proto", str(PROTO_ROOT)))
    assert "gRPC call" in detail and f"{SERVICE}/Chat" in detail and "bidi streaming" in detail, detail
    assert detail.count("→ request ") == 3 and detail.count("← response ") == 3, detail
    assert '"text": "HI 2"' in detail and f"{PACKAGE}.ChatMessage" in detail, detail
    assert base64.b64encode(b"\x00\xff").decode() in detail, detail


# --- export ---------------------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_schema(name: str) -> dict:
    return json.loads((FIXTURES / "schemas" / name).read_text())


def grpcurl_commands(output: str) -> list[dict]:
    """Each printed grpcurl command taken apart: its flags with values, -H, -d, address, method."""
    import shlex
    commands = []
    for block in output.split("# flow ")[1:]:
        lines = [line for line in block.splitlines()[1:] if not line.startswith("#")]
        words = shlex.split(" ".join(line.rstrip("\\") for line in lines).replace("\\\n", " "))
        assert words[0] == "grpcurl", words
        parsed = {"flags": [], "H": [], "d": None, "import_path": [], "proto": []}
        rest = words[1:]
        while rest and rest[0].startswith("-"):
            flag = rest.pop(0)
            if flag == "-plaintext":
                parsed["flags"].append(flag)
            elif flag == "-H":
                parsed["H"].append(tuple(part.strip() for part in rest.pop(0).split(":", 1)))
            elif flag == "-d":
                parsed["d"] = rest.pop(0)
            elif flag == "-import-path":
                parsed["import_path"].append(rest.pop(0))
            elif flag == "-proto":
                parsed["proto"].append(rest.pop(0))
            else:
                raise AssertionError(f"unexpected flag {flag} in {words}")
        parsed["address"], parsed["method"] = rest
        commands.append(parsed)
    return commands


def json_documents(text_: str) -> list[dict]:
    """The stream of JSON objects grpcurl reads from -d."""
    decoder, documents, index = json.JSONDecoder(), [], 0
    while index < len(text_):
        if text_[index].isspace():
            index += 1
            continue
        document, index = decoder.raw_decode(text_, index)
        documents.append(document)
    return documents


def test_grpcurl_commands_parse_and_their_json_replays_with_the_same_answers(recorded, types):
    proxy, _, client_got = recorded
    p = run_tapline("export", str(proxy.session_dir()), "--grpcurl", "--proto", str(PROTO_ROOT), timeout=60)
    assert p.returncode == 0, describe(p)
    commands = grpcurl_commands(text(p))
    assert [c["method"] for c in commands] == [f"{SERVICE}/{m}" for m in
                                                ["GetOrder", "GetOrder", "WatchOrders", "UploadItems", "Chat"]]
    for command in commands:
        assert command["flags"] == ["-plaintext"] and command["proto"] == ["tapline/example/v1/orders.proto"]
        assert (Path(command["import_path"][0]) / command["proto"][0]).exists(), command
    assert commands[0]["H"] == [("x-tag", "t1")]
    # Replay the requests' JSON through the Python client against a fresh server: the same answers.
    origin = OrdersOrigin(types)
    T = types
    try:
        with grpc.insecure_channel(f"{HOST}:{origin.port}") as channel:
            def replay(command, kind, request_name, response_name):
                requests = [json_format.ParseDict(d, T(request_name)()) for d in json_documents(command["d"])]
                method = getattr(channel, kind)(f"/{command['method']}", request_serializer=T(request_name).SerializeToString,
                                                response_deserializer=T(response_name).FromString)
                if kind.startswith("unary"):
                    assert len(requests) == 1
                    answer = method(requests[0], metadata=command["H"], timeout=20)
                else:
                    answer = method(iter(requests), metadata=command["H"], timeout=20)
                return [as_dict(m) for m in answer] if kind.endswith("stream") else [as_dict(answer)]
            assert replay(commands[0], "unary_unary", "GetOrderRequest", "Order") == client_got["GetOrder"]
            assert replay(commands[2], "unary_stream", "WatchOrdersRequest", "OrderEvent") == client_got["WatchOrders"]
            assert replay(commands[3], "stream_unary", "Order.Item", "UploadSummary") == client_got["UploadItems"]
            assert replay(commands[4], "stream_stream", "ChatMessage", "ChatMessage") == client_got["Chat"]
    finally:
        origin.stop()


def assert_valid(document: dict, validator, schema_name: str, **options) -> None:
    errors = list(validator(fixture_schema(schema_name), **options).iter_errors(document))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_postman_export_puts_the_calls_in_a_grpc_folder_with_their_messages(recorded, tmp_path):
    from jsonschema import Draft4Validator, Draft7Validator
    proxy, origin, client_got = recorded
    target = tmp_path / "grpc.postman_collection.json"
    p = run_tapline("export", str(proxy.session_dir()), "--postman", str(target), "--proto", str(PROTO_ROOT), timeout=60)
    assert p.returncode == 0, describe(p)
    collection = json.loads(target.read_text())
    assert_valid(collection, Draft7Validator, "postman-collection-v2.1.0.schema.json")
    assert_valid(collection, Draft4Validator, "postman-collection-v2.1.0.draft-04.schema.json")
    folder = next(item for item in collection["item"] if item["name"] == "gRPC")
    items = {item["name"]: item for item in folder["item"]}
    assert sorted(items) == sorted(f"{SERVICE}/{m}" for m in KINDS)
    for method, kind in KINDS.items():
        extension = items[f"{SERVICE}/{method}"]["_tapline"]
        assert extension["protocol"] == "grpc" and extension["service"] == SERVICE and extension["method"] == method
        assert extension["kind"] == kind
        received = [json.loads(m["data"]) for m in extension["messages"] if m["direction"] == "receive"]
        assert received == client_got[method]
        assert all(m["decoding"] == "schema" for m in extension["messages"])


def test_har_export_marks_grpc_calls_and_carries_their_messages(recorded, tmp_path):
    from jsonschema import Draft7Validator, FormatChecker
    proxy, origin, client_got = recorded
    target = tmp_path / "grpc.har"
    p = run_tapline("export", str(proxy.session_dir()), "--har", str(target), "--proto", str(PROTO_ROOT), timeout=60)
    assert p.returncode == 0, describe(p)
    har = json.loads(target.read_text())
    assert_valid(har, Draft7Validator, "har-1.2.schema.json", format_checker=FormatChecker())
    entries = har["log"]["entries"]
    assert all("_grpc" in e for e in entries)
    chat = next(e for e in entries if e["_grpc"]["method"] == "Chat")
    assert chat["_grpc"]["kind"] == "bidi streaming" and chat["_grpc"]["status"]["name"] == "OK"
    assert [m["json"] for m in chat["_grpcMessages"] if m["direction"] == "response"] == client_got["Chat"]
