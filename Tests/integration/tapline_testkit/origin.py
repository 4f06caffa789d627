"""Origin servers for the integration tests: a threaded HTTP/1.1 server (plain
or TLS) that records every request it gets, plus a throwaway test CA.

Endpoints (any method unless noted):
  /users/<id>             JSON user record
  /echo                   the request body back (X-Echo-Method: the method)
  /sha256                 JSON {sha256, length, method, chunked} of the request body
  /headers                JSON {method, target, headers: [[name, value], ...]}
  /bytes/<n>              n bytes of the deterministic pattern, Content-Length, streamed
  /chunked/<n>            same bytes, chunked, with a trailer X-Body-Sha256
  /close-delimited/<n>    same bytes, no Content-Length, then the connection closes
  /slow                   answers only when the server stops (for response timeouts)
  /status/<code>          that status code with a short text body
Request bodies may be Content-Length or chunked (decoded here).
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator, Optional
from urllib.parse import urlsplit

from .util import HOST, run_quiet, wait_until

# --- the deterministic body pattern --------------------------------------------
# 64 KiB blocks of fixed random bytes whose first 8 bytes are the block index,
# so that any lost, repeated or reordered block changes the digest.
BLOCK = 64 * 1024
_BASE = random.Random(0x7A9117E).randbytes(BLOCK)


def iter_pattern(n: int) -> Iterator[bytes]:
    """The first n bytes of the pattern, in pieces of at most 64 KiB."""
    index = 0
    remaining = n
    while remaining > 0:
        block = index.to_bytes(8, "big") + _BASE[8:]
        piece = block if remaining >= BLOCK else block[:remaining]
        yield piece
        remaining -= len(piece)
        index += 1


def pattern_bytes(n: int) -> bytes:
    return b"".join(iter_pattern(n))


@lru_cache(maxsize=16)
def pattern_sha256(n: int) -> str:
    h = hashlib.sha256()
    for piece in iter_pattern(n):
        h.update(piece)
    return h.hexdigest()


def user_record(user_id: int) -> dict:
    return {"id": user_id, "name": f"User {user_id}", "email": f"user{user_id}@example.test"}


# --- recording -----------------------------------------------------------------
@dataclass
class RecordedRequest:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    connection_id: int
    client: tuple
    parsed: bool            # False: the origin itself rejected the request head
    complete: bool = False  # the whole body was read
    body_length: Optional[int] = None
    time: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class BodyIncomplete(ConnectionError):
    pass


# --- the handler ------------------------------------------------------------------
class _OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TaplineTestOrigin/1.0"
    sys_version = ""
    timeout = 120  # per socket operation; ends idle keep-alive connections
    # TCP_NODELAY, as real servers set it: with Nagle, a body written after its head
    # waits for the head's (delayed) ACK, 40 ms a keep-alive response.
    disable_nagle_algorithm = True
    ECHO_LIMIT = 64 * 1024 * 1024

    server: "_Server"

    # connection bookkeeping
    def setup(self) -> None:
        super().setup()
        self.conn_id = self.server.origin._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.origin._connection_closed(self.connection)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet
        pass

    def parse_request(self) -> bool:
        ok = super().parse_request()
        line = self.raw_requestline.decode("latin-1").rstrip("\r\n")
        parts = line.split()
        headers = list(self.headers.items()) if ok and self.headers is not None else []
        self.record = RecordedRequest(
            method=parts[0] if parts else "",
            target=parts[1] if len(parts) > 1 else "",
            version=parts[2] if len(parts) > 2 else "",
            headers=headers, connection_id=self.conn_id,
            client=self.client_address, parsed=ok)
        self.server.origin._record(self.record)
        return ok

    # request bodies
    def _is_chunked(self) -> bool:
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def body_chunks(self) -> Iterator[bytes]:
        total = 0
        if self._is_chunked():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise BodyIncomplete("EOF in chunk size line")
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
                if size == 0:
                    while True:  # trailer section
                        t = self.rfile.readline(65537)
                        if not t:
                            raise BodyIncomplete("EOF in trailers")
                        if t in (b"\r\n", b"\n"):
                            break
                    break
                left = size
                while left:
                    data = self.rfile.read(min(left, BLOCK))
                    if not data:
                        raise BodyIncomplete("EOF in chunk data")
                    left -= len(data)
                    total += len(data)
                    yield data
                if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                    raise BodyIncomplete("missing CRLF after chunk")
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                data = self.rfile.read(min(left, BLOCK))
                if not data:
                    raise BodyIncomplete("EOF in body")
                left -= len(data)
                total += len(data)
                yield data
        self.record.complete = True
        self.record.body_length = total

    def drain_body(self) -> None:
        for _ in self.body_chunks():
            pass

    def read_body(self, limit: int) -> Optional[bytes]:
        parts, size = [], 0
        for data in self.body_chunks():
            size += len(data)
            if size > limit:
                for _ in self.body_chunks():
                    pass
                return None
            parts.append(data)
        return b"".join(parts)

    # responses
    def send_body(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
                  headers: Optional[dict] = None) -> None:
        self.send_response(status)
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not no_body and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj, status: int = 200, headers: Optional[dict] = None) -> None:
        self.send_body(status, json.dumps(obj).encode(), "application/json", headers)

    def dispatch(self) -> None:
        path = urlsplit(self.path).path
        parts = [p for p in path.split("/") if p]
        head = parts[0] if parts else ""
        arg = parts[1] if len(parts) > 1 else None
        try:
            if head == "users" and arg is not None and arg.isdigit():
                self.drain_body()
                self.send_json(user_record(int(arg)))
            elif head == "echo":
                body = self.read_body(self.ECHO_LIMIT)
                if body is None:
                    self.send_body(413, b"echo body too large\n")
                else:
                    self.send_body(200, body,
                                   self.headers.get("Content-Type") or "application/octet-stream",
                                   {"X-Echo-Method": self.command})
            elif head == "sha256":
                h = hashlib.sha256()
                n = 0
                for data in self.body_chunks():
                    h.update(data)
                    n += len(data)
                self.send_json({"sha256": h.hexdigest(), "length": n, "method": self.command,
                                "chunked": self._is_chunked()})
            elif head == "headers":
                self.drain_body()
                self.send_json({"method": self.command, "target": self.path,
                                "headers": [[k, v] for k, v in self.headers.items()]})
            elif head == "bytes" and arg is not None and arg.isdigit():
                self.drain_body()
                n = int(arg)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(n))
                self.end_headers()
                if self.command != "HEAD":
                    for piece in iter_pattern(n):
                        self.wfile.write(piece)
            elif head == "chunked" and arg is not None and arg.isdigit():
                self.drain_body()
                n = int(arg)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Trailer", "X-Body-Sha256")
                self.end_headers()
                if self.command != "HEAD":
                    for piece in iter_pattern(n):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\nX-Body-Sha256: %s\r\n\r\n" % pattern_sha256(n).encode())
            elif head == "close-delimited" and arg is not None and arg.isdigit():
                self.drain_body()
                n = int(arg)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for piece in iter_pattern(n):
                    self.wfile.write(piece)
                self.close_connection = True
            elif head == "slow":
                self.drain_body()
                self.server.origin.stopping.wait(timeout=600)
                self.close_connection = True
                self.send_body(200, b"slow\n", headers={"Connection": "close"})
            elif head == "status" and arg is not None and arg.isdigit():
                self.drain_body()
                code = int(arg)
                self.send_body(code, f"status {code}\n".encode())
            else:
                self.drain_body()
                self.send_body(404, b"not found\n")
        except (BodyIncomplete, ValueError):
            self.close_connection = True  # client went away / broken framing
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, origin: "OriginServer", ssl_context: Optional[ssl.SSLContext], host: str = HOST):
        self.origin = origin
        self.ssl_context = ssl_context
        super().__init__((host, 0), _OriginHandler)

    def finish_request(self, request, client_address) -> None:
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        # TLS handshake in the connection's own thread, not in accept().
        request.settimeout(15)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.origin.tls_handshake_failures += 1
            return
        tls.settimeout(None)
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError)):
            return  # peers (the proxy) closing connections is routine here
        super().handle_error(request, client_address)


class OriginServer:
    """A running origin on 127.0.0.1:<port> (port chosen by the kernel), or on
    `host` (a test's own veth address)."""

    def __init__(self, tls: Optional["TestCA"] = None, host: str = HOST):
        self.tls = tls
        self.host = host
        self.stopping = threading.Event()
        self.tls_handshake_failures = 0
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._open: dict[int, socket.socket] = {}
        self._connections = 0
        ctx = tls.server_context() if tls else None
        self._server = _Server(self, ctx, host)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"origin-{self.port}", daemon=True)
        self._thread.start()

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.authority}"

    def __repr__(self) -> str:
        return f"<OriginServer {self.url}>"

    # bookkeeping (handler threads)
    def _connection_opened(self, sock: socket.socket) -> int:
        with self._lock:
            self._connections += 1
            self._open[id(sock)] = sock
            return self._connections

    def _connection_closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.pop(id(sock), None)

    def _record(self, r: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(r)

    # what tests look at
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def connection_count(self) -> int:
        """TCP connections accepted (TLS: handshakes completed) so far."""
        with self._lock:
            return self._connections

    @property
    def open_connection_count(self) -> int:
        """Connections whose handler has not finished yet."""
        with self._lock:
            return len(self._open)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def wait_for_request(self, predicate: Callable[[RecordedRequest], bool],
                         timeout: float = 10.0) -> RecordedRequest:
        def find():
            for r in self.requests:
                if predicate(r):
                    return r
            return None
        return wait_until(find, timeout, message=f"a matching request at {self}")

    def stop(self) -> None:
        self.stopping.set()  # releases /slow
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            open_socks = list(self._open.values())
        for s in open_socks:  # unblock handler threads stuck in send/recv
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)


