"""gRPC calls diffed, replayed and mocked message by message (issue #24 item 6).

A grpcio server for the `proto/` Orders service (generic handlers on classes built from
protoc's descriptor set) answers calls recorded through Tapline (reverse h2c). Then the
server changes (a field of a response message, a status with details) and:
- `tapline diff A B --proto proto/` reports exactly those changes by message and JSON
  Pointer (within the message), the decoded status details, and `--ignore-path` removes one;
  without a schema the pointers are field numbers;
- `tapline replay --proto proto/` compares the same way;
- `tapline mock` (schemaless, then `--proto proto/`) answers a client whose request message
  is encoded differently (other field order) with the recorded response, and a different
  request gets a gRPC status whose message names the request message and pointer that differ;
- `tapline replay --edit N=edit.json --proto proto/` sends the edited message (the server
  sees it) and the comparison shows the request and response changes; bad edits are refused.
"""

from __future__ import annotations

import json
import subprocess
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from tapline_testkit import util
from tapline_testkit.protoc import (compile_descriptor_set, descriptor_pool_of, length_delimited, message_class,
                                    status_details_bin)
from tapline_testkit.util import HOST, describe, free_port, run_tapline, tapline_bin, text, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
SERVICE = "tapline.example.v1.Orders"
PACKAGE = "tapline.example.v1"


@pytest.fixture(scope="module")
def types(tmp_path_factory):
    descriptor_set = compile_descriptor_set(tmp_path_factory.mktemp("grpcdiff") / "orders.pb", [PROTO_ROOT],
                                            ["tapline/example/v1/orders.proto"])
    pool = descriptor_pool_of(descriptor_set)
    return lambda name: message_class(pool, f"{PACKAGE}.{name}")


class OrdersOrigin:
    """GetOrder in two versions: 1 answers every id with an order; 2 answers `o-1` with its
    item's sku changed and `o-2` with NOT_FOUND and a Money detail. Keeps the ids it was asked for."""

    def __init__(self, types):
        self.types = types
        self.version = 1
        self.asked: list[str] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_unary_rpc_method_handler(self._get_order, request_deserializer=types("GetOrderRequest").FromString,
                                                      response_serializer=types("Order").SerializeToString)
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"GetOrder": handler}),))
        self.port = self.server.add_insecure_port(f"{HOST}:0")
        self.server.start()

    def stop(self) -> None:
        self.server.stop(grace=None)

    def _get_order(self, request, context):
        self.asked.append(request.id)
        Order = self.types("Order")
        if self.version == 2 and request.id == "o-2":
            money = self.types("Money")(currency=1, minor_units=-250)
            status = status_details_bin(5, "no order o-2", f"{PACKAGE}.Money", money.SerializeToString())
            context.set_trailing_metadata((("grpc-status-details-bin", status),))
            context.abort(grpc.StatusCode.NOT_FOUND, "no order o-2")
        sku = "A-2" if self.version == 2 and request.id == "o-1" else "A-1"
        return Order(id=request.id, status=2, items=[Order.Item(sku=sku, quantity=3, lot_numbers=[7, 8])], card_token="tok")


def get_order(channel, types, serializer=None):
    return channel.unary_unary(f"/{SERVICE}/GetOrder",
                               request_serializer=serializer or types("GetOrderRequest").SerializeToString,
                               response_deserializer=types("Order").FromString)


def record(tapline, origin: OrdersOrigin, types, ids: list[str]) -> tuple[object, str]:
    """Calls GetOrder for each id through a reverse proxy; returns the (stopped) proxy and its session."""
    proxy = tapline("--reverse", f"h2c://{HOST}:{origin.port}")
    with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
        for order_id in ids:
            try:
                get_order(channel, types)(types("GetOrderRequest")(id=order_id), timeout=20)
            except grpc.RpcError as error:
                assert origin.version == 2 and error.code() == grpc.StatusCode.NOT_FOUND, error
    session = str(proxy.session_dir())
    proxy.stop()
    return proxy, session


@pytest.fixture
def sessions(tapline, types):
    """Session A (version 1) and session B (version 2) of the same two calls, and the origin (version 2 now)."""
    origin = OrdersOrigin(types)
    try:
        proxy_a, a = record(tapline, origin, types, ["o-1", "o-2"])
        origin.version = 2
        _, b = record(tapline, origin, types, ["o-1", "o-2"])
        yield proxy_a, a, b, origin
    finally:
        origin.stop()


