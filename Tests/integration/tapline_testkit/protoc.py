"""protoc at test time: `.proto` files compiled into a descriptor set (Debian's
protobuf-compiler), and that set loaded into a descriptor pool of its own, from which
Python protobuf makes message classes (no generated code)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def compile_descriptor_set(out: Path, roots: list[Path], files: list[str]) -> Path:
    """`protoc -I ROOT... --include_imports --descriptor_set_out=OUT FILE...`; returns OUT."""
    protoc = shutil.which("protoc")
    assert protoc, "protoc is missing: install Debian's protobuf-compiler (scripts/install-test-deps.sh does)"
    subprocess.run([protoc, *(f"-I{root}" for root in roots), "--include_imports", f"--descriptor_set_out={out}", *files],
                   check=True, capture_output=True, timeout=60)
    return out


def descriptor_pool_of(descriptor_set: Path):
    """The set's files in a pool of their own (json_format resolves Any type URLs in it)."""
    from google.protobuf import descriptor_pb2, descriptor_pool
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file:
        pool.Add(file)
    return pool


def message_class(pool, full_name: str):
    from google.protobuf import message_factory
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def varint(value: int) -> bytes:
    """A protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def length_delimited(field: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2): tag, length, payload."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def status_details_bin(code: int, message: str, detail_type: str, detail: bytes) -> bytes:
    """An encoded google.rpc.Status (1: code, 2: message, 3: Any{1: type_url, 2: value}), as
    `grpc-status-details-bin` carries it."""
    any_message = length_delimited(1, f"type.googleapis.com/{detail_type}".encode()) + length_delimited(2, detail)
    return bytes([1 << 3]) + varint(code) + length_delimited(2, message.encode()) + length_delimited(3, any_message)
