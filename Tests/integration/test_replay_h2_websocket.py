"""`tapline replay` of a WebSocket recorded over HTTP/2 (RFC 8441, issue #23): it is
replayed as recorded, an extended CONNECT (`:protocol websocket`) on an HTTP/2
connection whose server announced SETTINGS_ENABLE_CONNECT_PROTOCOL, and the same
conversation runs over the stream's DATA. A server that does not announce it gets an
HTTP/1.1 Upgrade instead, and the replay says so.

What each test checks is what a user would: the exit code, the note, what the server
saw (an h2 extended CONNECT, or an HTTP/1.1 GET Upgrade), the messages it got, and the
replay session (the conversation equal to the recording, `tapline diff` equal).
"""

from __future__ import annotations

import json
from pathlib import Path

from tapline_testkit import websocket as wsk
from tapline_testkit.h2_websocket import H2WebSocketClient, H2WebSocketOrigin
from tapline_testkit.util import HOST, describe, text

from test_replay import replay
from test_replay_websocket import greeting_origin

# What the client says (each after the echo of the one before), and its close.
CLIENT_MESSAGES: list = ["hello", b"\x00\x01binary\xff", '{"subscribe": "prices"}']
CLOSE = (4000, "client done")


def conversation(session: Path, flow: dict) -> list[tuple]:
    """(direction, opcode, payload or close code and reason) of a flow's messages."""
    return [(m["dir"], m["opcode"], (m.get("code"), m.get("reason")) if m["opcode"] == "close"
             else wsk.payload_of(session, m)) for m in flow["messages"]]


def converse(client: H2WebSocketClient, greeting: bool) -> None:
    """The greeting (when the server sends one), each of CLIENT_MESSAGES and its answer,
    then CLOSE and the end of the stream; the client's connection is closed after."""
    try:
        assert client.open() == 200, client.headers
        if greeting:
            client.wait(lambda: len(client.messages) == 1, "the greeting")
        for message in CLIENT_MESSAGES:
            expected = len(client.messages) + 1
            client.send(message)
            client.wait(lambda: len(client.messages) == expected, "the answer")
        client.send_close(*CLOSE)
        client.wait(lambda: client.close_received is not None, "the server's close")
        client.end_stream()
        client.wait(lambda: client.ended, "the end of the stream")
    finally:
        client.close()


