"""HTTP/2 through Tapline: h2c and h2 (ALPN) on both legs, forward and reverse
mode, translation to and from HTTP/1.1, flow control, resets, GOAWAY, capture."""

from __future__ import annotations

import json
import subprocess
import time

import h2.exceptions
import pytest

from tapline_testkit.capture import read_events
from tapline_testkit.h2 import H2Client, H2Origin, sha256
from tapline_testkit.origin import pattern_bytes, pattern_sha256
from tapline_testkit.util import HOST, curl, free_port, text

SIZES = {"1k.bin": 1024, "64k.bin": 64 * 1024, "1m.bin": 1 << 20, "10m.bin": 10 << 20}


@pytest.fixture(scope="module")
def docroot(tmp_path_factory):
    d = tmp_path_factory.mktemp("h2-docroot")
    for name, size in SIZES.items():
        (d / name).write_bytes(pattern_bytes(size))
    (d / "index.html").write_bytes(b"hello h2\n")
    return d


@pytest.fixture
def h2_origin():
    server = H2Origin()
    yield server
    server.stop()


def assert_still_serves(client: H2Client) -> None:
    """A new request on the client's connection is answered; then the client closes."""
    ok = client.request("/bytes/1000")
    client.wait_streams([ok])
    assert client.responses[ok]["status"] == 200
    client.close()


def events(proxy) -> list[dict]:
    return read_events(proxy.session_dir())


def curl_version_and_body(*args):
    r = curl("--write-out", "%{stderr}VERSION=%{http_version}\n", *args)
    assert r.returncode == 0, r.stderr
    version = [line for line in r.stderr.splitlines() if line.startswith("VERSION=")][-1].split("=")[1]
    return version, r.stdout


def nghttp(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["nghttp", *args], capture_output=True, timeout=60)


# --- reverse mode ----------------------------------------------------------------------------------

def test_reverse_h2c_to_nghttpd_with_curl_and_nghttp(tapline, nghttpd):
    proxy = tapline("--reverse", f"h2c://{nghttpd.authority}")
    assert f"(reverse proxy to h2c://{nghttpd.authority})" in proxy.stderr_text()  # the banner names h2c
    version, body = curl_version_and_body("--http2-prior-knowledge", f"{proxy.url}/1m.bin")
    assert version == "2" and sha256(body) == pattern_sha256(SIZES["1m.bin"])
    # Upgrade: h2c from an HTTP/1.1 client
    version, body = curl_version_and_body("--http2", f"{proxy.url}/64k.bin")
    assert version == "2" and sha256(body) == pattern_sha256(SIZES["64k.bin"])
    # HTTP/1.1 client in front of the h2c upstream
    version, body = curl_version_and_body("--http1.1", f"{proxy.url}/10m.bin")
    assert version == "1.1" and sha256(body) == pattern_sha256(SIZES["10m.bin"])
    r = nghttp("-ans", f"{proxy.url}/1k.bin", f"{proxy.url}/10m.bin", f"{proxy.url}/index.html")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(b" 200 ") == 3, r.stdout

    proxy.stop()
    evs = events(proxy)
    # Format v2: the stream id is on flowStarted, and a GET's end on its requestHead.
    streams = [e["stream"] for e in evs if e["type"] == "flowStarted" and "stream" in e]
    streams += [e["stream"] for e in evs if e["type"] == "http2Stream"]  # when a batch ended in between
    assert len(streams) >= 5
    heads = [e for e in evs if e["type"] == "requestHead" and e["version"] == "HTTP/2"]
    assert heads and [h[0] for h in heads[0]["headers"][:4]] == [":method", ":path", ":scheme", ":authority"]
    ended = {e["flow"] for e in evs if e["type"] == "requestEnd"} | {h["flow"] for h in heads if h.get("ended")}
    assert {h["flow"] for h in heads} <= ended, "every HTTP/2 request's end is recorded"
    sides = {(e["side"]) for e in evs if e["type"] == "http2Settings"}
    assert sides == {"client", "upstream"}
    shown = proxy.cli("show", str(proxy.session_dir()))
    assert shown.returncode == 0 and "HTTP/2 #1" in text(shown), text(shown)
    flow = heads[0]["flow"]
    detail = text(proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow)))
    assert "protocol     HTTP/2, stream" in detail and "SETTINGS" in detail, detail


