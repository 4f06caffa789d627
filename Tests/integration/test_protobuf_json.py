"""`tapline proto decode` / `proto encode` against Python protobuf's json_format as the oracle.

The schemas are proto/ and the test-only protos/json/ (proto3 edge cases, a proto2 file).
`protoc --include_imports --descriptor_set_out` compiles them at test time; Python builds
its message classes from that set (no generated code). For each message of the corpus
(every scalar type at its edge values, NaN, ±Infinity, -0, empty bytes, defaults, maps
with every key kind, oneofs, nested messages, every well-known type in its JSON form):

- `tapline proto decode` JSON equals `json_format.MessageToDict(msg)` (json_format's
  defaults: lowerCamel json_name keys, no default values; `--defaults` is compared with
  `always_print_fields_with_no_presence=True`), compared as parsed JSON;
- the same with `--descriptor-set` (protoc's output) instead of `--proto` is identical;
- `tapline proto encode` of that JSON parses in Python to a message equal to the
  original, and so does the encoding of json_format's other spelling (original field
  names, enums as numbers).

Bad input exits 2: an unknown --type, JSON with a wrong-typed value (naming its JSON
Pointer), bytes that are not the message.
"""
from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest

from tapline_testkit.protoc import compile_descriptor_set, descriptor_pool_of, message_class
from tapline_testkit.util import describe, run_tapline, text

descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
json_format = pytest.importorskip("google.protobuf.json_format")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ROOT = ROOT / "proto"
JSON_ROOT = Path(__file__).resolve().parent / "protos" / "json"
ORDER = "tapline.example.v1.Order"
EDGE = "tapline.jsontest.Edge"
LEGACY = "tapline.jsontest.Legacy"


@pytest.fixture(scope="module")
def descriptor_set(tmp_path_factory) -> Path:
    return compile_descriptor_set(tmp_path_factory.mktemp("protojson") / "set.pb", [EXAMPLE_ROOT, JSON_ROOT],
                                  ["tapline/example/v1/orders.proto", "tapline/jsontest/edge.proto"])


@pytest.fixture(scope="module")
def pool(descriptor_set):
    """The descriptor set in a pool of its own (json_format resolves Any type URLs in it)."""
    return descriptor_pool_of(descriptor_set)


@pytest.fixture(scope="module")
def classes(pool):
    return lambda name: message_class(pool, name)


def _orders(Order):
    full = Order(id="o-1", status=2, created_by_user=-(2**63), checksum=2**64 - 1, priority=-(2**31),
                 region_code=2**32 - 1, shard_key=2**64 - 1, temperature=-(2**31), offset=2**63 - 1,
                 weight_kg=float("nan"), discount=float("-inf"), gift=True,
                 measurements=[0.1, -0.0, 1e300, float("inf"), 5e-324], coupon="")
    item = full.items.add(sku="A", quantity=3, lot_numbers=[1, -2, 2147483647], tags=["x", ""])
    item.unit_price.minor_units = -5
    full.items_by_sku["A"].sku = "A"
    full.items_by_sku[""].quantity = 1
    full.notes[-3] = "neg"
    full.notes[0] = ""
    full.invoice_pdf = b""
    full.created_at.seconds, full.created_at.nanos = 1700000000, 123000000
    full.delivery_window.seconds, full.delivery_window.nanos = -1, -500000000
    full.metadata.update({"a": 1, "b": [True, None, "s", {"c": 2.5}], "": {}})
    full.last_event_payload.string_value = "hi"
    full.gift_message.value = ""
    full.loyalty_points.value = 2**62
    full.express.value = False
    full.signature.value = b"\x00\xff"
    full.tip.value = -0.0
    full.total.currency = 9  # not a Currency value: printed as a number
    money = full.totals_by_currency["EUR"]
    money.minor_units = 2**63 - 1
    any_order = Order(id="o-2", card_token="tok")
    full.extension.Pack(any_order)
    cash = Order(id="o-3")
    cash.cash_on_delivery.SetInParent()
    zero_oneof = Order(card_token="")
    return {"order: every field": full, "order: empty": Order(), "order: Empty in a oneof": cash,
            "order: oneof at its default": zero_oneof,
            "order: zeros stay out": Order(id="", checksum=0, weight_kg=0.0, gift=False, status=0)}


