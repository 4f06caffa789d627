"""Transparent interception (issue #25 item 3): `tapline proxy --transparent [HOST:]PORT`.

The test builds its own network: a namespace joined to the host by a veth pair
with addresses from a free /30, origins listening on the host side of that pair,
and one nftables table of its own on the host that redirects TCP arriving from the
veth (and only from it) to Tapline's transparent listener — the way a router or a
VM host sends its guests' traffic through a transparent proxy. Clients run inside
the namespace (`ip netns exec`) with no proxy settings; Tapline recovers each
connection's original destination with SO_ORIGINAL_DST and the capture records it.
All traffic stays on that veth pair; everything the test creates is removed and
the host's ruleset is compared before and after."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import threading

import pytest

from tapline_testkit.origin import OriginServer, user_record
from tapline_testkit.util import describe, free_port, run_tapline, text, wait_until

FLOW_WAIT = 10.0

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: creates a network namespace, a veth pair and nftables rules"),
    pytest.mark.skipif(shutil.which("ip") is None or shutil.which("nft") is None,
                       reason="needs `ip` (iproute2) and `nft` (nftables): scripts/install-test-deps.sh installs them"),
]


def sh(*args: str, input: str | None = None) -> str:
    p = subprocess.run(list(args), input=input, capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, f"{' '.join(args)}: {p.stderr}"
    return p.stdout


def free_subnet() -> ipaddress.IPv4Network:
    """A /30 in 10.253.0.0/16 that no interface or route on this host uses."""
    used = sh("ip", "-4", "-o", "addr", "show") + sh("ip", "-4", "route", "show", "table", "all")
    taken = [ipaddress.ip_network(word, strict=False) for word in used.split()
             if "/" in word and word[0].isdigit()]
    for third in range(10, 250):
        for fourth in range(0, 256, 4):
            net = ipaddress.ip_network(f"10.253.{third}.{fourth}/30")
            if not any(net.overlaps(t) for t in taken):
                return net
    pytest.skip("no free /30 in 10.253.0.0/16 for the test's veth pair")


class VethNamespace:
    """A namespace `ns` reached from the host over a veth pair: `host_ip` on the host side."""

    def __init__(self, listener_port: int):
        tag = f"{os.getpid() % 100000}"
        self.ns = f"tapline-test-{tag}"
        self.host_if, self.ns_if = f"tplth{tag}", f"tpltn{tag}"
        self.table = f"tapline_test_{tag}"
        net = free_subnet()
        hosts = list(net.hosts())
        self.host_ip, self.ns_ip = str(hosts[0]), str(hosts[1])
        self.ruleset_before = sh("nft", "list", "ruleset")
        sh("ip", "netns", "add", self.ns)
        try:
            sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if, "netns", self.ns)
            sh("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            sh("ip", "link", "set", self.host_if, "up")
            self.run_in("ip", "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
            self.run_in("ip", "link", "set", self.ns_if, "up")
            self.run_in("ip", "link", "set", "lo", "up")
            # Only TCP arriving from the test's veth goes to Tapline; the host's own traffic is untouched.
            sh("nft", "-f", "-", input=f"""
table ip {self.table} {{
    chain prerouting {{
        type nat hook prerouting priority dstnat; policy accept;
        iifname "{self.host_if}" meta l4proto tcp redirect to :{listener_port}
    }}
}}
""")
        except BaseException:
            self.remove()
            raise

    def run_in(self, *args: str, timeout: float = 30, input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.ns, *args], capture_output=True, timeout=timeout, input=input)

    def remove(self) -> None:
        subprocess.run(["nft", "delete", "table", "ip", self.table], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)  # the veth pair goes with it
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)


@pytest.fixture
def network():
    port = free_port()
    net = VethNamespace(port)
    net.listener_port = port
    yield net
    net.remove()
    assert sh("nft", "list", "ruleset") == net.ruleset_before, "the test's nftables table was not removed"


@pytest.fixture
def veth_origin(network):
    server = OriginServer(host=network.host_ip)
    yield server
    server.stop()


@pytest.fixture
def veth_https_origin(network, test_ca):
    server = OriginServer(tls=test_ca, host=network.host_ip)
    yield server
    server.stop()


def transparent_proxy(tapline, network, *args: str):
    proxy = tapline("--transparent", f"{network.host_ip}:{network.listener_port}", *args)
    proxy.wait_for_log(rf"transparent listener on {network.host_ip}:{network.listener_port}\b")
    return proxy


def flows(proxy, count: int) -> list[dict]:
    """The session's flows in full (`tapline show --flow N --json`) once `count` of them have ended."""
    def ended():
        p = run_tapline("show", str(proxy.session_dir()), "--json", home=proxy.home)
        assert p.returncode == 0, describe(p)
        done = [f["id"] for f in json.loads(text(p)) if f["state"] != "in-progress"]
        return done if len(done) >= count else None
    ids = wait_until(ended, FLOW_WAIT, message=f"{count} finished flows in the capture")
    details = []
    for flow_id in ids:
        p = run_tapline("show", str(proxy.session_dir()), "--flow", str(flow_id), "--json", home=proxy.home)
        assert p.returncode == 0, describe(p)
        details.append(json.loads(text(p)))
    return details