def test_h2_event_times_and_timings_are_in_order(tapline, nghttpd):
    """Events of one read share its time: a flow's lines never go back in time, and
    its timings run requestStart <= requestSent <= firstResponseByte <= done."""
    proxy = tapline("--reverse", f"h2c://{nghttpd.authority}")
    urls = [f"{proxy.url}/{name}" for name in ("1k.bin", "64k.bin", "index.html")] * 4
    r = nghttp("-an", "-m", "3", *urls)
    assert r.returncode == 0, r.stderr
    proxy.stop()
    evs = events(proxy)
    by_flow: dict[int, list[dict]] = {}
    for e in evs:
        if "flow" in e:
            by_flow.setdefault(e["flow"], []).append(e)
    ended = [lines for lines in by_flow.values() if lines[-1]["type"] == "flowEnded"]
    assert len(ended) == len(urls) * 3, [lines[-1]["type"] for lines in by_flow.values()]
    for lines in ended:
        times = [e["t"] for e in lines]
        assert times == sorted(times), lines
        t = lines[-1]["timings"]
        assert t["requestStart"] <= t["requestSent"] <= t["firstResponseByte"] <= t["done"], t
        assert lines[0]["t"] == t["requestStart"] and lines[-1]["t"] == t["done"], lines


def test_reverse_tls_listener_alpn(tapline, nghttpd):
    proxy = tapline("--reverse", f"h2c://{nghttpd.authority}", "--listen-tls")
    ca = proxy.wait_for_ca()
    version, body = curl_version_and_body("--http2", "--cacert", str(ca), f"https://127.0.0.1:{proxy.port}/1m.bin")
    assert version == "2" and sha256(body) == pattern_sha256(SIZES["1m.bin"])
    version, body = curl_version_and_body("--http1.1", "--cacert", str(ca), f"https://127.0.0.1:{proxy.port}/1k.bin")
    assert version == "1.1" and sha256(body) == pattern_sha256(SIZES["1k.bin"])


def test_reverse_https_upstream_negotiates_h2(tapline, nghttpd_tls, test_ca):
    proxy = tapline("--reverse", nghttpd_tls.url.replace("127.0.0.1", "localhost"), "--upstream-ca", str(test_ca.ca_cert))
    version, body = curl_version_and_body("--http2-prior-knowledge", f"{proxy.url}/64k.bin")
    assert version == "2" and sha256(body) == pattern_sha256(SIZES["64k.bin"])
    version, body = curl_version_and_body("--http1.1", f"{proxy.url}/1m.bin")
    assert version == "1.1" and sha256(body) == pattern_sha256(SIZES["1m.bin"])
    proxy.stop()
    alpns = [e.get("tls", {}).get("alpn") for e in events(proxy) if e["type"] == "upstreamConnected"]
    assert alpns and set(alpns) == {"h2"}, alpns


def test_python_h2_upstream_echo_with_trailers(tapline, h2_origin):
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    client = H2Client(proxy.port)
    body = pattern_bytes(300_000)
    sid = client.request("/echo", method="POST", body=body, trailers=[("x-checksum", sha256(body))],
                         headers=[("te", "trailers")])
    client.wait_streams([sid])
    r = client.responses[sid]
    assert r["status"] == 200 and bytes(r["body"]) == body
    assert dict(r["headers"])["x-request-sha256"] == sha256(body)
    assert dict(r["trailers"]) == {"x-checksum": sha256(body), "x-echo-trailer": "yes"}
    client.close()


# --- translation -----------------------------------------------------------------------------------

