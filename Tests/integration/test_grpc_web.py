"""gRPC-Web through Tapline: the gateway (`tapline proxy --reverse h2c://… --grpc-web`) in
front of a grpcio server, called by a hand-rolled gRPC-Web client over HTTP/1.1 (binary and
`-text`, unary and server streaming, CORS preflight, error statuses in the trailer frame,
malformed bodies), and a gRPC-Web origin proxied without the gateway. Each time the capture
shows the calls decoded with `--proto proto/`, equal to what the peers saw."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import struct
import threading
from pathlib import Path

import grpc
import pytest

from tapline_testkit.capture import wait_for_every_flow_ended
from tapline_testkit.grpc_origin import SERVICE as ECHO_SERVICE, GrpcOrigin
from tapline_testkit.h2 import H2Client, H2Origin
from tapline_testkit.orders_origin import OrdersOrigin as ShowOrdersOrigin
from tapline_testkit.protoc import compile_descriptor_set, descriptor_pool_of, message_class
from tapline_testkit.proxy import TaplineProcess
from tapline_testkit.util import HOST, curl, describe, run_tapline, text, wait_until

json_format = pytest.importorskip("google.protobuf.json_format")

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"
SERVICE = "tapline.example.v1.Orders"
PACKAGE = "tapline.example.v1"
ORIGIN = "http://app.test"
TIMEOUT = 20


@pytest.fixture(scope="module")
def types(tmp_path_factory):
    descriptor_set = compile_descriptor_set(tmp_path_factory.mktemp("grpcweb") / "orders.pb", [PROTO_ROOT],
                                            ["tapline/example/v1/orders.proto"])
    pool = descriptor_pool_of(descriptor_set)
    return lambda name: message_class(pool, f"{PACKAGE}.{name}")


def as_dict(message) -> dict:
    return json_format.MessageToDict(message)


class OrdersOrigin(ShowOrdersOrigin):
    """test_grpc_show.py's Orders service (GetOrder: NOT_FOUND with status details for id
    "missing"), whose WatchOrders sends its second and third events only once `watch_gate`
    is set (the test sets it after reading the first through the gateway)."""

    def __init__(self, types):
        self.watch_gate = threading.Event()
        super().__init__(types)

    def stop(self) -> None:
        self.watch_gate.set()
        super().stop()

    def _watch(self, request, context):
        self._note("WatchOrders", received=request)
        for index in range(3):
            if index == 1:
                assert self.watch_gate.wait(TIMEOUT), "the client never read the first event"
            event = self.types("OrderEvent")(kind=1 + index, order=self.types("Order")(id=f"o-{index}"))
            yield self._note("WatchOrders", sent=event)


def frame(payload: bytes, flags: int = 0) -> bytes:
    return struct.pack(">BI", flags, len(payload)) + payload


class WebTextStream:
    """Decodes `-text` base64 as it arrives: padded runs back to back, cut anywhere."""

    def __init__(self):
        self.pending = b""

    def feed(self, data: bytes) -> bytes:
        self.pending += data
        out = b""
        while True:
            pad = self.pending.find(b"=")
            usable = len(self.pending) - len(self.pending) % 4
            if pad != -1:
                end = pad
                while end < len(self.pending) and self.pending[end:end + 1] == b"=":
                    end += 1
                if end % 4 == 0:
                    usable = end
            if usable == 0:
                return out
            out += base64.b64decode(self.pending[:usable], validate=True)
            self.pending = self.pending[usable:]


class GRPCWebCall:
    """One gRPC-Web POST over HTTP/1.1; its response read frame by frame as it arrives."""

    def __init__(self, port: int, method: str, body: bytes, text_mode: bool = False, extra_headers=None):
        self.text_mode = text_mode
        self.connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        content_type = "application/grpc-web-text" if text_mode else "application/grpc-web+proto"
        headers = {"Content-Type": content_type, "X-Grpc-Web": "1", "X-User-Agent": "grpc-web-python/test",
                   "Origin": ORIGIN, **(extra_headers or {})}
        self.connection.request("POST", f"/{SERVICE}/{method}", body=base64.b64encode(body) if text_mode else body,
                                headers=headers)
        self.response = self.connection.getresponse()
        self.buffer = b""
        self.decoder = WebTextStream()

    def _fill(self, count: int) -> None:
        while len(self.buffer) < count:
            data = self.response.read1(65536) if self.text_mode else self.response.read(count - len(self.buffer))
            assert data, f"the response ended after {len(self.buffer)} of {count} bytes"
            self.buffer += self.decoder.feed(data) if self.text_mode else data

    def next_frame(self) -> tuple[int, bytes]:
        """(flags, payload) of the next frame."""
        self._fill(5)
        flags, length = struct.unpack(">BI", self.buffer[:5])
        self._fill(5 + length)
        payload, self.buffer = self.buffer[5:5 + length], self.buffer[5 + length:]
        return flags, payload

    def rest(self) -> tuple[list[bytes], dict[str, str]]:
        """The remaining messages and the trailer frame's fields; the body must end there."""
        messages = []
        while True:
            flags, payload = self.next_frame()
            if flags & 0x80:
                trailers = dict(line.split(": ", 1) for line in payload.decode().split("\r\n") if line)
                assert self.response.read() == b"" and not self.buffer, "bytes after the trailer frame"
                self.connection.close()
                return messages, trailers
            messages.append(payload)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory, types):
    origin = OrdersOrigin(types)
    proxy = TaplineProcess(tmp_path_factory.mktemp("grpcweb-gateway"),
                           ["--reverse", f"h2c://{HOST}:{origin.port}", "--grpc-web"]).start()
    yield proxy, origin
    proxy.stop()
    origin.stop()


