"""`tapline run --transparent` beyond IPv4 HTTP/1 (issue #25): names resolved by a
DNS server only the test knows (through Tapline's DNS forwarder), IPv6, HTTP/2
inside an intercepted TLS tunnel, and the listeners session.json records.

The set-up is test_transparent.py's: Tapline puts COMMAND in a network namespace of
its own whose TCP an nftables rule there redirects to Tapline's transparent
listener; origins listen on 127.0.0.1 in the host's namespace, which Tapline's
upstream connections leave from. The host's ruleset and namespaces are checked
to be the same after each test."""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tapline_testkit.h2 import Nghttpd
from tapline_testkit.origin import user_record
from tapline_testkit.util import run_tapline, text
from tapline_testkit.echo import upper_case_echo
from test_transparent import ECHO_CLIENT, host_ruleset, root_with_ip_and_nft, run_flows, run_transparent  # noqa: F401 (fixtures)

BODY = b"h2 inside a transparent tunnel\n"


@pytest.fixture
def h2_tls_origin(tmp_path_factory, test_ca):
    docroot = tmp_path_factory.mktemp("h2-docroot")
    (docroot / "hello.txt").write_bytes(BODY)
    server = Nghttpd(docroot, tls=test_ca)
    yield server
    server.stop()


def test_http2_inside_a_transparent_tls_tunnel_is_recorded_as_http2(tmp_path, host_ruleset, h2_tls_origin, test_ca):
    url = f"https://localhost:{h2_tls_origin.port}/hello.txt"
    p = run_transparent(tmp_path, "sh", "-c",
                        f'exec curl -sS --http2 --noproxy "*" --cacert "$TAPLINE_HOME/ca.pem" '
                        f'-w "\\n%{{http_version}}" {url}',
                        options=["--upstream-ca", str(test_ca.ca_cert)])
    assert p.returncode == 0, p.stderr
    assert p.stdout == BODY + b"\n2", p.stdout  # curl spoke HTTP/2 to Tapline
    [flow] = run_flows(tmp_path)
    assert flow["request"]["version"] == "HTTP/2" and flow["response"]["version"] == "HTTP/2", flow
    assert flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"localhost:{h2_tls_origin.port}" and flow["url"] == url, flow  # :authority
    assert flow["server"] == f"127.0.0.1:{h2_tls_origin.port}", flow  # the original destination
    assert flow["clientTLS"]["sni"] == "localhost" and flow["clientTLS"]["alpn"] == "h2", flow
    assert flow["upstreamTLS"]["alpn"] == "h2", flow


def _session_json(workdir) -> dict:
    [session] = [d for d in (workdir / "captures").iterdir() if d.is_dir()]
    return json.loads((session / "session.json").read_text())


def test_session_json_records_the_listeners_as_bound(tmp_path, host_ruleset):
    p = run_transparent(tmp_path, "true", options=["--socks5", "127.0.0.1:0"])
    assert p.returncode == 0, p.stderr
    proxy = _session_json(tmp_path)["proxy"]
    bound = r"127\.0\.0\.1:[1-9][0-9]*"  # the port bound, not 0
    for key in ("listen", "socks5"):
        assert re.fullmatch(bound, proxy.get(key, "")), proxy
    # IPv4 and IPv6 transparent listeners
    assert re.fullmatch(rf"{bound}(, \[::1\]:[1-9][0-9]*)?", proxy.get("transparent", "")), proxy
    assert re.fullmatch(r"tapline-run-[0-9]+", proxy.get("transparentNamespace", "")), proxy
    listing = run_tapline("sessions", "--capture", str(tmp_path / "captures"), home=tmp_path / "home")
    assert listing.returncode == 0, listing.stderr
    out = text(listing)
    assert "LISTENERS" in out, out
    assert f"{proxy['listen']}, socks5 {proxy['socks5']}, transparent {proxy['transparent']} in " \
           f"{proxy['transparentNamespace']}" in out, out
    listing = run_tapline("sessions", "--capture", str(tmp_path / "captures"), "--json", home=tmp_path / "home")
    [session] = json.loads(text(listing))
    assert session["proxy"] == proxy, session


