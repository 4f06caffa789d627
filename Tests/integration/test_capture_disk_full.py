"""--capture on a disk that fills up (or past a file-size limit): the proxy keeps
serving, the events recorded before the failure stay readable, session.json says
the session ended with a writer error, and shutdown says the session is
incomplete (exit status 1) instead of "session saved"."""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import signal
import subprocess

import pytest

from tapline_testkit.origin import pattern_sha256, user_record
from tapline_testkit.proxy import TaplineProcess
from tapline_testkit.util import curl, describe, run_tapline, text

# Room for the session's reserve (~2 MiB), the small flows and part of the large body.
DISK_SIZE = "6m"
LARGE_BODY = 16 << 20
FILE_SIZE_LIMIT = 4 << 20


@pytest.fixture
def proxy_on_small_disk(tapline, tmp_path):
    """A proxy capturing into a DISK_SIZE tmpfs mounted for the test (needs root;
    CI runs as root, so there it fails rather than skips)."""
    proxy = TaplineProcess(tmp_path / "proxy", ["--quiet"])
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs",
                              str(proxy.capture_dir)], capture_output=True, text=True)
    if mounted.returncode != 0:
        message = f"cannot mount a small tmpfs (root needed): {mounted.stderr.strip()}"
        if os.environ.get("CI", "") not in ("", "0", "false"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        tapline.started.append(proxy)  # stopped by the fixture if the test fails early
        yield proxy.start()
    finally:
        proxy.kill9()
        subprocess.run(["umount", str(proxy.capture_dir)], capture_output=True)


def fill_the_capture(proxy, origin, reason: str) -> None:
    """Three small flows, then a body larger than the capture can hold, then one
    more flow: every client gets its whole answer, and the capture stops with
    `reason` after the small flows."""
    for user in (1, 2, 3):
        r = curl("-x", proxy.proxy_url, f"{origin.url}/users/{user}")
        assert r.returncode == 0, r.stderr
    r = curl("-x", proxy.proxy_url, f"{origin.url}/bytes/{LARGE_BODY}", "-o", "-")
    assert r.returncode == 0, f"curl exit {r.returncode}: {r.stderr}\n{proxy.stderr_tail(10)}"
    assert hashlib.sha256(r.stdout).hexdigest() == pattern_sha256(LARGE_BODY)
    proxy.wait_for_log(rf"capture stopped: .*{reason}")
    r = curl("-x", proxy.proxy_url, f"{origin.url}/users/4")
    assert r.returncode == 0, "the proxy must keep serving after the capture failed: " + r.stderr


def assert_stopped_with_an_incomplete_session(proxy, reason: str) -> None:
    """SIGTERM: exit status 1 and "INCOMPLETE", not "session saved"; session.json
    has `ended` and `writerError`; `tapline show` lists the flows recorded before
    the failure, with their bodies, and warns that the capture is incomplete."""
    proxy.proc.send_signal(signal.SIGTERM)
    proxy.returncode = proxy.proc.wait(timeout=20)
    stderr = proxy.stderr_text()
    session_dir = proxy.session_dir()
    assert "session saved" not in stderr, stderr
    assert f"session in {session_dir} is INCOMPLETE" in stderr, stderr
    assert proxy.returncode == 1, f"exit status {proxy.returncode} after an incomplete capture\n{stderr}"

    metadata = json.loads((session_dir / "session.json").read_text())
    assert metadata["ended"] is not None, metadata
    assert reason in metadata.get("writerError", ""), metadata
    assert not (session_dir / ".reserve").exists(), "the space reserve outlived the session"

    shown = run_tapline("show", session_dir.name, "--capture", str(proxy.capture_dir))
    assert shown.returncode == 0, describe(shown)
    listing = text(shown)
    for user in (1, 2, 3):
        assert re.search(rf"/users/{user}\s+200\b", listing), \
            f"flow of /users/{user}, recorded before the capture failed, is missing:\n{listing}"
    assert "the writer hit an error and stopped" in shown.stderr, shown.stderr
    assert "capture is incomplete" in shown.stderr, shown.stderr

    body = run_tapline("show", session_dir.name, "--flow", "1", "--body", "response",
                       "--capture", str(proxy.capture_dir))
    assert body.returncode == 0, describe(body)
    assert json.loads(body.stdout) == user_record(1)


def test_disk_full_keeps_earlier_events_and_tells_the_truth(proxy_on_small_disk, origin):
    fill_the_capture(proxy_on_small_disk, origin, "No space left on device")
    assert_stopped_with_an_incomplete_session(proxy_on_small_disk, "No space left on device")


def test_file_size_limit_stops_the_capture_not_the_proxy(tapline, origin):
    """`ulimit -f`: a write past it fails with EFBIG, unless SIGXFSZ kills the
    proxy first (its default action); the proxy ignores SIGXFSZ."""
    saved = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, saved[1]))
    try:  # the proxy inherits the limit; this process only starts it meanwhile
        proxy = tapline("--quiet")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, saved)
    fill_the_capture(proxy, origin, "File too large")
    assert_stopped_with_an_incomplete_session(proxy, "File too large")