def differences(document: dict) -> dict[str, list[dict]]:
    """Each paired flow's differences, keyed by the order id the request asked for (flows in order: o-1, o-2)."""
    return {order_id: flow["differences"] for order_id, flow in zip(["o-1", "o-2"], document["flows"])}


def test_diff_reports_the_changed_field_by_message_and_pointer_and_the_status_with_details(sessions):
    _, a, b, _ = sessions
    p = run_tapline("diff", a, b, "--json", "--proto", str(PROTO_ROOT), timeout=60)
    assert p.returncode == 1, describe(p)
    found = differences(json.loads(text(p)))
    assert found["o-1"] == [{"kind": "grpcMessage", "direction": "response", "index": 0, "change": "payload", "format": "json",
                             "changes": [{"path": "/items/0/sku", "change": "changed", "a": "A-1", "b": "A-2"}]}]
    kinds = [d["kind"] for d in found["o-2"]]
    assert kinds == ["grpcStatus", "grpcMessage", "grpcStatusDetails"], found["o-2"]
    status, message, details = found["o-2"]
    assert (status["a"]["name"], status["b"]["name"], status["b"]["message"]) == ("OK", "NOT_FOUND", "no order o-2")
    assert (message["direction"], message["index"], message["change"]) == ("response", 0, "missing")
    assert {c["path"]: c.get("b") for c in details["changes"]} == {
        "/code": 5, "/message": "no order o-2",
        "/details": [{"@type": f"type.googleapis.com/{PACKAGE}.Money", "currency": "CURRENCY_EUR", "minorUnits": "-250"}]}

    ignored = run_tapline("diff", a, b, "--json", "--proto", str(PROTO_ROOT), "--ignore-path", "/items/*/sku", timeout=60)
    assert ignored.returncode == 1, describe(ignored)
    assert differences(json.loads(text(ignored)))["o-1"] == [], "--ignore-path applies inside every message"

    schemaless = run_tapline("diff", a, b, "--json", timeout=60)
    changes = differences(json.loads(text(schemaless)))["o-1"][0]["changes"]
    assert [c["path"] for c in changes] == ["/3/1"], "without a schema: field numbers (items = 3, sku = 1)"

    human = run_tapline("diff", a, b, "--proto", str(PROTO_ROOT), timeout=60)
    assert 'response message 0 /items/0/sku: "A-1" -> "A-2"' in text(human), text(human)


def test_replay_with_proto_compares_the_replayed_calls_by_message(sessions, tmp_path):
    proxy_a, a, _, origin = sessions
    report = tmp_path / "report.json"
    p = run_tapline("replay", a, "--capture", str(proxy_a.capture_dir), "--target", f"h2c://{HOST}:{origin.port}",
                    "--proto", str(PROTO_ROOT), "--report", str(report), timeout=60)
    assert p.returncode == 1, describe(p)
    flows = json.loads(report.read_text())["flows"]
    first = flows[0]["differences"]
    assert first == [{"kind": "grpcMessage", "direction": "response", "index": 0, "change": "payload", "format": "json",
                      "changes": [{"path": "/items/0/sku", "change": "changed", "a": "A-1", "b": "A-2"}]}], flows


class Mock:
    """`tapline mock` on a free port, stopped by the test."""

    def __init__(self, workdir: Path, home: Path, root: Path, *args: str):
        self.port = free_port()
        self.stderr = workdir / f"mock-{self.port}.stderr"
        with open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen([str(tapline_bin()), "mock", *args, "--listen", f"{HOST}:{self.port}",
                                          "--sessions", str(root), "--threads", "1"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                         env=util.clean_env({"TAPLINE_HOME": str(home)}), cwd=workdir)
        wait_for_port(self.port, 20, alive=lambda: self.proc.poll() is None)

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=15)