def show_calls(proxy) -> list[dict]:
    """Every flow's `show --flow N --json --proto proto/`, in order."""
    session = proxy.session_dir()
    wait_for_every_flow_ended(session)
    listed = run_tapline("show", str(session), "--json", "--proto", str(PROTO_ROOT), timeout=60)
    assert listed.returncode == 0, describe(listed)
    details = []
    for flow in json.loads(text(listed)):
        p = run_tapline("show", str(session), "--flow", str(flow["id"]), "--json", "--proto", str(PROTO_ROOT), timeout=60)
        assert p.returncode == 0, describe(p)
        details.append(json.loads(text(p)))
    return details


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_unary_call_is_translated_with_metadata_and_trailer_frame(gateway, types, text_mode):
    proxy, origin = gateway
    request = types("GetOrderRequest")(id=f"o-{'t' if text_mode else 'b'}")
    call = GRPCWebCall(proxy.port, "GetOrder", frame(request.SerializeToString()), text_mode=text_mode)
    assert call.response.status == 200
    expected_type = "application/grpc-web-text" if text_mode else "application/grpc-web+proto"
    assert call.response.getheader("Content-Type") == expected_type
    assert call.response.getheader("access-control-allow-origin") == ORIGIN
    assert call.response.getheader("access-control-expose-headers") == "grpc-status,grpc-message"
    assert call.response.getheader("x-served-by") == "orders-1"
    assert call.response.getheader("Content-Length") is None
    messages, trailers = call.rest()
    assert [as_dict(types("Order").FromString(m)) for m in messages] == [origin.sent["GetOrder"][-1]]
    assert origin.received["GetOrder"][-1] == as_dict(request)
    assert trailers["grpc-status"] == "0"


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_server_streaming_flows_message_by_message(gateway, types, text_mode):
    proxy, origin = gateway
    origin.watch_gate.clear()
    call = GRPCWebCall(proxy.port, "WatchOrders", frame(types("WatchOrdersRequest")(statuses=[1]).SerializeToString()),
                       text_mode=text_mode)
    # The origin sends the second event only after this first one was read through the gateway.
    flags, first = call.next_frame()
    assert flags == 0 and types("OrderEvent").FromString(first).order.id == "o-0"
    origin.watch_gate.set()
    messages, trailers = call.rest()
    assert [types("OrderEvent").FromString(m).order.id for m in messages] == ["o-1", "o-2"]
    assert trailers["grpc-status"] == "0"


