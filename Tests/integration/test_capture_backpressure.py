"""A capture writer that cannot write stops the proxy reading, on every client x
upstream combination (HTTP/1.1 or h2c on each side, reverse mode): a 256 MiB
download through a proxy whose capture directory is frozen stalls with the
origin well short of the whole body and the proxy's peak RSS bounded; once the
file system thaws, the download completes whole and the capture holds it.

The capture directory is an ext4 file system in a loop-mounted image that the
test freezes (`fsfreeze`): every write of the capture writer's threads then
blocks in the kernel, so its queue backs up without any timing or test hook,
and thawing lets it drain. Needs root (mount, FIFREEZE); CI runs as root, so
there it fails rather than skips.

The h2c client opens its windows to 2^31-1 so that HTTP/2 flow control does
not stop the transfer on its own. With small windows it would: the proxy does
not read the client's WINDOW_UPDATEs while it is paused, so the response stops
once the window is used up, whatever the upstream leg does. With large ones,
only the proxy's own pause of the upstream socket stops it.

No event says "the proxy stopped reading", so the test waits for the origin's
byte count to stand still for STALL_SECONDS (and to be past the capture's
4 MiB high watermark, below which the proxy has no reason to stop). A proxy
that keeps reading moves it far more often than that, and then goes on until
the whole body has passed, which fails the test without any wait.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import subprocess
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest

from tapline_testkit.h2 import H2Client
from tapline_testkit.origin import iter_pattern, pattern_sha256
from tapline_testkit.proxy import TaplineProcess
from tapline_testkit.rawhttp import connect, receive_head, request_bytes
from tapline_testkit.util import ThreadedTestServer, clean_env, tapline_bin

BODY = 256 << 20
# `tapline proxy` stops reading above 4 MiB queued for the capture writer.
CAPTURE_HIGH_WATERMARK = 4 << 20
# What may pass the origin's socket once the proxy stops reading: the capture
# queue (4 MiB) and what was in flight toward the client, the proxy's parser
# and socket buffers, and the kernel's socket buffers on loopback (up to
# 32 MiB of receive buffer here); a proxy that keeps reading passes all 256 MiB.
ORIGIN_SENT_LIMIT = 64 << 20
PEAK_RSS_LIMIT_KB = 64 * 1024  # "peak RSS under 64 MB", as test_forward_http.py
STALL_SECONDS = 2.0
IMAGE_SIZE = BODY + (128 << 20)  # the captured body, events.jsonl, the 2 MiB reserve, ext4's own


# --- origins that count what they managed to send -----------------------------------
class CountingHTTP1Origin(ThreadedTestServer):
    """Answers every request with BODY bytes of the pattern (Content-Length);
    `sent` counts the body bytes the kernel took, `finished` is set once all were."""

    def __init__(self):
        self.sent = 0
        self.finished = threading.Event()
        super().__init__()

    def _serve(self, conn) -> None:
        with conn:
            if receive_head(conn) is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % BODY)
            try:
                for piece in iter_pattern(BODY):
                    conn.sendall(piece)
                    self.sent += len(piece)
            except OSError:
                return
            self.finished.set()


class CountingH2Origin(ThreadedTestServer):
    """An h2c origin (prior knowledge) that answers every stream with BODY bytes of
    the pattern, sending DATA as the proxy's windows allow; `sent` counts the DATA
    bytes the kernel took, `finished` is set once all were."""

    def __init__(self):
        self.sent = 0
        self.finished = threading.Event()
        super().__init__()

    def _serve(self, conn) -> None:
        session = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        session.initiate_connection()
        conn.sendall(session.data_to_send())
        try:
            with conn:
                stream = self._receive_request(conn, session)
                if stream is None:
                    return
                session.send_headers(stream, [(":status", "200"), ("content-type", "application/octet-stream"),
                                              ("content-length", str(BODY))])
                conn.sendall(session.data_to_send())
                for piece in iter_pattern(BODY):
                    view = memoryview(piece)
                    while view:
                        n = min(len(view), session.max_outbound_frame_size, session.local_flow_control_window(stream))
                        if n == 0:
                            if not self._receive(conn, session):
                                return
                            continue
                        session.send_data(stream, bytes(view[:n]), end_stream=self.sent + n == BODY)
                        conn.sendall(session.data_to_send())
                        self.sent += n
                        view = view[n:]
                self.finished.set()
                while self._receive(conn, session):  # until the proxy closes the connection
                    pass
        except (OSError, h2.exceptions.ProtocolError):
            return

    def _receive_request(self, conn, session):
        """Reads until a complete request arrived: its stream id, or None on EOF."""
        while True:
            data = conn.recv(65536)
            if not data:
                return None
            events = session.receive_data(data)
            conn.sendall(session.data_to_send())
            for event in events:
                if isinstance(event, h2.events.StreamEnded):
                    return event.stream_id

    @staticmethod
    def _receive(conn, session) -> bool:
        """Reads one piece of the proxy's input (WINDOW_UPDATE, SETTINGS, ...); False on EOF."""
        data = conn.recv(65536)
        if not data:
            return False
        session.receive_data(data)
        conn.sendall(session.data_to_send())
        return True


