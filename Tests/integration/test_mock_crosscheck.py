"""`tapline mock` cross-checked with mitmproxy's server replay (issue #23, the mock's
tests): a session recorded through the proxy is exported as HAR and served twice, by
`mitmdump --server-replay` (reverse mode, the recorded origin stopped, misses killed)
and by `tapline mock`; each recorded request, sent to both over HTTP/1.1, must get the
same status and the same body bytes. A content-encoded body is the one exception:
mitmproxy keeps it decoded in the HAR and compresses it again (another gzip header), so
there the decoded bytes are compared, and the mock must also send the recorded encoded
bytes as they were. Skipped when mitmdump is not installed
(scripts/install-test-deps.sh makes .venv-mitmproxy; TAPLINE_MITMDUMP names another).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tapline_testkit.scripted_origin import HTTP1Answer, ScriptedHTTP1Origin
from tapline_testkit.util import HOST, curl, curl_status, describe, free_port, stop_peer, wait_for_port

from test_mock import answer, mocks  # noqa: F401  (`mocks` is the fixture)

BINARY = bytes(random.Random(2323).randrange(256) for _ in range(50_000))
GZIPPED = gzip.compress(b'{"rows": [1, 2, 3]}', mtime=1)
SEARCH_BODY = '{"q": "tapline", "page": 1}'

# Each recorded request as curl arguments (method, body, path), and what the origin answered.
REQUESTS = [
    (("/api/users",), answer(json.dumps({"users": [{"id": 1, "name": "Ann"}]}).encode())),
    (("/blob",), answer(BINARY, content_type="application/octet-stream")),
    (("/report",), answer(GZIPPED, extra=["Content-Encoding: gzip"])),
    (("/api/items?a=1&b=2",), answer(b'{"items": []}')),
    (("-H", "Content-Type: application/json", "--data-binary", SEARCH_BODY, "/api/search"), answer(b'{"hits": 3}')),
    (("/gone",), HTTP1Answer(b"HTTP/1.1 410 Gone\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\ngone\n")),
]


def mitmdump_path() -> str:
    repo = Path(__file__).resolve().parents[2]
    found = os.environ.get("TAPLINE_MITMDUMP") or shutil.which("mitmdump", path=str(repo / ".venv-mitmproxy" / "bin"))
    if found is None or not os.access(found, os.X_OK):
        pytest.skip("mitmdump is not installed (scripts/install-test-deps.sh makes .venv-mitmproxy; or set TAPLINE_MITMDUMP)")
    return found


def test_mitmdump_server_replay_and_tapline_mock_give_the_same_status_and_bytes(tapline, mocks, tmp_path):
    mitmdump = mitmdump_path()
    origin = ScriptedHTTP1Origin({args[-1]: response for args, response in REQUESTS})
    try:
        proxy = tapline()
        for args, _ in REQUESTS:
            r = curl("-x", proxy.proxy_url, *args[:-1], origin.url + args[-1])
            assert r.returncode == 0, r.stderr
        session = proxy.session_dir()
        proxy.stop()
    finally:
        origin.stop()  # both replays must answer from the recording alone
    har = tmp_path / "session.har"
    p = proxy.cli("export", str(session), "--har", str(har))
    assert p.returncode == 0, describe(p)

    port = free_port()
    mitm = subprocess.Popen([mitmdump, "--listen-host", HOST, "--listen-port", str(port), "-q",
                             "--mode", f"reverse:{origin.url}", "--server-replay", str(har),
                             "--set", "server_replay_reuse=true", "--set", "server_replay_extra=kill",
                             "--set", "connection_strategy=lazy", "--set", f"confdir={tmp_path / 'mitm'}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, 60, alive=lambda: mitm.poll() is None)
        mock = mocks(proxy.home, proxy.capture_dir, str(session))
        for args, recorded in REQUESTS:
            encoded = b"Content-Encoding:" in recorded.response.split(b"\r\n\r\n")[0]
            decoding = ("--compressed",) if encoded else ()
            theirs = curl_status("--http1.1", *decoding, *args[:-1], f"http://{HOST}:{port}{args[-1]}")
            ours = curl_status("--http1.1", *decoding, *args[:-1], mock.url + args[-1])
            assert theirs[0] != 0 and theirs[:2] == ours[:2], \
                (args, "mitmdump", theirs[0], theirs[1][:200], "tapline mock", ours[0], ours[1][:200])
        assert curl(mock.url + "/report").stdout == GZIPPED, "the mock sends the recorded encoded bytes"
    finally:
        stop_peer(mitm, timeout=30)
