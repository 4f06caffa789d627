"""Transparent interception (issue #25 item 3): `tapline proxy --transparent [HOST:]PORT`,
and `tapline run --transparent -- CMD`.

`tapline proxy --transparent`:

The test builds its own network: a namespace joined to the host by a veth pair
with addresses from a free /30, origins listening on the host side of that pair,
and one nftables table of its own on the host that redirects TCP arriving from the
veth (and only from it) to Tapline's transparent listener — the way a router or a
VM host sends its guests' traffic through a transparent proxy. Clients run inside
the namespace (`ip netns exec`) with no proxy settings; Tapline recovers each
connection's original destination with SO_ORIGINAL_DST and the capture records it.
All traffic stays on that veth pair; everything the test creates is removed and
the host's ruleset is compared before and after.

`tapline run --transparent`: Tapline sets up the namespace itself (its transparent
listener is opened inside it, and an nftables table there redirects the command's
TCP to it), so the command reaches the origins on 127.0.0.1 only through Tapline."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tapline_testkit.echo import upper_case_echo
from tapline_testkit.origin import OriginServer, user_record
from tapline_testkit.shown_flows import finished_flows
from tapline_testkit.util import clean_env, describe, free_port, run_tapline, tapline_bin, text, wait_until


def _missing_environment() -> str | None:
    if os.geteuid() != 0:
        return "needs root: creates network namespaces, a veth pair and nftables rules"
    if shutil.which("ip") is None or shutil.which("nft") is None:
        return "needs `ip` (iproute2) and `nft` (nftables): scripts/install-test-deps.sh installs them"
    return None


@pytest.fixture
def root_with_ip_and_nft():
    """Skips without root, ip or nft; CI runs as root with both, so there it fails instead."""
    missing = _missing_environment()
    if missing is None:
        return
    if os.environ.get("CI", "") not in ("", "0", "false"):
        pytest.fail(missing)
    pytest.skip(missing)


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
def network(root_with_ip_and_nft):
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


def test_https_is_intercepted_with_the_clients_sni_and_the_original_destination(tapline, network, veth_https_origin, test_ca):
    proxy = transparent_proxy(tapline, network, "--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    port = veth_https_origin.port
    # curl names the host (SNI localhost) but connects to the veth address: no proxy involved.
    r = network.run_in("curl", "-sS", "--noproxy", "*", "--cacert", str(ca),
                       "--resolve", f"localhost:{port}:{network.host_ip}", f"https://localhost:{port}/users/1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(1)
    [flow] = finished_flows(proxy, 1)
    assert (flow.get("response") or {}).get("status") == 200, flow
    assert flow["authority"] == f"localhost:{port}", flow  # the Host the client sent
    assert flow["server"] == f"{network.host_ip}:{port}", flow  # the original destination
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
    [flow] = finished_flows(proxy, 1)
    assert flow["response"]["status"] == 200, flow
    assert flow["authority"] == "api.example.test", flow  # the Host the client sent
    assert flow["url"] == "http://api.example.test/users/2", flow
    assert flow["server"] == f"{network.host_ip}:{port}", flow  # the original destination


@pytest.fixture
def veth_echo(network):
    """Answers every chunk with its upper-case copy until the client closes; on the veth address."""
    with upper_case_echo(network.host_ip) as port:
        yield port


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
    [flow] = finished_flows(proxy, 1)
    assert flow["kind"] == "tunnel", flow
    assert flow["authority"] == f"{network.host_ip}:{veth_echo}", flow
    assert flow["bytesFromClient"] == len(message) and flow["bytesFromServer"] == len(message), flow


def test_a_connection_to_the_listener_itself_is_refused_as_a_loop(tapline, network):
    proxy = transparent_proxy(tapline, network)
    r = network.run_in("curl", "-sS", "--noproxy", "*", f"http://{network.host_ip}:{network.listener_port}/")
    assert r.returncode != 0
    [flow] = finished_flows(proxy, 1)
    assert flow["kind"] == "tunnel" and "would loop" in flow["error"]["message"], flow
    proxy.wait_for_log(r"Tapline's own listener: it would loop")


def test_transparent_is_a_forward_mode_option():
    p = run_tapline("proxy", "--reverse", "http://127.0.0.1:9", "--transparent", "0")
    assert p.returncode == 2 and "--transparent needs forward mode" in p.stderr, describe(p)


# --- tapline run --transparent ---------------------------------------------------

RUN_TIMEOUT = 60


def run_argv(workdir: Path, options: list[str], command: list[str]) -> list[str]:
    return [str(tapline_bin()), "run", "--capture", str(workdir / "captures"), "--quiet", *options,
            "--transparent", "--", *command]


def run_env(workdir: Path) -> dict:
    (workdir / "home").mkdir(exist_ok=True)
    return clean_env({"TAPLINE_HOME": str(workdir / "home")})


def run_transparent(workdir: Path, *command: str, options: list[str] = ()) -> subprocess.CompletedProcess:
    p = subprocess.run(run_argv(workdir, list(options), list(command)), capture_output=True, timeout=RUN_TIMEOUT,
                       env=run_env(workdir), cwd=workdir)
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


def run_flows(workdir: Path) -> list[dict]:
    [session] = [d for d in (workdir / "captures").iterdir() if d.is_dir()]
    p = run_tapline("show", str(session), "--json", home=workdir / "home")
    assert p.returncode == 0, describe(p)
    details = []
    for flow in json.loads(text(p)):
        q = run_tapline("show", str(session), "--flow", str(flow["id"]), "--json", home=workdir / "home")
        assert q.returncode == 0, describe(q)
        details.append(json.loads(text(q)))
    return details


def tapline_namespaces() -> set[str]:
    return {line.split()[0] for line in sh("ip", "netns", "list").splitlines() if line.startswith("tapline-run-")}


def host_network_state() -> tuple:
    """The host's nftables ruleset, tapline namespaces, policy rules and routes (IPv4 and IPv6)."""
    return (sh("nft", "list", "ruleset"), tapline_namespaces(), sh("ip", "rule"), sh("ip", "-6", "rule"),
            sh("ip", "route", "show", "table", "all"), sh("ip", "-6", "route", "show", "table", "all"))