def parse_frames(body: bytes) -> tuple[list[bytes], dict[str, str]]:
    """The messages and the trailer frame's fields of a whole gRPC-Web body."""
    messages, trailers, offset = [], None, 0
    while offset < len(body):
        flags, length = struct.unpack(">BI", body[offset:offset + 5])
        payload = body[offset + 5:offset + 5 + length]
        assert len(payload) == length, f"truncated frame at {offset}"
        offset += 5 + length
        if flags & 0x80:
            assert offset == len(body), "bytes after the trailer frame"
            trailers = dict(line.split(": ", 1) for line in payload.decode().split("\r\n") if line)
        else:
            messages.append(payload)
    assert trailers is not None, "no trailer frame"
    return messages, trailers


@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_an_http2_client_gets_the_same_translation(gateway, types, tmp_path, text_mode):
    """A browser that reached the gateway over h2 (here curl with prior knowledge)."""
    proxy, origin = gateway
    request = types("GetOrderRequest")(id=f"o-h2-{text_mode}")
    content_type = "application/grpc-web-text" if text_mode else "application/grpc-web+proto"
    body = frame(request.SerializeToString())
    headers = tmp_path / "headers"
    result = curl("--http2-prior-knowledge", "--data-binary", "@-", "-D", str(headers),
                  "-H", f"content-type: {content_type}", "-H", "x-grpc-web: 1", "-H", f"origin: {ORIGIN}",
                  f"http://{HOST}:{proxy.port}/{SERVICE}/GetOrder", input=base64.b64encode(body) if text_mode else body)
    assert result.returncode == 0, result.stderr
    head = headers.read_text().lower()
    assert head.startswith("http/2 200") and f"content-type: {content_type}" in head, head
    assert f"access-control-allow-origin: {ORIGIN}" in head, head
    messages, trailers = parse_frames(WebTextStream().feed(result.stdout) if text_mode else result.stdout)
    assert [as_dict(types("Order").FromString(m)) for m in messages] == [origin.sent["GetOrder"][-1]]
    assert origin.received["GetOrder"][-1] == as_dict(request)
    assert trailers["grpc-status"] == "0"


def test_server_streaming_to_an_http2_client_flows_message_by_message(gateway, types):
    proxy, origin = gateway
    origin.watch_gate.clear()
    client = H2Client(proxy.port)
    try:
        sid = client.request(f"/{SERVICE}/WatchOrders", method="POST", authority=f"{HOST}:{proxy.port}",
                             headers=[("content-type", "application/grpc-web"), ("x-grpc-web", "1")],
                             body=frame(types("WatchOrdersRequest")(statuses=[3]).SerializeToString()))
        response = client.responses[sid]
        first = frame(types("OrderEvent")(kind=1, order=types("Order")(id="o-0")).SerializeToString())
        # The origin holds the second event until the first has come through.
        client.wait(lambda: len(response["body"]) >= len(first))
        assert bytes(response["body"]) == first and not response["ended"]
        origin.watch_gate.set()
        client.wait_streams([sid])
    finally:
        client.close()
    messages, trailers = parse_frames(bytes(response["body"]))
    assert [types("OrderEvent").FromString(m).order.id for m in messages] == ["o-0", "o-1", "o-2"]
    assert trailers["grpc-status"] == "0" and dict(response["headers"])["content-type"] == "application/grpc-web"


def test_error_status_comes_in_the_trailer_frame(gateway, types):
    proxy, _ = gateway
    call = GRPCWebCall(proxy.port, "GetOrder", frame(types("GetOrderRequest")(id="missing").SerializeToString()))
    assert call.response.status == 200
    messages, trailers = call.rest()
    assert messages == []
    assert trailers["grpc-status"] == "5" and trailers["grpc-message"] == "no order missing"
    # Other trailing metadata comes in the frame too.
    details = base64.b64decode(trailers["grpc-status-details-bin"] + "==")
    assert b"no order missing" in details and f"{PACKAGE}.Money".encode() in details
    # The live line has the status from the trailer frame, as a native call's from its trailers.
    proxy.wait_for_log(r"/GetOrder -> 200 application/grpc-web\S* NOT_FOUND: no order missing ")


