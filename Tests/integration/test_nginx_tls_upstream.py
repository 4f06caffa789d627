"""nginx (`listen ... ssl http2`) as a TLS upstream on TLS 1.2 and on TLS 1.3, in forward
mode (CONNECT, interception) and reverse mode (`--reverse https://...`), for HTTP/1.1 and
HTTP/2 clients: many sequential fresh connections, and concurrent streams on each of a few.

Every request must come back 200 with the file's bytes, nginx must have served it over
the TLS version under test, and the capture must hold exactly one flow per request.
(A TLS 1.2 server sends its SETTINGS right behind its last handshake flight, often in
the same read: Tapline used to drop those bytes and fail the stream with a 502.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client
from tapline_testkit.nginx import NginxTLSOrigin
from tapline_testkit.origin import pattern_bytes
from tapline_testkit.util import curl, wait_until

FILES = {"1k.bin": 1024, "100k.bin": 100 * 1024}
FRESH_CONNECTIONS = 30
CONCURRENT_STREAMS = 20
CURL_FLAGS = {"h1": "--http1.1", "h2": "--http2"}
CURL_VERSIONS = {"h1": "1.1", "h2": "2"}
NGINX_PROTOCOLS = {"h1": "HTTP/1.1", "h2": "HTTP/2.0"}


@pytest.fixture(scope="module")
def docroot(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("nginx-docroot")
    for name, size in FILES.items():
        (d / name).write_bytes(pattern_bytes(size))
    return d


@pytest.fixture(scope="module", params=["TLSv1.2", "TLSv1.3"])
def nginx(request, tmp_path_factory, docroot, test_ca):
    server = NginxTLSOrigin(tmp_path_factory.mktemp(f"nginx-{request.param}"), docroot, test_ca, request.param)
    yield server
    server.stop()


def fetch(*args: str) -> tuple[int, str, bytes]:
    """One curl run: (HTTP status, HTTP version, body)."""
    r = curl("--write-out", "%{stderr}RESULT %{http_code} %{http_version}\n", *args)
    assert r.returncode == 0, r.stderr
    _, status, version = [line for line in r.stderr.splitlines() if line.startswith("RESULT ")][-1].split(" ")
    return int(status), version, r.stdout


def captured_flows(proxy, count: int) -> dict[int, dict[str, dict]]:
    """The capture's flows once `count` of them have ended: {flow id: {event type: event}}."""
    def all_ended():
        events = read_events(proxy.session_dir())
        return events if sum(e["type"] == "flowEnded" for e in events) >= count else None
    events = wait_until(all_ended, 20, message=f"{count} ended flows in the capture")
    flows: dict[int, dict[str, dict]] = {}
    for event in events:
        if "flow" in event:
            flows.setdefault(event["flow"], {})[event["type"]] = event
    return flows


def assert_one_good_flow_per_request(proxy, nginx, requests: int, alpn: str, body_bytes: int) -> None:
    """The capture holds `requests` flows, each a 200 with the whole body, without an error,
    over an upstream connection with the TLS version under test and `alpn`."""
    flows = captured_flows(proxy, requests)
    assert len(flows) == requests, f"{len(flows)} flows for {requests} requests"
    for flow_id, flow in flows.items():
        assert "error" not in flow["flowEnded"], (flow_id, flow["flowEnded"]["error"])
        assert flow["responseHead"]["status"] == 200, flow_id
        assert flow["responseEnd"]["bodyBytes"] == body_bytes, (flow_id, flow["responseEnd"])
        tls = flow["upstreamConnected"]["tls"]
        assert (tls["version"], tls["alpn"]) == (nginx.protocols, alpn), (flow_id, tls)


def assert_nginx_served(nginx, before: int, requests: int, client: str, path: str) -> None:
    """nginx logged `requests` more requests, each over the TLS version under test."""
    def logged():
        served = nginx.served()[before:]
        return served if len(served) >= requests else None
    served = wait_until(logged, 10, message=f"{requests} requests in nginx's access log")
    assert len(served) == requests, served
    for protocol, tls_version, status, size, uri in served:
        assert (protocol, tls_version, status, uri) == (NGINX_PROTOCOLS[client], nginx.protocols, "200", path)
        assert int(size) == FILES[path.lstrip("/")]


