"""The gRPC-Web gateway (`--grpc-web`) when its upstream cannot be reached: a CORS
preflight is answered without an upstream (204, not 502), a gRPC-Web call gets what a
browser's gRPC-Web client expects of a gateway (200 with a trailer frame `grpc-status: 14`
UNAVAILABLE naming the connect error, recorded with that status), and the live log line
of a gRPC-Web call carries its gRPC status, read from the trailer frame, as a native
call's does from its trailers.

Nothing listens on the upstream's port (a free port the test picked), so every connect
is refused."""

from __future__ import annotations

import base64
import http.client
import json
import struct

import pytest

from tapline_testkit.capture import wait_for_every_flow_ended
from tapline_testkit.util import HOST, free_port, text

SERVICE = "tapline.example.v1.Orders"
ORIGIN = "http://app.test"
TIMEOUT = 20


@pytest.fixture
def gateway(tapline):
    return tapline("--reverse", f"h2c://{HOST}:{free_port()}", "--grpc-web")


def _frames(body: bytes) -> list[tuple[int, bytes]]:
    frames = []
    while body:
        flags, length = struct.unpack(">BI", body[:5])
        frames.append((flags, body[5:5 + length]))
        body = body[5 + length:]
    return frames


def _web_text(body: bytes) -> bytes:
    """A grpc-web-text body decoded: each 4-character group alone (runs may be padded)."""
    return b"".join(base64.b64decode(body[i:i + 4]) for i in range(0, len(body), 4))


def test_a_preflight_is_answered_without_the_upstream(gateway):
    connection = http.client.HTTPConnection(HOST, gateway.port, timeout=TIMEOUT)
    connection.request("OPTIONS", f"/{SERVICE}/GetOrder", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-grpc-web"})
    response = connection.getresponse()
    assert response.status == 204, (response.status, response.read())
    assert response.getheader("access-control-allow-origin") == ORIGIN
    assert response.getheader("access-control-allow-headers") == "content-type,x-grpc-web"
    connection.close()


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_a_call_to_an_unreachable_upstream_ends_with_unavailable(gateway, text_mode):
    request = struct.pack(">BI", 0, 4) + b"\x0a\x02o1"
    content_type = "application/grpc-web-text" if text_mode else "application/grpc-web+proto"
    connection = http.client.HTTPConnection(HOST, gateway.port, timeout=TIMEOUT)
    connection.request("POST", f"/{SERVICE}/GetOrder", body=base64.b64encode(request) if text_mode else request,
                       headers={"Content-Type": content_type, "X-Grpc-Web": "1", "Origin": ORIGIN})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 200, (response.status, body)
    assert response.getheader("content-type").startswith(content_type.split("+")[0]), response.getheaders()
    frames = _frames(_web_text(body) if text_mode else body)
    assert [flags for flags, _ in frames] == [0x80], frames  # the trailer frame alone
    trailers = dict(line.split(": ", 1) for line in frames[0][1].decode().split("\r\n") if line)
    assert trailers["grpc-status"] == "14", trailers
    message = trailers["grpc-message"]
    assert "unreachable" in message and "refused" in message.lower(), message

    # Recorded as the browser got it: 200 and the call's status from the trailer frame.
    wait_for_every_flow_ended(gateway.session_dir())
    flows = json.loads(text(gateway.cli("show", str(gateway.session_dir()), "--json")))
    assert [(f["status"], f["error"]) for f in flows] == [(200, None)], flows
    call = json.loads(text(gateway.cli("show", str(gateway.session_dir()), "--flow", str(flows[0]["id"]), "--json")))
    assert call["grpc"]["status"]["code"] == 14, call["grpc"]
    assert call["grpc"]["status"]["message"] == message, call["grpc"]
    # The live line says it as for a native gRPC call: the status and its message.
    line = gateway.wait_for_log(r"POST \S+/GetOrder -> 200 application/grpc-web\S* UNAVAILABLE: (.*)").group(0)
    assert "refused" in line.lower(), line
