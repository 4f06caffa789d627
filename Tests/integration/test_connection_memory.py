"""Memory stays flat across a thousand connections, for every way a client
connection can start: plain (h2c or HTTP/1.1), TLS detected on a reverse listener,
and CONNECT followed by intercepted TLS. A connection that leaves anything behind
once it closed shows up as resident memory that grows with the connection count."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tapline_testkit.origin import pattern_bytes
from tapline_testkit.util import HOST, read_proc_status

# A leak of 8 KiB a connection over the ~1,000 measured ones; what the allocator
# keeps for itself stayed under 1 MB in these runs.
GROWTH_LIMIT_KB = 8 * 1024


@pytest.fixture(scope="module")
def docroot(tmp_path_factory):
    d = tmp_path_factory.mktemp("memory-docroot")
    (d / "1k.bin").write_bytes(pattern_bytes(1024))
    return d


def rss_kb(proxy) -> int:
    value = read_proc_status(proxy.pid, "VmRSS")
    assert value is not None, "tapline exited"
    return value


def h2load(url: str, *args: str, connections: int = 50) -> None:
    """`connections` fresh connections with two requests each; all must succeed."""
    requests = 2 * connections
    out = subprocess.run(["h2load", "-n", str(requests), "-c", str(connections), *args, url],
                         capture_output=True, text=True, timeout=120).stdout
    done = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", out)
    assert done and int(done.group(1)) == requests, out


@pytest.mark.parametrize("listen_tls", [False, True], ids=["plain", "tls"])
def test_reverse_connections_leave_nothing_behind(tapline, nghttpd, listen_tls):
    proxy = tapline("--reverse", f"h2c://{nghttpd.authority}", *(["--listen-tls"] if listen_tls else []),
                    capture=False)
    url = f"{'https' if listen_tls else 'http'}://{HOST}:{proxy.port}/1k.bin"

    def one_round():
        h2load(url)             # HTTP/2 (h2c with prior knowledge, or ALPN h2)
        h2load(url, "--h1")     # HTTP/1.1

    for _ in range(2):          # warm up: allocator arenas, the minted certificate
        one_round()
    before = rss_kb(proxy)
    for _ in range(10):         # 1,000 connections
        one_round()
    grown = rss_kb(proxy) - before
    assert grown < GROWTH_LIMIT_KB, f"resident memory grew by {grown} kB over 1,000 connections"


def test_intercepted_connect_tunnels_leave_nothing_behind(tapline, https_origin, test_ca):
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert), capture=False)
    ca = proxy.wait_for_ca()
    url = f"https://localhost:{https_origin.port}/bytes/1024"

    def tunnels(count: int) -> None:
        """`count` CONNECT tunnels, each with its own intercepted TLS session."""
        # `Connection: close` ends each tunnel after its one exchange; curl opens the next.
        out = subprocess.run([shutil.which("curl") or "curl", "-sS", "--http1.1", "-H", "Connection: close",
                              "-x", proxy.proxy_url, "--cacert", str(ca), "-w", "%{http_code} %{num_connects}\\n",
                              *[arg for _ in range(count) for arg in (url, "-o", "/dev/null")]],
                             capture_output=True, text=True, timeout=120)
        assert out.stdout.splitlines() == ["200 1"] * count, out.stderr

    tunnels(100)                # warm up
    before = rss_kb(proxy)
    for _ in range(5):          # 1,000 tunnels
        tunnels(200)
    grown = rss_kb(proxy) - before
    assert grown < GROWTH_LIMIT_KB, f"resident memory grew by {grown} kB over 1,000 CONNECT tunnels"
