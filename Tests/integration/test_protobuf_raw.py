"""`tapline proto decode-raw` against `protoc --decode_raw` as the oracle.

A corpus of messages is encoded by Python protobuf (a message type built here from a
FileDescriptorProto: every scalar type, nested and repeated messages, packed and
unpacked repeated fields, maps, strings and bytes, negative numbers, a proto2 group)
and each is decoded by both tools: the text must be byte for byte the same. Input
protoc rejects, tapline rejects with exit 2 and a message.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tapline_testkit.util import describe, run_tapline, text

F = descriptor_pb2.FieldDescriptorProto


def _message_classes():
    """The corpus's message types: `tapline.test.Everything`, with a nested `Inner` and a group."""
    file = descriptor_pb2.FileDescriptorProto(name="tapline_raw_test.proto", package="tapline.test", syntax="proto2")
    inner = file.message_type.add(name="Inner")
    inner.field.add(name="id", number=1, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    inner.field.add(name="label", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    inner.field.add(name="child", number=3, type=F.TYPE_MESSAGE, type_name=".tapline.test.Inner", label=F.LABEL_OPTIONAL)
    everything = file.message_type.add(name="Everything")
    scalars = [("i32", F.TYPE_INT32), ("i64", F.TYPE_INT64), ("u32", F.TYPE_UINT32), ("u64", F.TYPE_UINT64),
               ("s32", F.TYPE_SINT32), ("s64", F.TYPE_SINT64), ("f32", F.TYPE_FIXED32), ("f64", F.TYPE_FIXED64),
               ("sf32", F.TYPE_SFIXED32), ("sf64", F.TYPE_SFIXED64), ("fl", F.TYPE_FLOAT), ("db", F.TYPE_DOUBLE),
               ("flag", F.TYPE_BOOL), ("text", F.TYPE_STRING), ("blob", F.TYPE_BYTES)]
    for number, (name, kind) in enumerate(scalars, start=1):
        everything.field.add(name=name, number=number, type=kind, label=F.LABEL_OPTIONAL)
    everything.field.add(name="inner", number=16, type=F.TYPE_MESSAGE, type_name=".tapline.test.Inner",
                         label=F.LABEL_OPTIONAL)
    everything.field.add(name="inners", number=17, type=F.TYPE_MESSAGE, type_name=".tapline.test.Inner",
                         label=F.LABEL_REPEATED)
    packed = everything.field.add(name="packed", number=18, type=F.TYPE_SINT32, label=F.LABEL_REPEATED)
    packed.options.packed = True
    everything.field.add(name="unpacked", number=19, type=F.TYPE_INT32, label=F.LABEL_REPEATED)
    everything.field.add(name="names", number=20, type=F.TYPE_STRING, label=F.LABEL_REPEATED)
    entry = everything.nested_type.add(name="CountsEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=F.TYPE_UINT64, label=F.LABEL_OPTIONAL)
    everything.field.add(name="counts", number=21, type=F.TYPE_MESSAGE,
                         type_name=".tapline.test.Everything.CountsEntry", label=F.LABEL_REPEATED)
    group = everything.nested_type.add(name="Legacy")
    group.field.add(name="code", number=23, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    everything.field.add(name="legacy", number=22, type=F.TYPE_GROUP, type_name=".tapline.test.Everything.Legacy",
                         label=F.LABEL_OPTIONAL)
    everything.field.add(name="far", number=536870911, type=F.TYPE_UINT32, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    get = message_factory.GetMessageClass
    return get(pool.FindMessageTypeByName("tapline.test.Everything")), get(pool.FindMessageTypeByName("tapline.test.Inner"))


def _corpus() -> dict[str, bytes]:
    Everything, Inner = _message_classes()
    deep = Inner(id=1)
    for level in range(12):  # deeper than protoc's 10 levels of embedded messages
        deep = Inner(id=level, child=deep)
    messages = {
        "empty": Everything(),
        "scalars": Everything(i32=150, i64=1 << 40, u32=4294967295, u64=18446744073709551615, s32=-3, s64=-(1 << 62),
                              f32=42, f64=1 << 60, sf32=-1, sf64=-(1 << 63), fl=1.5, db=-0.0, flag=True),
        "negative ints": Everything(i32=-1, i64=-9223372036854775808),
        "strings and bytes": Everything(text="héllo \"quoted\" 'single' back\\slash\ttab\nnewline",
                                        blob=bytes(range(256)), names=["", "a", "hi", "testing"]),
        "nested and repeated": Everything(inner=Inner(id=7, label="seven", child=Inner(id=8)),
                                          inners=[Inner(id=1), Inner(label="two"), Inner()]),
        "packed and unpacked": Everything(packed=[0, -1, 1, -64, 63, 2147483647, -2147483648], unpacked=[1, 2, 300]),
        "map": Everything(counts={"a": 1, "b": 18446744073709551615}),
        "group and far field": Everything(legacy=Everything.Legacy(code=-2), far=5),
        "deep nesting": Everything(inner=deep),
    }
    return {name: message.SerializeToString() for name, message in messages.items()}


CORPUS = _corpus()


@pytest.fixture(scope="module")
def protoc() -> str:
    path = shutil.which("protoc")
    assert path, "protoc is missing: install Debian's protobuf-compiler (scripts/install-test-deps.sh does)"
    return path


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_decode_raw_matches_protoc(tmp_path, protoc, name):
    data = CORPUS[name]
    expected = subprocess.run([protoc, "--decode_raw"], input=data, capture_output=True, timeout=20, check=True).stdout
    p = run_tapline("proto", "decode-raw", home=tmp_path, input=data)
    assert p.returncode == 0, describe(p)
    assert p.stdout == expected, f"{name}: tapline\n{text(p)}\nprotoc\n{expected.decode('utf-8', 'replace')}"


def test_decode_raw_json_groups_repeated_numbers(tmp_path):
    Everything, Inner = _message_classes()
    data = Everything(i32=-1, names=["a", "b"], inner=Inner(id=7), blob=b"\xff\x00").SerializeToString()
    p = run_tapline("proto", "decode-raw", "--json", home=tmp_path, input=data)
    assert p.returncode == 0, describe(p)
    assert json.loads(text(p)) == {"1": "18446744073709551615", "15": {"bytes": "/wA="}, "16": {"1": 7},
                                   "20": ["a", "b"]}


@pytest.mark.parametrize("data", [b"\x08", b"\x00\x01", b"\x0b\x08\x01", b"\x08" + b"\xff" * 10 + b"\x01", b"\x0e"],
                         ids=["truncated varint", "field zero", "open group", "11-byte varint", "wire type 6"])
def test_input_protoc_rejects_exits_2_with_a_message(tmp_path, protoc, data):
    assert subprocess.run([protoc, "--decode_raw"], input=data, capture_output=True, timeout=20).returncode != 0
    p = run_tapline("proto", "decode-raw", home=tmp_path, input=data)
    assert p.returncode == 2, describe(p)
    assert "not a protobuf message" in p.stderr, describe(p)
    assert p.stdout == b"", describe(p)


@pytest.mark.parametrize("args", [["proto"], ["proto", "frobnicate"], ["proto", "decode-raw", "a.bin", "b.bin"],
                                  ["proto", "decode-raw", "--no-such-flag"]])
def test_proto_usage_errors_exit_2(tmp_path, args):
    p = run_tapline(*args, home=tmp_path, input=b"")
    assert p.returncode == 2, describe(p)
    assert "usage: tapline proto" in p.stderr, describe(p)


def test_decode_raw_reads_a_file_and_says_when_it_cannot(tmp_path):
    message = tmp_path / "message.bin"
    message.write_bytes(b"\x08\x96\x01\x12\x02hi")
    p = run_tapline("proto", "decode-raw", str(message), home=tmp_path)
    assert p.returncode == 0, describe(p)
    assert text(p) == "1: 150\n2 {\n  13: 105\n}\n", describe(p)
    missing = run_tapline("proto", "decode-raw", str(tmp_path / "missing.bin"), home=tmp_path)
    assert missing.returncode == 1 and "cannot read" in missing.stderr, describe(missing)
