"""Two small origins for the Postman grouping and templating rules
(test_postman_rules.py, issue #21 items 16-18):

- `api_origin()`: a versioned JSON API under `/api/v1`: users (numeric ids),
  orders (UUIDs), items addressed by six slugs (`ITEM_SLUGS`) that all answer
  a JSON object with the same keys, and a multipart upload endpoint. Every
  JSON body is one line with a Content-Length, so a pretty-printed export
  differs from it.
- `site_origin()`: a web site's root: `/data.json`, `/redirect` (302), `/sse`
  (text/event-stream), `/favicon.ico`, `/big.bin` (octet-stream) and
  `POST /api/echo`: distinct names at one position that are not one variable.

Each is a `RestOrigin` on a free port on 127.0.0.1 (`.url`); `.stop()` ends it.
"""

from __future__ import annotations

import json

from .rest_origin import RestHandler, RestOrigin

ITEM_SLUGS = ["red-widget", "blue-widget", "green-widget", "black-widget", "white-widget", "tiny-gadget"]
ORDER_UUIDS = ["3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c", "7c6b5a49-3827-4165-a0b1-c2d3e4f5a6b7"]
SSE_BODY = b"event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\n"
FAVICON = bytes.fromhex("00000100010010100000010020006804000016000000")
BIG_BIN = bytes(range(256)) * 256  # 64 KiB


class _ApiHandler(RestHandler):
    def dispatch(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body = self._body()
        if parts[:2] != ["api", "v1"] or len(parts) < 3:
            return self._json({"error": "not found"}, 404)
        resource, rest = parts[2], parts[3:]
        if resource == "users" and not rest:
            self._json({"users": [{"id": 1}, {"id": 2}], "page": 1})
        elif resource == "users" and len(rest) == 1:
            self._json({"id": int(rest[0]), "name": f"user {rest[0]}", "email": f"u{rest[0]}@example.test"})
        elif resource == "orders" and len(rest) == 1:
            self._json({"order": rest[0], "total": 12.5, "lines": [{"sku": "a", "qty": 1}]})
        elif resource == "items" and len(rest) == 1 and rest[0] in ITEM_SLUGS:
            self._json({"slug": rest[0], "name": rest[0].replace("-", " ").title(), "price": 9.99, "tags": ["x"]})
        elif resource == "uploads" and self.command == "POST":
            self._json({"bytes": len(body), "type": self.headers.get("Content-Type", "").split(";")[0]}, 201)
        else:
            self._json({"error": "not found"}, 404)

    do_GET = do_POST = dispatch


class _SiteHandler(RestHandler):
    def dispatch(self):
        path = self.path.split("?")[0]
        body = self._body()
        if path == "/data.json":
            self._json({"items": [1, 2, 3], "generated": "2026-01-01"})
        elif path == "/redirect":
            self._send(302, b"<a href=\"/data.json\">moved</a>", "text/html", [("Location", "/data.json")])
        elif path == "/sse":
            self._send(200, SSE_BODY, "text/event-stream", [("Cache-Control", "no-cache")])
        elif path == "/favicon.ico":
            self._send(200, FAVICON, "image/x-icon")
        elif path == "/big.bin":
            self._send(200, BIG_BIN, "application/octet-stream")
        elif path == "/api/echo" and self.command == "POST":
            self._json({"echo": json.loads(body or b"null")})
        else:
            self._send(404, b"not found", "text/plain")

    do_GET = do_POST = dispatch


def api_origin() -> RestOrigin:
    return RestOrigin(_ApiHandler)


def site_origin() -> RestOrigin:
    return RestOrigin(_SiteHandler)
