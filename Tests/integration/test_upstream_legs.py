"""An HTTP/1.1 client in front of an HTTP/2 upstream goes through HTTP2ClientLeg, which
translates at message level (issue #22): what the capture records is what the upstream
did, not what a re-parse of our own HTTP/1.1 translation made of it."""

from __future__ import annotations

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Origin


@pytest.fixture
def h2_origin():
    server = H2Origin()
    yield server
    server.stop()


def _flows(proxy) -> dict[int, dict]:
    """Per flow: its request target, `upstreamConnected` and `flowEnded` events."""
    flows: dict[int, dict] = {}
    for event in read_events(proxy.session_dir()):
        if event["type"] in ("requestHead", "upstreamConnected", "flowEnded"):
            flows.setdefault(event["flow"], {})[event["type"]] = event
    return flows


def test_a_stream_the_h2_upstream_resets_mid_body_is_recorded_as_that_reset(tapline, h2_origin):
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    with rawhttp.connect(proxy.port) as client, client.makefile("rb") as f:
        client.sendall(rawhttp.request_bytes("GET", "/reset-mid-body/2", "app.test"))
        f.read()  # the head had gone to the client: the connection is cut
    proxy.stop()
    [flow] = _flows(proxy).values()
    error = flow["flowEnded"]["error"]
    assert error["kind"] == "upstream-aborted", error
    assert "reset the HTTP/2 stream with INTERNAL_ERROR" in error["message"], error


def test_a_head_answered_with_a_stray_body_keeps_the_h2_upstream_for_the_next_request(tapline, h2_origin):
    """H2Origin sends a HEAD response's body anyway (nghttp2 resets that stream): the
    response was whole with its head, and the connection still serves the next request."""
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    with rawhttp.connect(proxy.port) as client, client.makefile("rb") as f:
        client.sendall(rawhttp.request_bytes("HEAD", "/bytes/10", "app.test"))
        head = rawhttp.read_response(f, "HEAD")
        assert head.status == 200 and head.header("content-length") == "10"
        client.sendall(rawhttp.request_bytes("GET", "/bytes/5", "app.test"))
        assert rawhttp.read_response(f).status == 200
    proxy.stop()
    flows = _flows(proxy)
    by_target = {f["requestHead"]["target"]: f for f in flows.values()}
    assert "error" not in by_target["/bytes/10"]["flowEnded"], by_target["/bytes/10"]
    assert by_target["/bytes/5"]["upstreamConnected"]["reused"] is True, by_target["/bytes/5"]