def record_through_forward_tls(tapline, test_ca, origin: H2WebSocketOrigin) -> tuple:
    """Records the conversation through a forward proxy (CONNECT, then TLS with ALPN h2 to
    `origin`); returns (the proxy, the closed session's directory)."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    converse(H2WebSocketClient(proxy.port, origin.authority, "/echo?room=1", tls_ca=proxy.wait_for_ca(),
                               connect_to=origin.authority, scheme="https"), greeting=False)
    session = proxy.session_dir()
    proxy.stop()
    (flow,) = wsk.extended_connect_flows(session).values()
    assert flow["ended"] is not None and flow["ended"].get("error") is None, flow["ended"]
    return proxy, session


def test_a_websocket_recorded_over_h2_replays_as_an_extended_connect_over_h2(tapline, test_ca, tmp_path):
    origin = H2WebSocketOrigin(test_ca.server_context())
    try:
        proxy, source = record_through_forward_tls(tapline, test_ca, origin)
        assert origin.received == CLIENT_MESSAGES
        origin.received.clear()
        report = tmp_path / "r.json"
        p = replay(proxy, str(source), "--upstream-ca", str(test_ca.ca_cert), "--report", str(report))
        assert p.returncode == 0, describe(p)
        assert "all matched: sent 1: 1 equal, 0 different, 0 failed; 0 skipped" in text(p), describe(p)
        assert "HTTP/1.1 Upgrade" not in p.stderr, describe(p)
        # at the origin: a second extended CONNECT on h2, no HTTP/1.1 Upgrade, the messages again
        assert len(origin.requests) == 2, origin.requests
        replayed_request = dict(origin.requests[1])
        assert replayed_request[":method"] == "CONNECT" and replayed_request[":protocol"] == "websocket"
        assert replayed_request[":path"] == "/echo?room=1" and replayed_request[":scheme"] == "https"
        assert replayed_request[":authority"] == origin.authority
        assert "sec-websocket-key" not in replayed_request and "upgrade" not in replayed_request
        assert not origin.http1_requests, origin.http1_requests
        assert origin.received == CLIENT_MESSAGES
        assert not origin.errors, origin.errors
    finally:
        origin.stop()
    replayed = proxy.capture_dir / json.loads(report.read_text())["replay"]["session"]
    (flow,) = wsk.extended_connect_flows(replayed).values()
    assert flow["request"]["version"] == "HTTP/2" and flow["response"]["status"] == 200, flow
    assert flow["ended"].get("error") is None, flow["ended"]
    (recorded,) = wsk.extended_connect_flows(source).values()
    assert conversation(replayed, flow) == conversation(source, recorded)
    assert conversation(replayed, flow)[-2:] == [("client", "close", CLOSE), ("server", "close", CLOSE)]
    p = proxy.cli("diff", str(source), str(replayed))
    assert p.returncode == 0, describe(p)


def test_an_h2_server_without_extended_connect_gets_an_http1_upgrade_and_the_replay_says_so(tapline, test_ca,
                                                                                          tmp_path):
    recording_origin = H2WebSocketOrigin(test_ca.server_context())
    try:
        proxy, source = record_through_forward_tls(tapline, test_ca, recording_origin)
    finally:
        recording_origin.stop()
    origin = H2WebSocketOrigin(test_ca.server_context(), extended_connect=False)  # h2 without RFC 8441, and http/1.1
    try:
        target = f"https://{origin.authority}"
        p = replay(proxy, str(source), "--target", target, "--upstream-ca", str(test_ca.ca_cert))
        assert p.returncode == 0, describe(p)
        assert (f"flow 1: recorded as a WebSocket over HTTP/2 (RFC 8441 extended CONNECT); replayed as an HTTP/1.1 "
                f"Upgrade ({origin.authority} speaks HTTP/2 but did not announce SETTINGS_ENABLE_CONNECT_PROTOCOL)"
                in p.stderr), describe(p)
        assert origin.h2_connections >= 1, "replay should have asked for h2 first"
        assert not origin.requests, "the WebSocket must not be opened as an h2 stream"
        assert len(origin.http1_requests) == 1, origin.http1_requests
        upgrade = origin.http1_requests[0].lower()
        assert upgrade.startswith("get /echo?room=1 http/1.1") and "upgrade: websocket" in upgrade, upgrade
        assert origin.received == CLIENT_MESSAGES
        assert not origin.errors, origin.errors
    finally:
        origin.stop()


def test_an_h2c_target_gets_the_extended_connect_by_prior_knowledge(tapline):
    """Recorded through a reverse proxy speaking h2c (bridged to a `websockets` origin);
    replayed with `--target h2c://` to a second Tapline in front of the same origin, the
    HTTP/2 server here: it records an extended CONNECT over HTTP/2, not an Upgrade."""
    received: list = []
    origin = greeting_origin(received, {})
    try:
        recorder = tapline("--reverse", origin.http_url)
        converse(H2WebSocketClient(recorder.port, f"{HOST}:{recorder.port}", "/feed?room=1"), greeting=True)
        source = recorder.session_dir()
        recorder.stop()
        assert received == CLIENT_MESSAGES
        received.clear()
        server = tapline("--reverse", origin.http_url)
        p = replay(recorder, str(source), "--target", f"h2c://{HOST}:{server.port}")
        assert p.returncode == 0, describe(p)
        assert "HTTP/1.1 Upgrade" not in p.stderr, describe(p)
        assert received == CLIENT_MESSAGES
        served = server.session_dir()
        server.stop()
    finally:
        origin.stop()
    (flow,) = wsk.extended_connect_flows(served).values()
    assert flow["request"]["version"] == "HTTP/2", flow["request"]
    assert dict((k.lower(), v) for k, v in flow["request"]["headers"])[":protocol"] == "websocket"
    assert flow["ended"].get("error") is None, flow["ended"]
    (recorded,) = wsk.extended_connect_flows(source).values()
    assert conversation(served, flow) == conversation(source, recorded)
