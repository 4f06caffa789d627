"""Reverse mode's TLS listener with the user's certificate: `--listen-tls --cert FILE --key FILE`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tapline_testkit.origin import user_record
from tapline_testkit.util import curl, free_port, run_tapline, wait_until

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
RSA = ["-newkey", "rsa:2048"]


def make_pair(directory: Path, name: str, key_args: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1 and its unencrypted key (openssl req)."""
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", *key_args, "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "30", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def make_expired_pair(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost valid only on 2020-01-01 (`openssl ca -selfsign`)."""
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("01\n")
    config = directory / "ca.cnf"
    config.write_text("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\n"
                      "default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n")
    cert, key, request = directory / "expired-cert.pem", directory / "expired-key.pem", directory / "expired.csr"
    subprocess.run(["openssl", "req", "-new", *EC, "-nodes", "-keyout", str(key), "-out", str(request),
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-config", str(config), "-selfsign", "-keyfile", str(key),
                    "-in", str(request), "-out", str(cert), "-notext",
                    "-startdate", "20200101000000Z", "-enddate", "20200102000000Z"],
                   check=True, capture_output=True, cwd=directory)
    return cert, key


def served_certificate(port: int) -> str:
    """`openssl s_client` output for a handshake with SNI localhost offering h2."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
                        "-alpn", "h2,http/1.1"], input=b"", capture_output=True, timeout=30)
    return r.stdout.decode("utf-8", "replace")


def pem_body(text: str) -> str:
    start = text.index("-----BEGIN CERTIFICATE-----")
    end = text.index("-----END CERTIFICATE-----", start)
    return text[start:end]


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_listen_tls_serves_our_certificate_over_h2_and_http11(tapline, origin, tmp_path, kind):
    cert, key = make_pair(tmp_path, kind, EC if kind == "ec" else RSA)
    proxy = tapline("--reverse", origin.url, "--listen-tls", "--cert", str(cert), "--key", str(key))
    url = f"https://localhost:{proxy.port}/users/7"
    for flag, version in (("--http2", "2"), ("--http1.1", "1.1")):
        r = curl("-v", flag, "--cacert", str(cert), "--write-out", "%{stderr}VERSION=%{http_version}\n", url)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == user_record(7)
        assert f"VERSION={version}" in r.stderr, r.stderr
        assert "subject: CN=localhost" in r.stderr, r.stderr
    shown = served_certificate(proxy.port)
    assert "subject=CN = localhost" in shown and "ALPN protocol: h2" in shown, shown
    assert pem_body(shown) == pem_body(cert.read_text()), "the served certificate is not the one in --cert"
    wait_until(lambda: f"TLS listener presents CN=localhost from {cert}" in proxy.stderr_text(), 10,
               message="the startup line naming the certificate")
    proxy.stop()


def test_listen_tls_expired_certificate_is_served_with_a_warning(tapline, origin, tmp_path):
    cert, key = make_expired_pair(tmp_path)
    proxy = tapline("--reverse", origin.url, "--listen-tls", "--cert", str(cert), "--key", str(key))
    wait_until(lambda: f"warning: the certificate in {cert} expired on Jan  2 00:00:00 2020 GMT" in proxy.stderr_text(),
               10, message="the expiry warning")
    r = curl("--http2", "--cacert", str(cert), f"https://localhost:{proxy.port}/users/1")
    assert r.returncode == 60 and "expired" in r.stderr, r.stderr  # curl verifies and refuses
    r = curl("--http2", "--insecure", f"https://localhost:{proxy.port}/users/1")
    assert r.returncode == 0 and json.loads(r.stdout) == user_record(1), r.stderr
    proxy.stop()


@pytest.mark.parametrize("args, message", [
    (["--reverse", "http://127.0.0.1:9", "--cert", "C", "--key", "K"], "add --listen-tls"),
    (["--reverse", "http://127.0.0.1:9", "--listen-tls", "--cert", "C"], "--cert needs --key"),
    (["--reverse", "http://127.0.0.1:9", "--listen-tls", "--key", "K"], "--key needs --cert"),
    (["--listen-tls", "--cert", "C", "--key", "K"], "--listen-tls needs --reverse"),
])
def test_cert_and_key_flags_are_checked(tmp_path, args, message):
    r = run_tapline("proxy", "--listen", f"127.0.0.1:{free_port()}", "--no-capture", *args, home=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr, r.stderr


def test_bad_certificate_files_name_the_file(tmp_path):
    cert, key = make_pair(tmp_path, "one", EC)
    other_cert, other_key = make_pair(tmp_path, "two", EC)
    missing = tmp_path / "missing.pem"
    cases = [
        ((cert, other_key), f"the key in {other_key} does not match the certificate in {cert}"),
        ((missing, key), f"cannot read {missing}: No such file or directory"),
        ((key, key), f"{key} holds no PEM certificate"),
        ((cert, cert), f"{cert} holds no PEM private key"),
    ]
    for (c, k), message in cases:
        r = run_tapline("proxy", "--listen", f"127.0.0.1:{free_port()}", "--no-capture", "--reverse",
                        "http://127.0.0.1:9", "--listen-tls", "--cert", str(c), "--key", str(k), home=tmp_path)
        assert r.returncode == 1, r.stderr
        assert message in r.stderr, r.stderr
