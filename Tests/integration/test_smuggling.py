"""Request smuggling: a table of vectors, each sent over a raw socket through Tapline
in three set-ups (reverse proxy, forward proxy, and an HTTP/1.1 client in front of an
h2c upstream), with an upstream that records exactly what reached it.

For every vector and set-up the test checks the client's answer; exactly what reached
the upstream (each request's head bytes, body and trailers, and nothing else; or no
request at all; or, for a body refused mid-stream, no complete request); and that
every request that reached the upstream is a flow in the capture. The response-side
vectors (an upstream whose framing a client could misread) run in the HTTP/1.1
set-ups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import pytest

from tapline_testkit import rawhttp
from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.recording_upstream import RecordingH2Upstream, RecordingUpstream, parse_request
from tapline_testkit.util import wait_until

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
BARRIER = "/barrier"

# What reached the upstream: these requests, none at all, or (a body refused after
# the head was forwarded) no complete request.
NOTHING = "nothing"
INCOMPLETE = "incomplete"


@dataclass
class Forwarded:
    """One request as an HTTP/1.1 upstream must receive it. `head` is exact, with
    {authority} for the upstream's; the h2 form is derived from it."""
    head: str
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Vector:
    request: str                   # {target:/p}: the request-target for path /p in the set-up; {authority}
    body: bytes = b""              # sent right after the head, in the same write
    status: int = 200
    upstream: Union[str, list[Forwarded]] = NOTHING
    # Response-side vectors: the framing fields, body and trailers the client must get.
    response_framing: Optional[list[tuple[str, str]]] = None
    response_body: bytes = b"ok"
    response_trailers: list[tuple[str, str]] = field(default_factory=list)


def _head(*lines: str) -> str:
    return "\r\n".join(lines) + "\r\n\r\n"


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


HELLO_CHUNKED = _chunked(b"hello")


def _post(*fields: str, version: str = "HTTP/1.1") -> str:
    """The head of `POST /a` (in the set-up's request-target form) with Host and `fields`."""
    return _head(f"POST {{target:/a}} {version}", "Host: {authority}", *fields)


def _forwarded_post(framing: str, body: bytes, trailers: Optional[list[tuple[str, str]]] = None) -> list[Forwarded]:
    """What the upstream must get for `_post`: Host, then the one framing field."""
    return [Forwarded(_head("POST /a HTTP/1.1", "Host: {authority}", framing), body, trailers or [])]


def _refused(head: str, body: bytes = b"", upstream: str = NOTHING, status: int = 400) -> Vector:
    return Vector(head, body, status=status, upstream=upstream)