@pytest.mark.parametrize("client", ["h1", "h2"])
def test_forward_fresh_connections(tapline, nginx, test_ca, client):
    """Each curl run is a CONNECT and so a fresh TLS (and h2) connection to nginx."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert), "--quiet")
    ca = proxy.wait_for_ca()
    before = len(nginx.served())
    url = f"https://localhost:{nginx.port}/1k.bin"
    results = [fetch(CURL_FLAGS[client], "-x", proxy.proxy_url, "--cacert", str(ca), url)
               for _ in range(FRESH_CONNECTIONS)]
    failed = [(i, status) for i, (status, _, _) in enumerate(results) if status != 200]
    assert not failed, f"{len(failed)} of {FRESH_CONNECTIONS} requests failed: {failed}\n{proxy.stderr_tail()}"
    for status, version, body in results:
        assert version == CURL_VERSIONS[client] and body == pattern_bytes(FILES["1k.bin"])
    assert_one_good_flow_per_request(proxy, nginx, FRESH_CONNECTIONS, alpn={"h1": "http/1.1", "h2": "h2"}[client],
                                     body_bytes=FILES["1k.bin"])
    assert_nginx_served(nginx, before, FRESH_CONNECTIONS, client, "/1k.bin")


@pytest.mark.parametrize("client", ["h1", "h2"])
def test_reverse_fresh_connections(tapline, nginx, test_ca, client):
    """Each curl run is a new client connection, so a new upstream connection too.
    Both clients reach an h2 upstream: Tapline offers ALPN h2 first."""
    proxy = tapline("--reverse", f"https://localhost:{nginx.port}", "--upstream-ca", str(test_ca.ca_cert), "--quiet")
    before = len(nginx.served())
    flag = {"h1": "--http1.1", "h2": "--http2-prior-knowledge"}[client]
    results = [fetch(flag, f"{proxy.url}/1k.bin") for _ in range(FRESH_CONNECTIONS)]
    failed = [(i, status) for i, (status, _, _) in enumerate(results) if status != 200]
    assert not failed, f"{len(failed)} of {FRESH_CONNECTIONS} requests failed: {failed}\n{proxy.stderr_tail()}"
    for status, version, body in results:
        assert version == CURL_VERSIONS[client] and body == pattern_bytes(FILES["1k.bin"])
    assert_one_good_flow_per_request(proxy, nginx, FRESH_CONNECTIONS, alpn="h2", body_bytes=FILES["1k.bin"])
    assert_nginx_served(nginx, before, FRESH_CONNECTIONS, "h2", "/1k.bin")


def test_forward_concurrent_streams(tapline, nginx, test_ca):
    """Several CONNECT tunnels, each a fresh h2 connection whose first streams go out together."""
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert), "--quiet")
    ca = proxy.wait_for_ca()
    before = len(nginx.served())
    authority = f"localhost:{nginx.port}"
    connections = 5
    for _ in range(connections):
        h2client = H2Client(proxy.port, tls_ca=ca, connect_to=authority)
        sids = [h2client.request("/100k.bin", authority=authority, scheme="https") for _ in range(CONCURRENT_STREAMS)]
        h2client.wait_streams(sids)
        for sid in sids:
            response = h2client.responses[sid]
            assert sid not in h2client.resets, (sid, h2client.resets[sid])
            assert response["status"] == 200, (sid, response["status"])
            assert bytes(response["body"]) == pattern_bytes(FILES["100k.bin"]), sid
        h2client.close()
    requests = connections * CONCURRENT_STREAMS
    assert_one_good_flow_per_request(proxy, nginx, requests, alpn="h2", body_bytes=FILES["100k.bin"])
    assert_nginx_served(nginx, before, requests, "h2", "/100k.bin")


def test_reverse_concurrent_streams(tapline, nginx, test_ca):
    """nghttp: several h2c client connections, each with concurrent streams for the same file."""
    proxy = tapline("--reverse", f"https://localhost:{nginx.port}", "--upstream-ca", str(test_ca.ca_cert), "--quiet")
    before = len(nginx.served())
    connections = 5
    for _ in range(connections):
        p = subprocess.run(["nghttp", "--null-out", "--stat", "--multiply", str(CONCURRENT_STREAMS),
                            f"{proxy.url}/100k.bin"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr
        # the statistics table: "id responseEnd requestStart process code size request-path"
        codes = [line.split()[4] for line in p.stdout.splitlines() if line.rstrip().endswith(" /100k.bin")]
        assert codes == ["200"] * CONCURRENT_STREAMS, p.stdout
    requests = connections * CONCURRENT_STREAMS
    assert_one_good_flow_per_request(proxy, nginx, requests, alpn="h2", body_bytes=FILES["100k.bin"])
    assert_nginx_served(nginx, before, requests, "h2", "/100k.bin")