# --- the throwaway test CA ---------------------------------------------------------
_CA_CNF = """\
[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = Tapline Test Origin CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_SERVER_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = 127.0.0.1
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class TestCA:
    """A CA and one server certificate (127.0.0.1, localhost), made with the
    openssl command line in `directory`. Pass `ca_cert` to --upstream-ca."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path):
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self.ca_cert = d / "ca.pem"
        self.ca_key = d / "ca.key"
        self.server_cert = d / "server.pem"
        self.server_key = d / "server.key"
        (d / "ca.cnf").write_text(_CA_CNF)
        (d / "server.cnf").write_text(_SERVER_CNF)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run_quiet(["openssl", "req", "-x509", *ec, "-keyout", str(self.ca_key),
                   "-out", str(self.ca_cert), "-days", "7", "-config", str(d / "ca.cnf")])
        run_quiet(["openssl", "req", "-new", *ec, "-keyout", str(self.server_key),
                   "-out", str(d / "server.csr"), "-config", str(d / "server.cnf")])
        run_quiet(["openssl", "x509", "-req", "-in", str(d / "server.csr"),
                   "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
                   "-set_serial", str(random.getrandbits(63)), "-days", "7",
                   "-out", str(self.server_cert),
                   "-extfile", str(d / "server.cnf"), "-extensions", "v3_server"])

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.server_cert), str(self.server_key))
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx
