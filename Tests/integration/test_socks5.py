"""The SOCKS5 listener (issue #25 item 2): `tapline proxy --socks5 [HOST:]PORT`.

Real SOCKS5 clients (curl, httpx with socksio, a raw socket) reach the testkit's
origins on 127.0.0.1 through it; after the handshake the connection goes the same
way as after an HTTP CONNECT (TLS intercepted with Tapline's CA, HTTP/1.1 proxied,
anything else a counted tunnel), and the capture records it with the authority the
client asked for (the name when it sent a name)."""

from __future__ import annotations

import json
import socket
import ssl
import struct
import subprocess

import httpx
import pytest

from tapline_testkit import rawhttp
from tapline_testkit.echo import upper_case_echo
from tapline_testkit.origin import user_record
from tapline_testkit.shown_flows import finished_flows
from tapline_testkit.util import HOST, clean_env, curl, describe, free_port, run_tapline, tapline_bin, text



def socks5_proxy(tapline, *args: str):
    """A forward proxy with a SOCKS5 listener on a free port; returns (proxy, socks port)."""
    port = free_port()
    proxy = tapline("--socks5", f"{HOST}:{port}", *args)
    proxy.wait_for_log(rf"SOCKS5 listening on {HOST}:{port}\b")
    return proxy, port


