"""`tapline proto describe/decode --reflect`: the schema asked of a gRPC server's reflection.

A grpcio server serves the proto/ Orders service's descriptors with grpcio-reflection
(its descriptor pool built from `protoc --include_imports --descriptor_set_out` at test
time). grpcio-reflection serves only `grpc.reflection.v1alpha`, so every call here also
shows Tapline asking v1 first and falling back when it is UNIMPLEMENTED.

- `describe --reflect h2c://... --json` equals `describe --proto proto/ --json` for the
  Orders files (the same descriptors from both sources), and the text form of a service;
- `decode --reflect` of an Order equals `decode --proto`'s, and `encode --reflect` of that JSON
  is the Order again;
- a server without reflection, and a port nobody listens on: exit 2 with a message that
  says what to do;
- a TLS server: verified with `--upstream-ca`, refused without it.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from tapline_testkit.grpc_origin import GrpcOrigin
from tapline_testkit.util import HOST, describe, free_port, run_tapline, text

descriptor_pb2 = pytest.importorskip("google.protobuf.descriptor_pb2")
reflection = pytest.importorskip("grpc_reflection.v1alpha.reflection")
from google.protobuf import descriptor_pool, message_factory  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_ROOT = ROOT / "proto"
ORDERS_FILES = {"tapline/example/v1/orders.proto", "tapline/example/v1/common.proto"}
SERVICE = "tapline.example.v1.Orders"


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    protoc = shutil.which("protoc")
    assert protoc, "protoc is missing: install Debian's protobuf-compiler (scripts/install-test-deps.sh does)"
    out = tmp_path_factory.mktemp("reflect") / "orders.pb"
    subprocess.run([protoc, f"-I{EXAMPLE_ROOT}", "--include_imports", f"--descriptor_set_out={out}",
                    "tapline/example/v1/orders.proto"], check=True, capture_output=True, timeout=60)
    loaded = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file:
        loaded.Add(file)
    return loaded


def _reflecting_server(pool, credentials=None):
    """A grpcio server whose reflection serves the Orders service from `pool`; returns (server, port)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    reflection.enable_server_reflection([SERVICE, reflection.SERVICE_NAME], server, pool=pool)
    port = (server.add_secure_port(f"{HOST}:0", credentials) if credentials
            else server.add_insecure_port(f"{HOST}:0"))
    server.start()
    return server, port


@pytest.fixture(scope="module")
def reflecting(pool):
    server, port = _reflecting_server(pool)
    yield f"h2c://{HOST}:{port}"
    server.stop(grace=None)


def _orders_files(document: dict) -> dict:
    return {f["name"]: f for f in document["file"] if f["name"] in ORDERS_FILES}


def test_describe_json_equals_the_proto_files(reflecting):
    p = run_tapline("proto", "describe", "--reflect", reflecting, "--json")
    assert p.returncode == 0, describe(p)
    reflected = json.loads(text(p))
    p = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT / "tapline/example/v1/orders.proto"),
                    "--proto-path", str(EXAMPLE_ROOT), "--json")
    assert p.returncode == 0, describe(p)
    parsed = json.loads(text(p))
    assert set(_orders_files(reflected)) == ORDERS_FILES, sorted(f["name"] for f in reflected["file"])
    assert _orders_files(reflected) == _orders_files(parsed)


def test_describe_a_service_as_text_equals_the_proto_files(reflecting):
    p = run_tapline("proto", "describe", "--reflect", reflecting, SERVICE)
    assert p.returncode == 0, describe(p)
    from_proto = run_tapline("proto", "describe", "--proto", str(EXAMPLE_ROOT), SERVICE)
    assert from_proto.returncode == 0, describe(from_proto)
    assert text(p) == text(from_proto)
    assert "rpc Chat ( stream .tapline.example.v1.ChatMessage ) returns ( stream .tapline.example.v1.ChatMessage );" in text(p), describe(p)


