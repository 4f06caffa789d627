"""`tapline run --transparent` intercepts with nftables `tproxy`, not `redirect`
(issue #25, Benchmark): no `nat` table in COMMAND's namespace, so its kernel keeps
no connection tracking (the +4 µs per request docs/performance.md measured). The
namespace's default routes are `local` ones, so every packet comes back in through
the loopback, and a filter-priority `prerouting` chain hands each connection's SYN
to Tapline's listener with `tproxy`; Tapline reads the original destination from
the accepted socket's local address. `--transparent-method
redirect` keeps the old rules.

The command runs in the namespace as root, so it reports the namespace's ruleset,
local routes and connection-tracking count itself. Origins listen on the host's
loopback (IPv4 and IPv6), where Tapline's upstream connections come from. The
host's ruleset, namespaces, policy rules and routes are checked to be the same after."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tapline_testkit.echo import upper_case_echo
from tapline_testkit.util import describe, run_tapline
from test_transparent import ECHO_CLIENT, host_ruleset, root_with_ip_and_nft, run_flows, run_transparent  # noqa: F401 (fixtures)

MESSAGE = "tproxy, exact bytes; " * 30


def echo_then_report(host: str, port: int, report: Path) -> list[str]:
    """COMMAND: the echo client, then the namespace's ruleset, local routes and conntrack count into `report`."""
    return ["sh", "-c",
            f'python3 -c "$0" {host} {port} "$1" && '
            f'{{ nft list ruleset; echo ---; ip route show table local; ip -6 route show table local; echo ---; '
            f'cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0; }} > {report}',
            ECHO_CLIENT, MESSAGE]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_tproxy_tunnels_plain_tcp_to_the_original_destination_with_no_nat_table(tmp_path, host_ruleset, host):
    if host == "::1" and not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    report = tmp_path / "namespace.txt"
    with upper_case_echo(host) as port:
        p = run_transparent(tmp_path, *echo_then_report(host, port, report))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == MESSAGE.upper()
    [flow] = run_flows(tmp_path)
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    assert flow["kind"] == "tunnel" and flow["authority"] == authority, flow  # the original destination
    assert flow["bytesFromClient"] == len(MESSAGE) and flow["bytesFromServer"] == len(MESSAGE), flow
    ruleset, routes, conntrack = report.read_text().split("---\n")
    assert "tproxy" in ruleset and "table inet tapline" in ruleset, ruleset
    assert "type nat" not in ruleset and "redirect" not in ruleset, ruleset  # no nat table: no connection tracking
    assert routes.count("local default dev lo") == (2 if socket.has_ipv6 else 1), routes  # every address is local
    assert int(conntrack) == 0, "the namespace's kernel tracked connections"


def test_redirect_method_keeps_the_nat_rules(tmp_path, host_ruleset):
    report = tmp_path / "namespace.txt"
    with upper_case_echo("127.0.0.1") as port:
        p = run_transparent(tmp_path, *echo_then_report("127.0.0.1", port, report),
                            options=["--transparent-method", "redirect"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == MESSAGE.upper()
    [flow] = run_flows(tmp_path)
    assert flow["kind"] == "tunnel" and flow["authority"] == f"127.0.0.1:{port}", flow
    assert flow["bytesFromClient"] == len(MESSAGE) and flow["bytesFromServer"] == len(MESSAGE), flow
    ruleset = report.read_text().split("---\n")[0]
    assert "type nat hook output" in ruleset and "redirect to" in ruleset and "tproxy" not in ruleset, ruleset


def test_transparent_method_needs_transparent_and_a_known_method():
    p = run_tapline("run", "--transparent-method", "tproxy", "--", "true")
    assert p.returncode == 2 and "add --transparent" in p.stderr, describe(p)
    p = run_tapline("run", "--transparent", "--transparent-method", "dnat", "--", "true")
    assert p.returncode == 2 and "tproxy or redirect" in p.stderr, describe(p)
