"""A small REST API origin for the export tests: ids, UUIDs, nested
resources, query filters, JSON/form/multipart/GraphQL bodies, bearer and basic
auth, API keys, cookies, gzip and br responses, a binary upload.

`RestOrigin()` starts it on a free port (`.url`); `.stop()` ends it.
`SECRETS` lists every secret value the clients send or the origin returns:
an export with redaction must contain none of them.
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import brotli

from .util import HOST

BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg.Zm9vYmFyYmF6cXV4"
BASIC_USER = "alice-basic-user"
BASIC_PASSWORD = "s3cr3t-basic-pass"
API_KEY = "ak_live_7f3e9c2b1a0d4e5f"
QUERY_TOKEN = "qt_9a8b7c6d5e4f3a2b"
PASSWORD = "hunter2-login-password"
ACCESS_TOKEN = "at_0123456789abcdefghij"
REFRESH_TOKEN = "rt_zyxwvutsrqponmlkjihg"
SESSION_COOKIE = "sid_5f4e3d2c1b0a99887766"
FORM_SECRET = "form-client-secret-4242"
SECRETS = [BEARER, BASIC_USER, BASIC_PASSWORD, API_KEY, QUERY_TOKEN, PASSWORD, ACCESS_TOKEN,
           REFRESH_TOKEN, SESSION_COOKIE, FORM_SECRET]

ORDER_UUIDS = ["9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f", "0b2e7c1a-3d4f-4a5b-9c8d-7e6f5a4b3c2d"]
SKUS = [f"SKU-10{n}" for n in range(1, 8)]


class RestHandler(BaseHTTPRequestHandler):
    """This API's handler; other JSON origins (postman_origins.py) subclass it for `_body`, `_send`, `_json`."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # see origin.py: no 40 ms wait for a delayed ACK

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes, ctype: str = "application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or []):
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers=None):
        self._send(status, json.dumps(obj).encode(), "application/json", headers)

    def dispatch(self):
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        body = self._body()
        auth = self.headers.get("Authorization", "")
        if parts[:2] == ["api", "users"] and len(parts) == 2:
            self._json({"users": [{"id": 1, "role": query.get("role", ["any"])[0]}], "page": int(query.get("page", ["1"])[0])})
        elif parts[:2] == ["api", "users"] and len(parts) == 3:
            if parts[2] == "999999":
                self._json({"error": "no such user"}, 404)
            else:
                self._json({"id": int(parts[2]), "name": f"user {parts[2]}"})
        elif parts[:2] == ["api", "users"] and len(parts) == 5 and parts[3] == "orders":
            self._json({"user": int(parts[2]), "order": parts[4], "total": 12.5})
        elif parts[:2] == ["api", "products"] and len(parts) == 3:
            self._json({"sku": parts[2], "price": 9.99})
        elif parts == ["api", "login"]:
            data = json.loads(body or b"{}")
            ok = data.get("password") == PASSWORD
            self._json({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "expires_in": 3600}
                       if ok else {"error": "bad password"}, 200 if ok else 401)
        elif parts == ["api", "forms"]:
            fields = parse_qs(body.decode())
            self._json({"received": sorted(fields)}, 201)
        elif parts == ["api", "upload"]:
            self._json({"bytes": len(body)}, 201)
        elif parts == ["api", "blob"]:
            self._json({"bytes": len(body)}, 201)
        elif parts == ["graphql"]:
            self._json({"data": {"user": {"id": "1", "name": "Ada"}}})
        elif parts == ["api", "secure"]:
            if auth == f"Bearer {BEARER}" or auth.startswith("Basic "):
                self._json({"ok": True, "scheme": auth.split(" ")[0]})
            else:
                self._json({"error": "unauthorized"}, 401, [("WWW-Authenticate", "Bearer")])
        elif parts == ["api", "keyed"]:
            ok = self.headers.get("X-API-Key") == API_KEY or query.get("api_key") == [QUERY_TOKEN]
            self._json({"ok": ok}, 200 if ok else 403)
        elif parts == ["api", "session"]:
            self._json({"session": "started"}, 200,
                       [("Set-Cookie", f"sid={SESSION_COOKIE}; Path=/; HttpOnly; Expires=Wed, 21 Oct 2037 07:28:00 GMT")])
        elif parts == ["api", "profile"]:
            ok = f"sid={SESSION_COOKIE}" in (self.headers.get("Cookie") or "")
            self._json({"profile": "me" if ok else None}, 200 if ok else 401)
        elif parts == ["api", "gzip"]:
            self._send(200, gzip.compress(json.dumps({"compressed": "gzip", "items": list(range(20))}).encode()),
                       "application/json", [("Content-Encoding", "gzip")])
        elif parts == ["api", "brotli"]:
            self._send(200, brotli.compress(json.dumps({"compressed": "br", "items": list(range(20))}).encode()),
                       "application/json", [("Content-Encoding", "br")])
        else:
            self._json({"error": "not found"}, 404)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = dispatch


class RestOrigin:
    def __init__(self, handler: type[RestHandler] = RestHandler):
        self.server = ThreadingHTTPServer((HOST, 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
