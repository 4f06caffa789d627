"""The capture of a fixed scripted session is the same before and after a change of the
proxy core (issue #22): byte for byte, apart from what varies between runs.

The script drives three proxies (three capture sessions), one request at a time, each
waiting for the previous one to be complete and in the capture, so the order of events
is fixed:

  reverse-h1   `--reverse http://ORIGIN_H1`: an HTTP/1.1 client (and a WebSocket), an
               h2c (prior knowledge) client with a WebSocket over h2 (RFC 8441) bridged
               to HTTP/1.1, and h2c client streams, to an HTTP/1.1 upstream
  reverse-h2c  `--reverse h2c://ORIGIN_H2C`: the same two clients to an h2c upstream
  reverse-refused-h1, reverse-refused-h2c
               `--reverse http://` and `h2c://` a port where nothing listens: Tapline's
               own 502 to both clients
  forward      forward mode: absolute-form HTTP/1.1 (and an upstream that refuses: 502),
               CONNECT + TLS interception with an HTTP/1.1 client to an HTTPS upstream,
               with an h2 client to an h2 upstream, and a WebSocket over h2 (RFC 8441)

Within them: GET with a body, POST with Content-Length, POST chunked with request
trailers, response trailers, 100 Continue, 103 Early Hints, 404, HEAD, keep-alive
reuse, gzip-encoded responses, an upstream reset mid-body, WebSockets with text, binary,
ping and close. Every byte the origins send is scripted (tapline_testkit.scripted_origin:
no Date, no random ids) and the clients are Python (rawhttp, H2Client, H2WebSocketClient),
not curl, whose User-Agent and HTTP/2 SETTINGS change with its version.

Normalization (what varies between runs and builds, and nothing else):
  - `t`, `started`, `ended`, and every value in `timings` -> "TIME" (the keys stay);
  - flow and connection ids -> renumbered from 1 in order of first appearance;
  - ports the test picked (proxy, origins, the refused port) -> PROXY_PORT, ORIGIN_H1_PORT,
    ... wherever they follow a ':' in a string (authorities, Host, targets, errors);
    client ephemeral ports -> CLIENT_PORT_1, 2, ... in order of first appearance;
  - the session id -> SESSION_ID, Tapline's version string -> VERSION;
  - the SHA-256 of the upstream's certificate (a new test CA every run) -> CERT_SHA256;
  - Sec-WebSocket-Accept in the 101 an HTTP/1.1 upstream answers an RFC 8441 extended
    CONNECT with -> ACCEPT_OF_TAPLINE_KEY: it answers the random Sec-WebSocket-Key Tapline
    made up for the upgrade request it bridged the CONNECT to;
  - `sent` of an intercepted (TLS) client connection -> TLS_BYTES: it counts TLS records,
    and the certificate Tapline mints and its signatures differ in size by a few bytes
    from run to run (`received`, and each flow's byte counts, stay);
  - `seg` and `off` of a `body` or `wsMessage` line (where the bytes are in a segment file
    shared by the event loops) -> the bytes themselves, as `text` (UTF-8) or `base64`.
Header order, bodies, sizes, byte counts, error messages and event order all stay. Each
session is a `{"session": NAME, "sessionJson": ...}` line followed by its events, one
JSON object per line with sorted keys.

The expected file is Tests/integration/expected/capture-equivalence.jsonl, generated
from the proxy before the redesign. When a change of the capture is intended (and
reviewed), rewrite it with TAPLINE_UPDATE_EXPECTED=1 and commit the diff with the change:

  TAPLINE_UPDATE_EXPECTED=1 TAPLINE_BIN=... python -m pytest Tests/integration/test_capture_equivalence.py
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
import ssl
import threading
from pathlib import Path
from typing import Callable, Optional

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.h2_websocket import H2WebSocketClient, H2WebSocketOrigin
from tapline_testkit.scripted_origin import H2Answer, HTTP1Answer, ScriptedH2Origin, ScriptedHTTP1Origin
from tapline_testkit.util import HOST, free_port, wait_until
from tapline_testkit.websocket import frame

EXPECTED = Path(__file__).parent / "expected" / "capture-equivalence.jsonl"
UPDATE = os.environ.get("TAPLINE_UPDATE_EXPECTED") == "1"

# --- what the origins send ----------------------------------------------------------------

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's sample nonce: a fixed Sec-WebSocket-Key
GZIPPED = bytes.fromhex("1f8b08000000000002034bcecf2d284a2d2e4e4d51c848cdc9c9d751482628c205009c5ab68335000000")
EARLY_HINT_LINK = "</style.css>; rel=preload; as=style"


def h1_answers() -> dict[str, HTTP1Answer]:
    return {
        "/get-with-body": HTTP1Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, body\n"),
        "/post-length": HTTP1Answer(
            b"HTTP/1.1 201 Created\r\nLocation: /items/1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 9\r\n\r\n{\"id\":1}\n"),
        "/post-chunked": HTTP1Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Digest\r\n\r\n"
            b"4\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Digest: sha-256=fixed\r\n\r\n"),
        "/continue": HTTP1Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\ncontinued",
            interim=b"HTTP/1.1 100 Continue\r\n\r\n"),
        "/early-hints": HTTP1Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n<p>hinted</p>\n",
            interim=f"HTTP/1.1 103 Early Hints\r\nLink: {EARLY_HINT_LINK}\r\n\r\n".encode()),
        "/head": HTTP1Answer(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n"),
        "/gzip": HTTP1Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(GZIPPED), GZIPPED)),
        "/reset-mid-body": HTTP1Answer(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npartial-bo", then="reset"),
        "/ws": HTTP1Answer.websocket(),
    }


def h2_answers() -> dict[str, H2Answer]:
    """The same answers over HTTP/2 (the reset is an RST_STREAM INTERNAL_ERROR)."""
    return {
        "/get-with-body": H2Answer([(":status", "200"), ("content-type", "text/plain"), ("content-length", "12")],
                                   b"hello, body\n"),
        "/post-length": H2Answer([(":status", "201"), ("location", "/items/1"), ("content-type", "application/json"),
                                  ("content-length", "9")], b"{\"id\":1}\n"),
        "/post-chunked": H2Answer([(":status", "200"), ("content-type", "text/plain")], b"abcdefg",
                                  trailers=[("x-digest", "sha-256=fixed")]),
        "/continue": H2Answer([(":status", "200"), ("content-type", "text/plain"), ("content-length", "9")],
                              b"continued", on_head=[[(":status", "100")]]),
        "/early-hints": H2Answer([(":status", "200"), ("content-type", "text/html"), ("content-length", "14")],
                                 b"<p>hinted</p>\n", interim=[[(":status", "103"), ("link", EARLY_HINT_LINK)]]),
        "/head": H2Answer([(":status", "200"), ("content-type", "text/plain"), ("content-length", "1234")]),
        "/gzip": H2Answer([(":status", "200"), ("content-type", "text/plain"), ("content-encoding", "gzip"),
                           ("content-length", str(len(GZIPPED)))], GZIPPED),
        "/reset-mid-body": H2Answer([(":status", "200"), ("content-type", "text/plain"), ("content-length", "100")],
                                    b"partial-bo", reset=2),  # INTERNAL_ERROR
    }


# --- waiting for the capture -------------------------------------------------------------------

class Recording:
    """A proxy's session and how many flows and client connections the script has ended
    so far; `settle` waits until exactly those are in the capture."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.directory = proxy.session_dir()
        self.flows = 0
        self.connections = 0
        self.settle(connections=1)  # the probe with which the test kit saw the proxy listen

    def settle(self, flows: int = 0, connections: int = 0) -> None:
        self.flows += flows
        self.connections += connections

        def counts() -> tuple[int, int, int]:
            """(flows started, flows ended, connections closed) in the capture so far"""
            types = [e["type"] for e in read_events(self.directory)]
            return types.count("flowStarted"), types.count("flowEnded"), types.count("connectionClosed")
        try:
            wait_until(lambda: counts() == (self.flows, self.flows, self.connections), 10,
                       message=f"{self.flows} ended flows and {self.connections} closed connections in the capture")
        except TimeoutError as e:
            raise AssertionError(f"{e} (started, ended, closed: {counts()})\n{self.proxy.stderr_tail()}") from None

    def upstream_settings_recorded(self) -> None:
        """Waits for the upstream's SETTINGS on the connection the client is opening. An
        intercepted h2 connection gets its upstream during the client's TLS handshake (for
        ALPN), so the upstream's SETTINGS race with the client's preface unless the client
        waits for them (H2Client / H2WebSocketClient `before_preface`)."""
        def recorded() -> bool:
            events = read_events(self.directory)
            opened = [e["conn"] for e in events if e["type"] == "connectionOpened"]
            if len(opened) <= self.connections:  # every connection before this one is closed
                return False
            conn = opened[self.connections]
            return any(e["type"] == "http2Settings" and e["side"] == "upstream" and e["conn"] == conn for e in events)
        wait_until(recorded, 10, message="the upstream's SETTINGS in the capture")

    def wait_for_event(self, predicate: Callable[[dict], bool], what: str) -> None:
        """Waits until an event of the capture satisfies `predicate`."""
        wait_until(lambda: any(predicate(e) for e in read_events(self.directory)), 10, message=what)


