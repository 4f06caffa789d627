"""`tapline run -- CMD` (issue #25 item 1): real clients run as the command, told about
neither the proxy nor the CA, reach the testkit's origins on 127.0.0.1 through the proxy
`run` starts, and the capture holds their flows; exit codes and signals pass through.

The origins' certificates come from the throwaway test CA, so every run passes
`--upstream-ca` (the proxy must trust the origin; the client must trust Tapline's CA,
which is what `run` sets up)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import termios
import textwrap
import threading
import time
from pathlib import Path
from typing import Optional

import grpc
import pytest

from tapline_testkit.grpc_origin import SERVICE, GrpcOrigin
from tapline_testkit.origin import OriginServer, user_record
from tapline_testkit.util import HOST, clean_env, describe, run_tapline, tapline_bin, text

RUN_TIMEOUT = 60


class Run:
    """One `tapline run` in its own directory: TAPLINE_HOME and captures/ inside it."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.home = workdir / "home"
        self.captures = workdir / "captures"
        self.home.mkdir(parents=True, exist_ok=True)

    def env(self, extra: Optional[dict] = None) -> dict:
        # clean_env drops the tester's proxy variables: what the child sees is run's doing.
        return clean_env({"TAPLINE_HOME": str(self.home), **(extra or {})})

    def argv(self, options: list[str], command: list[str]) -> list[str]:
        return [str(tapline_bin()), "run", "--capture", str(self.captures), "--quiet", *options, "--", *command]

    def __call__(self, *command: str, options: Optional[list[str]] = None, env: Optional[dict] = None,
                 input: Optional[bytes] = None) -> subprocess.CompletedProcess:
        p = subprocess.run(self.argv(options or [], list(command)), capture_output=True, input=input,
                           timeout=RUN_TIMEOUT, env=self.env(env), cwd=self.workdir)
        p.stderr = p.stderr.decode("utf-8", "replace")
        return p

    def session(self) -> Path:
        sessions = [d for d in self.captures.iterdir() if d.is_dir()]
        assert len(sessions) == 1, f"expected one session in {self.captures}: {sessions}"
        return sessions[0]

    def flows(self) -> list[dict]:
        p = run_tapline("show", str(self.session()), "--json", home=self.home)
        assert p.returncode == 0, describe(p)
        return json.loads(text(p))

    def metadata(self) -> dict:
        return json.loads((self.session() / "session.json").read_text())


@pytest.fixture
def run(tmp_path) -> Run:
    return Run(tmp_path)


@pytest.fixture
def https_localhost(test_ca):
    """An HTTPS origin reached as https://localhost:PORT (its certificate names localhost)."""
    server = OriginServer(tls=test_ca)
    yield server
    server.stop()


def upstream_ca(test_ca) -> list[str]:
    return ["--upstream-ca", str(test_ca.ca_cert)]


def assert_captured(run: Run, url: str, status: int = 200) -> dict:
    """The session is closed and holds one complete flow for `url`."""
    metadata = run.metadata()
    assert metadata["ended"] is not None, f"session not closed: {metadata}"
    flows = [f for f in run.flows() if f["url"] == url]
    assert len(flows) == 1, f"expected one flow for {url}: {run.flows()}"
    assert flows[0]["state"] == "complete" and flows[0]["status"] == status, flows[0]
    return flows[0]


