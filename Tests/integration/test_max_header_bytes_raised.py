"""--max-header-bytes above the proxy's 64 KiB of parser input (HTTPClientBufferLimits.http1ParserInput):
a request or response head larger than that buffer but within the limit goes through
whole, instead of the connection waiting, unread, for the header timeout."""

from __future__ import annotations

from tapline_testkit import rawhttp
from tapline_testkit.util import ThreadedTestServer

# Three fields of 50,000 bytes: a 150 kB head, each line short enough for Python's
# http.server and curl; the proxy's limit is raised above it.
FIELDS = [(f"X-Large-{i}", chr(ord("a") + i) * 50_000) for i in range(3)]
LIMIT = "400000"


class LargeHeadOrigin(ThreadedTestServer):
    """Answers each request with a 200 whose head carries FIELDS, and keeps the
    request heads it received (bytes)."""

    def __init__(self):
        self.request_heads: list[bytes] = []
        super().__init__()

    def _serve(self, conn) -> None:
        with conn:
            conn.settimeout(30)
            received = rawhttp.receive_head(conn)
            if received is None:
                return
            self.request_heads.append(received.partition(b"\r\n\r\n")[0])
            fields = "".join(f"{name}: {value}\r\n" for name, value in FIELDS)
            conn.sendall(f"HTTP/1.1 200 OK\r\n{fields}Content-Length: 2\r\n\r\nok".encode())


def test_a_request_and_a_response_head_above_64_kib_pass_within_the_limit(tapline):
    origin = LargeHeadOrigin()
    try:
        # A head the proxy stops reading is only answered when a timeout ends the wait: 408
        # (request head) or 504 (response head) after 3 s, well before the client gives up.
        proxy = tapline("--reverse", f"http://{origin.authority}", "--max-header-bytes", LIMIT,
                        "--header-timeout", "3", "--response-timeout", "3")
        request = rawhttp.request_bytes("GET", "/large", "example.test", headers=FIELDS)
        response = rawhttp.exchange(proxy.port, request, timeout=30)[0]
        assert response.status == 200, response
        for name, value in FIELDS:
            assert response.header(name) == value, f"{name} did not reach the client whole"
        assert response.body == b"ok"
        head = origin.request_heads[0].decode("latin-1")
        for name, value in FIELDS:
            assert f"\r\n{name}: {value}\r\n" in head + "\r\n", f"{name} did not reach the origin whole"
    finally:
        origin.stop()