def _edges(classes):
    Edge, Legacy = classes(EDGE), classes(LEGACY)
    Timestamp = classes("google.protobuf.Timestamp")
    Duration = classes("google.protobuf.Duration")
    Int32Value = classes("google.protobuf.Int32Value")
    Struct = classes("google.protobuf.Struct")
    edge = Edge(plain_int=-1, renamed="r", maybe=0, color=1, colors=[0, 2, 77], choice_edge=Edge(plain_int=5),
                floats=[1.5, -0.0, float("nan"), float("inf"), 3.4028234663852886e38, 1.17549435e-38, 0.1],
                blobs=[b"", b"\xfb\xff", b"abc"], text_2_go="t")
    edge.by_flag[True] = "yes"
    edge.by_flag[False] = "no"
    edge.by_id[2**64 - 1] = 2
    edge.by_id[0] = 99
    edge.by_small[-(2**31)] = b"\x01"
    edge.mask.paths.extend(["plain_int", "choice_edge.by_flag", "a.b_c_d"])
    edge.list.extend([1, "two", None, [3.5], {"k": False}])
    for kind in ("null", "number", "string", "bool", "struct", "list"):
        value = edge.values.add()
        if kind == "null":
            value.null_value = 0
        elif kind == "number":
            value.number_value = -12.25
        elif kind == "string":
            value.string_value = "s"
        elif kind == "bool":
            value.bool_value = True
        elif kind == "struct":
            value.struct_value.update({"x": [1, 2]})
        else:
            value.list_value.SetInParent()
    edge.anys.add().Pack(Timestamp(seconds=-62135596800))
    edge.anys.add().Pack(Duration(seconds=315576000000, nanos=999999999))
    edge.anys.add().Pack(Int32Value(value=0))
    edge.anys.add().Pack(Struct())
    edge.anys.add().Pack(classes("google.protobuf.Empty")())
    edge.anys.add().Pack(Edge(color=2))
    edge.empty.SetInParent()
    for seconds, nanos in ((0, 0), (253402300799, 999999999), (-1, 1000), (86399, 10)):
        edge.times.add(seconds=seconds, nanos=nanos)
    for seconds, nanos in ((0, 0), (0, -1), (-315576000000, -999999999), (2, 20000)):
        edge.durations.add(seconds=seconds, nanos=nanos)
    edge.float_wrapper.value = float("-inf")
    edge.u64_wrapper.value = 2**64 - 1
    edge.u32_wrapper.value = 2**32 - 1
    edge.i32_wrapper.SetInParent()
    edge.legacy.CopyFrom(Legacy(name="n", count=7, level=2, ids=[-1, 2**62], unpacked_ids=[-(2**63), 2**63 - 1],
                                flag=False))
    choice_text = Edge(choice_text="", nothing=0)
    return {"edge: everything": edge, "edge: oneof string": choice_text,
            "legacy: required only": Legacy(name=""), "legacy: defaults set explicitly": Legacy(name="x", count=0, level=1)}


def _corpus(classes):
    corpus = {}
    for name, message in {**_orders(classes(ORDER)), **_edges(classes)}.items():
        corpus[name] = message
    return corpus


CORPUS_NAMES = ["order: every field", "order: empty", "order: Empty in a oneof", "order: oneof at its default",
                "order: zeros stay out", "edge: everything", "edge: oneof string", "legacy: required only",
                "legacy: defaults set explicitly"]


def _schema_args(descriptor_set=None):
    if descriptor_set is not None:
        return ["--descriptor-set", str(descriptor_set)]
    return ["--proto", str(EXAMPLE_ROOT), "--proto", str(JSON_ROOT)]