# --- clients that hash what they receive --------------------------------------------
def download_http1(port: int) -> tuple[int, str]:
    """GET /large over HTTP/1.1: (body length, sha256)."""
    digest = hashlib.sha256()
    with connect(port, timeout=300) as sock:
        sock.sendall(request_bytes("GET", "/large", f"127.0.0.1:{port}"))
        received = receive_head(sock)
        assert received is not None, "the proxy closed the connection before a response head"
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 "), head
        digest.update(body)
        length = len(body)
        while length < BODY:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
            length += len(chunk)
    return length, digest.hexdigest()


def download_h2c(port: int) -> tuple[int, str]:
    """GET /large over h2c (prior knowledge), with both windows at their maximum: (body length, sha256)."""
    digest = hashlib.sha256()
    length = 0
    client = H2Client(port, window=2**31 - 1, stream_window=2**31 - 1, timeout=300)
    try:
        stream = client.request("/large", authority=f"127.0.0.1:{port}")
        ended = False
        while not ended:
            data = client.sock.recv(1 << 20)
            if not data:
                break
            for event in client.conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    assert dict(event.headers)[":status"] == "200", event.headers
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                    digest.update(event.data)
                    length += len(event.data)
                    client.conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)) and event.stream_id == stream:
                    ended = True
            client.flush()
    finally:
        client.close()
    return length, digest.hexdigest()


CLIENTS = {"http1": download_http1, "h2c": download_h2c}
UPSTREAMS = {"http1": (CountingHTTP1Origin, "http"), "h2c": (CountingH2Origin, "h2c")}


# --- the freezable capture directory ------------------------------------------------
class FreezableCapture:
    """The capture directory of a proxy, on an ext4 image loop-mounted for the test."""

    def __init__(self, proxy: TaplineProcess, image):
        self.proxy = proxy
        self.image = image
        self.mounted = False
        self.is_frozen = False

    def mount(self) -> None:
        with open(self.image, "wb") as f:
            f.truncate(IMAGE_SIZE)  # sparse: the disk holds only what is written
        made = subprocess.run(["mkfs.ext4", "-q", "-F", str(self.image)], capture_output=True, text=True)
        mounted = made if made.returncode != 0 else subprocess.run(
            ["mount", "-o", "loop", str(self.image), str(self.proxy.capture_dir)], capture_output=True, text=True)
        if mounted.returncode != 0:
            message = f"cannot make and loop-mount an ext4 image (root, e2fsprogs and a loop device needed): " \
                      f"{mounted.stderr.strip()}"
            if os.environ.get("CI", "") not in ("", "0", "false"):
                pytest.fail(message)
            pytest.skip(message)
        self.mounted = True
        os.chmod(self.proxy.capture_dir, 0o700)

    @contextlib.contextmanager
    def frozen(self):
        """Every write into the capture directory blocks until the block ends."""
        subprocess.run(["fsfreeze", "--freeze", str(self.proxy.capture_dir)], check=True, timeout=30)
        self.is_frozen = True
        try:
            yield
        finally:
            self.thaw()

    def thaw(self) -> None:
        if self.is_frozen:
            subprocess.run(["fsfreeze", "--unfreeze", str(self.proxy.capture_dir)], check=True, timeout=30)
            self.is_frozen = False

    def unmount(self) -> None:
        self.thaw()  # a proxy whose writer is blocked in the frozen file system cannot exit
        self.proxy.kill9()
        if self.mounted:
            subprocess.run(["umount", str(self.proxy.capture_dir)], capture_output=True, timeout=30)
            self.mounted = False
        self.image.unlink(missing_ok=True)


