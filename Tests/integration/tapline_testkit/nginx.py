"""nginx (Debian nginx-light) as a TLS origin: `listen ... ssl http2` with the test
CA's certificate and only the TLS versions asked for, serving a directory. It runs in
the foreground on a free 127.0.0.1 port with its pid, logs and temp files in its own
directory, and keeps an access log (`served()`) so a test can tell what nginx answered
from what the proxy relayed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .origin import TestCA
from .util import HOST, free_port, stop_peer, wait_for_port

_TEMP_MODULES = (("proxy", "proxy_temp_path"), ("fastcgi", "fastcgi_temp_path"),
                 ("uwsgi", "uwsgi_temp_path"), ("scgi", "scgi_temp_path"))


class NginxTLSOrigin:
    """nginx serving `docroot` over TLS (`protocols`: nginx's ssl_protocols, e.g. "TLSv1.2"),
    ALPN h2 and http/1.1."""

    def __init__(self, workdir: Path, docroot: Path, tls: TestCA, protocols: str):
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        self.protocols = protocols
        self.dir = Path(workdir)
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.access_log = self.dir / "access.log"
        self.port = free_port()
        (self.dir / "nginx.conf").write_text(self._config(exe, docroot, tls, protocols))
        self.stderr = open(self.dir / "nginx.stderr", "wb")
        self.proc = subprocess.Popen([exe, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                                      "-e", str(self.dir / "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        try:
            wait_for_port(self.port, 10, alive=lambda: self.proc.poll() is None)
        except Exception as e:
            self.stop()
            log = (self.dir / "nginx.stderr").read_text(errors="replace")
            raise RuntimeError(f"nginx did not start: {e}\n{log}") from None

    def _config(self, exe: str, docroot: Path, tls: TestCA, protocols: str) -> str:
        built_with = subprocess.run([exe, "-V"], capture_output=True, text=True).stderr
        temp = [f"    client_body_temp_path {self.dir}/tmp/body;"]
        temp += [f"    {directive} {self.dir}/tmp/{module};" for module, directive in _TEMP_MODULES
                 if f"--without-http_{module}_module" not in built_with]
        # A root master's workers switch to `nobody`, which cannot read our 0700 temp dirs.
        user = "user root root;" if os.geteuid() == 0 else ""
        temp_paths = "\n".join(temp)
        return f"""{user}
worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    default_type application/octet-stream;
    log_format served '$server_protocol $ssl_protocol $status $body_bytes_sent $request_uri';
    access_log {self.access_log} served;
{temp_paths}
    server {{
        listen {HOST}:{self.port} ssl http2;
        server_name localhost;
        ssl_certificate {tls.server_cert};
        ssl_certificate_key {tls.server_key};
        ssl_protocols {protocols};
        root {docroot};
    }}
}}
"""

    def served(self) -> list[list[str]]:
        """The access log so far: [protocol, TLS version, status, body bytes, URI] per request.
        nginx writes a request's line once it has sent the response: a client can have the
        response a moment before the line is there."""
        try:
            return [line.split(" ") for line in self.access_log.read_text().splitlines()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        stop_peer(self.proc, timeout=10)
        self.stderr.close()