@pytest.fixture
def host_ruleset(root_with_ip_and_nft):
    """The host's nftables ruleset, namespaces, policy rules and routes must be the same after the test."""
    before = host_network_state()
    yield
    assert host_network_state() == before


def test_run_transparent_captures_a_client_that_ignores_proxies(tmp_path, host_ruleset, https_origin, test_ca):
    url = f"https://localhost:{https_origin.port}/users/1"
    ca = tmp_path / "home" / "ca.pem"
    # curl is told to ignore every proxy and to trust only Tapline's CA (created by the run).
    p = run_transparent(tmp_path, "sh", "-c", f'exec curl -sS --noproxy "*" --cacert "$TAPLINE_HOME/ca.pem" {url}',
                        options=["--upstream-ca", str(test_ca.ca_cert)])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == user_record(1)
    assert ca.exists()
    [flow] = run_flows(tmp_path)
    assert flow["response"]["status"] == 200, flow
    assert flow["authority"] == f"localhost:{https_origin.port}" and flow["url"] == url, flow
    assert flow["server"] == f"127.0.0.1:{https_origin.port}", flow  # the original destination
    assert flow["clientTLS"]["sni"] == "localhost", flow


def test_run_transparent_tunnels_plain_tcp_with_exact_byte_counts(tmp_path, host_ruleset):
    message = "plain tcp in a namespace; " * 40
    with upper_case_echo("127.0.0.1") as port:
        p = run_transparent(tmp_path, "python3", "-c", ECHO_CLIENT, "127.0.0.1", str(port), message)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == message.upper()
    [flow] = run_flows(tmp_path)
    assert flow["kind"] == "tunnel" and flow["authority"] == f"127.0.0.1:{port}", flow
    assert flow["bytesFromClient"] == len(message) and flow["bytesFromServer"] == len(message), flow


def test_run_transparent_exit_code_passes_through(tmp_path, host_ruleset):
    p = run_transparent(tmp_path, "sh", "-c", "exit 7")
    assert p.returncode == 7, p.stderr


def test_a_killed_runs_namespace_is_removed_by_the_next_run(tmp_path, host_ruleset):
    ready = tmp_path / "ready"
    proc = subprocess.Popen(run_argv(tmp_path, [], ["sh", "-c", f"touch {ready}; exec sleep 60"]),
                            env=run_env(tmp_path), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stale = f"tapline-run-{proc.pid}"
    try:
        wait_until(ready.exists, 20, message="the command started in its namespace")
        assert stale in tapline_namespaces()
        # The interception lives in the namespace: its tproxy rules and `local` default route.
        assert "tproxy" in sh("ip", "netns", "exec", stale, "nft", "list", "ruleset")
        assert "local default dev lo" in sh("ip", "-n", stale, "route", "show", "table", "local")
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    for child in children:  # the command outlives a SIGKILLed Tapline; it is the test's to stop
        os.kill(int(child), 9)
    assert stale in tapline_namespaces(), "the killed run left its namespace behind (what the next run cleans)"
    next_run = tmp_path / "next"
    next_run.mkdir()
    p = run_transparent(next_run, "true")
    assert p.returncode == 0, p.stderr
    assert f"removed the network namespace {stale}" in p.stderr
    assert stale not in tapline_namespaces()


def test_run_transparent_without_root_says_what_to_do(tmp_path):
    drop_root: list[str] = []
    if os.geteuid() == 0:  # run it as nobody
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("needs setpriv (util-linux) to drop root")
        tmp_path.chmod(0o777)
        drop_root = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]
    p = subprocess.run([*drop_root, *run_argv(tmp_path, [], ["true"])],
                       capture_output=True, timeout=RUN_TIMEOUT, env=run_env(tmp_path), cwd=tmp_path, text=True)
    assert p.returncode == 2, p.stderr
    assert "--transparent needs root" in p.stderr and "plain `tapline run -- COMMAND`" in p.stderr


def test_run_transparent_passes_a_host_through_by_its_sni(tmp_path, host_ruleset, https_origin, test_ca):
    """The target of a redirected connection is an address; --passthrough names the ClientHello's server."""
    url = f"https://localhost:{https_origin.port}/users/3"
    # Passed through, the client sees the origin's own certificate (the test CA's), not Tapline's.
    p = run_transparent(tmp_path, "curl", "-sS", "--noproxy", "*", "--cacert", str(test_ca.ca_cert), url,
                        options=["--passthrough", "localhost"])
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == user_record(3)
    [flow] = run_flows(tmp_path)
    assert flow["kind"] == "tunnel" and flow["authority"] == f"127.0.0.1:{https_origin.port}", flow
    assert flow["bytesFromClient"] > 0 and flow["bytesFromServer"] > 0, flow