def test_unknown_method_trailers_only_answer_becomes_a_trailer_frame(gateway):
    proxy, _ = gateway
    call = GRPCWebCall(proxy.port, "NoSuchMethod", frame(b""))
    messages, trailers = call.rest()
    assert messages == [] and trailers["grpc-status"] == "12", trailers


@pytest.mark.parametrize("body,text_mode,reason", [
    (b"\x00\x00\x00\x00\x09abc", False, "ends inside the frame"),
    (b"AAAA*AAA", True, "not base64"),
], ids=["truncated-frame", "bad-base64"])
def test_a_malformed_body_gets_internal_in_the_trailer_frame(gateway, body, text_mode, reason):
    proxy, _ = gateway
    connection = http.client.HTTPConnection(HOST, proxy.port, timeout=TIMEOUT)
    content_type = "application/grpc-web-text" if text_mode else "application/grpc-web"
    connection.request("POST", f"/{SERVICE}/GetOrder", body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    assert response.status == 200
    data = response.read()
    connection.close()
    if text_mode:
        data = WebTextStream().feed(data)
    messages, trailers = parse_frames(data)
    assert messages == [] and trailers["grpc-status"] == "13", trailers
    assert "malformed gRPC-Web request" in trailers["grpc-message"], trailers
    assert reason in trailers["grpc-message"].replace("%20", " "), trailers


def test_native_grpc_clients_pass_through_the_gateway_unchanged(gateway, types):
    """h2 native gRPC (grpcio) through `--grpc-web`: unary and bidi, as without the flag."""
    proxy, origin = gateway
    T = types
    with grpc.insecure_channel(f"{HOST}:{proxy.port}") as channel:
        get_order = channel.unary_unary(f"/{SERVICE}/GetOrder", request_serializer=T("GetOrderRequest").SerializeToString,
                                        response_deserializer=T("Order").FromString)
        assert as_dict(get_order(T("GetOrderRequest")(id="o-native"), timeout=TIMEOUT)) == origin.sent["GetOrder"][-1]
        chat = channel.stream_stream(f"/{SERVICE}/Chat", request_serializer=T("ChatMessage").SerializeToString,
                                     response_deserializer=T("ChatMessage").FromString)
        said = [T("ChatMessage")(sequence=i, text=f"hi {i}") for i in range(3)]
        answers = [as_dict(m) for m in chat(iter(said), timeout=TIMEOUT)]
    assert answers == origin.sent["Chat"][-3:] and len(answers) == 3


def test_cors_preflight_is_answered_by_the_gateway(gateway):
    proxy, _ = gateway
    connection = http.client.HTTPConnection(HOST, proxy.port, timeout=TIMEOUT)
    requested = "content-type,x-grpc-web,x-user-agent,grpc-timeout"
    connection.request("OPTIONS", f"/{SERVICE}/GetOrder", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": requested})
    response = connection.getresponse()
    assert response.status == 204
    assert response.read() == b""
    assert response.getheader("access-control-allow-origin") == ORIGIN
    assert response.getheader("access-control-allow-methods") == "POST"
    assert response.getheader("access-control-allow-headers") == requested
    assert int(response.getheader("access-control-max-age")) > 0
    connection.close()
    assert "gRPC-Web gateway" in proxy.stderr_text(), "the start-up line says the gateway is on"


def test_the_capture_shows_the_gateway_calls_decoded(gateway, types):
    proxy, origin = gateway
    origin.watch_gate.set()
    # One call of each kind, so this test does not depend on the others having run.
    call = GRPCWebCall(proxy.port, "GetOrder", frame(types("GetOrderRequest")(id="o-cap").SerializeToString()),
                       text_mode=True)
    call.rest()
    call = GRPCWebCall(proxy.port, "WatchOrders", frame(types("WatchOrdersRequest")(statuses=[2]).SerializeToString()))
    call.rest()
    watch_request = origin.received["WatchOrders"][-1]

    def both_calls_recorded():
        """The calls by method once both of this test's calls are in the capture (its writer
        runs behind the traffic: a call the client has finished may not be written yet)."""
        by_request = {}
        for detail in show_calls(proxy):
            if "grpc" in detail:
                by_request.setdefault(detail["grpc"]["method"], []).append(detail["grpc"])
        requests = lambda call: [m.get("json") for m in call["messages"] if m["direction"] == "request"]
        found = (any(requests(c) == [{"id": "o-cap"}] and c.get("status") for c in by_request.get("GetOrder", []))
                 and any(c["protocol"] == "grpc-web" and requests(c) == [watch_request] and c.get("status")
                         for c in by_request.get("WatchOrders", [])))
        return by_request if found else None
    by_request = wait_until(both_calls_recorded, 20, interval=0.2, message="both calls in the capture")
    get_order = next(c for c in by_request["GetOrder"]
                     if [m.get("json") for m in c["messages"] if m["direction"] == "request"] == [{"id": "o-cap"}])
    assert get_order["protocol"] == "grpc-web-text" and get_order["status"]["name"] == "OK"
    assert get_order["kind"] == "unary" and not get_order["kindInferred"]
    sent = next(order for order in origin.sent["GetOrder"] if order["id"] == "o-cap")
    assert [m["json"] for m in get_order["messages"] if m["direction"] == "response"] == [sent]
    assert all(m["decoding"] == "schema" for m in get_order["messages"])
    watch = next(c for c in by_request["WatchOrders"]
                 if c["protocol"] == "grpc-web" and [m.get("json") for m in c["messages"] if m["direction"] == "request"] == [watch_request])
    assert [m["json"]["order"]["id"] for m in watch["messages"] if m["direction"] == "response"] == ["o-0", "o-1", "o-2"]
    assert watch["kind"] == "server streaming" and watch["status"]["name"] == "OK"
    missing = [c for c in by_request["GetOrder"] if c["status"]["name"] == "NOT_FOUND"]
    for call in missing:
        assert call["status"]["message"] == "no order missing" and call["statusDetails"]["code"] == 5
    listing = text(run_tapline("show", str(proxy.session_dir()), "--proto", str(PROTO_ROOT), timeout=60))
    assert f"{SERVICE}/WatchOrders server streaming →1 ←3" in listing, listing


class GRPCWebOriginHandler(http.server.BaseHTTPRequestHandler):
    """An origin that speaks gRPC-Web itself: GetOrder answers an Order with the request's id."""
    protocol_version = "HTTP/1.1"
    types = None
    got: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = self.types("GetOrderRequest").FromString(body[5:])
        self.got.append(as_dict(request))
        order = self.types("Order")(id=request.id, weight_kg=2.5)
        answer = frame(order.SerializeToString()) + frame(b"grpc-status: 0\r\ngrpc-message: \r\n", flags=0x80)
        self.send_response(200)
        self.send_header("Content-Type", "application/grpc-web+proto")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_a_grpc_web_origin_proxied_without_the_gateway_is_shown_decoded(tmp_path_factory, types):
    GRPCWebOriginHandler.types = staticmethod(types)
    server = http.server.ThreadingHTTPServer((HOST, 0), GRPCWebOriginHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    proxy = TaplineProcess(tmp_path_factory.mktemp("grpcweb-plain"),
                           ["--reverse", f"http://{HOST}:{server.server_address[1]}"]).start()
    try:
        call = GRPCWebCall(proxy.port, "GetOrder", frame(types("GetOrderRequest")(id="o-plain").SerializeToString()))
        messages, trailers = call.rest()
        assert [as_dict(types("Order").FromString(m)) for m in messages] == [{"id": "o-plain", "weightKg": 2.5}]
        assert trailers["grpc-status"] == "0"
    finally:
        proxy.stop()
        server.shutdown()
        server.server_close()
    [detail] = show_calls(proxy)
    call_view = detail["grpc"]
    assert call_view["protocol"] == "grpc-web" and call_view["fullMethod"] == f"{SERVICE}/GetOrder"
    assert [(m["direction"], m["json"]) for m in call_view["messages"]] == [
        ("request", GRPCWebOriginHandler.got[0]), ("response", {"id": "o-plain", "weightKg": 2.5})]
    assert call_view["status"]["name"] == "OK"
    har_path = tmp_path_factory.mktemp("grpcweb-plain-har") / "session.har"
    exported = run_tapline("export", str(proxy.session_dir()), "--har", str(har_path), "--proto", str(PROTO_ROOT), timeout=60)
    assert exported.returncode == 0, describe(exported)
    [entry] = json.loads(har_path.read_text())["log"]["entries"]
    assert entry["_grpc"]["fullMethod"] == f"{SERVICE}/GetOrder" and entry["_grpc"]["status"]["name"] == "OK"
    assert [m["json"] for m in entry["_grpcMessages"]] == [m["json"] for m in call_view["messages"]]


@pytest.fixture(scope="module")
def gateway_to_h2_origin(tmp_path_factory):
    """The gateway in front of an h2c origin that is not a gRPC server (tapline_testkit.h2.H2Origin)."""
    origin = H2Origin()
    proxy = TaplineProcess(tmp_path_factory.mktemp("grpcweb-h2origin"),
                           ["--reverse", f"h2c://{origin.authority}", "--grpc-web"]).start()
    yield proxy, origin
    proxy.stop()
    origin.stop()


@pytest.mark.parametrize("path,code,reason", [
    ("/pkg.Nothing/Here", "12", "the upstream is not gRPC: it answered HTTP 404"),
    ("/reset-mid-body/2", "14", "the upstream failed: "),
    ("/reset-before-head/2", "14", "the upstream failed: "),
], ids=["not-grpc-404", "reset-mid-stream", "reset-before-head"])
def test_upstream_failures_become_a_trailer_frame(gateway_to_h2_origin, path, code, reason):
    proxy, origin = gateway_to_h2_origin
    connection = http.client.HTTPConnection(HOST, proxy.port, timeout=TIMEOUT)
    connection.request("POST", path, body=frame(b"\x0a\x01x"),
                       headers={"Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "application/grpc-web+proto"
    messages, trailers = parse_frames(response.read())
    connection.close()
    assert messages == [] and trailers["grpc-status"] == code, trailers
    assert trailers["grpc-message"].replace("%20", " ").startswith(reason), trailers
    # What the upstream got was native gRPC.
    seen = dict(next(r for r in reversed(origin.requests) if r["path"] == path)["headers"])
    assert seen["content-type"] == "application/grpc+proto" and seen["te"] == "trailers"
    assert "content-length" not in seen


def test_the_capture_records_the_browsers_call_with_the_gateways_status(gateway_to_h2_origin):
    proxy, _ = gateway_to_h2_origin
    connection = http.client.HTTPConnection(HOST, proxy.port, timeout=TIMEOUT)
    connection.request("POST", "/reset-mid-body/2", body=frame(b""), headers={"Content-Type": "application/grpc-web"})
    connection.getresponse().read()
    connection.close()
    calls = [d["grpc"] for d in show_calls(proxy) if "grpc" in d]
    reset = [c for c in calls if c["fullMethod"] == "reset-mid-body/2"]
    assert reset, calls
    assert all(c["status"]["code"] == 14 and c["status"]["message"].startswith("the upstream failed") for c in reset), reset


def test_an_https_upstream_is_reached_over_alpn_h2(tmp_path_factory, test_ca):
    origin = GrpcOrigin(tls=test_ca)
    proxy = TaplineProcess(tmp_path_factory.mktemp("grpcweb-https"),
                           ["--reverse", f"https://{origin.authority}", "--upstream-ca", str(test_ca.ca_cert),
                            "--grpc-web"]).start()
    try:
        connection = http.client.HTTPConnection(HOST, proxy.port, timeout=TIMEOUT)
        connection.request("POST", f"/{ECHO_SERVICE}/Unary", body=base64.b64encode(frame(b"over tls")),
                           headers={"Content-Type": "application/grpc-web-text", "X-Grpc-Web": "1"})
        response = connection.getresponse()
        body = WebTextStream().feed(response.read())
        connection.close()
    finally:
        proxy.stop()
        origin.stop()
    messages, trailers = parse_frames(body)
    assert messages == [b"over tls"] and trailers["grpc-status"] == "0" and trailers["x-trailer"] == "done"
