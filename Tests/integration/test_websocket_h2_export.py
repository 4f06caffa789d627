"""A browser's WebSocket over HTTP/2 (RFC 8441) through Tapline, then shown and exported.

Headless Chromium (Debian `chromium`) uses Tapline as its forward proxy and loads a page
from an h2 origin that announces SETTINGS_ENABLE_CONNECT_PROTOCOL; the page opens
`wss://localhost:PORT/echo` on the same HTTP/2 connection, which Chromium does with an
extended CONNECT. Tapline intercepts the TLS (the browser is told to accept its
certificates) and passes the extended CONNECT to the origin, which echoes. The capture's
flow must then be shown with its path and exported to HAR and Postman like an HTTP/1.1
WebSocket: URL `wss://localhost:PORT/echo`, its messages, the protocol noted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import pytest

from tapline_testkit import websocket as wsk
from tapline_testkit.h2_websocket import H2WebSocketClient, H2WebSocketOrigin
from tapline_testkit.util import HOST, text, wait_until

CHROMIUM = shutil.which("chromium")

GREETING = "hello from chromium"
ACK = "echo received"

PAGE = """<!doctype html><title>ws</title><script>
const ws = new WebSocket("wss://" + location.host + "/echo");
ws.onopen = () => ws.send("%s");
ws.onmessage = (event) => { if (event.data === "%s") ws.send("%s"); };
</script>""" % (GREETING, GREETING, ACK)


def _start_chromium(proxy_port: int, url: str, profile) -> subprocess.Popen:
    """Headless Chromium through the proxy (loopback included: Chromium bypasses proxies
    for localhost unless told `<-loopback>`), accepting Tapline's minted certificates."""
    args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
            f"--proxy-server=http://127.0.0.1:{proxy_port}", "--proxy-bypass-list=<-loopback>",
            "--ignore-certificate-errors", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", url]
    return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stop_chromium(browser: subprocess.Popen) -> None:
    """Chromium forks helpers into its session: end the whole group it leads."""
    if browser.poll() is None:
        os.killpg(browser.pid, signal.SIGTERM)
        try:
            browser.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait(timeout=10)


def _websocket_flow_ended(proxy) -> bool:
    starts = {e["flow"] for e in wsk.read_events(proxy.session_dir())
              if e["type"] == "requestHead" and e["method"] == "CONNECT"
              and [":protocol", "websocket"] in e["headers"]}
    return any(e["type"] == "flowEnded" and e["flow"] in starts for e in wsk.read_events(proxy.session_dir()))


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (scripts/install-test-deps.sh)")
def test_chromium_rfc8441_websocket_is_shown_and_exported(tapline, test_ca, tmp_path):
    origin = H2WebSocketOrigin(test_ca.server_context(), pages={"/ws.html": PAGE})
    browser = None
    try:
        proxy = tapline("--upstream-ca", str(test_ca.ca_cert))
        browser = _start_chromium(proxy.port, f"https://{origin.authority}/ws.html", tmp_path / "profile")
        try:
            wait_until(lambda: ACK in origin.received, 60, interval=0.05,
                       message="the origin to receive the page's second message")
        except TimeoutError as e:
            raise AssertionError(f"{e}\norigin errors: {origin.errors}\n{proxy.stderr_tail()}") from None
        assert origin.received[:2] == [GREETING, ACK]
        assert origin.requests and dict(origin.requests[0])[":protocol"] == "websocket", \
            "Chromium should have opened the WebSocket with an extended CONNECT"
        _stop_chromium(browser)
        wait_until(lambda: _websocket_flow_ended(proxy), 20, interval=0.05,
                   message="the WebSocket flow to end in the capture")
        # The live line names the host and the path, and the status the browser got.
        url = f"https://{origin.authority}/echo"
        proxy.wait_for_log(r"CONNECT " + url.replace(".", r"\.") + r" -> 200")
        proxy.stop()
        session = str(proxy.session_dir())

        listed = json.loads(proxy.cli("show", session, "--filter", "kind:websocket", "--json").stdout)
        assert len(listed) == 1, listed
        assert listed[0]["url"] == url and listed[0]["status"] == 200, listed[0]
        assert listed[0]["protocol"] == "HTTP/2", listed[0]
        table = text(proxy.cli("show", session, "--filter", "kind:websocket"))
        assert f"CONNECT  {url}  200" in table and "HTTP/2 #" in table and " ws" in table, table

        wss = f"wss://{origin.authority}/echo"
        har_path = tmp_path / "out.har"
        done = proxy.cli("export", session, "--har", str(har_path), "--filter", "kind:websocket")
        assert done.returncode == 0, done.stderr
        entries = json.loads(har_path.read_text())["log"]["entries"]
        assert [e["request"]["url"] for e in entries] == [wss], entries
        entry = entries[0]
        assert entry["_resourceType"] == "websocket"
        assert entry["request"]["httpVersion"] == "HTTP/2"
        assert {"name": ":protocol", "value": "websocket"} in entry["request"]["headers"]
        sent = [m["data"] for m in entry["_webSocketMessages"] if m["type"] == "send"]
        received = [m["data"] for m in entry["_webSocketMessages"] if m["type"] == "receive"]
        assert sent[:2] == [GREETING, ACK] and received[:1] == [GREETING], entry["_webSocketMessages"]

        postman_path = tmp_path / "out.postman.json"
        done = proxy.cli("export", session, "--postman", str(postman_path), "--filter", "kind:websocket")
        assert done.returncode == 0, done.stderr
        collection = json.loads(postman_path.read_text())
        items = _items(collection)
        assert len(items) == 1, items
        extension = items[0]["_tapline"]
        assert extension["protocol"] == "websocket" and extension["url"] == wss, extension
        assert extension["handshakeProtocol"] == "h2", extension
        assert items[0]["request"]["method"] == "GET", items[0]["request"]
        assert [m["data"] for m in extension["messages"] if m["direction"] == "send"][:2] == [GREETING, ACK]
        # A browser opens and drops spare connections (preconnects) as it likes, and it was
        # killed: connections reset or cut mid-handshake are its business. Anything else
        # (an HTTP/2 or WebSocket protocol error) is a failure.
        problems = [e for e in origin.errors if not isinstance(e, OSError)]
        assert not problems, problems
    finally:
        if browser is not None:
            _stop_chromium(browser)
        origin.stop()


