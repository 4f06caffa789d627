"""The tapline command line: version, usage errors, the CA, warnings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tapline_testkit.util import describe, run_quiet, run_tapline, text


def test_version(tmp_path):
    p = run_tapline("--version", home=tmp_path)
    assert p.returncode == 0, describe(p)
    assert text(p).strip(), "--version printed nothing"


@pytest.mark.parametrize("args", [[], ["proxy"], ["sessions"], ["show"], ["ca"]])
def test_help(tmp_path, args):
    p = run_tapline(*args, "--help", home=tmp_path)
    assert p.returncode == 0, describe(p)
    assert "usage" in (text(p) + p.stderr).lower(), describe(p)


@pytest.mark.parametrize("args", [["frobnicate"], ["proxy", "--no-such-flag"],
                                  ["sessions", "--no-such-flag"], ["ca", "--no-such-flag"]])
def test_usage_errors_exit_2(tmp_path, args):
    p = run_tapline(*args, home=tmp_path, timeout=10)
    assert p.returncode == 2, describe(p)
    assert p.stderr.strip(), "a usage error must say what is wrong"


def test_ca_path(tmp_path):
    p = run_tapline("ca", "--path", home=tmp_path)
    assert p.returncode == 0, describe(p)
    assert Path(text(p).strip()).resolve() == (tmp_path / "ca.pem").resolve()


def test_ca_export_writes_a_certificate_and_keeps_the_key_private(tmp_path):
    home = tmp_path / "home"
    out = tmp_path / "exported.pem"
    p = run_tapline("ca", "--export", str(out), home=home)
    assert p.returncode == 0, describe(p)
    pem = out.read_text()
    assert "-----BEGIN CERTIFICATE-----" in pem
    assert "PRIVATE KEY" not in pem
    run_quiet(["openssl", "x509", "-in", str(out), "-noout", "-subject"])
    for f in home.rglob("*"):
        if f.is_file() and "PRIVATE KEY" in f.read_text(errors="replace"):
            mode = stat.S_IMODE(f.stat().st_mode)
            assert mode & 0o077 == 0, f"{f} holds a private key with mode {oct(mode)}"


def test_ca_regenerate_makes_a_new_certificate(tmp_path):
    home = tmp_path / "home"
    first, second = tmp_path / "1.pem", tmp_path / "2.pem"
    assert run_tapline("ca", "--export", str(first), home=home).returncode == 0
    p = run_tapline("ca", "--regenerate", home=home)
    assert p.returncode == 0, describe(p)
    assert run_tapline("ca", "--export", str(second), home=home).returncode == 0
    assert first.read_text() != second.read_text()


def test_listening_on_all_interfaces_warns(tapline):
    proxy = tapline(listen_host="0.0.0.0")
    proxy.wait_for_log(r"(?i)warn", timeout=5)


def test_loopback_listen_is_announced(tapline):
    proxy = tapline()
    proxy.wait_for_log(rf"listening on 127\.0\.0\.1:{proxy.port}\b", timeout=5)
    proxy.wait_for_log(r"capturing into \S+", timeout=5)