def python_client(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


# --- clients that honour the variables -------------------------------------------------

def test_curl_without_proxy_or_cacert_is_captured(run, https_localhost, test_ca):
    url = f"https://localhost:{https_localhost.port}/users/7"
    p = run("curl", "-q", "--silent", "--show-error", "--max-time", "20", url, options=upstream_ca(test_ca))
    assert p.returncode == 0, describe(p)
    assert json.loads(p.stdout) == user_record(7)
    flow = assert_captured(run, url)
    assert flow["method"] == "GET"
    assert run.metadata()["command"] == ["curl", "-q", "--silent", "--show-error", "--max-time", "20", url]
    # The command shows in `tapline sessions` too.
    listing = run_tapline("sessions", "--capture", str(run.captures), home=run.home)
    assert listing.returncode == 0 and f"curl -q --silent --show-error --max-time 20 {url}" in text(listing), describe(listing)


@pytest.mark.parametrize("library", ["requests", "httpx"])
def test_python_http_libraries(run, https_localhost, test_ca, library):
    """requests reads REQUESTS_CA_BUNDLE, httpx SSL_CERT_FILE; both read HTTPS_PROXY."""
    url = f"https://localhost:{https_localhost.port}/users/3"
    p = run(*python_client(f"""
        import {library}
        print({library}.get({url!r}, timeout=20).text, end="")
    """), options=upstream_ca(test_ca))
    assert p.returncode == 0, describe(p)
    assert json.loads(p.stdout) == user_record(3)
    assert_captured(run, url)


NODE_HTTPS_GET = r"""
// Node does not read HTTP(S)_PROXY (docs/capture-any-client.md): open the CONNECT tunnel by
// hand, and let https.get verify Tapline's leaf with what NODE_EXTRA_CA_CERTS added.
const http = require('http'), https = require('https'), tls = require('tls');
const [host, port, path] = process.argv.slice(2);
const proxy = new URL(process.env.HTTPS_PROXY);
http.request({host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `${host}:${port}`})
  .on('connect', (response, socket) => {
    if (response.statusCode !== 200) { console.error('CONNECT answered', response.statusCode); process.exit(2); }
    // An agent whose one connection is TLS over the tunnel; tls.connect is given no `ca`.
    const agent = new https.Agent();
    agent.createConnection = () => tls.connect({socket, servername: host});
    https.get({host, port, path, agent}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => { process.stdout.write(body); socket.destroy(); });
    }).on('error', (error) => { console.error(error.message); process.exit(3); });
  })
  .on('error', (error) => { console.error(error.message); process.exit(4); })
  .end();
"""


def test_node_https_get_trusts_the_ca_through_node_extra_ca_certs(run, https_localhost, test_ca, tmp_path):
    script = tmp_path / "get.js"
    script.write_text(NODE_HTTPS_GET)
    p = run("node", str(script), "localhost", str(https_localhost.port), "/users/5", options=upstream_ca(test_ca))
    assert p.returncode == 0, describe(p)
    assert json.loads(p.stdout) == user_record(5)
    assert_captured(run, f"https://localhost:{https_localhost.port}/users/5")


JAVA_GET = """
import java.net.HttpURLConnection;
import java.net.URL;

public class Get {
    public static void main(String[] arguments) throws Exception {
        // No proxy or trust store in code: JAVA_TOOL_OPTIONS from tapline run gives both.
        HttpURLConnection connection = (HttpURLConnection) new URL(arguments[0]).openConnection();
        System.out.print(new String(connection.getInputStream().readAllBytes(), "UTF-8"));
        if (!connection.usingProxy()) System.exit(5);
    }
}
"""


@pytest.mark.skipif(shutil.which("java") is None or shutil.which("javac") is None,
                    reason="needs a JDK (java runs the one-file client from source)")
def test_java_trusts_the_pkcs12_store_and_uses_the_proxy(run, https_localhost, test_ca, tmp_path):
    source = tmp_path / "Get.java"
    source.write_text(JAVA_GET)
    url = f"https://localhost:{https_localhost.port}/users/6"
    p = run("java", str(source), url, options=upstream_ca(test_ca))
    assert p.returncode == 0, describe(p)
    assert json.loads(p.stdout) == user_record(6)
    assert_captured(run, url)


GRPC_CLIENT = """
import grpc, sys
target, secure = sys.argv[1], sys.argv[2] == "tls"
# No root certificates given: grpcio reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH; the proxy
# comes from grpc_proxy.
channel = grpc.secure_channel(target, grpc.ssl_channel_credentials()) if secure else grpc.insecure_channel(target)
with channel:
    unary = channel.unary_unary("/{service}/Unary")
    print(unary(b"hello through tapline run", timeout=20).decode(), end="")
"""


@pytest.fixture
def grpc_tls_origin(test_ca):
    origin = GrpcOrigin(tls=test_ca)
    yield origin
    origin.stop()


def test_grpcio_over_tls(run, grpc_tls_origin, test_ca):
    target = grpc_tls_origin.authority
    p = run(*python_client(GRPC_CLIENT.format(service=SERVICE)), target, "tls", options=upstream_ca(test_ca))
    assert p.returncode == 0, describe(p)
    assert p.stdout == b"hello through tapline run"
    flow = assert_captured(run, f"https://{target}/{SERVICE}/Unary")
    assert flow["protocol"] == "HTTP/2"


def test_grpcio_h2c(run):
    origin = GrpcOrigin()
    try:
        p = run(*python_client(GRPC_CLIENT.format(service=SERVICE)), origin.authority, "plaintext")
        assert p.returncode == 0, describe(p)
        assert p.stdout == b"hello through tapline run"
        flow = assert_captured(run, f"http://{origin.authority}/{SERVICE}/Unary")
        assert flow["protocol"] == "HTTP/2"
    finally:
        origin.stop()


def test_python_websockets(run, test_ca):
    import ssl

    from websockets.sync.server import serve

    def echo(connection):
        for message in connection:
            connection.send(message)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(test_ca.server_cert), str(test_ca.server_key))
    with serve(echo, HOST, 0, ssl=context) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        url = f"wss://localhost:{port}/echo"
        p = run(*python_client(f"""
            from websockets.sync.client import connect
            # websockets >= 15 reads the proxy from the environment (proxy=True) and
            # verifies with ssl's default paths (SSL_CERT_FILE).
            with connect({url!r}, open_timeout=20) as ws:
                ws.send("ping through tapline run")
                print(ws.recv(timeout=20), end="")
        """), options=upstream_ca(test_ca))
        server.shutdown()
    assert p.returncode == 0, describe(p)
    assert p.stdout == b"ping through tapline run"
    flows = [f for f in run.flows() if f["kind"] == "websocket"]
    # The capture names a WebSocket flow by its handshake's URL.
    assert len(flows) == 1 and flows[0]["url"] == f"https://localhost:{port}/echo", run.flows()
    assert flows[0]["state"] == "complete", flows[0]