def _decode(tmp_path, message, *extra, descriptor_set=None):
    p = run_tapline("proto", "decode", *_schema_args(descriptor_set), "--type", message.DESCRIPTOR.full_name, *extra,
                    home=tmp_path, input=message.SerializeToString())
    assert p.returncode == 0, describe(p)
    return json.loads(text(p))


def _encode(tmp_path, type_name, document, descriptor_set=None) -> subprocess.CompletedProcess:
    return run_tapline("proto", "encode", *_schema_args(descriptor_set), "--type", type_name, home=tmp_path,
                       input=json.dumps(document).encode())


def _same(a, b) -> bool:
    """JSON equality where NaN equals NaN and -0.0 differs from 0.0 (as the texts do)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_decode_equals_json_format_and_encode_round_trips(tmp_path, pool, classes, descriptor_set, name):
    message = _corpus(classes)[name]
    expected = json_format.MessageToDict(message, descriptor_pool=pool)
    ours = _decode(tmp_path, message)
    assert _same(ours, expected), f"{name}\ntapline: {json.dumps(ours, sort_keys=True)}\njson_format: {json.dumps(expected, sort_keys=True)}"
    from_set = _decode(tmp_path, message, descriptor_set=descriptor_set)
    assert _same(from_set, ours), f"{name}: --descriptor-set gives\n{from_set}\n--proto gives\n{ours}"

    encoded = _encode(tmp_path, message.DESCRIPTOR.full_name, ours)
    assert encoded.returncode == 0, describe(encoded)
    assert type(message).FromString(encoded.stdout) == message, name
    assert encoded.stdout == message.SerializeToString(), f"{name}: not the bytes protobuf writes"


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_defaults_and_the_other_json_spellings(tmp_path, pool, classes, descriptor_set, name):
    message = _corpus(classes)[name]
    expected = json_format.MessageToDict(message, always_print_fields_with_no_presence=True, descriptor_pool=pool)
    ours = _decode(tmp_path, message, "--defaults")
    assert _same(ours, expected), f"{name}\ntapline: {json.dumps(ours, sort_keys=True)}\njson_format: {json.dumps(expected, sort_keys=True)}"

    spelled = json_format.MessageToDict(message, preserving_proto_field_name=True, use_integers_for_enums=True,
                                       descriptor_pool=pool)
    encoded = _encode(tmp_path, message.DESCRIPTOR.full_name, spelled, descriptor_set=descriptor_set)
    assert encoded.returncode == 0, describe(encoded)
    assert type(message).FromString(encoded.stdout) == message, name


def test_encode_accepts_what_json_format_parse_accepts(tmp_path, pool, classes):
    Order = classes(ORDER)
    document = {"id": "x", "createdByUser": 12, "checksum": "7", "priority": 3.0, "weightKg": "1.25", "discount": "NaN",
                "status": "STATUS_OPEN", "invoicePdf": "-_8", "notes": {"5": "five"}, "coupon": None,
                "createdAt": "2024-02-29T23:59:59.5+01:00", "deliveryWindow": "0.000000001s",
                "extension": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "3s"}}
    p = _encode(tmp_path, ORDER, document)
    assert p.returncode == 0, describe(p)
    assert Order.FromString(p.stdout) == json_format.ParseDict(document, Order(), descriptor_pool=pool)


@pytest.mark.parametrize("document,pointer", [
    ({"items": [{"sku": "a"}, {"quantity": "many"}]}, "/items/1/quantity"),
    ({"status": "STATUS_LOST"}, "/status"),
    ({"notes": {"x": "not an int key"}}, "/notes/x"),
    ({"createdAt": "yesterday"}, "/createdAt"),
    ({"priority": 2**31}, "/priority"),
    ({"cardToken": "a", "invoicePdf": "AA=="}, "/invoicePdf"),
    ({"nope": 1}, "/nope"),
    ({"totalsByCurrency": {"a/b~": {"minorUnits": []}}}, "/totalsByCurrency/a~1b~0/minorUnits"),
])
def test_wrong_json_exits_2_naming_the_pointer(tmp_path, pool, classes, document, pointer):
    with pytest.raises(json_format.ParseError):
        json_format.ParseDict(document, classes(ORDER)(), descriptor_pool=pool)
    p = _encode(tmp_path, ORDER, document)
    assert p.returncode == 2, describe(p)
    assert f"at {pointer}:" in p.stderr, describe(p)
    assert p.stdout == b"", describe(p)


def test_unknown_type_and_bad_bytes_exit_2(tmp_path, classes):
    p = run_tapline("proto", "decode", "--proto", str(EXAMPLE_ROOT), "--type", "tapline.example.v1.Nope",
                    home=tmp_path, input=b"")
    assert p.returncode == 2 and "tapline.example.v1.Nope is not defined" in p.stderr, describe(p)
    p = run_tapline("proto", "encode", "--proto", str(EXAMPLE_ROOT), "--type", "Order", home=tmp_path, input=b"{}")
    assert p.returncode == 2 and "Order is not defined" in p.stderr, describe(p)
    # Field 1 (id, a string) sent as a varint: the wrong message type.
    p = run_tapline("proto", "decode", "--proto", str(EXAMPLE_ROOT), "--type", ORDER, home=tmp_path, input=b"\x08\x01")
    assert p.returncode == 2 and "field id (string) has wire type 0" in p.stderr, describe(p)
    p = run_tapline("proto", "decode", "--type", ORDER, home=tmp_path, input=b"")
    assert p.returncode == 2 and "--proto PATH or --descriptor-set FILE" in p.stderr, describe(p)


def test_unknown_fields_are_shown_by_number_and_encoded_back(tmp_path, classes):
    Order = classes(ORDER)
    data = Order(id="x").SerializeToString() + b"\xb8\x06\x2a" + b"\xc2\x06\x02hi" + b"\xcd\x06\x01\x00\x00\x00"
    p = run_tapline("proto", "decode", "--proto", str(EXAMPLE_ROOT), "--type", ORDER, home=tmp_path, input=data)
    assert p.returncode == 0, describe(p)
    shown = json.loads(text(p))
    assert shown == {"id": "x", "103": 42, "104": "hi", "105": "0x00000001"}
    encoded = _encode(tmp_path, ORDER, shown)
    assert encoded.returncode == 0, describe(encoded)
    assert encoded.stdout == data


def test_any_of_a_type_not_in_the_schema_keeps_its_bytes(tmp_path, classes):
    Order = classes(ORDER)
    order = Order()
    order.extension.type_url = "type.googleapis.com/other.pkg.Thing"
    order.extension.value = b"\x08\x01"
    p = run_tapline("proto", "decode", "--proto", str(EXAMPLE_ROOT), "--type", ORDER, home=tmp_path,
                    input=order.SerializeToString())
    assert p.returncode == 0, describe(p)
    shown = json.loads(text(p))
    assert shown == {"extension": {"@type": "type.googleapis.com/other.pkg.Thing",
                                   "@unresolved": "type other.pkg.Thing is not in the loaded schema", "value": "CAE="}}
    encoded = _encode(tmp_path, ORDER, shown)
    assert encoded.returncode == 0 and Order.FromString(encoded.stdout) == order, describe(encoded)


def test_float_fields_print_the_shortest_text_that_round_trips(tmp_path, classes):
    """json_format prints float fields with at least 6 significant digits (`1.4013e-45`);
    Tapline, like protoc's C++ printer, the shortest text that reads back as the same
    float (`1e-45`). Both read back to the same message."""
    Edge = classes(EDGE)
    message = Edge(floats=[1e-45, 16777216.0])
    ours = _decode(tmp_path, message)
    assert ours == {"floats": [1e-45, 16777216.0]}
    p = _encode(tmp_path, EDGE, ours)
    assert p.returncode == 0 and Edge.FromString(p.stdout) == message, describe(p)