VECTORS: dict[str, Vector] = {
    # Issue #21 item 1: Connection names a framing field (or Host).
    "connection_content_length": Vector(
        _post("Connection: Content-Length", f"Content-Length: {len(SMUGGLED)}"), SMUGGLED,
        upstream=_forwarded_post(f"Content-Length: {len(SMUGGLED)}", SMUGGLED)),
    "connection_transfer_encoding": Vector(
        _post("Connection: keep-alive, Transfer-Encoding", "Transfer-Encoding: chunked"), _chunked(SMUGGLED),
        upstream=_forwarded_post("Transfer-Encoding: chunked", SMUGGLED)),
    "connection_host": Vector(
        _head("GET {target:/a} HTTP/1.1", "Host: {authority}", "Connection: Host"),
        upstream=[Forwarded(_head("GET /a HTTP/1.1", "Host: {authority}"))]),
    # Item 3: framing normalisation.
    # A coding before chunked is not implemented (501, RFC 9112 §6.1, as nginx answers).
    "te_identity_chunked": _refused(_post("Transfer-Encoding: identity, chunked"), HELLO_CHUNKED, status=501),
    "te_gzip_then_chunked_lines": _refused(_post("Transfer-Encoding: gzip", "Transfer-Encoding: chunked"),
                                           HELLO_CHUNKED, status=501),
    "duplicate_equal_content_length": Vector(_post("Content-Length: 5", "Content-Length: 5"), b"hello",
                                             upstream=_forwarded_post("Content-Length: 5", b"hello")),
    "content_length_list": Vector(_post("Content-Length: 5, 5"), b"hello",
                                  upstream=_forwarded_post("Content-Length: 5", b"hello")),
    "framing_fields_in_trailers": Vector(
        _post("Transfer-Encoding: chunked"),
        b"5\r\nhello\r\n0\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\nHost: evil.invalid\r\n"
        b"X-Checksum: abc\r\n\r\n",
        upstream=_forwarded_post("Transfer-Encoding: chunked", b"hello", [("X-Checksum", "abc")])),
    # Item 2: absolute-form target with another Host.
    "absolute_form_host_mismatch": Vector(
        _head("POST http://{authority}/abs HTTP/1.1", "Host: evil.invalid", "Content-Length: 2"), b"hi",
        upstream=[Forwarded(_head("POST /abs HTTP/1.1", "Host: {authority}", "Content-Length: 2"), b"hi")]),
    # Refused before anything is forwarded.
    "content_length_and_transfer_encoding": _refused(
        _post("Content-Length: 6", "Transfer-Encoding: chunked"), b"0\r\n\r\nX"),
    "transfer_encoding_then_content_length": _refused(
        _post("Transfer-Encoding: chunked", "Content-Length: 6"), b"0\r\n\r\nX"),
    "differing_content_lengths": _refused(_post("Content-Length: 5", "Content-Length: 6"), b"hello!"),
    "te_chunked_twice": _refused(_post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), HELLO_CHUNKED),
    "te_xchunked": _refused(_post("Transfer-Encoding: xchunked"), HELLO_CHUNKED),
    "te_chunked_then_gzip": _refused(_post("Transfer-Encoding: chunked, gzip"), HELLO_CHUNKED),
    "te_in_http10": _refused(_post("Transfer-Encoding: chunked", version="HTTP/1.0"), HELLO_CHUNKED),
    "te_space_before_colon": _refused(_post("Transfer-Encoding : chunked"), HELLO_CHUNKED),
    "te_obs_fold": _refused(_post("Transfer-Encoding:", " chunked"), HELLO_CHUNKED),
    "obs_fold": _refused(_head("GET {target:/a} HTTP/1.1", "Host: {authority}", "X-Folded: a", " b")),
    "bare_lf": _refused("GET {target:/a} HTTP/1.1\r\nHost: {authority}\nContent-Length: 5\r\n\r\nhello"),
    "bare_cr": _refused(_head("GET {target:/a} HTTP/1.1", "Host: {authority}", "X-Bad: a\rContent-Length: 5"),
                        b"hello"),
    "content_length_space_before_colon": _refused(_post("Content-Length : 5"), b"hello"),
    "duplicate_host": _refused(_head("GET {target:/a} HTTP/1.1", "Host: {authority}", "Host: evil.invalid")),
    "invalid_header_name_char": _refused(_head("GET {target:/a} HTTP/1.1", "Host: {authority}", "X-B@d: a")),
    "oversized_header_section": Vector(
        _head("GET {target:/a} HTTP/1.1", "Host: {authority}", *[f"X-Pad-{i}: {'a' * 1000}" for i in range(80)]),
        status=431, upstream=NOTHING),
    # Accepted whitespace: trimmed, forwarded as one clean field.
    "whitespace_around_values": Vector(_post("Content-Length: \t5 "), b"hello",
                                       upstream=_forwarded_post("Content-Length: 5", b"hello")),
    # Refused in the body: the head may be forwarded already, never a complete request.
    "chunk_size_overflow": _refused(_post("Transfer-Encoding: chunked"),
                                    b"ffffffffffffffff1\r\nhello\r\n0\r\n\r\n", upstream=INCOMPLETE),
    "chunk_size_not_hex": _refused(_post("Transfer-Encoding: chunked"), b"zz\r\nhello\r\n0\r\n\r\n",
                                   upstream=INCOMPLETE),
    "chunk_size_hex_prefix": _refused(_post("Transfer-Encoding: chunked"), b"0x5\r\nhello\r\n0\r\n\r\n",
                                      upstream=INCOMPLETE),
    "chunk_size_bare_lf": _refused(_post("Transfer-Encoding: chunked"), b"5\nhello\r\n0\r\n\r\n",
                                   upstream=INCOMPLETE),
}


def _response_vector(path: str, framing: tuple[str, str], trailers: Optional[list[tuple[str, str]]] = None) -> Vector:
    """A GET of `path`, which the recording upstream answers with `hello` framed in a way a
    client could misread; the client must get `framing` as the only framing field."""
    return Vector(_head(f"GET {{target:{path}}} HTTP/1.1", "Host: {authority}"),
                  upstream=[Forwarded(_head(f"GET {path} HTTP/1.1", "Host: {authority}"))],
                  response_framing=[framing], response_body=b"hello", response_trailers=trailers or [])