# --- HTTP/1.1 clients ----------------------------------------------------------------------

class H1Client:
    """One HTTP/1.1 client connection (plain, or TLS through CONNECT) sending fixed bytes."""

    def __init__(self, proxy_port: int, tls_ca: Optional[Path] = None, connect_to: Optional[str] = None):
        self.sock = rawhttp.connect(proxy_port)
        if connect_to is not None:
            self.sock.sendall(f"CONNECT {connect_to} HTTP/1.1\r\nHost: {connect_to}\r\n\r\n".encode())
            answer = rawhttp.receive_head(self.sock)
            assert answer is not None and answer.startswith(b"HTTP/1.1 200"), answer
            context = ssl.create_default_context(cafile=str(tls_ca))
            context.set_alpn_protocols(["http/1.1"])
            self.sock = context.wrap_socket(self.sock, server_hostname=connect_to.rsplit(":", 1)[0])
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def exchange(self, data: bytes, method: str = "GET") -> rawhttp.RawResponse:
        self.send(data)
        return rawhttp.read_response(self.file, method)

    def interim_head(self) -> bytes:
        """Reads one response head (a 1xx the client waits for)."""
        lines = []
        while (line := self.file.readline()) not in (b"\r\n", b""):
            lines.append(line)
        return b"".join(lines)

    def read_until_closed(self) -> bytes:
        try:
            return self.file.read()
        except ConnectionResetError:
            return b""

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def request(method: str, target: str, host: str, fields: list[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    return rawhttp.request_bytes(method, target, host, list(fields), body)


def chunked_request(target: str, host: str) -> bytes:
    return (f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            "Trailer: X-Checksum\r\n\r\n5\r\nfirst\r\n6\r\nsecond\r\n0\r\nX-Checksum: c0ffee\r\n\r\n").encode()


def h1_keep_alive_exchanges(client: H1Client, rec: Recording, host: str) -> None:
    """GET with a body, POST with Content-Length, POST chunked with trailers, HEAD, 404,
    gzip and 103: one connection, one request at a time (keep-alive reuse upstream too)."""
    steps = [
        ("GET", request("GET", "/get-with-body", host, [("Content-Type", "text/plain")], b"query=1")),
        ("POST", request("POST", "/post-length", host, [("Content-Type", "application/json")],
                         b"{\"name\":\"a\"}")),
        ("POST", chunked_request("/post-chunked", host)),
        ("HEAD", request("HEAD", "/head", host)),
        ("GET", request("GET", "/missing", host)),
        ("GET", request("GET", "/gzip", host, [("Accept-Encoding", "gzip")])),
        ("GET", request("GET", "/early-hints", host)),
    ]
    for method, data in steps:
        client.exchange(data, method)
        rec.settle(flows=1)


def h1_client_session(rec: Recording, reset: threading.Event) -> None:
    """The HTTP/1.1 client's part of a reverse-mode session; `reset` releases the
    origin's reset of /reset-mid-body."""
    port = rec.proxy.port
    host = f"{HOST}:{port}"
    client = H1Client(port)
    h1_keep_alive_exchanges(client, rec, host)
    client.close()
    rec.settle(connections=1)

    client = H1Client(port)  # Expect: 100-continue: the body goes only after the 100
    body = b"after the continue"
    client.send(request("POST", "/continue", host, [("Expect", "100-continue"), ("Content-Length", str(len(body)))]))
    assert client.interim_head().startswith(b"HTTP/1.1 100"), "no 100 Continue"
    response = client.exchange(body, "POST")
    assert response.status == 200, response
    client.close()
    rec.settle(flows=1, connections=1)

    client = H1Client(port)  # the upstream resets mid-body, once the client has the first bytes
    client.send(request("GET", "/reset-mid-body", host))
    head = rawhttp.read_response_head(client.file)
    assert head.status == 200, head
    assert client.file.read(10) == b"partial-bo"
    reset.set()
    assert client.read_until_closed() == b""
    client.close()
    rec.settle(flows=1, connections=1)


def websocket_over_http1(rec: Recording) -> None:
    """Text, binary, ping and close, each answered before the next goes."""
    host = f"{HOST}:{rec.proxy.port}"
    client = H1Client(rec.proxy.port)
    client.send(f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    assert client.interim_head().startswith(b"HTTP/1.1 101")
    for opcode, payload in [(0x1, "hello, websocket".encode()), (0x2, bytes([0, 1, 2, 255])), (0x9, b"ping?"),
                            (0x8, (1000).to_bytes(2, "big") + b"bye")]:
        client.send(frame(opcode, payload))
        answer = client.file.read(2 + len(payload))
        assert answer == bytes([0x80 | (0xA if opcode == 0x9 else opcode), len(payload)]) + payload, answer
    assert client.read_until_closed() == b""
    client.close()
    rec.settle(flows=1, connections=1)


# --- HTTP/2 clients -------------------------------------------------------------------------

def h2_exchange(client: H2Client, rec: Recording, path: str, **kwargs) -> dict:
    sid = client.request(path, **kwargs)
    client.wait_streams([sid])
    rec.settle(flows=1)
    return client.responses[sid]


def h2_exchanges(client: H2Client, rec: Recording, authority: str, scheme: str = "http") -> None:
    """The HTTP/2 client's streams, one at a time on one connection."""
    common = dict(authority=authority, scheme=scheme)
    h2_exchange(client, rec, "/get-with-body", body=b"query=1", headers=[("content-type", "text/plain")], **common)
    h2_exchange(client, rec, "/post-length", method="POST", body=b"{\"name\":\"a\"}",
                headers=[("content-type", "application/json"), ("content-length", "12")], **common)
    response = h2_exchange(client, rec, "/post-chunked", method="POST", body=b"firstsecond",
                           headers=[("content-type", "text/plain")], trailers=[("x-checksum", "c0ffee")], **common)
    assert response["trailers"], response
    h2_exchange(client, rec, "/head", method="HEAD", **common)
    h2_exchange(client, rec, "/missing", **common)
    h2_exchange(client, rec, "/gzip", headers=[("accept-encoding", "gzip")], **common)
    h2_exchange(client, rec, "/early-hints", **common)


def h2c_client_session(rec: Recording, reset: threading.Event) -> None:
    """The h2c (prior knowledge) client's part of a reverse-mode session."""
    client = H2Client(rec.proxy.port)
    authority = f"{HOST}:{rec.proxy.port}"
    h2_exchanges(client, rec, authority)
    sid = client.request("/reset-mid-body", authority=authority)
    client.wait(lambda: len(client.responses[sid]["body"]) == 10)
    reset.set()
    client.wait(lambda: sid in client.resets)
    rec.settle(flows=1)
    client.close()
    rec.settle(connections=1)


# --- the sessions -------------------------------------------------------------------------------

def reverse_session(tapline, origin, origin_port_name: str) -> tuple:
    """Tapline in reverse mode in front of `origin` (a ScriptedHTTP1Origin, or a
    ScriptedH2Origin taken as h2c): the HTTP/1.1 client's part, a WebSocket if the upstream
    speaks HTTP/1.1, the h2c client's part. Returns the Recording and the names of the
    ports it used; stops the origin."""
    http1 = isinstance(origin, ScriptedHTTP1Origin)
    try:
        proxy = tapline("--reverse", origin.url if http1 else f"h2c://{origin.authority}")
        rec = Recording(proxy)
        reset = origin.answers["/reset-mid-body"].hold
        h1_client_session(rec, reset)
        if http1:
            websocket_over_http1(rec)
            websocket_over_h2(rec, authority=f"{HOST}:{proxy.port}", scheme="http")
        h2c_client_session(rec, reset)
        proxy.stop()
        assert not origin.errors, origin.errors
        return rec, {proxy.port: "PROXY_PORT", origin.port: origin_port_name}
    finally:
        origin.stop()


def refused_session(tapline, scheme: str) -> tuple:
    """Reverse mode to `scheme`://127.0.0.1:REFUSED_PORT, where nothing listens: Tapline's
    own 502 to an HTTP/1.1 GET, and to an h2c client's GET and POST with a body."""
    refused = free_port()
    proxy = tapline("--reverse", f"{scheme}://{HOST}:{refused}")
    rec = Recording(proxy)
    host = f"{HOST}:{proxy.port}"
    client = H1Client(proxy.port)
    response = client.exchange(request("GET", "/refused", host))
    assert response.status == 502, response
    client.close()
    rec.settle(flows=1, connections=1)
    client = H2Client(proxy.port)
    assert h2_exchange(client, rec, "/refused", authority=host)["status"] == 502
    assert h2_exchange(client, rec, "/refused", method="POST", body=b"{\"name\":\"a\"}", authority=host,
                       headers=[("content-type", "application/json")])["status"] == 502
    client.close()
    rec.settle(connections=1)
    proxy.stop()
    return rec, {proxy.port: "PROXY_PORT", refused: "REFUSED_PORT"}


def forward_session(tapline, test_ca) -> tuple:
    plain = ScriptedHTTP1Origin(h1_answers())
    tls_h1 = ScriptedHTTP1Origin(h1_answers(), tls=test_ca.server_context())
    tls_h2 = ScriptedH2Origin(h2_answers(), tls=test_ca.server_context())
    websocket = H2WebSocketOrigin(test_ca.server_context())
    refused = free_port()
    try:
        proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
        ca = proxy.wait_for_ca()
        rec = Recording(proxy)

        client = H1Client(proxy.port)  # absolute-form, then an upstream that refuses
        response = client.exchange(request("GET", f"{plain.url}/get-with-body", plain.authority,
                                           [("Content-Type", "text/plain")], b"query=1"))
        assert response.status == 200, response
        rec.settle(flows=1)
        response = client.exchange(request("GET", f"http://{HOST}:{refused}/refused", f"{HOST}:{refused}"))
        assert response.status == 502, response
        client.close()
        rec.settle(flows=1, connections=1)

        client = H1Client(proxy.port, tls_ca=ca, connect_to=tls_h1.authority)
        h1_keep_alive_exchanges(client, rec, tls_h1.authority)
        client.close()
        rec.settle(connections=1)

        client = H2Client(proxy.port, tls_ca=ca, connect_to=tls_h2.authority, server_name=HOST,
                          before_preface=rec.upstream_settings_recorded)
        h2_exchanges(client, rec, tls_h2.authority, scheme="https")
        client.close()
        rec.settle(connections=1)

        websocket_over_h2(rec, f"{HOST}:{websocket.port}", "https", ca)
        proxy.stop()
        for server in (plain, tls_h1, tls_h2, websocket):
            assert not server.errors, (server, server.errors)
        return rec, {proxy.port: "PROXY_PORT", plain.port: "ORIGIN_H1_PORT", tls_h1.port: "ORIGIN_TLS_H1_PORT",
                     tls_h2.port: "ORIGIN_TLS_H2_PORT", websocket.port: "ORIGIN_H2_WEBSOCKET_PORT",
                     refused: "REFUSED_PORT"}
    finally:
        for server in (plain, tls_h1, tls_h2, websocket):
            server.stop()


def websocket_over_h2(rec: Recording, authority: str, scheme: str, ca: Optional[Path] = None) -> None:
    """RFC 8441: an extended CONNECT to `authority`, h2c (reverse mode, bridged to an
    HTTP/1.1 WebSocket upstream, /ws) or through CONNECT + TLS with `ca` (forward mode, to
    an h2 WebSocket origin): text, binary (each echoed), ping (recorded once the capture has
    it, and its pong if the origin answers), close (answered), then each side ends the stream."""
    tls = dict(tls_ca=ca, connect_to=authority, before_preface=rec.upstream_settings_recorded) if ca else {}
    client = H2WebSocketClient(rec.proxy.port, authority, "/chat" if ca else "/ws", scheme=scheme, **tls)
    assert client.open() == 200
    client.send("hello, websocket")
    client.wait(lambda: len(client.messages) == 1, "the text echo")
    client.send(bytes([0, 1, 2, 255]))
    client.wait(lambda: len(client.messages) == 2, "the binary echo")
    client.outbox += client.frames.ping(b"ping?")
    client._push()
    awaited = "ping" if ca else "pong"  # the h2 WebSocket origin does not answer pings
    rec.wait_for_event(lambda e: e["type"] == "wsMessage" and e["opcode"] == awaited, f"the {awaited} in the capture")
    client.send_close(1000, "bye")
    client.wait(lambda: client.close_received is not None, "the close answer")
    client.end_stream()
    client.wait(lambda: client.ended, "the end of the stream")
    rec.settle(flows=1)
    client.close()
    rec.settle(connections=1)


# --- normalization ---------------------------------------------------------------------------------

def inline_bytes(session_dir: Path, event: dict) -> None:
    """Replaces a `seg`/`off` extent with the bytes it names (`text` or `base64`)."""
    segment = session_dir / "bodies" / f"{event.pop('seg'):06d}.bin"
    with open(segment, "rb") as f:
        f.seek(event.pop("off"))
        data = f.read(event["len"])
    assert len(data) == event["len"], f"{segment} ends before the bytes of {event}"
    try:
        event["text"] = data.decode("utf-8")
    except UnicodeDecodeError:
        event["base64"] = base64.b64encode(data).decode()


class Normalizer:
    """Replaces what varies between runs in one session (see the module docstring)."""

    ID_KEYS = ("conn", "flow")

    def __init__(self, ports: dict[int, str]):
        self.ports = ports
        self.ids: dict[str, dict[int, int]] = {key: {} for key in self.ID_KEYS}
        self.clients: dict[str, str] = {}
        self.tls_connections: set[int] = set()
        self.extended_connects: set[int] = set()

    def text(self, value: str) -> str:
        return re.sub(r"(?<=:)(\d{1,5})(?!\d)", lambda m: self.ports.get(int(m.group(1)), m.group(1)), value)

    def value(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def event(self, session_dir: Path, event: dict) -> dict:
        event = dict(event)
        event["t"] = "TIME"
        if event["type"] == "connectionTLS":
            self.tls_connections.add(event["conn"])
        if event["type"] == "connectionClosed" and event["conn"] in self.tls_connections:
            event["sent"] = "TLS_BYTES"
        if event["type"] == "requestHead" and event["method"] == "CONNECT":
            self.extended_connects.add(event["flow"])
        if event["type"] == "responseHead" and event["flow"] in self.extended_connects and event["status"] == 101:
            event["headers"] = [[name, "ACCEPT_OF_TAPLINE_KEY" if name.lower() == "sec-websocket-accept" else value]
                                for name, value in event["headers"]]
        for key in self.ID_KEYS:
            if key in event:
                ids = self.ids[key]
                event[key] = ids.setdefault(event[key], len(ids) + 1)
        if "timings" in event:
            event["timings"] = {k: "TIME" for k in event["timings"]}
        if event["type"] == "connectionOpened":
            ip, _, port = event["client"].rpartition(":")
            event["client"] = f"{ip}:{self.clients.setdefault(port, f'CLIENT_PORT_{len(self.clients) + 1}')}"
        if "seg" in event and event["type"] in ("body", "wsMessage"):
            inline_bytes(session_dir, event)
        peer = event.get("tls", {}).get("peer")
        if peer is not None and "sha256" in peer:
            peer["sha256"] = "CERT_SHA256"
        return self.value(event)

    def session_json(self, metadata: dict) -> dict:
        metadata = dict(metadata, id="SESSION_ID", started="TIME", ended="TIME" if metadata["ended"] else None,
                        tapline="VERSION")
        return self.value(metadata)


def normalized_session(name: str, rec: Recording, ports: dict[int, str]) -> list[str]:
    normalizer = Normalizer(ports)
    metadata = json.loads((rec.directory / "session.json").read_text())
    lines = [{"session": name, "sessionJson": normalizer.session_json(metadata)}]
    lines += [normalizer.event(rec.directory, e) for e in read_events(rec.directory)]
    return [json.dumps(line, sort_keys=True, ensure_ascii=False) for line in lines]


def first_differences(expected: list[str], actual: list[str], context: int = 3, limit: int = 60) -> str:
    diff = list(difflib.unified_diff(expected, actual, fromfile=str(EXPECTED), tofile="this capture (normalized)",
                                     n=context, lineterm=""))
    more = f"\n... {len(diff) - limit} more diff lines" if len(diff) > limit else ""
    return "\n".join(diff[:limit]) + more


def test_capture_of_a_scripted_session_is_unchanged(tapline, test_ca):
    lines = []
    for name, run in [("reverse-h1", lambda: reverse_session(tapline, ScriptedHTTP1Origin(h1_answers()),
                                                             "ORIGIN_H1_PORT")),
                      ("reverse-h2c", lambda: reverse_session(tapline, ScriptedH2Origin(h2_answers()),
                                                              "ORIGIN_H2C_PORT")),
                      ("reverse-refused-h1", lambda: refused_session(tapline, "http")),
                      ("reverse-refused-h2c", lambda: refused_session(tapline, "h2c")),
                      ("forward", lambda: forward_session(tapline, test_ca))]:
        rec, ports = run()
        lines += normalized_session(name, rec, ports)
    if UPDATE:
        EXPECTED.parent.mkdir(exist_ok=True)
        EXPECTED.write_text("\n".join(lines) + "\n")
        return
    expected = EXPECTED.read_text().splitlines()
    assert lines == expected, (
        "the normalized capture differs from the expected one (if the change is intended and reviewed, "
        "rewrite it with TAPLINE_UPDATE_EXPECTED=1):\n" + first_differences(expected, lines))