def test_h2_client_to_http1_upstream_with_trailers(tapline, origin):
    proxy = tapline("--reverse", origin.url)
    client = H2Client(proxy.port)
    sid = client.request("/chunked/200000")
    up = client.request("/sha256", method="POST", body=pattern_bytes(100_000), trailers=[("x-sent", "1")])
    client.wait_streams([sid, up])
    r = client.responses[sid]
    assert r["status"] == 200 and sha256(bytes(r["body"])) == pattern_sha256(200_000)
    assert dict(r["trailers"]).get("x-body-sha256") == pattern_sha256(200_000)
    assert "transfer-encoding" not in dict(r["headers"])
    answer = json.loads(bytes(client.responses[up]["body"]))
    assert answer["sha256"] == pattern_sha256(100_000) and answer["chunked"] is True
    seen = origin.requests_for("/sha256")[0]
    assert seen.header("Host") == origin.authority
    client.close()


def test_http1_client_to_h2_upstream_with_trailers(tapline, h2_origin):
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    import socket
    body = b"x" * 5000
    request = (b"POST /echo HTTP/1.1\r\nHost: example.test\r\nTE: trailers\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"%x\r\n" % len(body) + body + b"\r\n0\r\nX-Sum: " + sha256(body).encode() + b"\r\n\r\n")
    with socket.create_connection((HOST, proxy.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while not data.endswith(b"\r\n\r\n") or b"x-echo-trailer" not in data:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    # HTTP/2 has no reason phrase: the HTTP/1.1 client gets the standard one.
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"x-sum: " + sha256(body).encode() in rest.lower()
    assert body in rest
    # The capture keeps the response head as the h2 upstream sent it, not our HTTP/1.1 translation.
    proxy.stop()
    heads = [e for e in events(proxy) if e["type"] == "responseHead"]
    assert len(heads) == 1, heads
    assert heads[0]["version"] == "HTTP/2" and heads[0]["status"] == 200
    names = [name for name, _ in heads[0]["headers"]]
    assert names[0] == ":status" and "x-request-sha256" in names, names
    assert "transfer-encoding" not in [n.lower() for n in names], names
    requests = [e for e in events(proxy) if e["type"] == "requestHead"]
    assert requests[0]["version"] == "HTTP/1.1"


# --- forward mode ----------------------------------------------------------------------------------

def test_forward_connect_tls_h2(tapline, nghttpd_tls, test_ca):
    proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
    ca = proxy.wait_for_ca()
    url = f"https://localhost:{nghttpd_tls.port}/1m.bin"
    version, body = curl_version_and_body("--http2", "-x", proxy.proxy_url, "--cacert", str(ca), url)
    assert version == "2" and sha256(body) == pattern_sha256(SIZES["1m.bin"])
    # a Python h2 client through CONNECT, several streams on one connection
    client = H2Client(proxy.port, tls_ca=ca, connect_to=f"localhost:{nghttpd_tls.port}")
    sids = [client.request(f"/{name}", authority=f"localhost:{nghttpd_tls.port}", scheme="https") for name in SIZES]
    client.wait_streams(sids)
    for sid, (name, size) in zip(sids, SIZES.items()):
        assert sha256(bytes(client.responses[sid]["body"])) == pattern_sha256(size), name
    client.close()


def test_forward_connect_h2c_prior_knowledge(tapline, nghttpd):
    proxy = tapline()
    version, body = curl_version_and_body("--http2-prior-knowledge", "--proxytunnel", "-x", proxy.proxy_url,
                                          f"http://{nghttpd.authority}/1m.bin")
    assert version == "2" and sha256(body) == pattern_sha256(SIZES["1m.bin"])


# --- streams, flow control, memory ----------------------------------------------------------------

def test_100_concurrent_streams_and_a_stalled_one(tapline, nghttpd, docroot):
    (docroot / "64m.bin").write_bytes(pattern_bytes(64 << 20)) if not (docroot / "64m.bin").exists() else None
    proxy = tapline("--reverse", f"h2c://{nghttpd.authority}", capture=False)
    client = H2Client(proxy.port, stream_window=1 << 20)
    stalled = client.request("/64m.bin")
    client.stalled.add(stalled)
    # 100 concurrent streams in all (Tapline's SETTINGS_MAX_CONCURRENT_STREAMS): the stalled one + 99.
    names = ["1k.bin"] * 59 + ["64k.bin"] * 25 + ["1m.bin"] * 12 + ["10m.bin"] * 3
    sids = [client.request(f"/{name}") for name in names]
    client.wait_streams(sids)
    for sid, name in zip(sids, names):
        r = client.responses[sid]
        assert r["status"] == 200 and sha256(bytes(r["body"])) == pattern_sha256(SIZES[name]), name
    assert not client.responses[stalled]["ended"], "the stalled stream cannot have finished"
    # The stalled 64 MiB stream holds at most its windows in the proxy (1 MiB upstream stream
    # window + what the client's 1 MiB window let through), not the body.
    peak_kb = proxy.peak_rss_kb()
    assert peak_kb < 60_000, f"tapline peak RSS {peak_kb} kB"
    client.close()


# --- resets and GOAWAY ----------------------------------------------------------------------------

def test_client_reset_mid_upload_cancels_upstream_and_is_captured(tapline, h2_origin):
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    client = H2Client(proxy.port)
    sid = client.request("/upload", method="POST", body=b"a" * 100_000, end=False)
    client.conn.reset_stream(sid, error_code=8)  # CANCEL
    client.flush()
    from tapline_testkit.util import wait_until
    wait_until(lambda: h2_origin.resets, 10, message="the upstream to see the reset")
    assert h2_origin.resets == [("/upload", 8)]
    assert_still_serves(client)
    proxy.stop()
    evs = events(proxy)
    resets = [e for e in evs if e["type"] == "http2StreamReset"]
    assert resets and resets[0]["side"] == "client" and resets[0]["errorCode"] == 8
    ended = [e for e in evs if e["type"] == "flowEnded" and e["flow"] == resets[0]["flow"]][0]
    assert ended["error"]["kind"] == "client-aborted" and "CANCEL" in ended["error"]["message"]


@pytest.mark.parametrize("when", ["before-head", "mid-body"])
def test_an_upstream_reset_reaches_the_client_with_its_code_and_is_captured(tapline, h2_origin, when):
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    client = H2Client(proxy.port)
    sid = client.request(f"/reset-{when}/11")  # ENHANCE_YOUR_CALM: not a code a proxy would pick itself
    client.wait_streams([sid])
    assert client.resets.get(sid) == 11
    if when == "mid-body":
        assert client.responses[sid]["status"] == 200 and bytes(client.responses[sid]["body"]) == b"partial"
    else:
        assert client.responses[sid]["status"] is None
    assert_still_serves(client)  # the connection and the upstream's go on
    proxy.stop()
    evs = events(proxy)
    resets = [e for e in evs if e["type"] == "http2StreamReset"]
    assert [(e["side"], e["errorCode"]) for e in resets] == [("upstream", 11)]
    ended = next(e for e in evs if e["type"] == "flowEnded" and e["flow"] == resets[0]["flow"])
    assert ended["error"]["kind"] == "upstream-aborted" and "ENHANCE_YOUR_CALM" in ended["error"]["message"]


def test_an_upstream_answering_before_the_upload_ends_stops_the_client_after_the_answer(tapline, h2_origin, tmp_path):
    """RFC 9113 §8.1: the upstream's complete 413, then its RST_STREAM NO_ERROR ("send
    no more"), reach the client in that order; the flow ends without an error, its
    request body cut short. nghttp sees what it sees without the proxy."""
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    client = H2Client(proxy.port)
    sid = client.request("/answer-early", method="POST", body=b"a" * 60_000, end=False)  # within the first window
    client.wait(lambda: sid in client.resets)
    answer = client.responses[sid]
    assert (answer["status"], bytes(answer["body"]), answer["ended"]) == (413, b"too big\n", True)
    assert client.resets[sid] == 0  # NO_ERROR, after END_STREAM
    with pytest.raises(h2.exceptions.StreamClosedError):
        client.send_body(sid, b"more", end=True)  # the client stops: the stream is closed
    assert_still_serves(client)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(pattern_bytes(3 << 20))
    for authority in (f"{HOST}:{proxy.port}", h2_origin.authority):
        r = nghttp("-v", "-d", str(upload), f"http://{authority}/answer-early")
        out = r.stdout.decode()
        assert r.returncode == 0 and ":status: 413" in out, out[-2000:]
        assert "recv RST_STREAM" in out and "error_code=NO_ERROR" in out, out[-2000:]
    proxy.stop()
    evs = events(proxy)
    flow = next(e["flow"] for e in evs if e["type"] == "requestHead" and e["target"] == "/answer-early")
    mine = [e for e in evs if e.get("flow") == flow]
    assert [(e["side"], e["errorCode"]) for e in mine if e["type"] == "http2StreamReset"] == [("upstream", 0)]
    assert next(e for e in mine if e["type"] == "responseHead")["status"] == 413
    assert "error" not in next(e for e in mine if e["type"] == "flowEnded")
    assert not any(e["type"] == "requestEnd" for e in mine)  # the body was cut short, not complete


def test_tapline_answering_an_upload_early_lets_curl_keep_the_answer(tapline):
    """Tapline's own error answer to a client still uploading ends the stream without
    RST_STREAM NO_ERROR: curl 7.88 would drop the answer and fail (exit 92) on that reset."""
    proxy = tapline("--reverse", f"h2c://{HOST}:{free_port()}")  # nothing listens there
    r = curl("--http2-prior-knowledge", "--data-binary", "@-", "--write-out", "%{http_code}",
             f"http://{HOST}:{proxy.port}/upload", input=pattern_bytes(4 << 20))
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"502") and b"Tapline:" in r.stdout


def test_silent_upstream_streams_each_get_504_after_their_own_timeout(tapline, h2_origin):
    """--response-timeout applies per stream: late streams get 504, a prompt one on the
    same connection is unaffected, and a stream opened later waits its full timeout."""
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}", "--response-timeout", "1")
    client = H2Client(proxy.port)
    opened = time.monotonic()
    first = [client.request("/silent") for _ in range(3)]
    prompt = client.request("/bytes/1000")
    client.wait_streams([prompt])
    assert client.responses[prompt]["status"] == 200
    assert bytes(client.responses[prompt]["body"]) == pattern_bytes(1000)
    time.sleep(0.5)  # part of the scenario: the next stream starts half a timeout later
    later_opened = time.monotonic()
    later = client.request("/silent")
    client.wait_streams(first)
    first_done = time.monotonic()
    client.wait_streams([later])
    later_done = time.monotonic()
    for sid in first + [later]:
        assert client.responses[sid]["status"] == 504, client.responses[sid]
        assert b"no response" in bytes(client.responses[sid]["body"])
    assert 0.9 <= first_done - opened < 10, "a stream got its 504 before its timeout"
    assert later_done - later_opened >= 0.9, "the later stream was cut short by the earlier deadline"
    client.close()
    proxy.stop()
    ended = [e for e in events(proxy) if e["type"] == "flowEnded" and e.get("error")]
    assert sorted(e["error"]["kind"] for e in ended) == ["upstream-timeout"] * 4


def test_upstream_goaway_reaches_the_client(tapline, h2_origin):
    proxy = tapline("--reverse", f"h2c://{h2_origin.authority}")
    client = H2Client(proxy.port)
    sid = client.request("/goaway")
    client.wait(lambda: client.goaway is not None)
    assert client.goaway.error_code == 0
    client.wait_streams([sid])
    assert bytes(client.responses[sid]["body"]) == b"ok"
    client.close()
    proxy.stop()
    goaways = [e for e in events(proxy) if e["type"] == "http2GoAway" and e["side"] == "upstream"]
    assert goaways and goaways[0]["errorCode"] == 0