def test_curl_socks5_hostname_https_is_intercepted_and_named(tapline, https_origin, test_ca):
    proxy, socks = socks5_proxy(tapline, "--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    url = f"https://localhost:{https_origin.port}/users/1"
    r = curl("--socks5-hostname", f"{HOST}:{socks}", "--cacert", str(ca), url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(1)
    [flow] = finished_flows(proxy, 1)
    assert flow["url"] == url and flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"localhost:{https_origin.port}", flow
    assert flow["clientTLS"]["sni"] == "localhost", flow


def test_curl_socks5_with_an_ip_address_http_origin(tapline, origin):
    proxy, socks = socks5_proxy(tapline)
    url = f"http://{HOST}:{origin.port}/users/2"
    r = curl("--socks5", f"{HOST}:{socks}", url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(2)
    assert [q.path for q in origin.requests] == ["/users/2"]
    [flow] = finished_flows(proxy, 1)
    assert flow["url"] == url and flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"{HOST}:{origin.port}", flow


def test_curl_socks5_with_an_ip_address_https_origin(tapline, https_origin, test_ca):
    """curl resolves the name itself and sends the IP; the SNI still names the host."""
    proxy, socks = socks5_proxy(tapline, "--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    url = f"https://localhost:{https_origin.port}/users/3"
    r = curl("--socks5", f"{HOST}:{socks}", "--resolve", f"localhost:{https_origin.port}:{HOST}",
             "--cacert", str(ca), url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(3)
    [flow] = finished_flows(proxy, 1)
    assert flow["authority"] == f"{HOST}:{https_origin.port}" and flow["response"]["status"] == 200, flow
    assert flow["clientTLS"]["sni"] == "localhost", flow


@pytest.fixture
def docroot(tmp_path):
    """What the `nghttpd` fixture serves."""
    (tmp_path / "hello.txt").write_bytes(b"hello over h2c\n")
    return tmp_path


def test_h2c_prior_knowledge_through_socks5(tapline, nghttpd):
    proxy, socks = socks5_proxy(tapline)
    url = f"http://{nghttpd.authority}/hello.txt"
    r = curl("--http2-prior-knowledge", "--socks5-hostname", f"{HOST}:{socks}",
             "--write-out", "%{stderr}VERSION=%{http_version}", url)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello over h2c\n" and r.stderr.endswith("VERSION=2"), r
    [flow] = finished_flows(proxy, 1)
    assert flow["url"] == url and flow["response"]["status"] == 200, flow
    assert flow["request"]["version"] == "HTTP/2", flow


def test_username_and_password(tapline, origin):
    proxy, socks = socks5_proxy(tapline, "--socks5-auth", "alice:s3cret")
    url = f"http://{HOST}:{origin.port}/users/4"
    r = curl("--socks5-hostname", f"alice:s3cret@{HOST}:{socks}", url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(4)
    r = curl("--socks5-hostname", f"{HOST}:{socks}", "--proxy-user", "alice:wrong", url)
    assert r.returncode == 97, f"expected curl exit 97 (proxy handshake failed): {r}"
    r = curl("--socks5-hostname", f"{HOST}:{socks}", url)  # offers no-auth only
    assert r.returncode == 97, f"expected curl exit 97 (proxy handshake failed): {r}"
    assert [q.path for q in origin.requests] == ["/users/4"]
    errors = sorted(f["error"]["message"] for f in finished_flows(proxy, 3) if f["error"])
    assert len(errors) == 2, errors
    assert "authentication failed for user \"alice\"" in errors[0], errors
    assert "no acceptable SOCKS5 authentication method" in errors[1], errors


def test_httpx_through_a_socks5h_proxy(tapline, https_origin, test_ca):
    proxy, socks = socks5_proxy(tapline, "--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    url = f"https://localhost:{https_origin.port}/users/5"
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(proxy=f"socks5://{HOST}:{socks}", verify=verify, timeout=20) as client:
        response = client.get(url)
    assert response.status_code == 200 and response.json() == user_record(5)
    [flow] = finished_flows(proxy, 1)
    assert flow["url"] == url and flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"localhost:{https_origin.port}", "httpx sends the name: Tapline resolves it"


def _socks5_connect(port: int, request_address: bytes, target_port: int) -> socket.socket:
    """A raw SOCKS5 client: no-auth greeting and a CONNECT; returns the socket after a success reply."""
    sock = socket.create_connection((HOST, port), timeout=10)
    sock.sendall(b"\x05\x01\x00")
    assert rawhttp.receive_exactly(sock, 2) == b"\x05\x00"
    sock.sendall(b"\x05\x01\x00" + request_address + struct.pack("!H", target_port))
    assert rawhttp.receive_exactly(sock, 10) == b"\x05\x00\x00\x01" + bytes(6)
    return sock


@pytest.fixture
def echo_server():
    """Answers every chunk with its upper-case copy until the client closes."""
    with upper_case_echo(HOST) as port:
        yield port


@pytest.mark.parametrize("address", ["ipv4", "domain"])
def test_raw_tcp_echo_is_a_tunnel_flow_with_exact_byte_counts(tapline, echo_server, address):
    proxy, socks = socks5_proxy(tapline)
    request = b"\x01" + socket.inet_aton(HOST) if address == "ipv4" else b"\x03\x09localhost"
    message = b"\x00binary protocol hello"   # not TLS, not HTTP
    with _socks5_connect(socks, request, echo_server) as sock:
        sock.sendall(message)
        assert rawhttp.receive_exactly(sock, len(message)) == message.upper()
        sock.sendall(b"more")
        assert rawhttp.receive_exactly(sock, 4) == b"MORE"
    [flow] = finished_flows(proxy, 1)
    assert flow["kind"] == "tunnel" and flow["error"] is None, flow
    assert flow["authority"] == (f"{HOST}:{echo_server}" if address == "ipv4" else f"localhost:{echo_server}"), flow
    assert flow["bytesFromClient"] == len(message) + 4 and flow["bytesFromServer"] == len(message) + 4, flow
    assert flow["durationMs"] is not None, flow


def test_ipv6_target(tapline):
    try:
        listener = socket.socket(socket.AF_INET6)
        listener.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    listener.listen(1)
    port = listener.getsockname()[1]
    proxy, socks = socks5_proxy(tapline)
    try:
        with _socks5_connect(socks, b"\x04" + socket.inet_pton(socket.AF_INET6, "::1"), port) as sock:
            conn, _ = listener.accept()
            with conn:
                sock.sendall(b"\x01ping")
                assert rawhttp.receive_exactly(conn, 5) == b"\x01ping"
    finally:
        listener.close()
    [flow] = finished_flows(proxy, 1)
    assert flow["kind"] == "tunnel" and flow["authority"] == f"[::1]:{port}", flow


@pytest.mark.parametrize("greeting, socks_request, reply", [
    # BIND and UDP ASSOCIATE: "command not supported".
    (b"\x05\x01\x00", b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", b"\x05\x00" + b"\x05\x07\x00\x01" + bytes(6)),
    (b"\x05\x01\x00", b"\x05\x03\x00\x01\x7f\x00\x00\x01\x00\x50", b"\x05\x00" + b"\x05\x07\x00\x01" + bytes(6)),
    # An address type that does not exist: "address type not supported".
    (b"\x05\x01\x00", b"\x05\x01\x00\x09\x7f\x00\x00\x01\x00\x50", b"\x05\x00" + b"\x05\x08\x00\x01" + bytes(6)),
    # No method we accept: X'FF'.
    (b"\x05\x01\x80", b"", b"\x05\xff"),
    # A SOCKS4 client: SOCKS4's "request rejected".
    (b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00", b"", b"\x00\x5b" + bytes(6)),
    # Not SOCKS at all: closed without a reply.
    (b"GET / HTTP/1.1\r\n\r\n", b"", b""),
], ids=["bind", "udp-associate", "address-type", "no-method", "socks4", "http"])
def test_bad_requests_get_the_right_reply_and_are_recorded(tapline, greeting, socks_request, reply):
    proxy, socks = socks5_proxy(tapline)
    with socket.create_connection((HOST, socks), timeout=10) as sock:
        sock.sendall(greeting + socks_request)
        answer = b""
        while chunk := sock.recv(64):   # the proxy closes after its reply
            answer += chunk
    assert answer == reply
    [flow] = finished_flows(proxy, 1)
    assert flow["kind"] == "tunnel" and flow["error"]["kind"] == "bad-request", flow


def test_an_unfinished_handshake_is_closed_at_the_header_timeout(tapline):
    proxy, socks = socks5_proxy(tapline, "--header-timeout", "0.5")
    with socket.create_connection((HOST, socks), timeout=10) as sock:
        sock.sendall(b"\x05\x01")           # the method list never comes
        assert sock.recv(64) == b""          # closed, not left hanging
    [flow] = finished_flows(proxy, 1)
    assert flow["error"]["kind"] == "client-timeout", flow
    assert "SOCKS5 handshake" in flow["error"]["message"], flow


def test_socks5_is_a_forward_mode_option():
    p = run_tapline("proxy", "--reverse", "http://127.0.0.1:9", "--socks5", "0")
    assert p.returncode == 2 and "--socks5 needs forward mode" in p.stderr, describe(p)
    p = run_tapline("proxy", "--socks5-auth", "a:b")
    assert p.returncode == 2 and "add --socks5" in p.stderr, describe(p)


def test_run_with_socks5_points_all_proxy_at_it(tmp_path, https_origin, test_ca):
    """`tapline run --socks5 0`: ALL_PROXY is socks5h://, the other proxy variables stay
    HTTP; curl left with ALL_PROXY alone goes through SOCKS5 and is captured by name."""
    home, captures = tmp_path / "home", tmp_path / "captures"
    url = f"https://localhost:{https_origin.port}/users/6"
    script = ('printf "%s %s\\n" "$ALL_PROXY" "$HTTPS_PROXY"; '
              f'env -u HTTPS_PROXY -u https_proxy -u HTTP_PROXY -u http_proxy curl -sS --fail {url}')
    p = subprocess.run([str(tapline_bin()), "run", "--capture", str(captures), "--quiet", "--socks5", "0",
                        "--upstream-ca", str(test_ca.ca_cert), "--", "sh", "-c", script],
                       capture_output=True, timeout=60, env=clean_env({"TAPLINE_HOME": str(home)}), cwd=tmp_path)
    out = p.stdout.decode()
    assert p.returncode == 0, f"{out}\n{p.stderr.decode()}"
    variables, body = out.split("\n", 1)
    socks_url, http_url = variables.split(" ")
    assert socks_url.startswith(f"socks5h://{HOST}:") and http_url.startswith(f"http://{HOST}:"), variables
    assert json.loads(body) == user_record(6)
    [session] = [d for d in captures.iterdir() if d.is_dir()]
    shown = run_tapline("show", str(session), "--flow", "1", "--json", home=home)
    flow = json.loads(text(shown))
    assert flow["url"] == url and flow["authority"] == f"localhost:{https_origin.port}", flow
