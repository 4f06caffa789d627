"""--capture on a disk that fills up: the proxy keeps serving, the events recorded
before the failure stay readable, session.json says the session ended with a
writer error, and shutdown says the session is incomplete (exit status 1)
instead of "session saved"."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess

import pytest

from tapline_testkit.origin import pattern_sha256, user_record
from tapline_testkit.proxy import TaplineProcess
from tapline_testkit.util import curl, describe, run_tapline, text

# Room for the session's reserve (~2 MiB), the small flows and part of the large body.
DISK_SIZE = "6m"
LARGE_BODY = 16 << 20


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


def test_disk_full_keeps_earlier_events_and_tells_the_truth(proxy_on_small_disk, origin):
    proxy = proxy_on_small_disk
    for user in (1, 2, 3):
        r = curl("-x", proxy.proxy_url, f"{origin.url}/users/{user}")
        assert r.returncode == 0, r.stderr
    # Larger than the disk: the body segment fills it; the client still gets every byte.
    r = curl("-x", proxy.proxy_url, f"{origin.url}/bytes/{LARGE_BODY}", "-o", "-")
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(r.stdout).hexdigest() == pattern_sha256(LARGE_BODY)
    proxy.wait_for_log(r"capture stopped: .*No space left on device")
    r = curl("-x", proxy.proxy_url, f"{origin.url}/users/4")
    assert r.returncode == 0, "the proxy must keep serving after the capture failed: " + r.stderr

    proxy.proc.send_signal(signal.SIGTERM)
    proxy.returncode = proxy.proc.wait(timeout=20)
    stderr = proxy.stderr_text()
    session_dir = proxy.session_dir()
    assert "session saved" not in stderr, stderr
    assert f"session in {session_dir} is INCOMPLETE" in stderr, stderr
    assert proxy.returncode == 1, f"exit status {proxy.returncode} after an incomplete capture\n{stderr}"

    metadata = json.loads((session_dir / "session.json").read_text())
    assert metadata["ended"] is not None, metadata
    assert "No space left on device" in metadata.get("writerError", ""), metadata
    assert not (session_dir / ".reserve").exists(), "the space reserve outlived the session"

    shown = run_tapline("show", session_dir.name, "--capture", str(proxy.capture_dir))
    assert shown.returncode == 0, describe(shown)
    listing = text(shown)
    for user in (1, 2, 3):
        assert re.search(rf"/users/{user}\s+200\b", listing), f"flow of /users/{user}, recorded before the disk filled, is missing:\n{listing}"
    assert "the writer hit an error and stopped" in shown.stderr, shown.stderr
    assert "capture is incomplete" in shown.stderr, shown.stderr

    body = run_tapline("show", session_dir.name, "--flow", "1", "--body", "response",
                       "--capture", str(proxy.capture_dir))
    assert body.returncode == 0, describe(body)
    assert json.loads(body.stdout) == user_record(1)