def test_https_is_intercepted_with_the_clients_sni_and_the_original_destination(tapline, network, veth_https_origin, test_ca):
    proxy = transparent_proxy(tapline, network, "--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    port = veth_https_origin.port
    # curl names the host (SNI localhost) but connects to the veth address: no proxy involved.
    r = network.run_in("curl", "-sS", "--noproxy", "*", "--cacert", str(ca),
                       "--resolve", f"localhost:{port}:{network.host_ip}", f"https://localhost:{port}/users/1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(1)
    [flow] = flows(proxy, 1)
    assert flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"{network.host_ip}:{port}", flow  # the original destination
    assert flow["clientTLS"]["sni"] == "localhost", flow
    assert flow["client"].startswith(network.ns_ip + ":"), flow


def test_http_keeps_the_host_header_and_goes_to_the_original_destination(tapline, network, veth_origin):
    proxy = transparent_proxy(tapline, network)
    port = veth_origin.port
    r = network.run_in("curl", "-sS", "--noproxy", "*", "-H", "Host: api.example.test",
                       f"http://{network.host_ip}:{port}/users/2")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(2)
    [request] = veth_origin.requests
    assert request.path == "/users/2" and request.header("Host") == "api.example.test"
    [flow] = flows(proxy, 1)
    assert flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"{network.host_ip}:{port}", flow


@pytest.fixture
def veth_echo(network):
    """Answers every chunk with its upper-case copy until the client closes; on the veth address."""
    listener = socket.socket()
    listener.bind((network.host_ip, 0))
    listener.listen(4)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=5)


ECHO_CLIENT = """
import socket, sys
host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with socket.create_connection((host, port), timeout=10) as s:
    s.sendall(message)
    got = b""
    while len(got) < len(message):
        got += s.recv(4096)
    sys.stdout.write(got.decode())
"""


def test_plain_tcp_is_a_tunnel_flow_with_exact_byte_counts(tapline, network, veth_echo):
    proxy = transparent_proxy(tapline, network)
    message = "hello, raw tcp; " * 50
    r = network.run_in("python3", "-c", ECHO_CLIENT, network.host_ip, str(veth_echo), message)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == message.upper()
    [flow] = flows(proxy, 1)
    assert flow["kind"] == "tunnel", flow
    assert flow["authority"] == f"{network.host_ip}:{veth_echo}", flow
    assert flow["bytesFromClient"] == len(message) and flow["bytesFromServer"] == len(message), flow


def test_a_connection_to_the_listener_itself_is_refused_as_a_loop(tapline, network):
    proxy = transparent_proxy(tapline, network)
    r = network.run_in("curl", "-sS", "--noproxy", "*", f"http://{network.host_ip}:{network.listener_port}/")
    assert r.returncode != 0
    [flow] = flows(proxy, 1)
    assert flow["kind"] == "tunnel" and "would loop" in flow["error"]["message"], flow
    proxy.wait_for_log(r"Tapline's own listener: it would loop")


def test_transparent_is_a_forward_mode_option():
    p = run_tapline("proxy", "--reverse", "http://127.0.0.1:9", "--transparent", "0")
    assert p.returncode == 2 and "--transparent needs forward mode" in p.stderr, describe(p)
