#!/usr/bin/env python3
"""Tapline benchmark driver (called by bench/run.sh; Python stdlib only).

For a 1 KiB and a 1 MiB static file served by nginx on 127.0.0.1, runs
`wrk -t2 -c50 -d10s --latency` three ways:
  direct       straight to nginx
  capture      through `tapline proxy --reverse http://nginx --quiet --capture TMP`
  no-capture   through `tapline proxy --reverse http://nginx --quiet --no-capture`
  nginx-proxy  through a second nginx as a reverse proxy (keep-alive upstream), a
               reference for what a mature proxy costs on this machine, without capture
and prints req/s, p99 latency, Tapline's peak RSS (VmHWM) and the ratio of req/s
to direct. Raw wrk output and the table go to bench/results/<timestamp>/.

After the 1 MiB capture case it also measures how fast this machine stores new
data in the capture directory (1 MiB writes to a new file for as long as a wrk
run, no fsync; once left in the page cache, once written back and dropped in
16 MiB windows like the capture's files) and prints what share of the latter the
capture reached: with capture on, every response byte is stored.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
FILES = {"1k": 1024, "1m": 1024 * 1024}
ALL_CASES = ["direct", "capture", "no-capture", "nginx-proxy"]

_children: list[subprocess.Popen] = []


# --- processes -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}) before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout}s")


def spawn(cmd: list[str], **kw) -> subprocess.Popen:
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)
    _children.append(p)
    return p


def stop(p: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
    if p in _children:
        _children.remove(p)


def stop_all() -> None:
    for p in list(_children):
        stop(p, timeout=5)


def _on_signal(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def vm_hwm_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


# --- nginx -------------------------------------------------------------------------
def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        sys.exit("bench: nginx not found (make test-deps)")
    return found


def nginx_config(nginx: str, workdir: Path, port: int, template: str = "nginx.conf.template",
                 upstream_port: int = 0) -> str:
    info = subprocess.run([nginx, "-V"], capture_output=True, text=True).stderr
    temp = [f"    client_body_temp_path {workdir}/tmp/body;"]
    for module, directive in (("proxy", "proxy_temp_path"), ("fastcgi", "fastcgi_temp_path"),
                              ("uwsgi", "uwsgi_temp_path"), ("scgi", "scgi_temp_path")):
        if f"--without-http_{module}_module" not in info:
            temp.append(f"    {directive} {workdir}/tmp/{module};")
    # Workers of a root master switch to `nobody`, which cannot read our 0700
    # temp dir: keep them as the current user.
    user = ""
    if os.geteuid() == 0:
        user = "user root root;"
    text = (ROOT / "bench" / template).read_text()
    for key, value in {"user_directive": user, "dir": str(workdir), "port": str(port),
                       "upstream_port": str(upstream_port), "temp_paths": "\n".join(temp)}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def one_kib_docroot(workdir: Path) -> Path:
    """`workdir/doc` holding `1k.bin` (the 1 KiB body the HTTP/2 benchmarks fetch)."""
    docroot = workdir / "doc"
    docroot.mkdir()
    (docroot / "1k.bin").write_bytes(bytes(range(256)) * 4)
    return docroot


def start_nginx(workdir: Path) -> tuple[subprocess.Popen, int]:
    nginx = nginx_binary()
    www = workdir / "www"
    www.mkdir(parents=True)
    (workdir / "tmp").mkdir()
    for name, size in FILES.items():
        block = bytes(range(256)) * 4
        with open(www / f"{name}.bin", "wb") as f:
            for _ in range(size // len(block)):
                f.write(block)
    port = free_port()
    return launch_nginx(nginx, workdir, port, nginx_config(nginx, workdir, port)), port


def start_nghttpd_h2c(workdir: Path) -> int:
    """nghttpd without TLS (h2c, prior knowledge) serving the 1 KiB docroot; returns its port."""
    nghttpd = shutil.which("nghttpd") or "/usr/sbin/nghttpd"
    port = free_port()
    proc = spawn([nghttpd, "--no-tls", "-d", str(one_kib_docroot(workdir)), "--address", HOST, str(port)],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc)
    return port


def start_nginx_proxy(workdir: Path, upstream_port: int) -> tuple[subprocess.Popen, int]:
    """A second nginx, configured as a reverse proxy in front of the origin."""
    nginx = nginx_binary()
    (workdir / "tmp").mkdir(parents=True)
    port = free_port()
    config = nginx_config(nginx, workdir, port, "nginx-proxy.conf.template", upstream_port)
    return launch_nginx(nginx, workdir, port, config), port


def launch_nginx(nginx: str, workdir: Path, port: int, config: str) -> subprocess.Popen:
    """Starts nginx with `config` in `workdir` and waits for `port` (its stderr is shown if it fails)."""
    conf = workdir / "nginx.conf"
    conf.write_text(config)
    log = open(workdir / "nginx.stderr", "wb")
    p = spawn([nginx, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")],
              stdout=log, stderr=log)
    try:
        wait_for_port(port, p)
    except Exception:
        sys.stderr.write((workdir / "nginx.stderr").read_text(errors="replace"))
        raise
    return p


# --- tapline -------------------------------------------------------------------------
def start_tapline(binary: str, workdir: Path, upstream_port: int, capture: bool, tag: str):
    port = free_port()
    home = workdir / f"home-{tag}"
    home.mkdir()
    args = [binary, "proxy", "--listen", f"{HOST}:{port}",
            "--reverse", f"http://{HOST}:{upstream_port}", "--quiet"]
    if capture:
        cap = workdir / f"captures-{tag}"
        cap.mkdir()
        args += ["--capture", str(cap)]
    else:
        args += ["--no-capture"]
    log = open(workdir / f"tapline-{tag}.stderr", "wb")
    env = dict(os.environ, TAPLINE_HOME=str(home))
    p = spawn(args, stdout=log, stderr=log, env=env)
    try:
        wait_for_port(port, p)
    except Exception:
        stop(p)
        sys.stderr.write((workdir / f"tapline-{tag}.stderr").read_text(errors="replace"))
        raise
    return p, port


# --- wrk -------------------------------------------------------------------------------
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(out: str) -> dict:
    res: dict = {"rps": None, "p99_ms": None, "non2xx": 0, "socket_errors": ""}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M)
    if m:
        res["p99_ms"] = float(m.group(1)) * _UNITS_MS[m.group(2)]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors:\s*(.+)", out)
    if m:
        res["socket_errors"] = m.group(1).strip()
    return res


def run_wrk(url: str, threads: int, conns: int, duration: int) -> str:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "5s", url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr}")
    return p.stdout


def check_get(url: str, size: int) -> None:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=10) as r:
        body = r.read()
    if r.status != 200 or len(body) != size:
        raise RuntimeError(f"sanity GET {url}: status {r.status}, {len(body)} bytes, expected {size}")


def fresh_write_rate(directory: Path, seconds: float, release_window: int | None = None) -> float:
    """Bytes per second at which new data can be stored in `directory`: 1 MiB writes
    to a new file for `seconds` (no fsync), then the file is removed. With
    `release_window`, every window written is pushed to disk and the one before it
    waited for and dropped from the page cache, as Tapline's capture files do
    (`WrittenPageRelease`)."""
    block = bytes(range(256)) * 4096
    path = directory / "write-ceiling.bin"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sync_file_range.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    write, wait_write_wait = 2, 1 | 2 | 4  # SYNC_FILE_RANGE_WRITE, WAIT_BEFORE | WRITE | WAIT_AFTER
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    written = started = dropped = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            written += os.write(fd, block)
            while release_window and written - started >= release_window:
                libc.sync_file_range(fd, started, release_window, write)
                started += release_window
                if started - dropped >= 2 * release_window:
                    libc.sync_file_range(fd, dropped, release_window, wait_write_wait)
                    os.posix_fadvise(fd, dropped, release_window, os.POSIX_FADV_DONTNEED)
                    dropped += release_window
    finally:
        elapsed = time.monotonic() - start
        os.close(fd)
        path.unlink()
    return written / elapsed


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


# --- main ---------------------------------------------------------------------------------
def fmt(v, spec: str, none: str = "-") -> str:
    return none if v is None else format(v, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(ROOT / ".build" / "release" / "tapline"))
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    ap.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured wrk before each run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--cases", default=",".join(ALL_CASES),
                    help="comma-separated subset of: " + ", ".join(ALL_CASES))
    ap.add_argument("--results", default=str(ROOT / "bench" / "results"))
    opts = ap.parse_args()
    cases = [c for c in opts.cases.split(",") if c]
    unknown = set(cases) - set(ALL_CASES)
    if unknown:
        ap.error(f"unknown cases: {', '.join(sorted(unknown))}")
    if any(c != "direct" for c in cases) and not os.access(opts.bin, os.X_OK):
        ap.error(f"tapline binary not found: {opts.bin}")

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results = Path(opts.results) / stamp
    results.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tapline-bench-"))
    rows = []
    ceiling = None  # (bytes/s, capture-1m req/s)
    started = time.monotonic()
    try:
        nginx, nginx_port = start_nginx(workdir)
        print(f"bench: nginx on {HOST}:{nginx_port}, wrk -t{opts.threads} -c{opts.connections} "
              f"-d{opts.duration}s, results in {results}", flush=True)
        nginx_proxy_port = None
        if "nginx-proxy" in cases:
            _, nginx_proxy_port = start_nginx_proxy(workdir / "nginx-proxy", nginx_port)
        direct_rps: dict[str, float] = {}
        for name, size in FILES.items():
            for case in cases:
                tag = f"{case}-{name}"
                proc = None
                port = nginx_port
                if case == "nginx-proxy":
                    port = nginx_proxy_port
                elif case != "direct":
                    proc, port = start_tapline(opts.bin, workdir, nginx_port, case == "capture", tag)
                url = f"http://{HOST}:{port}/{name}.bin"
                try:
                    check_get(url, size)
                    if opts.warmup > 0:
                        run_wrk(url, opts.threads, opts.connections, opts.warmup)
                    out = run_wrk(url, opts.threads, opts.connections, opts.duration)
                    rss = vm_hwm_kb(proc.pid) if proc else None
                    if proc and proc.poll() is not None:
                        raise RuntimeError(f"tapline exited ({proc.returncode}) during {tag}")
                finally:
                    if proc:
                        stop(proc)
                (results / f"{tag}.txt").write_text(out)
                r = parse_wrk(out)
                if case == "direct" and r["rps"]:
                    direct_rps[name] = r["rps"]
                base = direct_rps.get(name)
                ratio = (r["rps"] / base) if (base and r["rps"]) else None
                captured = dir_size(workdir / f"captures-{tag}") if case == "capture" else None
                shutil.rmtree(workdir / f"captures-{tag}", ignore_errors=True)
                if case == "capture" and name == "1m" and r["rps"]:
                    ceiling = (fresh_write_rate(workdir, opts.duration),
                               fresh_write_rate(workdir, opts.duration, release_window=16 << 20), r["rps"])
                rows.append((tag, r, rss, ratio, captured))
                print(f"  {tag:<16} {fmt(r['rps'], '.0f'):>9} req/s  p99 {fmt(r['p99_ms'], '.2f'):>8} ms"
                      f"  rss {fmt(rss and rss / 1024, '.1f'):>6} MiB", flush=True)
        stop(nginx)
    except KeyboardInterrupt as e:
        print(f"bench: interrupted ({e})", file=sys.stderr)
        return 130
    finally:
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    header = f"| {'case':<16} | {'req/s':>9} | {'p99 ms':>8} | {'tapline peak RSS':>16} | {'vs direct':>9} | notes"
    lines = [header, "|" + "|".join("-" * n for n in (18, 11, 10, 18, 11, 7))]
    for tag, r, rss, ratio, captured in rows:
        notes = []
        if r["non2xx"]:
            notes.append(f"{r['non2xx']} non-2xx")
        if r["socket_errors"]:
            notes.append(f"socket errors: {r['socket_errors']}")
        if captured is not None:
            notes.append(f"captured {captured / 1e6:.0f} MB")
        lines.append(f"| {tag:<16} | {fmt(r['rps'], '.0f'):>9} | {fmt(r['p99_ms'], '.2f'):>8} | "
                     f"{fmt(rss and rss / 1024, '.1f') + ' MiB' if rss else '-':>16} | "
                     f"{fmt(ratio, '.2f'):>9} | {'; '.join(notes)}")
    table = "\n".join(lines)
    print()
    print(table)
    if ceiling:
        plain, released, rps = ceiling
        limit = released / FILES["1m"]
        base = direct_rps.get("1m")
        share = f" ({limit / base:.2f}x direct)" if base else ""
        note = (f"\nStoring new data in the capture directory: {plain / 1e6:.0f} MB/s left in the page cache, "
                f"{released / 1e6:.0f} MB/s written back and dropped in 16 MiB windows as the capture does, "
                f"i.e. at most {limit:.0f} req/s of 1 MiB with every body captured{share}; "
                f"capture-1m reached {rps / limit:.0%} of that.")
        print(note)
        table += "\n" + note
    print(f"\nbench: {time.monotonic() - started:.0f}s; raw wrk output in {results}")
    (results / "summary.md").write_text(
        f"# Tapline bench {stamp}\n\nwrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s "
        f"--latency against nginx (worker_processes 1) on {os.cpu_count()} cores\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
