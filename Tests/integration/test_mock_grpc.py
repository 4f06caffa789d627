"""`tapline mock` of gRPC calls of all four kinds (issue #23, the mock's gRPC test): a
grpcio client's unary, server-streaming, client-streaming and bidi calls (and a failing
one) are recorded through the proxy (reverse, h2c) against a grpcio origin with generic
handlers on raw bytes; the origin is stopped, `tapline mock` serves the session, and the
same calls made again get what was recorded: every response message, the initial and
trailing metadata, and the status with its details.
"""

from __future__ import annotations

import grpc
import pytest

from tapline_testkit.grpc_origin import GrpcOrigin, call
from tapline_testkit.util import HOST

from test_mock import mocks  # noqa: F401  (the fixture)

CLIENT_MESSAGES = [b"first", b"", b"\x00\xffthird" * 100]


def make_calls(channel: grpc.Channel) -> dict:
    """Each kind once, as a user would call it; returns what the client got per kind:
    (response messages, initial metadata, trailing metadata, status code, details)."""
    def outcome(messages, rpc):
        return (messages, sorted(rpc.initial_metadata()), sorted(rpc.trailing_metadata()), rpc.code(), rpc.details())

    got = {}
    reply, rpc = call(channel, "Unary").with_call(b"hello mock", metadata=[("x-tag", "t1")], timeout=10)
    got["unary"] = outcome([reply], rpc)
    stream = call(channel, "ServerStream", "unary_stream")(b"5,300", timeout=10)
    got["server streaming"] = outcome(list(stream), stream)
    reply, rpc = call(channel, "ClientStream", "stream_unary").with_call(iter(CLIENT_MESSAGES), timeout=10)
    got["client streaming"] = outcome([reply], rpc)
    stream = call(channel, "Bidi", "stream_stream")(iter(CLIENT_MESSAGES), timeout=10)
    got["bidi"] = outcome(list(stream), stream)
    with pytest.raises(grpc.RpcError) as failed:
        call(channel, "Fail").with_call(b"", timeout=10)
    got["failing"] = ([], sorted(failed.value.initial_metadata()), sorted(failed.value.trailing_metadata()),
                      failed.value.code(), failed.value.details())
    return got


def test_all_four_call_kinds_get_the_recorded_messages_metadata_and_status(tapline, mocks):
    origin = GrpcOrigin()
    try:
        proxy = tapline("--reverse", f"h2c://{origin.authority}")
        with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
            recorded = make_calls(channel)
        session = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()
    assert len(recorded["server streaming"][0]) == 5 and recorded["bidi"][0] == CLIENT_MESSAGES
    assert recorded["failing"][3:] == (grpc.StatusCode.NOT_FOUND, "no such thing")
    assert ("x-seen-tag", "t1") in recorded["unary"][1] and ("x-trailer", "done") in recorded["unary"][2]

    mock = mocks(proxy.home, proxy.capture_dir, session)
    with grpc.insecure_channel(f"{HOST}:{mock.port}") as channel:
        mocked = make_calls(channel)
    for kind in recorded:
        assert mocked[kind] == recorded[kind], kind
    # the live line names each call's recorded flow (five different ones)
    answered = [line for line in mock.stderr().splitlines() if "-> 200 " in line]
    assert len({line.rsplit(" ", 1)[-1] for line in answered}) == 5, mock.stderr()
