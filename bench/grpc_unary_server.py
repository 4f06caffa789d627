#!/usr/bin/env python3
"""The gRPC server of bench/grpc_unary.py: grpcio with one generic unary handler,
/tapline.example.v1.Orders/GetOrder, answering every request with the same serialized
Order (bytes in, bytes out: no protobuf work in Python). Prints its port, then serves
until killed.

    grpc_unary_server.py [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import threading
from concurrent import futures

import grpc

# tapline.example.v1.Order{id: "o-1", status: 2, gift: true, items: [{sku: "A-1", quantity: 3}]}
ORDER = b"\x0a\x03o-1\x10\x02\x1a\x07\x0a\x03A-1\x10\x03\x90\x01\x01"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers))
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: ORDER)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("tapline.example.v1.Orders",
                                                                          {"GetOrder": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