# --- exit codes, signals, the session ---------------------------------------------------

@pytest.mark.parametrize("code", [0, 3])
def test_exit_code_passes_through(run, code):
    p = run("sh", "-c", f"exit {code}")
    assert p.returncode == code, describe(p)
    assert run.metadata()["ended"] is not None


def test_missing_command_exits_127_without_starting_a_proxy(run):
    p = run("tapline-no-such-command-anywhere")
    assert p.returncode == 127, describe(p)
    assert "tapline-no-such-command-anywhere: command not found" in p.stderr
    assert not run.captures.exists() or not any(run.captures.iterdir())


def test_not_executable_exits_126(run, tmp_path):
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    p = run(str(script))
    assert p.returncode == 126, describe(p)
    assert "cannot run it" in p.stderr


def test_child_killed_by_sigterm_exits_143(run):
    p = run("sh", "-c", "kill -TERM $$")
    assert p.returncode == 128 + signal.SIGTERM, describe(p)


TRAPPING_CHILD = """
import signal, sys
marker = sys.argv[1]
def caught(number, frame):
    with open(marker, "w") as f:
        f.write(signal.Signals(number).name)
    sys.exit(42)
signal.signal(signal.SIGTERM, caught)
signal.signal(signal.SIGINT, caught)
print("ready", flush=True)
signal.pause()
"""


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_tapline_reaches_the_child(run, tmp_path, sent):
    marker = tmp_path / "caught"
    proc = subprocess.Popen(run.argv([], [sys.executable, "-c", TRAPPING_CHILD, str(marker)]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=run.env(), cwd=run.workdir)
    try:
        assert proc.stdout.readline() == b"ready\n", proc.stderr.read().decode()
        proc.send_signal(sent)
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 42, stderr.decode()
    assert marker.read_text() == sent.name
    metadata = run.metadata()
    assert metadata["ended"] is not None and metadata["stats"]["flows"] == 0


COUNTING_CHILD = """
import signal, sys
marker, interrupts = sys.argv[1], 0
def interrupted(number, frame):
    global interrupts
    interrupts += 1
    print(f"SIGINT {interrupts}", flush=True)
def terminated(number, frame):
    with open(marker, "w") as f:
        f.write(f"SIGINT {interrupts}")
    sys.exit(42)
signal.signal(signal.SIGINT, interrupted)
signal.signal(signal.SIGTERM, terminated)
print("ready", flush=True)
while True:
    signal.pause()
"""


def read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 20.0) -> None:
    """Reads the pty master into `seen` until `wanted` appears."""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {wanted!r} on the terminal; it showed {bytes(seen)!r}"
        if select.select([fd], [], [], remaining)[0]:
            seen += os.read(fd, 4096)


