"""Forward proxy, HTTPS: CONNECT, interception with Tapline's CA, upstream
certificate verification."""

from __future__ import annotations

import json

from tapline_testkit.origin import user_record
from tapline_testkit.util import curl, curl_status


def test_https_is_intercepted_with_tapline_ca(tapline, https_origin, test_ca):
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    r = curl("-x", proxy.proxy_url, "--cacert", str(ca), f"{https_origin.url}/users/1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(1)
    assert [q.path for q in https_origin.requests] == ["/users/1"]
    # Tapline saw the decrypted request
    proxy.wait_for_log(rf"GET https://127\.0\.0\.1:{https_origin.port}/users/1 -> 200\b")


def test_client_without_tapline_ca_rejects_the_certificate(tapline, https_origin, test_ca):
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    r = curl("-x", proxy.proxy_url, f"{https_origin.url}/users/1")
    assert r.returncode == 60, f"expected curl exit 60 (certificate problem): {r}"
    assert https_origin.requests_for("/users/1") == []


def test_upstream_certificate_is_verified_by_default(tapline, https_origin):
    proxy = tapline()  # the test CA is not in the system trust store
    ca = proxy.wait_for_ca()
    status, body, err = curl_status("-x", proxy.proxy_url, "--cacert", str(ca),
                                    f"{https_origin.url}/users/1")
    assert status != 200, "Tapline must not accept an untrusted upstream certificate"
    assert b"User 1" not in body
    assert https_origin.requests_for("/users/1") == []


def test_insecure_skips_upstream_verification(tapline, https_origin):
    proxy = tapline("--insecure")
    ca = proxy.wait_for_ca()
    r = curl("-x", proxy.proxy_url, "--cacert", str(ca), f"{https_origin.url}/users/2")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(2)


def test_passthrough_host_is_tunnelled_not_intercepted(tapline, https_origin, test_ca):
    proxy = tapline("--passthrough", "127.0.0.1")
    # The client sees the origin's own certificate, so the test CA verifies it.
    r = curl("-x", proxy.proxy_url, "--cacert", str(test_ca.ca_cert),
             f"{https_origin.url}/users/3")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == user_record(3)
