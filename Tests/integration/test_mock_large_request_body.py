"""`tapline mock` and request bodies over its 16 MiB comparison limit (issue #23: "memory
stays bounded (bodies streamed) when ... mocking a session with 1 GiB bodies"). A body up
to the limit is compared in its decoded, structured form; a larger one by its size and
the SHA-256 of its bytes as sent, on both sides: the recorded one is digested a piece at
a time when the session is loaded, the live one as it arrives. So an upload recorded
through the proxy matches the same upload sent to the mock, a different upload of the
same size does not (near-miss report), one that matches nothing cannot be forwarded to
`--fallback` (the mock kept only its digest: 413 with the reason), and the mock does not
hold a large upload in memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tapline_testkit import util
from tapline_testkit.util import HOST, curl, curl_status

from test_mock import mocks  # noqa: F401  (the fixture)

LIMIT = 16 << 20
UPLOAD = hashlib.shake_256(b"tapline upload").digest(LIMIT + 4096)
STORED = b'{"stored": true}'
#: The mock's peak RSS may grow by at most this much while it takes a 96 MiB upload.
GROWTH_LIMIT_KIB = 48 * 1024


class UploadOrigin:
    """An HTTP/1.1 origin that reads a POST's body (Content-Length) a piece at a time and
    answers with its size and SHA-256 as JSON (or STORED for /upload)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                left = int(self.headers["Content-Length"])
                digest = hashlib.sha256()
                while left:
                    piece = self.rfile.read(min(left, 1 << 20))
                    assert piece, "the client went away mid-body"
                    digest.update(piece)
                    left -= len(piece)
                body = STORED if self.path == "/upload" else json.dumps({"sha256": digest.hexdigest()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upload_file(tmp_path) -> Path:
    path = tmp_path / "upload.bin"
    path.write_bytes(UPLOAD)
    return path


@pytest.fixture
def recorded_upload(tapline, upload_file):
    """A closed session with one POST of UPLOAD (16 MiB + 4 KiB) answered STORED; origin stopped."""
    origin = UploadOrigin()
    try:
        proxy = tapline()
        r = curl("-x", proxy.proxy_url, "-H", "Content-Type: application/octet-stream",
                 "--data-binary", f"@{upload_file}", origin.url + "/upload", timeout=60)
        assert r.returncode == 0 and r.stdout == STORED, util.describe(r)
        session = str(proxy.session_dir())
        proxy.stop()
    finally:
        origin.stop()
    return proxy, session


def post(url: str, path: Path) -> tuple[int, bytes, str]:
    return curl_status("-H", "Content-Type: application/octet-stream", "--data-binary", f"@{path}", url, timeout=60)


def test_a_large_upload_matches_its_recording_and_another_gets_the_near_miss_report(recorded_upload, upload_file, mocks,
                                                                                    tmp_path):
    proxy, session = recorded_upload
    mock = mocks(proxy.home, proxy.capture_dir, session)
    assert post(mock.url + "/upload", upload_file)[:2] == (200, STORED)

    changed = tmp_path / "changed.bin"
    changed.write_bytes(UPLOAD[:-1] + bytes([UPLOAD[-1] ^ 1]))  # same size, last byte differs
    status, body, _ = post(mock.url + "/upload", changed)
    assert status == 404, body
    report = json.loads(body)
    text = json.dumps(report)
    assert f"{len(UPLOAD)} bytes, sha256 {hashlib.sha256(UPLOAD).hexdigest()[:16]}" in text, text
    assert "/upload" in text, text


def test_an_unmatched_large_upload_is_not_forwarded_to_fallback_and_says_why(recorded_upload, upload_file, mocks,
                                                                             tmp_path):
    proxy, session = recorded_upload
    live = UploadOrigin()
    try:
        mock = mocks(proxy.home, proxy.capture_dir, session, "--fallback", live.url)
        assert post(mock.url + "/upload", upload_file)[:2] == (200, STORED)
        other = tmp_path / "other.bin"
        other.write_bytes(UPLOAD[::-1])
        status, body, _ = post(mock.url + "/upload", other)
        assert status == 413, body
        assert "cannot forward it to --fallback" in json.loads(body)["error"], body
        # a small unmatched body still goes to the fallback
        small = tmp_path / "small.bin"
        small.write_bytes(b"x" * 1000)
        status, body, _ = post(mock.url + "/echo", small)
        assert status == 200 and json.loads(body) == {"sha256": hashlib.sha256(b"x" * 1000).hexdigest()}, body
    finally:
        live.stop()


def test_the_mock_does_not_hold_a_large_upload(recorded_upload, mocks, tmp_path):
    proxy, session = recorded_upload
    mock = mocks(proxy.home, proxy.capture_dir, session)
    before = util.read_proc_status(mock.proc.pid, "VmHWM")
    assert before is not None
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as f:
        for i in range(96):
            f.write(hashlib.shake_256(i.to_bytes(4, "big")).digest(1 << 20))
    status, body, _ = post(mock.url + "/upload", huge)
    assert status == 404, body
    after = util.read_proc_status(mock.proc.pid, "VmHWM")
    assert after - before < GROWTH_LIMIT_KIB, f"peak RSS grew by {after - before} KiB taking a 96 MiB upload"