def test_ctrl_c_on_the_terminal_reaches_the_child_and_tapline_waits_for_it(run, tmp_path):
    """Ctrl-C on a terminal signals its foreground process group. The child stays in
    tapline's group, so it gets the SIGINT from the kernel as if it ran alone (tapline
    passes on only signals a process sent to it alone), and tapline stays until the
    child ends: here the child handles SIGINT and goes on, as a REPL would."""
    marker = tmp_path / "interrupts"
    master, slave = pty.openpty()

    def take_the_terminal():  # in the new session: the pty becomes its controlling terminal
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(run.argv([], [sys.executable, "-c", COUNTING_CHILD, str(marker)]),
                            stdin=slave, stdout=slave, stderr=slave, env=run.env(), cwd=run.workdir,
                            start_new_session=True, preexec_fn=take_the_terminal)
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, b"ready", seen)
        os.write(master, b"\x03")  # the terminal's interrupt character
        read_until(master, b"SIGINT 1", seen)
        assert proc.poll() is None, "tapline must wait for its child, not stop at Ctrl-C"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=RUN_TIMEOUT) == 42, bytes(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert marker.read_text() == "SIGINT 1"
    assert run.metadata()["ended"] is not None


def test_capture_is_complete_after_the_run(run):
    origin = OriginServer()
    try:
        urls = [f"{origin.url}/users/{n}" for n in (1, 2, 3)]
        p = run("curl", "-q", "--silent", "--show-error", "--parallel", "--max-time", "20", *urls)
    finally:
        origin.stop()
    assert p.returncode == 0, describe(p)
    metadata = run.metadata()
    assert metadata["ended"] is not None and metadata["stats"]["flows"] == 3
    flows = run.flows()
    assert sorted(f["url"] for f in flows) == sorted(urls)
    assert all(f["state"] == "complete" for f in flows), flows


def test_with_a_running_proxy_the_flow_lands_in_its_session(tapline, run, https_localhost, test_ca):
    proxy = tapline(*upstream_ca(test_ca))
    proxy.wait_for_ca()
    url = f"https://localhost:{https_localhost.port}/users/9"
    # The same TAPLINE_HOME as the running proxy: its CA is the one the child must trust.
    p = subprocess.run([str(tapline_bin()), "run", "--proxy", proxy.proxy_url, "--",
                        "curl", "-q", "--silent", "--show-error", "--max-time", "20", url],
                       capture_output=True, timeout=RUN_TIMEOUT, env=clean_env({"TAPLINE_HOME": str(proxy.home)}),
                       cwd=run.workdir)
    assert p.returncode == 0, p.stderr.decode()
    assert json.loads(p.stdout) == user_record(9)
    assert not run.captures.exists(), "run --proxy must not start a proxy of its own"
    proxy.stop()
    shown = proxy.cli("show", str(proxy.session_dir()), "--json")
    assert [f["url"] for f in json.loads(text(shown))] == [url], describe(shown)


def test_no_proxy_star_is_warned_about(run):
    p = run("true", env={"NO_PROXY": "*"})
    assert p.returncode == 0, describe(p)
    assert "NO_PROXY=* excludes every host" in p.stderr


def test_child_environment_names_the_proxy_and_the_bundle(run):
    p = run(*python_client("""
        import json, os
        print(json.dumps(dict(os.environ)))
    """), env={"JAVA_TOOL_OPTIONS": "-Xmx64m", "NO_PROXY": "example.invalid"})
    assert p.returncode == 0, describe(p)
    env = json.loads(p.stdout)
    proxy = env["HTTPS_PROXY"]
    assert proxy.startswith(f"http://{HOST}:")
    for name in ("HTTP_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "grpc_proxy"):
        assert env[name] == proxy, name
    bundle = Path(env["SSL_CERT_FILE"])
    for name in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "GIT_SSL_CAINFO",
                 "AWS_CA_BUNDLE", "DENO_CERT"):
        assert env[name] == str(bundle), name
    ca = (run.home / "ca.pem").read_text()
    assert bundle.read_text().endswith(ca), "the bundle ends with Tapline's CA"
    assert bundle.read_text().count("BEGIN CERTIFICATE") > 1, "the bundle holds the system roots too"
    assert env["NODE_EXTRA_CA_CERTS"] == str(run.home / "ca.pem")
    assert env["NO_PROXY"] == "example.invalid"
    # SSL_CERT_DIR: Tapline's CA under its OpenSSL hash name, then the system directory.
    ours, system = env["SSL_CERT_DIR"].split(":", 1)
    subject_hash = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in", str(run.home / "ca.pem")],
                                  capture_output=True, text=True, check=True).stdout.strip()
    assert (Path(ours) / f"{subject_hash}.0").read_text() == ca
    assert system
    java = env["JAVA_TOOL_OPTIONS"]
    assert java.startswith("-Xmx64m ") and "-Djavax.net.ssl.trustStoreType=PKCS12" in java
    assert f"-Dhttps.proxyHost={HOST} -Dhttps.proxyPort={proxy.rsplit(':', 1)[1]}" in java
    assert java.endswith(" -Dhttp.nonProxyHosts=example.invalid|*.example.invalid"), java
    store = next(o for o in java.split() if o.startswith("-Djavax.net.ssl.trustStore=")).split("=", 1)[1]
    # Java sees every certificate, Tapline's CA first, as a trusted entry.
    if shutil.which("keytool"):
        listing = subprocess.run(["keytool", "-list", "-keystore", store, "-storetype", "PKCS12",
                                  "-storepass", "tapline"], capture_output=True, text=True, timeout=60,
                                 env=clean_env({"JAVA_TOOL_OPTIONS": ""}))
        assert listing.returncode == 0, listing.stderr
        assert "tapline-ca," in listing.stdout and "trustedCertEntry" in listing.stdout
        assert listing.stdout.count("trustedCertEntry") == bundle.read_text().count("BEGIN CERTIFICATE")


# --- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("arguments", [
    ["run"], ["run", "curl", "http://x"], ["run", "--"], ["run", "--quiet", "--"],
    ["run", "--reverse", "http://127.0.0.1:1", "--", "true"],
    ["run", "--proxy", "https://127.0.0.1:1", "--", "true"],
    ["run", "--proxy", "http://127.0.0.1:1", "--capture", "elsewhere", "--", "true"],
])
def test_usage_errors_exit_2(tmp_path, arguments):
    p = run_tapline(*arguments, home=tmp_path)
    assert p.returncode == 2, describe(p)
    assert "usage: tapline run" in p.stderr
