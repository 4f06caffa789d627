"""The Tapline proxy as a subprocess, per the CLI contract:

  tapline proxy --listen 127.0.0.1:PORT (--capture DIR | --no-capture) [flags]

It prints `listening on 127.0.0.1:PORT`, `capturing into DIR/SESSIONID` (or `not
capturing`) and the CA's path on stderr once it accepts (`start` waits for them), then
one line per finished flow;
SIGTERM means a graceful shutdown with exit status 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional

from . import util
from .util import HOST, free_port, tapline_bin, wait_for_port, wait_until

STOP_TIMEOUT = 15.0
START_TIMEOUT = 20.0


class TaplineProcess:
    def __init__(self, workdir: Path, args: list[str], capture: bool = True,
                 listen_host: str = HOST, env: Optional[dict] = None):
        self.workdir = workdir
        self.home = workdir / "home"
        self.capture_dir = workdir / "captures"
        self.home.mkdir(parents=True, exist_ok=True)
        self.capture_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = workdir / "proxy.stderr"
        self.stdout_path = workdir / "proxy.stdout"
        self.capturing = capture
        self.listen_host = listen_host
        self.extra_args = list(args)
        self.extra_env = env or {}
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.returncode: Optional[int] = None

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> "TaplineProcess":
        binary = tapline_bin()
        if not binary.exists():
            raise FileNotFoundError(
                f"tapline binary not found at {binary}: build it (swift build -c release) "
                f"or set TAPLINE_BIN")
        for attempt in range(3):  # a free port can be taken between probe and bind
            self.port = free_port()
            cmd = [str(binary), "proxy", "--listen", f"{self.listen_host}:{self.port}"]
            cmd += ["--capture", str(self.capture_dir)] if self.capturing else ["--no-capture"]
            cmd += self.extra_args
            self.cmd = cmd
            env = util.clean_env({"TAPLINE_HOME": str(self.home), **self.extra_env})
            with open(self.stderr_path, "ab") as err, open(self.stdout_path, "ab") as out:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=err, env=env, cwd=self.workdir)
            try:
                wait_for_port(self.port, START_TIMEOUT, alive=lambda: self.proc.poll() is None)
                self._wait_for_banner()
                return self
            except RuntimeError:
                self.returncode = self.proc.wait()
                if "in use" in self.stderr_text().lower() and attempt < 2:
                    continue
                raise RuntimeError(f"tapline exited ({self.returncode}) before listening.\n"
                                   f"command: {' '.join(cmd)}\n{self.stderr_tail()}")
            except TimeoutError:
                self.kill9()
                raise TimeoutError(f"tapline did not listen on port {self.port} within "
                                   f"{START_TIMEOUT}s\n{self.stderr_tail()}")
        raise AssertionError("unreachable")

    def _wait_for_banner(self) -> None:
        """The listener accepts before the start-up lines are written: wait for the last of
        them (the CA line, then the TLS listener's when `--cert` is given), so a test that
        reads the banner never races it."""
        last = "TLS listener presents" if "--cert" in self.extra_args else "CA certificate for HTTPS interception"
        wait_until(lambda: last in self.stderr_text() or self.proc.poll() is not None, START_TIMEOUT,
                   message=f"tapline's start-up line {last!r}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT, sig: int = signal.SIGTERM) -> int:
        """Graceful stop: sends SIGTERM (or SIGINT) and asserts a clean exit
        (status 0) within `timeout`; kills with SIGKILL after that."""
        if self.proc is None or self.returncode is not None:
            return self.returncode if self.returncode is not None else 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                self.returncode = -9
                raise AssertionError(
                    f"tapline did not exit within {timeout}s of {signal.Signals(sig).name}; "
                    f"killed it\n{self.stderr_tail()}")
        else:
            self.returncode = self.proc.returncode
        assert self.returncode == 0, (
            f"tapline exited with status {self.returncode} after "
            f"{signal.Signals(sig).name}\n{self.stderr_tail()}")
        return self.returncode

    def kill9(self) -> None:
        """SIGKILL, as in a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None:
            self.returncode = self.proc.returncode

    # --- what a user sees -----------------------------------------------------------
    @property
    def proxy_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    url = proxy_url  # reverse mode: the address clients talk to

    @property
    def ca_path(self) -> Path:
        return self.home / "ca.pem"

    def wait_for_ca(self, timeout: float = 10.0) -> Path:
        wait_until(lambda: self.ca_path.exists() and self.ca_path.stat().st_size > 0,
                   timeout, message=f"{self.ca_path}")
        return self.ca_path

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, n: int = 60) -> str:
        lines = self.stderr_text().splitlines()
        return "--- tapline stderr (last lines) ---\n" + "\n".join(lines[-n:])

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """Waits for a stderr line matching the regex `pattern`."""
        rx = re.compile(pattern)
        try:
            return wait_until(lambda: rx.search(self.stderr_text()), timeout,
                              message=f"tapline stderr to match {pattern!r}")
        except TimeoutError as e:
            raise AssertionError(f"{e}\n{self.stderr_tail()}") from None

    def session_dir(self, timeout: float = 10.0) -> Path:
        """The capture session directory: from the `capturing into DIR` line,
        or else the only directory inside the capture dir."""
        assert self.capturing, "this proxy was started with --no-capture"

        def find() -> Optional[Path]:
            m = re.search(r"capturing into (\S+)", self.stderr_text())
            if m:
                p = Path(m.group(1).rstrip(".,;"))
                return p if p.is_absolute() else self.workdir / p
            dirs = [d for d in self.capture_dir.iterdir() if d.is_dir()]
            return dirs[0] if len(dirs) == 1 else None
        try:
            return wait_until(find, timeout, message="the capture session directory")
        except TimeoutError as e:
            raise AssertionError(f"{e}\n{self.stderr_tail()}") from None

    @property
    def session_id(self) -> str:
        return self.session_dir().name

    def peak_rss_kb(self) -> int:
        """VmHWM: the peak resident set size so far, in kB."""
        value = util.read_proc_status(self.pid, "VmHWM")
        assert value is not None, "tapline is not running; cannot read its VmHWM"
        return value

    def cli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Runs another tapline command with this proxy's TAPLINE_HOME."""
        return util.run_tapline(*args, home=self.home, timeout=timeout)


class TaplineFactory:
    """What the `tapline` fixture returns: call it to start a proxy."""

    def __init__(self, tmp_path_factory):
        self._tmp = tmp_path_factory
        self.started: list[TaplineProcess] = []

    def __call__(self, *args: str, capture: bool = True, listen_host: str = HOST,
                 env: Optional[dict] = None) -> TaplineProcess:
        workdir = self._tmp.mktemp("tapline")
        p = TaplineProcess(workdir, list(args), capture=capture, listen_host=listen_host, env=env)
        self.started.append(p)
        return p.start()

    def stop_all(self) -> list[str]:
        """Stops every proxy still running; returns the problems found."""
        problems = []
        for p in self.started:
            try:
                p.stop()
            except AssertionError as e:
                problems.append(str(e))
            finally:
                p.kill9()
        return problems