def _bodiless_response_vector(method: str, path: str, status: int,
                              framing: Optional[list[tuple[str, str]]]) -> Vector:
    """A `method` request for `path`, answered without a body (HEAD, 304) but with
    Content-Length: the client must get `framing` (its one Content-Length), or, when
    None, the `status` Tapline answers with instead."""
    return Vector(_head(f"{method} {{target:{path}}} HTTP/1.1", "Host: {authority}"), status=status,
                  upstream=[Forwarded(_head(f"{method} {path} HTTP/1.1", "Host: {authority}"))],
                  response_framing=framing, response_body=b"")


# The upstream's framing, as a client must get it (HTTP/1.1 upstreams only).
RESPONSE_VECTORS: dict[str, Vector] = {
    "response_connection_content_length":
        _response_vector("/response/connection-content-length", ("Content-Length", "5")),
    "response_connection_transfer_encoding":
        _response_vector("/response/connection-transfer-encoding", ("Transfer-Encoding", "chunked")),
    "response_content_length_list": _response_vector("/response/content-length-list", ("Content-Length", "5")),
    "response_duplicate_content_length":
        _response_vector("/response/duplicate-content-length", ("Content-Length", "5")),
    "response_framing_fields_in_trailers":
        _response_vector("/response/trailers", ("Transfer-Encoding", "chunked"), [("X-Checksum", "abc")]),
    "response_head_content_length_list":
        _bodiless_response_vector("HEAD", "/response/head-content-length-list", 200, [("Content-Length", "5")]),
    "response_not_modified_duplicate_content_length":
        _bodiless_response_vector("GET", "/response/not-modified-duplicate-content-length", 304,
                                  [("Content-Length", "5")]),
    "response_not_modified_conflicting_content_length":
        _bodiless_response_vector("GET", "/response/not-modified-conflicting-content-length", 502, None),
    "response_head_invalid_content_length":
        _bodiless_response_vector("HEAD", "/response/head-invalid-content-length", 502, None),
}

SETUPS = ("reverse", "forward", "h1-client-h2-upstream")

CASES = [(setup, name) for setup in SETUPS for name in VECTORS] + [
    (setup, name) for setup in ("reverse", "forward") for name in RESPONSE_VECTORS]


@dataclass
class Setup:
    proxy: object
    upstream: Union[RecordingUpstream, RecordingH2Upstream]
    absolute_form: bool

    def target(self, path: str) -> str:
        return f"http://{self.upstream.authority}{path}" if self.absolute_form else path

    def render(self, text: str) -> bytes:
        out = text.replace("{authority}", self.upstream.authority)
        while "{target:" in out:
            start = out.index("{target:")
            end = out.index("}", start)
            out = out[:start] + self.target(out[start + len("{target:"):end]) + out[end + 1:]
        return out.encode("latin-1")


@pytest.fixture
def setup(request, tapline):
    kind = request.param
    upstream = RecordingH2Upstream() if kind == "h1-client-h2-upstream" else RecordingUpstream()
    try:
        if kind == "reverse":
            proxy = tapline("--reverse", f"http://{upstream.authority}", "--no-forwarded-headers")
        elif kind == "forward":
            proxy = tapline()
        else:
            proxy = tapline("--reverse", f"h2c://{upstream.authority}", "--no-forwarded-headers")
        yield Setup(proxy, upstream, absolute_form=kind == "forward")
    finally:
        upstream.stop()