def test_extended_connect_bridged_to_http1_is_shown_with_the_status_its_client_got(tapline, tmp_path):
    """Reverse h2c to an HTTP/1.1 WebSocket server: the capture keeps the upstream's 101,
    but the client got 200, and that is what the live line and the list say."""
    origin = wsk.WebSocketOrigin()  # echoes
    try:
        proxy = tapline("--reverse", origin.http_url)
        client = H2WebSocketClient(proxy.port, f"{HOST}:{proxy.port}", "/chat?room=1")
        try:
            assert client.open() == 200, client.headers
            client.send("ping me")
            client.wait(lambda: client.messages, "the echo")
            client.send_close(1000, "done")
            client.wait(lambda: client.close_received is not None, "the server's close frame")
            client.end_stream()
            client.wait(lambda: client.ended, "the end of the stream")
        finally:
            client.close()
        wait_until(lambda: _websocket_flow_ended(proxy), 20, interval=0.05,
                   message="the WebSocket flow to end in the capture")
        url = f"http://{HOST}:{proxy.port}/chat?room=1"
        proxy.wait_for_log(r"CONNECT " + url.replace(".", r"\.").replace("?", r"\?") + r" -> 200")
        proxy.stop()
        session = str(proxy.session_dir())
        listed = json.loads(text(proxy.cli("show", session, "--json")))
        assert [(f["url"], f["status"], f["kind"]) for f in listed] == [(url, 200, "websocket")], listed
        shown = json.loads(text(proxy.cli("show", session, "--flow", str(listed[0]["id"]), "--json")))
        assert shown["response"]["status"] == 101, "the capture keeps the upstream's answer"
        har_path = tmp_path / "bridged.har"
        assert proxy.cli("export", session, "--har", str(har_path)).returncode == 0
        entries = json.loads(har_path.read_text())["log"]["entries"]
        assert [e["request"]["url"] for e in entries] == [f"ws://{HOST}:{proxy.port}/chat?room=1"], entries
        assert [m["data"] for m in entries[0]["_webSocketMessages"] if m["type"] == "receive"][:1] == ["ping me"]
    finally:
        origin.stop()


def _items(node) -> list:
    """Every request item of a Postman collection, through its folders."""
    found = []
    for item in node.get("item", []):
        found += _items(item) if "item" in item else [item]
    return found
