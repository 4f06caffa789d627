"""`tapline show` on a session the proxy is still writing (issue #22/#24 loose end): a
flow whose response is still open is shown as in progress (the list, `--flow` and
`--json` with `"state": "open"`), not as one that ended without a response; once the
origin finishes, the same flow reads as complete.

The origin sends a response head and the first body bytes, then waits on an event the
test sets; the client is a raw socket through the forward proxy, so the test decides
when the exchange ends."""

from __future__ import annotations

import json
import socket
import threading

from tapline_testkit.rawhttp import receive_exactly, receive_head
from tapline_testkit.util import HOST, ThreadedTestServer, text, wait_until

BODY_START = b"first half;"
BODY_END = b"second half"


class HoldingOrigin(ThreadedTestServer):
    """An HTTP/1.1 origin on 127.0.0.1 that answers `/held` with a head promising
    `BODY_START + BODY_END`, sends `BODY_START`, and sends the rest once `release` is set."""

    def __init__(self):
        self.release = threading.Event()
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            if receive_head(conn) is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(BODY_START + BODY_END), BODY_START))
            if self.release.wait(30):
                conn.sendall(BODY_END)
            conn.recv(1)  # until the proxy closes
        except OSError:
            pass
        finally:
            conn.close()


def _shown_json(proxy) -> list[dict]:
    shown = proxy.cli("show", str(proxy.session_dir()), "--json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(text(shown))


def test_show_tells_an_open_flow_from_one_that_ended(tapline):
    origin = HoldingOrigin()
    proxy = tapline()
    client = socket.create_connection((HOST, proxy.port), timeout=30)
    try:
        client.sendall(b"GET http://%s/held HTTP/1.1\r\nHost: %s\r\n\r\n"
                       % (origin.authority.encode(), origin.authority.encode()))
        head = receive_head(client)
        assert head is not None and head.startswith(b"HTTP/1.1 200"), head
        # The writer runs behind the traffic: wait until it wrote the head and the first bytes.
        flows = wait_until(lambda: [f for f in _shown_json(proxy)
                                    if f["status"] == 200 and f["responseBytes"] == len(BODY_START)], timeout=10)
        flow = flows[0]
        assert flow["state"] == "open", flow
        assert "error" not in flow or flow["error"] is None, flow

        listing = text(proxy.cli("show", str(proxy.session_dir())))
        row = next(line for line in listing.splitlines() if "/held" in line)
        assert "200 in progress" in row and "11 B so far" in row and " cut" not in row, listing
        detail = text(proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow["id"])))
        assert "(http, in progress)" in detail and "(still arriving: the flow is in progress)" in detail, detail
        assert "did not finish" not in detail and "Error" not in detail, detail

        origin.release.set()
        body = head.split(b"\r\n\r\n", 1)[1]
        body += receive_exactly(client, len(BODY_START + BODY_END) - len(body))
        assert body == BODY_START + BODY_END, body
    finally:
        origin.release.set()
        client.close()
        origin.stop()

    done = wait_until(lambda: [f for f in _shown_json(proxy) if f["id"] == flow["id"] and f["state"] != "open"],
                      timeout=10)[0]
    assert done["state"] == "complete", done
    listing = text(proxy.cli("show", str(proxy.session_dir())))
    row = next(line for line in listing.splitlines() if "/held" in line)
    assert "in progress" not in row and "so far" not in row and " 22 B " in row, listing
    detail = text(proxy.cli("show", str(proxy.session_dir()), "--flow", str(flow["id"])))
    assert "(http, complete)" in detail and "still arriving" not in detail, detail