@pytest.fixture
def proxy_with_freezable_capture(tapline, tmp_path):
    """start(*args) -> (proxy, capture): a proxy whose capture directory can be frozen."""
    captures: list[FreezableCapture] = []

    def start(*args: str) -> tuple[TaplineProcess, FreezableCapture]:
        proxy = TaplineProcess(tmp_path / "proxy", ["--quiet", *args])
        capture = FreezableCapture(proxy, tmp_path / "capture.ext4")
        captures.append(capture)
        capture.mount()
        tapline.started.append(proxy)  # stopped by the fixture if the test fails early
        return proxy.start(), capture

    try:
        yield start
    finally:
        for capture in captures:
            capture.unmount()


def wait_for_origin_to_stall(origin, proxy) -> int:
    """The origin's byte count once it has stood still for STALL_SECONDS past the
    capture's high watermark (see the module doc); fails at once if the origin
    sent the whole body."""
    deadline = time.monotonic() + 120
    last, since = -1, time.monotonic()
    while True:
        sent = origin.sent
        assert not origin.finished.is_set(), (
            f"the origin sent all {BODY} bytes while the capture could not write one: the proxy kept reading "
            f"(peak RSS {proxy.peak_rss_kb()} kB)")
        now = time.monotonic()
        if sent != last:
            last, since = sent, now
        elif sent > CAPTURE_HIGH_WATERMARK and now - since >= STALL_SECONDS:
            return sent
        assert now < deadline, f"the origin sent {sent} bytes and never stood still"
        time.sleep(0.05)


def captured_body_sha256(proxy: TaplineProcess, flow: int) -> tuple[int, str]:
    """`tapline show SESSION --flow N --body response`, hashed as it streams: (length, sha256)."""
    digest = hashlib.sha256()
    length = 0
    cmd = [str(tapline_bin()), "show", proxy.session_id, "--flow", str(flow), "--body", "response",
           "--capture", str(proxy.capture_dir)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=clean_env({"TAPLINE_HOME": str(proxy.home)})) as shown:
        while chunk := shown.stdout.read(1 << 20):
            digest.update(chunk)
            length += len(chunk)
        stderr = shown.stderr.read().decode("utf-8", "replace")
        assert shown.wait(timeout=60) == 0, f"{cmd} failed:\n{stderr}"
    return length, digest.hexdigest()


@pytest.mark.parametrize("client_protocol,upstream_protocol", [
    ("http1", "http1"), ("http1", "h2c"), ("h2c", "http1"), ("h2c", "h2c")],
    ids=["http1-to-http1", "http1-to-h2c", "h2c-to-http1", "h2c-to-h2c"])
def test_a_backed_up_capture_stops_the_download_until_it_drains(proxy_with_freezable_capture,
                                                                client_protocol, upstream_protocol):
    origin_type, scheme = UPSTREAMS[upstream_protocol]
    origin = origin_type()
    try:
        proxy, capture = proxy_with_freezable_capture("--reverse", f"{scheme}://{origin.authority}")
        proxy.session_dir()  # session.json is written before the freeze
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            with capture.frozen():
                download = pool.submit(CLIENTS[client_protocol], proxy.port)
                sent = wait_for_origin_to_stall(origin, proxy)
                peak_while_frozen = proxy.peak_rss_kb()
                assert sent < ORIGIN_SENT_LIMIT, (
                    f"the proxy read {sent} bytes from the origin while the capture could not write")
                assert peak_while_frozen < PEAK_RSS_LIMIT_KB, (
                    f"tapline's peak RSS reached {peak_while_frozen} kB while the capture could not write")
                assert not download.done(), "the download ended while the capture could not write"
            length, sha = download.result(timeout=300)
        assert (length, sha) == (BODY, pattern_sha256(BODY)), (
            f"the client got {length} bytes (sha256 {sha}) after the capture drained\n{proxy.stderr_tail()}")
        peak = proxy.peak_rss_kb()
        assert peak < PEAK_RSS_LIMIT_KB, f"tapline's peak RSS reached {peak} kB over the download"
        proxy.stop(timeout=60)
        assert captured_body_sha256(proxy, 1) == (BODY, pattern_sha256(BODY))
    finally:
        origin.stop()
