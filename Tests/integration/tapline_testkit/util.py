"""Small process/socket helpers shared by the fixtures and the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence

HOST = "127.0.0.1"

# Proxy variables in the environment would silently reroute curl; the tests
# always say explicitly whether a request goes through Tapline.
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


def clean_env(extra: Optional[dict] = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS}
    env.setdefault("LC_ALL", "C.UTF-8")
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def accept_forever(sock: socket.socket, serve: Callable[[socket.socket], None],
                   stopped: Callable[[], bool]) -> None:
    """A test origin's accept loop: each connection is served on its own daemon thread,
    until `stopped()` or the listening socket is closed."""
    while not stopped():
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def listening_socket() -> socket.socket:
    """A test server's socket, listening on 127.0.0.1 on a port the kernel picks."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(64)
    return sock


class ThreadedTestServer:
    """A test server listening on 127.0.0.1 (a port the kernel picks) that serves each
    connection on its own daemon thread through `_serve(conn)`, until `stop()`.

    Subclasses set what `_serve` needs before calling `super().__init__()`: the accept
    loop starts there. `authority_host` is the name clients use (`localhost` for a TLS
    server whose certificate names it)."""

    authority_host = HOST

    def __init__(self):
        self.sock = listening_socket()
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=accept_forever, args=(self.sock, self._serve, lambda: self.stopped),
                                       daemon=True)
        self.thread.start()

    @property
    def authority(self) -> str:
        return f"{self.authority_host}:{self.port}"

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopped = True
        self.sock.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_is_open(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.02,
               message: str = "condition") -> object:
    """Polls predicate until it returns something truthy; raises TimeoutError
    after `timeout` seconds. Returns the truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def wait_for_port(port: int, timeout: float = 10.0, host: str = HOST,
                  alive: Optional[Callable[[], bool]] = None) -> None:
    """Polls until a TCP connect to host:port succeeds. If `alive` is given and
    returns False (the server process died), gives up at once."""
    deadline = time.monotonic() + timeout
    while True:
        if port_is_open(port, host):
            return
        if alive is not None and not alive():
            raise RuntimeError(f"server process exited before listening on {host}:{port}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")
        time.sleep(0.02)


class CurlResult(NamedTuple):
    returncode: int
    stdout: bytes
    stderr: str


def curl(*args: str, timeout: float = 30.0, input: Optional[bytes] = None,
         env: Optional[dict] = None) -> CurlResult:
    """Runs the system curl (ignoring ~/.curlrc and proxy variables) with
    --silent --show-error and a total time limit. Returns (returncode, stdout
    bytes, stderr text)."""
    cmd = ["curl", "-q", "--silent", "--show-error", "--max-time", str(timeout), *args]
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout + 15,
                           env=clean_env(env))
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"curl did not finish within {timeout + 15}s: {cmd}") from e
    return CurlResult(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def curl_status(*args: str, timeout: float = 30.0) -> tuple[int, bytes, str]:
    """curl that also reports the HTTP status: returns (http_status, body,
    stderr); http_status is 0 when no response was received."""
    r = curl("--write-out", "%{stderr}\nHTTP_STATUS=%{http_code}\n", *args, timeout=timeout)
    status = 0
    for line in r.stderr.splitlines():
        if line.startswith("HTTP_STATUS="):
            status = int(line.split("=", 1)[1] or 0)
    return status, r.stdout, r.stderr


def tapline_bin() -> Path:
    root = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("TAPLINE_BIN", root / ".build" / "release" / "tapline"))


def run_tapline(*args: str, home: Optional[Path] = None, timeout: float = 20.0,
                input: Optional[bytes] = None) -> subprocess.CompletedProcess:
    """Runs one tapline CLI command to completion (not the proxy). stdout is
    bytes (show --body prints raw bytes); stderr is text."""
    env = clean_env({"TAPLINE_HOME": str(home)} if home else None)
    cmd = [str(tapline_bin()), *args]
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"`{' '.join(cmd)}` did not finish within {timeout}s") from e
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


def text(p: subprocess.CompletedProcess) -> str:
    return p.stdout.decode("utf-8", "replace") if isinstance(p.stdout, bytes) else p.stdout


def describe(p: subprocess.CompletedProcess) -> str:
    """For assertion messages."""
    return f"exit {p.returncode}\n--- stdout ---\n{text(p)[:4000]}\n--- stderr ---\n{p.stderr[:4000]}"


def read_proc_status(pid: int, field: str) -> Optional[int]:
    """A `kB` field of /proc/PID/status (VmHWM, VmRSS), or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def run_quiet(cmd: Sequence[str], cwd: Optional[Path] = None, timeout: float = 60) -> None:
    p = subprocess.run(list(cmd), cwd=cwd, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n"
                           f"{p.stderr.decode('utf-8', 'replace')}")


def stop_peer(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Stops a peer server the test started: SIGTERM, then SIGKILL after `timeout`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