def test_show_names_the_listener_a_flow_arrived_on(tmp_path, host_ruleset):
    message = "which listener? " * 4
    with upper_case_echo("127.0.0.1") as port:
        p = run_transparent(tmp_path, "python3", "-c", ECHO_CLIENT, "127.0.0.1", str(port), message)
    assert p.returncode == 0, p.stderr
    [session] = [d for d in (tmp_path / "captures").iterdir() if d.is_dir()]
    proxy = json.loads((session / "session.json").read_text())["proxy"]
    shown = run_tapline("show", str(session), "--flow", "1", home=tmp_path / "home")
    assert shown.returncode == 0, shown.stderr
    listener = proxy["transparent"].split(", ")[0]  # the IPv4 one: the client connected to 127.0.0.1
    assert re.search(rf"listener +{re.escape(listener)} \(transparent, in {proxy['transparentNamespace']}\)",
                     text(shown)), text(shown)


# --- DNS ---------------------------------------------------------------------------

TEST_NAME = "only-the-test-dns.tapline.test"


class OneNameDNSServer:
    """A UDP DNS server on 127.0.0.1 (a free port, in the host's namespace) that knows one
    name: A -> 127.0.0.1, AAAA -> no address; any other name -> NXDOMAIN. Records the
    (name, type) of every query."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[str, int]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                query, client = self.sock.recvfrom(4096)
            except OSError:
                return
            labels, offset = [], 12
            while query[offset]:
                labels.append(query[offset + 1:offset + 1 + query[offset]].decode())
                offset += 1 + query[offset]
            qtype = struct.unpack(">H", query[offset + 1:offset + 3])[0]
            question = query[12:offset + 5]
            name = ".".join(labels).lower()
            self.queries.append((name, qtype))
            answers = b""
            flags = 0x8180  # response, recursion desired and available, NOERROR
            if name != TEST_NAME:
                flags |= 3  # NXDOMAIN
            elif qtype == 1:  # A
                answers = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
            header = query[:2] + struct.pack(">HHHHH", flags, 1, 1 if answers else 0, 0, 0)
            self.sock.sendto(header + question + answers, client)

    def stop(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def test_dns():
    server = OneNameDNSServer()
    yield server
    server.stop()


def test_a_name_only_the_hosts_dns_server_knows_resolves_inside_the_namespace(tmp_path, host_ruleset, test_dns,
                                                                               https_origin):
    """The namespace has loopback only: its resolver's UDP queries are redirected to Tapline's
    forwarder, which asks the DNS server given with --dns-server from the host's namespace."""
    url = f"https://{TEST_NAME}:{https_origin.port}/users/2"
    # The origin's certificate names localhost, not TEST_NAME: Tapline does not verify it (--insecure);
    # curl verifies Tapline's leaf for TEST_NAME.
    p = run_transparent(tmp_path, "sh", "-c", f'exec curl -sS --noproxy "*" --cacert "$TAPLINE_HOME/ca.pem" {url}',
                        options=["--insecure", "--dns-server", f"127.0.0.1:{test_dns.port}"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == user_record(2)
    assert (TEST_NAME, 1) in test_dns.queries, test_dns.queries
    [flow] = run_flows(tmp_path)
    assert flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"{TEST_NAME}:{https_origin.port}" and flow["url"] == url, flow
    assert flow["server"] == f"127.0.0.1:{https_origin.port}", flow  # the address the name resolved to
    assert flow["clientTLS"]["sni"] == TEST_NAME, flow


def test_a_name_the_dns_server_does_not_know_fails_to_resolve(tmp_path, host_ruleset, test_dns):
    p = run_transparent(tmp_path, "curl", "-sS", "--noproxy", "*", f"http://not-{TEST_NAME}/",
                        options=["--dns-server", f"127.0.0.1:{test_dns.port}"])
    assert p.returncode == 6, p.stderr  # curl: could not resolve host
    assert (f"not-{TEST_NAME}", 1) in test_dns.queries, test_dns.queries


# --- IPv6 --------------------------------------------------------------------------

class _IPv6Origin(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello over IPv6, Host {self.headers['Host']}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def ipv6_origin():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    server = _IPv6Origin(("::1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_ipv6_tcp_is_redirected_and_its_original_destination_recorded(tmp_path, host_ruleset, ipv6_origin):
    url = f"http://[::1]:{ipv6_origin}/v6"
    p = run_transparent(tmp_path, "curl", "-sS", "--noproxy", "*", url)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"hello over IPv6, Host [::1]:{ipv6_origin}\n".encode()
    [flow] = run_flows(tmp_path)
    assert flow["response"]["status"] == 200, flow
    assert flow["server"] == f"[::1]:{ipv6_origin}", flow  # IP6T_SO_ORIGINAL_DST
    assert flow["url"] == url, flow
    assert flow["client"].startswith("[::1]:"), flow