def test_mock_matches_a_re_encoded_request_message_and_explains_a_near_miss(tapline, types, tmp_path):
    Request = types("GetOrderRequest")

    def request(order_id: str):
        message = Request(id=order_id)
        message.read_mask.paths.append("items")
        return message

    recorded_request = request("o-1")
    # Recorded with the fields in reverse order (read_mask, then id): other bytes, the same message.
    reversed_bytes = length_delimited(2, recorded_request.read_mask.SerializeToString()) + length_delimited(1, b"o-1")
    assert reversed_bytes != recorded_request.SerializeToString()
    origin = OrdersOrigin(types)
    try:
        proxy = tapline("--reverse", f"h2c://{HOST}:{origin.port}")
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            recorded_answer = get_order(channel, types, serializer=lambda _: reversed_bytes)(recorded_request, timeout=20)
        session = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()

    schemaless = Mock(tmp_path, proxy.home, proxy.capture_dir, session)
    try:
        with grpc.insecure_channel(f"{HOST}:{schemaless.port}") as channel:
            answer = get_order(channel, types)(recorded_request, timeout=20)
            assert answer == recorded_answer, "without a schema too: field numbers, in any order"
    finally:
        assert schemaless.stop() == 0

    mock = Mock(tmp_path, proxy.home, proxy.capture_dir, session, "--proto", str(PROTO_ROOT))
    try:
        with grpc.insecure_channel(f"{HOST}:{mock.port}") as channel:
            answer = get_order(channel, types)(recorded_request, timeout=20)
            assert answer == recorded_answer, "the re-encoded request gets the recorded response"
            with pytest.raises(grpc.RpcError) as missed:
                get_order(channel, types)(request("o-9"), timeout=20)
            assert missed.value.code() == grpc.StatusCode.NOT_FOUND
            assert "request message 0: /id (changed)" in missed.value.details(), missed.value.details()
            report = dict(missed.value.trailing_metadata())["tapline-near-miss"]
            assert json.loads(report)["closest"][0]["differences"][0]["field"] == "body"
    finally:
        assert mock.stop() == 0


def flow_ids(session: str) -> list[int]:
    p = run_tapline("show", session, "--json", timeout=60)
    assert p.returncode == 0, describe(p)
    return [flow["id"] for flow in json.loads(text(p))]


def test_replay_edit_sends_the_edited_message_and_the_diff_shows_the_response_change(tapline, types, tmp_path):
    origin = OrdersOrigin(types)
    try:
        proxy, session = record(tapline, origin, types, ["o-1", "o-2"])
        first, _ = flow_ids(session)
        edit = tmp_path / "edit.json"
        edit.write_text(json.dumps({"id": "o-7", "readMask": "items"}))
        origin.asked.clear()
        report = tmp_path / "report.json"
        p = run_tapline("replay", session, "--capture", str(proxy.capture_dir), "--target", f"h2c://{HOST}:{origin.port}",
                        "--edit", f"{first}={edit}", "--proto", str(PROTO_ROOT), "--report", str(report), timeout=60)
        assert p.returncode == 1, describe(p)
        assert origin.asked == ["o-7"], "only the edited flow is replayed, with the edited message"
        flows = json.loads(report.read_text())["flows"]
        assert [f["source"] for f in flows] == [first]
        assert flows[0]["differences"] == [
            {"kind": "grpcMessage", "direction": "request", "index": 0, "change": "payload", "format": "json",
             "changes": [{"path": "/id", "change": "changed", "a": "o-1", "b": "o-7"},
                         {"path": "/readMask", "change": "added", "b": "items"}]},
            {"kind": "grpcMessage", "direction": "response", "index": 0, "change": "payload", "format": "json",
             "changes": [{"path": "/id", "change": "changed", "a": "o-1", "b": "o-7"}]}]

        def refused(*args: str) -> str:
            r = run_tapline("replay", session, "--capture", str(proxy.capture_dir), "--target", f"h2c://{HOST}:{origin.port}",
                            *args, timeout=60)
            assert r.returncode == 2, describe(r)
            return r.stderr

        assert "the session has no flow 99" in refused("--edit", f"99={edit}", "--proto", str(PROTO_ROOT))
        assert "give the schema with --proto" in refused("--edit", f"{first}={edit}")
        wrong = tmp_path / "wrong.json"
        wrong.write_text(json.dumps({"id": "o-7", "readMask": {"paths": 3}}))
        message = refused("--edit", f"{first}={wrong}", "--proto", str(PROTO_ROOT))
        assert "JSON Pointer /readMask" in message and f"{PACKAGE}.GetOrderRequest" in message, message
        assert origin.asked == ["o-7"], "a refused edit sends nothing"
    finally:
        origin.stop()