def _send(setup: Setup, vector: Vector) -> rawhttp.RawResponse:
    """The vector in one write on its own connection; the client's first answer."""
    with rawhttp.connect(setup.proxy.port) as s:
        try:
            s.sendall(setup.render(vector.request) + vector.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused and closed before everything was read
        with s.makefile("rb") as f:
            head = rawhttp.read_response_head(f)
            if vector.response_framing is not None:
                framing = [(k, v) for k, v in head.headers if k.lower() in ("content-length", "transfer-encoding")]
                assert framing == vector.response_framing, f"client got framing {framing}: {head}"
            return rawhttp.read_response_body(f, head, request_method=vector.request.split(" ", 1)[0])


def _barrier(setup: Setup) -> None:
    """A well-formed request on a new connection: once it has reached the upstream and
    every proxy connection has closed, nothing from the vector can still arrive."""
    data = setup.render(_head(f"GET {{target:{BARRIER}}} HTTP/1.1", "Host: {authority}"))
    [ok] = rawhttp.exchange(setup.proxy.port, data)
    assert ok.status == 200, ok


def _flows(proxy) -> dict[int, dict]:
    """The capture's flows, once every flow started has ended and the barrier's is there."""
    def complete():
        flows: dict[int, dict] = {}
        for e in read_events(proxy.session_dir()):
            if "flow" not in e:
                continue
            flow = flows.setdefault(e["flow"], {"upstream": False, "ended": False})
            if e["type"] == "requestHead":
                flow.update(method=e["method"], target=e["target"])
            elif e["type"] == "upstreamConnected":
                flow["upstream"] = True
            elif e["type"] == "flowEnded":
                flow["ended"] = True
        barrier = any(f.get("target", "").endswith(BARRIER) and f["ended"] for f in flows.values())
        return barrier and all(f["ended"] for f in flows.values()) and flows
    return wait_until(complete, 10, message="every captured flow to end")


def _origin_form(target: str) -> str:
    if target.startswith("http://"):
        return "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
    return target


def _assert_recorded(flows: dict[int, dict], reached: list[tuple[str, str]]) -> None:
    """Every request that reached the upstream is a captured flow that went upstream."""
    available = [(f.get("method"), _origin_form(f.get("target", ""))) for f in flows.values() if f["upstream"]]
    for method, path in reached:
        assert (method, path) in available, (
            f"{method} {path} reached the upstream but no captured flow has it; flows: {available}")
        available.remove((method, path))


def _h2_form(forwarded: Forwarded, authority: str) -> tuple[list[tuple[str, str]], bytes, list[tuple[str, str]]]:
    """What an h2 upstream must receive for `forwarded`: the request line as
    pseudo-headers, Host as :authority, framing fields other than content-length dropped."""
    lines = forwarded.head.replace("{authority}", authority).split("\r\n")
    method, path, _ = lines[0].split(" ")
    fields = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
    headers = [(":method", method), (":scheme", "http"), (":authority", authority), (":path", path)]
    headers += [(k.lower(), v) for k, v in fields if k.lower() not in ("host", "transfer-encoding")]
    return headers, forwarded.body, [(k.lower(), v) for k, v in forwarded.trailers]


@pytest.mark.parametrize("setup,name", CASES, indirect=["setup"],
                         ids=[f"{s}-{n}" for s, n in CASES])
def test_vector(setup: Setup, name: str):
    vector = VECTORS.get(name) or RESPONSE_VECTORS[name]
    try:
        answer = _send(setup, vector)
    except rawhttp.NoResponse as e:
        pytest.fail(f"no HTTP answer, expected {vector.status}: {e}")
    assert answer.status == vector.status, answer
    if vector.status == 200:
        assert answer.body == vector.response_body, answer
        assert answer.trailers == vector.response_trailers, answer
    _barrier(setup)
    authority = setup.upstream.authority

    if isinstance(setup.upstream, RecordingH2Upstream):
        streams = setup.upstream.settled(BARRIER)
        got = [(s.headers, s.body, s.trailers) for s in streams if s.ended]
        if vector.upstream == NOTHING:
            assert streams == [], f"the upstream got {streams}"
        elif vector.upstream == INCOMPLETE:
            assert got == [], f"the upstream got a complete request: {got}"
        else:
            assert [(s.headers, s.body, s.trailers) for s in streams] == \
                [_h2_form(f, authority) for f in vector.upstream]
        reached = [(s.method, s.path) for s in streams]
    else:
        connections = setup.upstream.settled(BARRIER)
        requests = [r for c in connections for r in c.requests]
        raw = [bytes(c.data) for c in connections]
        errors = [c.error for c in connections if c.error]
        if vector.upstream == NOTHING:
            assert raw == [], f"the upstream got {raw}"
        elif vector.upstream == INCOMPLETE:
            assert requests == [] and errors == [], f"the upstream got a complete request: {raw}"
        else:
            expected = [(f.head.replace("{authority}", authority).encode(), f.body, f.trailers)
                        for f in vector.upstream]
            assert [(r.head, r.body, r.trailers) for r in requests] == expected, f"the upstream got {raw}"
            # Nothing besides those requests: no bytes left over that a server would read as more.
            assert errors == [] and all(_only_requests(c) for c in connections), f"the upstream got {raw}"
        reached = [(r.method, r.target) for r in requests]
    _assert_recorded(_flows(setup.proxy), reached)


def _only_requests(connection) -> bool:
    """The connection's bytes are its parsed requests and nothing more (re-chunking may
    split a body differently from the client, so this re-parses rather than comparing
    with the client's bytes)."""
    rest = bytes(connection.data)
    for expected in connection.requests:
        parsed = parse_request(rest)
        if parsed is None or parsed[0] != expected:
            return False
        rest = rest[parsed[1]:]
    return rest == b""


# The other translation path: an HTTP/2 client in front of an HTTP/1.1 upstream. HTTP/2
# frames by DATA and nghttp2 refuses connection-specific fields and a content-length in
# trailers, so what is left to get wrong is the framing Tapline writes on each side and
# the fields it carries over.

def _h2_exchange(proxy, path: str, method: str = "GET", body: bytes = b"", trailers=None) -> dict:
    client = H2Client(proxy.port)
    try:
        sid = client.request(path, method=method, authority="example.test", body=body, trailers=trailers)
        client.wait_streams([sid])
        assert sid not in client.resets, f"stream reset with {client.resets[sid]}"
        return client.responses[sid]
    finally:
        client.close()


def test_h2_client_trailers_lose_framing_fields_toward_http1(tapline):
    upstream = RecordingUpstream()
    try:
        proxy = tapline("--reverse", f"http://{upstream.authority}", "--no-forwarded-headers")
        answer = _h2_exchange(proxy, "/a", method="POST", body=b"hello", trailers=[
            ("host", "evil.invalid"), ("trailer", "x-checksum"), ("x-checksum", "abc")])
        assert answer["status"] == 200 and bytes(answer["body"]) == b"ok", answer
        _h2_exchange(proxy, BARRIER)
        [connection] = upstream.settled(BARRIER)
        [request] = connection.requests
        assert (request.head, request.body, request.trailers) == (
            _head("POST /a HTTP/1.1", f"Host: {upstream.authority}", "Transfer-Encoding: chunked").encode(),
            b"hello", [("x-checksum", "abc")]), bytes(connection.data)
        _assert_recorded(_flows(proxy), [("POST", "/a")])
    finally:
        upstream.stop()


@pytest.mark.parametrize("path,fields,trailers", [
    ("/response/connection-content-length", [("content-length", "5")], []),
    ("/response/content-length-list", [("content-length", "5")], []),
    ("/response/trailers", [], [("x-checksum", "abc")]),
], ids=["connection_content_length", "content_length_list", "framing_fields_in_trailers"])
def test_http1_response_framing_toward_h2_client(tapline, path, fields, trailers):
    upstream = RecordingUpstream()
    try:
        proxy = tapline("--reverse", f"http://{upstream.authority}")
        answer = _h2_exchange(proxy, path)
        assert answer["status"] == 200 and bytes(answer["body"]) == b"hello", answer
        assert [(k, v) for k, v in answer["headers"] if k in ("content-length", "transfer-encoding")] == fields
        assert answer["trailers"] == trailers
    finally:
        upstream.stop()


@pytest.mark.parametrize("method,path,status,fields", [
    ("HEAD", "/response/head-content-length-list", 200, [("content-length", "5")]),
    ("GET", "/response/not-modified-duplicate-content-length", 304, [("content-length", "5")]),
    ("GET", "/response/not-modified-conflicting-content-length", 502, None),
    ("HEAD", "/response/head-invalid-content-length", 502, None),
], ids=["head_content_length_list", "not_modified_duplicate_content_length",
        "not_modified_conflicting_content_length", "head_invalid_content_length"])
def test_http1_bodiless_response_content_length_toward_h2_client(tapline, method, path, status, fields):
    """A bodiless response keeps its Content-Length, as one valid HTTP/2 field (a list or
    repeated field makes the response malformed); disagreeing or invalid values are a 502."""
    upstream = RecordingUpstream()
    try:
        proxy = tapline("--reverse", f"http://{upstream.authority}")
        answer = _h2_exchange(proxy, path, method=method)
        assert answer["status"] == status, answer
        if fields is not None:
            assert [(k, v) for k, v in answer["headers"] if k in ("content-length", "transfer-encoding")] == fields
            assert bytes(answer["body"]) == b"", answer
    finally:
        upstream.stop()
