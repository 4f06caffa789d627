"""Tapline's own .proto parser against protoc as the oracle (issue #24 item 2).

For every file in proto/ and the tricky files in protos/tricky/, `protoc
--include_imports --descriptor_set_out` gives a FileDescriptorSet; Python's
json_format.MessageToDict of it, cut down to the fields Tapline's descriptor model
holds, must equal `tapline proto describe --json` file by file, field by field.
Bad input (missing file, syntax error, unknown type, missing import, proto2 group)
exits 2 naming file:line:column.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tapline_testkit.util import describe, run_tapline, text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ROOT = ROOT / "proto"
TRICKY_ROOT = Path(__file__).resolve().parent / "protos" / "tricky"
BAD_ROOT = Path(__file__).resolve().parent / "protos" / "bad"

descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
json_format = pytest.importorskip("google.protobuf.json_format")

# The descriptor fields Tapline's model holds, per descriptor message; everything
# else protoc writes (most options, source info, extensions) is dropped before comparing.
KEPT = {
    "file": {"name", "package", "dependency", "publicDependency", "weakDependency", "messageType", "enumType",
             "service", "options", "syntax"},
    "message": {"name", "field", "nestedType", "enumType", "extensionRange", "oneofDecl", "options",
                "reservedRange", "reservedName"},
    "field": {"name", "number", "label", "type", "typeName", "defaultValue", "oneofIndex", "jsonName", "options",
              "proto3Optional"},
    "enum": {"name", "value", "options", "reservedRange", "reservedName"},
    "enumValue": {"name", "number", "options"},
    "service": {"name", "method", "options"},
    "method": {"name", "inputType", "outputType", "options", "clientStreaming", "serverStreaming"},
    "oneof": {"name"},
    "range": {"start", "end"},
}
KEPT_OPTIONS = {
    "file": {"deprecated"}, "message": {"mapEntry", "deprecated"}, "field": {"packed", "deprecated"},
    "enum": {"allowAlias", "deprecated"}, "enumValue": {"deprecated"}, "service": {"deprecated"},
    "method": {"deprecated"},
}
CHILDREN = {
    "messageType": "message", "nestedType": "message", "enumType": "enum", "service": "service", "field": "field",
    "value": "enumValue", "method": "method", "oneofDecl": "oneof", "extensionRange": "range", "reservedRange": "range",
}


def normalised(kind: str, value: dict) -> dict:
    result = {}
    for key, member in value.items():
        if key not in KEPT[kind]:
            continue
        if key == "options":
            member = {k: v for k, v in member.items() if k in KEPT_OPTIONS[kind]}
            if not member:
                continue
        elif key in CHILDREN:
            member = [normalised(CHILDREN[key], element) for element in member]
        result[key] = member
    return result


def protoc_files(root: Path, names: list[str], tmp_path: Path) -> dict[str, dict]:
    out = tmp_path / "set.pb"
    p = subprocess.run(["protoc", f"-I{root}", "--include_imports", f"--descriptor_set_out={out}", *names],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(out.read_bytes())
    files = json_format.MessageToDict(descriptor_set)["file"]
    return {f["name"]: normalised("file", f) for f in files}


def tapline_files(root: Path, names: list[str]) -> dict[str, dict]:
    args = ["proto", "describe", "--proto-path", str(root), "--json"]
    for name in names:
        args += ["--proto", str(root / name)]
    p = run_tapline(*args)
    assert p.returncode == 0, describe(p)
    return {f["name"]: f for f in json.loads(text(p))["file"]}


def proto_names(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*.proto"))


def assert_same_descriptors(ours: dict[str, dict], theirs: dict[str, dict]) -> None:
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        for kind in ("messageType", "enumType", "service"):
            ours_by_name = {t["name"]: t for t in ours[name].get(kind, [])}
            for definition in theirs[name].get(kind, []):
                assert ours_by_name.get(definition["name"]) == definition, f"{name}: {kind} {definition['name']}"
        assert ours[name] == theirs[name], name


needs_protoc = pytest.mark.skipif(shutil.which("protoc") is None,
                                  reason="protoc not installed (Debian protobuf-compiler: scripts/install-test-deps.sh)")


@needs_protoc
@pytest.mark.parametrize("root", [EXAMPLE_ROOT, TRICKY_ROOT], ids=["proto", "tricky"])
def test_descriptors_equal_protocs(root, tmp_path):
    names = proto_names(root)
    assert names, f"no .proto files under {root}"
    assert_same_descriptors(tapline_files(root, names), protoc_files(root, names, tmp_path))


@needs_protoc
def test_example_protos_cover_every_call_kind_and_the_well_known_types(tmp_path):
    files = tapline_files(EXAMPLE_ROOT, proto_names(EXAMPLE_ROOT))
    orders = files["tapline/example/v1/orders.proto"]
    [service] = orders["service"]
    kinds = {(m.get("clientStreaming", False), m.get("serverStreaming", False)) for m in service["method"]}
    assert kinds == {(False, False), (False, True), (True, False), (True, True)}
    for well_known in ("any", "duration", "timestamp", "struct", "wrappers", "field_mask", "empty"):
        assert f"google/protobuf/{well_known}.proto" in files


def test_directory_without_proto_path_describes_a_service_and_a_method():
    p = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT), "tapline.example.v1.Orders")
    assert p.returncode == 0, describe(p)
    out = text(p)
    assert out.startswith("tapline.example.v1.Orders is a service:\n"), out
    assert "rpc Chat ( stream .tapline.example.v1.ChatMessage ) returns ( stream .tapline.example.v1.ChatMessage );" in out
    p = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT), ".tapline.example.v1.Orders.WatchOrders")
    assert p.returncode == 0, describe(p)
    assert "returns ( stream .tapline.example.v1.OrderEvent );" in text(p)


def test_message_text_shows_maps_oneofs_and_nested_types():
    p = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT), "tapline.example.v1.Order")
    assert p.returncode == 0, describe(p)
    out = text(p)
    assert "  map<string, .tapline.example.v1.Order.Item> items_by_sku = 4;" in out
    assert "  oneof payment {\n    string card_token = 6;" in out
    assert "  optional string coupon = 20;" in out
    assert "ItemsBySkuEntry" not in out


@pytest.mark.parametrize("name, location, message", [
    ("unknown_type.proto", "unknown_type.proto:9:12:", "unknown type `Itme` in field `items` (did you mean `Item`?)"),
    ("syntax_error.proto", "syntax_error.proto:5:3:", 'expected ";"'),
    ("missing_import.proto", "missing_import.proto:3:1:", 'import "nowhere/absent.proto" not found'),
    ("group.proto", "group.proto:4:12:", "proto2 group `Result` is not supported"),
])
def test_bad_files_exit_2_naming_file_line_and_column(name, location, message):
    p = run_tapline("proto", "describe", "--proto", str(BAD_ROOT / name))
    assert p.returncode == 2, describe(p)
    assert location in p.stderr and message in p.stderr, p.stderr
    assert text(p) == ""


def test_missing_file_and_unknown_symbol_exit_2(tmp_path):
    p = run_tapline("proto", "describe", "--proto", str(tmp_path / "absent.proto"))
    assert p.returncode == 2, describe(p)
    assert f"cannot read {tmp_path / 'absent.proto'}: no such file or directory" in p.stderr
    p = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT), "tapline.example.v1.Nope")
    assert p.returncode == 2, describe(p)
    assert "tapline.example.v1.Nope is not defined" in p.stderr


def test_usage_errors_exit_2():
    p = run_tapline("proto", "describe")
    assert p.returncode == 2 and "--proto PATH" in p.stderr, describe(p)
    p = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT), "--no-such-flag")
    assert p.returncode == 2 and "unknown option --no-such-flag" in p.stderr, describe(p)
    p = run_tapline("proto", "frobnicate")
    assert p.returncode == 2 and "unknown subcommand" in p.stderr, describe(p)
    p = run_tapline("proto", "describe", "--help")
    assert p.returncode == 0 and "--proto-path DIR" in text(p), describe(p)
