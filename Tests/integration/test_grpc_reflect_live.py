"""`tapline proxy --reflect` and `proxy --proto`: schemas in the live proxy, kept with the session.

A grpcio server for the `proto/` Orders service sits behind `proxy --reverse h2c://... --reflect`.

- With server reflection (grpcio-reflection, descriptors from protoc at test time): the
  proxy asks it once for several calls, on a call of its own (the server sees one
  ServerReflectionInfo conversation besides the proxied calls), keeps what it got in the
  session, and `show --json` with NO schema flag decodes every message equal to what the
  peers saw (`MessageToDict`) and equal to `show --proto proto/`.
- Without reflection: the calls get the same answers, one log line says so, the
  messages decode raw.
- A reflection service that never answers: the first call completes at once, well
  within the reflection timeout; the timeout is then said once.
- `proxy --proto proto/` keeps the schema in the session; `show` decodes with no flag.
- A bad `--proto` exits 2 naming file:line:col, before listening.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest

from tapline_testkit.orders_origin import OrdersOrigin
from tapline_testkit.protoc import compile_descriptor_set, descriptor_pool_of, message_class
from tapline_testkit.proxy import TaplineProcess
from tapline_testkit.util import HOST, describe, run_tapline, text

json_format = pytest.importorskip("google.protobuf.json_format")
reflection = pytest.importorskip("grpc_reflection.v1alpha.reflection")

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
SERVICE = "tapline.example.v1.Orders"
PACKAGE = "tapline.example.v1"
REFLECTION_METHODS = ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    descriptor_set = compile_descriptor_set(tmp_path_factory.mktemp("reflectlive") / "orders.pb", [PROTO_ROOT],
                                            ["tapline/example/v1/orders.proto"])
    return descriptor_pool_of(descriptor_set)


@pytest.fixture(scope="module")
def types(pool):
    return lambda name: message_class(pool, f"{PACKAGE}.{name}")


class MethodLog(grpc.ServerInterceptor):
    """Every call's method as the server saw it, served or not."""

    def __init__(self):
        self.methods: list[str] = []
        self.lock = threading.Lock()

    def intercept_service(self, continuation, handler_call_details):
        with self.lock:
            self.methods.append(handler_call_details.method)
        return continuation(handler_call_details)

    def reflection_calls(self) -> Counter:
        with self.lock:
            return Counter(m for m in self.methods if m in REFLECTION_METHODS)


def get_order(channel, types, order_id: str):
    T = types
    call = channel.unary_unary(f"/{SERVICE}/GetOrder", request_serializer=T("GetOrderRequest").SerializeToString,
                               response_deserializer=T("Order").FromString)
    return json_format.MessageToDict(call(T("GetOrderRequest")(id=order_id), timeout=20))


def chat(channel, types, count: int):
    T = types
    call = channel.stream_stream(f"/{SERVICE}/Chat", request_serializer=T("ChatMessage").SerializeToString,
                                 response_deserializer=T("ChatMessage").FromString)
    said = [T("ChatMessage")(sequence=i, text=f"hi {i}") for i in range(count)]
    return [json_format.MessageToDict(m) for m in call(iter(said), timeout=20)]


def show_calls(proxy, *schema: str) -> list[dict]:
    """The `grpc` object of every flow's `show --flow N --json`, in flow order."""
    session = str(proxy.session_dir())
    p = run_tapline("show", session, "--json", *schema, timeout=60)
    assert p.returncode == 0, describe(p)
    calls = []
    for flow in json.loads(text(p)):
        detail = run_tapline("show", session, "--flow", str(flow["id"]), "--json", *schema, timeout=60)
        assert detail.returncode == 0, describe(detail)
        calls.append(json.loads(text(detail))["grpc"])
    return calls


def messages(call: dict, direction: str) -> list[dict]:
    return [m["json"] for m in call["messages"] if m["direction"] == direction]


def upstream_of(origin) -> str:
    return f"h2c://{HOST}:{origin.port}"


def test_reflection_is_asked_once_on_its_own_call_and_the_session_decodes_with_no_flags(tmp_path, pool, types):
    log = MethodLog()
    origin = OrdersOrigin(types, interceptors=[log], before_start=lambda server: reflection.enable_server_reflection(
        [SERVICE, reflection.SERVICE_NAME], server, pool=pool))
    proxy = TaplineProcess(tmp_path, ["--reverse", upstream_of(origin), "--reflect"]).start()
    got: dict[str, list] = {"GetOrder": [], "Chat": []}
    try:
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            for i in range(3):
                got["GetOrder"].append(get_order(channel, types, f"o-{i}"))
            got["Chat"] += chat(channel, types, 2)
            proxy.wait_for_log(rf"reflection on {upstream_of(origin)}: .*{SERVICE}.*schema kept in schemas/reflected-1\.binpb")
            got["GetOrder"].append(get_order(channel, types, "o-after"))
    finally:
        proxy.stop()
        origin.stop()
    asked = log.reflection_calls()
    assert sum(asked.values()) >= 1 and all(n == 1 for n in asked.values()), \
        f"one reflection conversation (v1, then v1alpha if v1 is unimplemented), not one per call: {asked}"
    assert got["GetOrder"] == origin.sent["GetOrder"] and got["Chat"] == origin.sent["Chat"]

    index = json.loads((proxy.session_dir() / "schemas" / "index.json").read_text())
    assert [(e["file"], e["source"], e["upstream"]) for e in index["schemas"]] == \
        [("reflected-1.binpb", "reflection", upstream_of(origin))], index
    assert SERVICE in index["schemas"][0]["services"], index

    calls = show_calls(proxy)
    assert [c["fullMethod"] for c in calls] == [f"{SERVICE}/GetOrder"] * 3 + [f"{SERVICE}/Chat", f"{SERVICE}/GetOrder"]
    for call in calls:
        assert all(m["decoding"] == "schema" for m in call["messages"]), call
    assert [messages(c, "response")[0] for c in calls if c["method"] == "GetOrder"] == origin.sent["GetOrder"]
    assert [messages(c, "request")[0] for c in calls if c["method"] == "GetOrder"] == origin.received["GetOrder"]
    chat_call = next(c for c in calls if c["method"] == "Chat")
    assert messages(chat_call, "request") == origin.received["Chat"]
    assert messages(chat_call, "response") == origin.sent["Chat"]
    assert calls == show_calls(proxy, "--proto", str(PROTO_ROOT)), "the kept schema decodes as the .proto files do"


