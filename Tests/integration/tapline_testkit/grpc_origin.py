"""A gRPC server written with grpcio, on 127.0.0.1, for the integration tests.

Generic handlers on raw bytes (no protoc, no generated code): a message is whatever
bytes the client sent. Service `tapline.test.Echo`:
  Unary         the request back; initial metadata `x-seen-tag` repeats the request's
                `x-tag`, trailing metadata `x-trailer: done`
  ServerStream  request b"COUNT,SIZE": COUNT messages of SIZE (>= 4) bytes each, the
                message's index (4 bytes, big-endian), then pattern bytes
  ClientStream  the request messages' count and the sha256 of their concatenation,
                as b"COUNT,HEX"
  Bidi          every message back as it arrives
  Fail          aborts with NOT_FOUND, details "no such thing", trailing metadata
                `x-why: testing` (a trailers-only response)
  Hang          never answers; `hanging` is set once a call arrived, `cancelled` once
                one ended without an answer (cancelled, or past its deadline)
"""

from __future__ import annotations

import hashlib
import threading
from concurrent import futures
from typing import Optional

import grpc

from .origin import TestCA, pattern_bytes
from .util import HOST

SERVICE = "tapline.test.Echo"


def serve(server: grpc.Server, service: str, handlers: dict, tls: Optional[TestCA]) -> int:
    """Adds `handlers` (method name: handler) for `service` to `server`, listens on
    127.0.0.1 (TLS with the test CA's certificate when `tls`), starts it; returns the port."""
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    if tls is None:
        port = server.add_insecure_port(f"{HOST}:0")
    else:
        credentials = grpc.ssl_server_credentials([(tls.server_key.read_bytes(), tls.server_cert.read_bytes())])
        port = server.add_secure_port(f"{HOST}:0", credentials)
    server.start()
    return port


class GrpcOrigin:
    """`tls`: serve over TLS (ALPN h2) with the test CA's certificate (127.0.0.1, localhost)."""

    def __init__(self, tls: Optional[TestCA] = None):
        self.hanging = threading.Event()
        self.cancelled = threading.Event()
        handlers = {
            "Unary": grpc.unary_unary_rpc_method_handler(self._unary),
            "ServerStream": grpc.unary_stream_rpc_method_handler(self._server_stream),
            "ClientStream": grpc.stream_unary_rpc_method_handler(self._client_stream),
            "Bidi": grpc.stream_stream_rpc_method_handler(self._bidi),
            "Fail": grpc.unary_unary_rpc_method_handler(self._fail),
            "Hang": grpc.unary_unary_rpc_method_handler(self._hang),
        }
        self.server, self.port = start_generic_server(SERVICE, handlers, tls)

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None)

    @staticmethod
    def _unary(request: bytes, context) -> bytes:
        tag = dict(context.invocation_metadata()).get("x-tag", "")
        context.send_initial_metadata((("x-seen-tag", tag),))
        context.set_trailing_metadata((("x-trailer", "done"),))
        return request

    @staticmethod
    def _server_stream(request: bytes, context):
        count, size = (int(part) for part in request.split(b","))
        for index in range(count):
            yield index.to_bytes(4, "big") + pattern_bytes(size - 4)

    @staticmethod
    def _client_stream(requests, context) -> bytes:
        digest, count = hashlib.sha256(), 0
        for message in requests:
            digest.update(message)
            count += 1
        return f"{count},{digest.hexdigest()}".encode()

    @staticmethod
    def _bidi(requests, context):
        yield from requests

    @staticmethod
    def _fail(request: bytes, context) -> bytes:
        context.set_trailing_metadata((("x-why", "testing"),))
        context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

    def _hang(self, request: bytes, context) -> bytes:
        done = threading.Event()
        context.add_callback(done.set)  # runs when the call ends: here, when it is cancelled
        self.hanging.set()
        done.wait(timeout=30)
        if not context.is_active():
            self.cancelled.set()
        return b""


def start_generic_server(service: str, handlers: dict, tls: Optional[TestCA] = None) -> tuple:
    """A started grpcio server for `service`'s generic `handlers` (method name -> handler) on
    127.0.0.1 and a port the kernel picks (`serve`); returns (server, port)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    return server, serve(server, service, handlers, tls)


def call(channel: grpc.Channel, method: str, kind: str = "unary_unary"):
    """A callable for `tapline.test.Echo/method` on `channel`, on raw bytes."""
    return getattr(channel, kind)(f"/{SERVICE}/{method}")
