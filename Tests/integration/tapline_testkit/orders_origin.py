"""A grpcio server for the `proto/` Orders service (`tapline.example.v1.Orders`) on
127.0.0.1, with generic handlers on message classes made from protoc's descriptor set at
test time (no generated code) and without server reflection. It records every message it
received and sent as `json_format.MessageToDict`, by method, so a test can compare them
with what Tapline's capture decodes.

  GetOrder     an Order for the request's id; id "missing" aborts with NOT_FOUND and a
               `grpc-status-details-bin` (google.rpc.Status with a Money detail)
  WatchOrders  three OrderEvents
  UploadItems  an UploadSummary of the items received
  Chat         each ChatMessage back as it arrives: sequence + 100, text upper-cased,
               the attachment, or `\\x00\\xff` when the request has none
  Ping         Empty for Empty
"""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Callable, Optional

import grpc
from google.protobuf import json_format

from .grpc_origin import serve
from .origin import TestCA
from .protoc import status_details_bin
from .util import HOST

SERVICE = "tapline.example.v1.Orders"
PACKAGE = "tapline.example.v1"


def as_dict(message) -> dict:
    return json_format.MessageToDict(message)


class OrdersOrigin:
    """`types(name)`: the message class of `tapline.example.v1.<name>`. `tls`: serve over
    TLS (ALPN h2) with the test CA's certificate. `compression`: the server's default
    compression (its responses). `options`: grpc server options (message size limits).
    `interceptors`: grpc server interceptors (to watch every call, served or not).
    `before_start(server)`: adds more services (server reflection) before it starts."""

    def __init__(self, types: Callable, tls: Optional[TestCA] = None,
                 compression: Optional[grpc.Compression] = None, options: Optional[list] = None,
                 interceptors: Optional[list] = None, before_start: Optional[Callable] = None):
        self.types = types
        self.received: dict[str, list[dict]] = {}
        self.sent: dict[str, list[dict]] = {}
        self.lock = threading.Lock()
        T = types
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), compression=compression,
                                  options=options or [], interceptors=interceptors or [])

        def handler(kind, function, request_type, response_type):
            return getattr(grpc, f"{kind}_rpc_method_handler")(
                function, request_deserializer=request_type.FromString,
                response_serializer=response_type.SerializeToString)

        from google.protobuf import empty_pb2
        handlers = {
            "GetOrder": handler("unary_unary", self._get_order, T("GetOrderRequest"), T("Order")),
            "WatchOrders": handler("unary_stream", self._watch, T("WatchOrdersRequest"), T("OrderEvent")),
            "UploadItems": handler("stream_unary", self._upload, T("Order.Item"), T("UploadSummary")),
            "Chat": handler("stream_stream", self._chat, T("ChatMessage"), T("ChatMessage")),
            "Ping": handler("unary_unary", self._ping, empty_pb2.Empty, empty_pb2.Empty),
        }
        if before_start is not None:
            before_start(self.server)
        self.port = serve(self.server, SERVICE, handlers, tls)

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None)

    def _note(self, method: str, received=None, sent=None):
        with self.lock:
            if received is not None:
                self.received.setdefault(method, []).append(as_dict(received))
            if sent is not None:
                self.sent.setdefault(method, []).append(as_dict(sent))
        return sent

    def _get_order(self, request, context):
        self._note("GetOrder", received=request)
        if request.id == "missing":
            money = self.types("Money")(currency=1, minor_units=-250)
            context.set_trailing_metadata((("grpc-status-details-bin",
                                            status_details_bin(5, "no order missing", f"{PACKAGE}.Money",
                                                               money.SerializeToString())),))
            context.abort(grpc.StatusCode.NOT_FOUND, "no order missing")
        context.send_initial_metadata((("x-served-by", "orders-1"),))
        Order = self.types("Order")
        order = Order(id=request.id, status=2, created_by_user=-(2**40), checksum=2**64 - 1, gift=True,
                      items=[Order.Item(sku="A-1", quantity=3, lot_numbers=[7, -8], tags=["x"])],
                      notes={4: "four"}, card_token="tok", weight_kg=1.5)
        order.created_at.FromMicroseconds(1_700_000_000_123_456)
        order.metadata.update({"source": "test", "n": 2})
        return self._note("GetOrder", sent=order)

    def _watch(self, request, context):
        self._note("WatchOrders", received=request)
        for index in range(3):
            event = self.types("OrderEvent")(kind=1 + index % 3, order=self.types("Order")(id=f"o-{index}"))
            yield self._note("WatchOrders", sent=event)

    def _upload(self, requests, context):
        count, quantity = 0, 0
        for item in requests:
            self._note("UploadItems", received=item)
            count, quantity = count + 1, quantity + item.quantity
        return self._note("UploadItems", sent=self.types("UploadSummary")(item_count=count, total_quantity=quantity))

    def _chat(self, requests, context):
        for message in requests:
            self._note("Chat", received=message)
            yield self._note("Chat", sent=self.types("ChatMessage")(sequence=message.sequence + 100,
                                                                     text=message.text.upper(),
                                                                     attachment=message.attachment or b"\x00\xff"))

    def _ping(self, request, context):
        self._note("Ping", received=request)
        return self._note("Ping", sent=request)