def test_decode_equals_decode_with_the_proto_files(reflecting, pool, tmp_path):
    Order = message_factory.GetMessageClass(pool.FindMessageTypeByName("tapline.example.v1.Order"))
    order = Order(id="o-7", status=2, checksum=2**64 - 1)
    order.items.add(sku="A", quantity=3, lot_numbers=[1, -2])
    order.notes[4] = "four"
    order.created_at.seconds = 1_700_000_000
    message = tmp_path / "order.bin"
    message.write_bytes(order.SerializeToString())
    reflected = run_tapline("proto", "decode", "--reflect", reflecting, "--type", "tapline.example.v1.Order", str(message))
    assert reflected.returncode == 0, describe(reflected)
    parsed = run_tapline("proto", "decode", "--proto", str(EXAMPLE_ROOT), "--type", "tapline.example.v1.Order", str(message))
    assert parsed.returncode == 0, describe(parsed)
    assert json.loads(text(reflected)) == json.loads(text(parsed))
    assert json.loads(text(reflected))["checksum"] == str(2**64 - 1)
    encoded = run_tapline("proto", "encode", "--reflect", reflecting, "--type", "tapline.example.v1.Order",
                          input=reflected.stdout)
    assert encoded.returncode == 0, describe(encoded)
    assert Order.FromString(encoded.stdout) == order


def test_a_server_without_reflection_exits_2_saying_so():
    origin = GrpcOrigin()
    try:
        p = run_tapline("proto", "describe", "--reflect", f"h2c://{origin.authority}")
    finally:
        origin.stop()
    assert p.returncode == 2, describe(p)
    assert f"h2c://{origin.authority} does not serve gRPC server reflection" in p.stderr, describe(p)
    assert "--proto or --descriptor-set" in p.stderr, describe(p)


def test_an_unknown_symbol_and_an_unreachable_server_exit_2(reflecting):
    p = run_tapline("proto", "describe", "--reflect", reflecting, "tapline.example.v1.Nope")
    assert p.returncode == 2 and "has no symbol tapline.example.v1.Nope" in p.stderr, describe(p)
    p = run_tapline("proto", "describe", "--reflect", f"h2c://{HOST}:{free_port()}")
    assert p.returncode == 2 and "cannot ask h2c://" in p.stderr, describe(p)
    p = run_tapline("proto", "describe", "--reflect", f"http://{HOST}:1")
    assert p.returncode == 2 and "give h2c://host[:port] or https://host[:port]" in p.stderr, describe(p)


def test_a_tls_server_is_verified_with_upstream_ca(pool, test_ca):
    credentials = grpc.ssl_server_credentials([(test_ca.server_key.read_bytes(), test_ca.server_cert.read_bytes())])
    server, port = _reflecting_server(pool, credentials)
    try:
        url = f"https://localhost:{port}"
        trusted = run_tapline("proto", "describe", "--reflect", url, "--upstream-ca", str(test_ca.ca_cert), "--json")
        untrusted = run_tapline("proto", "describe", "--reflect", url)
    finally:
        server.stop(grace=None)
    assert trusted.returncode == 0, describe(trusted)
    assert set(_orders_files(json.loads(text(trusted)))) == ORDERS_FILES
    assert untrusted.returncode == 2 and f"cannot ask {url}" in untrusted.stderr, describe(untrusted)


def test_a_server_that_never_answers_times_out():
    """--timeout bounds the whole conversation: a listener that accepts and stays silent."""
    listener = socket.create_server((HOST, 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        p = run_tapline("proto", "describe", "--reflect", f"h2c://{HOST}:{listener.getsockname()[1]}", "--timeout", "1")
        elapsed = time.monotonic() - started
    finally:
        listener.close()
        thread.join(5)
        for connection in accepted:
            connection.close()
    assert p.returncode == 2, describe(p)
    assert "did not finish answering reflection within 1 s (raise --timeout" in p.stderr, describe(p)
    assert elapsed < 10, elapsed


def test_a_server_with_only_v1_is_asked_on_v1(pool):
    """grpcio-reflection's servicer mounted at grpc.reflection.v1 only (the messages are the same)."""
    from grpc_reflection.v1alpha import reflection_pb2

    servicer = reflection.ReflectionServicer([SERVICE], pool=pool)

    def info(requests, context):
        parsed = (reflection_pb2.ServerReflectionRequest.FromString(request) for request in requests)
        for response in servicer.ServerReflectionInfo(parsed, context):
            yield response.SerializeToString()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "grpc.reflection.v1.ServerReflection", {"ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(info)}),))
    port = server.add_insecure_port(f"{HOST}:0")
    server.start()
    try:
        p = run_tapline("proto", "describe", "--reflect", f"h2c://{HOST}:{port}", "--json")
    finally:
        server.stop(grace=None)
    assert p.returncode == 0, describe(p)
    assert set(_orders_files(json.loads(text(p)))) == ORDERS_FILES