def test_a_server_without_reflection_is_unaffected_said_once_and_decodes_raw(tmp_path, types):
    origin = OrdersOrigin(types)
    proxy = TaplineProcess(tmp_path, ["--reverse", upstream_of(origin), "--reflect"]).start()
    answers = []
    try:
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            answers.append(get_order(channel, types, "o-1"))
            proxy.wait_for_log(rf"reflection on {upstream_of(origin)}: UNIMPLEMENTED.*\(no schema; messages decode raw\)")
            for i in range(2, 5):
                answers.append(get_order(channel, types, f"o-{i}"))
    finally:
        proxy.stop()
        origin.stop()
    assert answers == origin.sent["GetOrder"], "the calls got the server's answers, in order"
    said = [line for line in proxy.stderr_text().splitlines() if "reflection on" in line]
    assert len(said) == 1, said
    assert not (proxy.session_dir() / "schemas").exists()
    calls = show_calls(proxy)
    assert len(calls) == 4
    for call in calls:
        assert call["messages"] and all(m["decoding"] == "raw" for m in call["messages"]), call


def test_a_reflection_service_that_never_answers_does_not_delay_the_calls(tmp_path, types):
    release = threading.Event()
    arrived = threading.Event()

    def hang(request_iterator, context):
        arrived.set()
        release.wait(30)
        return iter(())

    def add_silent_reflection(server):
        for method in REFLECTION_METHODS:
            service = method.split("/")[1]
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {
                "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(hang)}),))

    origin = OrdersOrigin(types, before_start=add_silent_reflection)
    timeout_seconds = 4
    proxy = TaplineProcess(tmp_path, ["--reverse", upstream_of(origin), "--reflect",
                                      "--reflect-timeout", str(timeout_seconds)]).start()
    try:
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            started = time.monotonic()
            first = get_order(channel, types, "o-1")
            latency = time.monotonic() - started
            assert latency < timeout_seconds, f"the first call took {latency:.2f} s: it waited for reflection"
            assert arrived.wait(10), "the proxy never asked for reflection"
            second = get_order(channel, types, "o-2")
            proxy.wait_for_log(rf"reflection on {upstream_of(origin)}: no answer within {timeout_seconds}(\.0)? s",
                               timeout=timeout_seconds + 10)
    finally:
        release.set()
        proxy.stop()
        origin.stop()
    assert [first, second] == origin.sent["GetOrder"]


def test_proxy_proto_keeps_the_schema_in_the_session(tmp_path, types):
    origin = OrdersOrigin(types)
    proxy = TaplineProcess(tmp_path, ["--reverse", upstream_of(origin), "--proto", str(PROTO_ROOT)]).start()
    try:
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            answer = get_order(channel, types, "o-9")
    finally:
        proxy.stop()
        origin.stop()
    index = json.loads((proxy.session_dir() / "schemas" / "index.json").read_text())
    assert [(e["file"], e["source"], e["paths"]) for e in index["schemas"]] == [("given.binpb", "files", [str(PROTO_ROOT)])]
    calls = show_calls(proxy)
    assert [c["fullMethod"] for c in calls] == [f"{SERVICE}/GetOrder"]
    assert all(m["decoding"] == "schema" for m in calls[0]["messages"]), calls
    assert messages(calls[0], "response") == [answer] == origin.sent["GetOrder"]
    assert calls == show_calls(proxy, "--proto", str(PROTO_ROOT))


def test_a_bad_proto_exits_2_naming_file_line_column_before_listening(tmp_path):
    bad = tmp_path / "bad.proto"
    bad.write_text('syntax = "proto3";\n\nmessage Broken {\n  int32 x = ;\n}\n')
    p = run_tapline("proxy", "--listen", f"{HOST}:0", "--capture", str(tmp_path / "captures"),
                    "--proto", str(bad), home=tmp_path / "home")
    assert p.returncode == 2, describe(p)
    assert "bad.proto:4:" in p.stderr, describe(p)
    assert "listening on" not in p.stderr, describe(p)
