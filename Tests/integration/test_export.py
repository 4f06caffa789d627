"""tapline export (Postman v2.1, HAR 1.2, curl) and tapline import, end to end:
a local REST origin is exercised through Tapline by curl and a Python client,
then the session is exported and the output checked against the official
schemas (Tests/fixtures/schemas), for structure, and for the absence of every secret."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

from tapline_testkit import rest_origin
from tapline_testkit.rest_origin import RestOrigin
from tapline_testkit.util import HOST, curl, describe, free_port, run_tapline, text, wait_for_port

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture_path(*parts: str) -> Path:
    """A file under Tests/fixtures (schemas and real HAR files, with their sources noted there)."""
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing from the repository's test fixtures", pytrace=False)
    return path


def schema(name: str) -> dict:
    return json.loads(fixture_path("schemas", name).read_text())


@pytest.fixture(scope="module")
def rest():
    server = RestOrigin()
    yield server
    server.stop()


def drive(base: str) -> None:
    """The same API traffic against `base` (Tapline or mitmproxy in reverse mode): curl and http.client."""
    def ok(r):
        assert r.returncode == 0, r.stderr
        return r

    for user in (1, 2, 42, 999999):
        ok(curl(f"{base}/api/users/{user}"))
    ok(curl(f"{base}/api/users?role=admin&page=1"))
    ok(curl(f"{base}/api/users?role=admin&page=2"))
    for user, order in ((1, rest_origin.ORDER_UUIDS[0]), (2, rest_origin.ORDER_UUIDS[1])):
        ok(curl(f"{base}/api/users/{user}/orders/{order}"))
    for sku in rest_origin.SKUS:
        ok(curl(f"{base}/api/products/{sku}"))
    ok(curl("-H", "Content-Type: application/json", "--data-binary",
            json.dumps({"username": "alice", "password": rest_origin.PASSWORD}), f"{base}/api/login"))
    ok(curl("--data-urlencode", "name=Ada Lovelace", "--data-urlencode", f"client_secret={rest_origin.FORM_SECRET}",
            f"{base}/api/forms"))
    ok(curl("-F", "title=report", "-F", "file=@-;filename=report.csv;type=text/csv", f"{base}/api/upload",
            input=b"a,b\n1,2\n"))
    ok(curl("-H", f"Authorization: Bearer {rest_origin.BEARER}", f"{base}/api/secure"))
    ok(curl("-u", f"{rest_origin.BASIC_USER}:{rest_origin.BASIC_PASSWORD}", f"{base}/api/secure"))
    ok(curl("-H", f"X-API-Key: {rest_origin.API_KEY}", f"{base}/api/keyed"))
    ok(curl(f"{base}/api/keyed?api_key={rest_origin.QUERY_TOKEN}&format=json"))
    ok(curl(f"{base}/api/session"))
    ok(curl("-H", f"Cookie: sid={rest_origin.SESSION_COOKIE}; theme=dark", f"{base}/api/profile"))
    ok(curl("-H", "Accept-Encoding: gzip", f"{base}/api/gzip"))
    ok(curl("-H", "Accept-Encoding: br", f"{base}/api/brotli"))

    # A Python client: GraphQL and a binary upload on one keep-alive connection.
    host, port = base.split("://")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        query = {"query": "query User($id: ID!) { user(id: $id) { id name } }", "variables": {"id": "1"}}
        conn.request("POST", "/graphql", body=json.dumps(query), headers={"Content-Type": "application/json"})
        assert conn.getresponse().read()
        conn.request("POST", "/api/blob", body=bytes(range(256)) * 4, headers={"Content-Type": "application/octet-stream"})
        assert conn.getresponse().read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def captured(rest, tmp_path_factory):
    """One Tapline session of the whole API traffic: (capture dir, session id, workdir)."""
    from tapline_testkit.proxy import TaplineFactory
    factory = TaplineFactory(tmp_path_factory)
    proxy = factory("--reverse", rest.url)
    drive(proxy.url)
    proxy.stop()
    problems = factory.stop_all()
    assert not problems, problems
    return proxy.capture_dir, proxy.session_id, tmp_path_factory.mktemp("export-out")


def export(capture_dir: Path, *args: str):
    p = run_tapline("export", *args, "--capture", str(capture_dir), timeout=60)
    assert p.returncode == 0, describe(p)
    return p


def requests_of(collection: dict) -> list[dict]:
    found = []

    def walk(items):
        for item in items:
            if "item" in item:
                walk(item["item"])
            else:
                found.append(item)
    walk(collection["item"])
    return found


def test_postman_export_validates_and_has_the_api_structure(captured):
    capture_dir, session, out = captured
    target = out / "api.postman_collection.json"
    export(capture_dir, session, "--postman", str(target))
    raw = target.read_bytes()
    collection = json.loads(raw)
    errors = list(Draft7Validator(schema("postman-collection-v2.1.0.schema.json")).iter_errors(collection))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    errors = list(Draft4Validator(schema("postman-collection-v2.1.0.draft-04.schema.json")).iter_errors(collection))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]

    items = {item["name"]: item for item in requests_of(collection)}
    for name in ("GET /api/users/:userId", "GET /api/users", "GET /api/users/:userId/orders/:orderId",
                 "GET /api/products/:productId", "POST /api/login", "POST /api/forms", "POST /api/upload",
                 "POST /graphql", "GET /api/secure", "GET /api/keyed", "GET /api/gzip", "GET /api/brotli",
                 "POST /api/blob"):
        assert name in items, sorted(items)
    # One request per endpoint.
    assert len(items) == len(requests_of(collection))

    # Folders: host, then first path segment.
    (host_folder,) = collection["item"]
    assert host_folder["name"].startswith("127.0.0.1:")
    assert [f["name"] for f in host_folder["item"]] == ["api", "graphql"]

    # Variables: baseUrl, and every redacted secret defined empty.
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables["baseUrl"].startswith("http://127.0.0.1:")
    for name in ("bearerToken", "username", "password", "xApiKey", "apiKey", "cookieSid", "accessToken",
                 "refreshToken", "clientSecret"):
        assert variables.get(name) == "", (name, sorted(variables))

    user = items["GET /api/users/:userId"]
    url = user["request"]["url"]
    assert url["raw"] == "{{baseUrl}}/api/users/:userId"
    assert url["path"] == ["api", "users", ":userId"]
    assert url["variable"][0]["key"] == "userId" and url["variable"][0]["value"] == "1"
    assert "42" in url["variable"][0]["description"]
    # Examples: one per distinct status, pretty JSON.
    assert [r["code"] for r in user["response"]] == [200, 404]
    assert user["response"][0]["_postman_previewlanguage"] == "json"
    assert json.loads(user["response"][0]["body"]) == {"id": 1, "name": "user 1"}
    assert "\n" in user["response"][0]["body"]
    assert user["response"][0]["originalRequest"]["url"]["path"] == ["api", "users", "1"]

    orders = items["GET /api/users/:userId/orders/:orderId"]["request"]["url"]["variable"]
    assert [v["key"] for v in orders] == ["userId", "orderId"] and orders[1]["value"] == rest_origin.ORDER_UUIDS[0]

    listing = items["GET /api/users"]["request"]["url"]
    assert [(q["key"], q["value"]) for q in listing["query"]] == [("role", "admin"), ("page", "1")]

    # Bodies.
    login = items["POST /api/login"]["request"]["body"]
    assert login["mode"] == "raw" and login["options"]["raw"]["language"] == "json"
    assert json.loads(login["raw"]) == {"username": "alice", "password": "{{password}}"}
    form = items["POST /api/forms"]["request"]["body"]
    assert form["mode"] == "urlencoded"
    assert {e["key"]: e["value"] for e in form["urlencoded"]} == {"name": "Ada Lovelace", "client_secret": "{{clientSecret}}"}
    upload = items["POST /api/upload"]["request"]["body"]
    assert upload["mode"] == "formdata"
    assert {e["key"]: e["type"] for e in upload["formdata"]} == {"title": "text", "file": "file"}
    assert [e.get("src") for e in upload["formdata"] if e["type"] == "file"] == ["report.csv"]
    graphql = items["POST /graphql"]["request"]["body"]
    assert graphql["mode"] == "graphql" and "user(id: $id)" in graphql["graphql"]["query"]
    assert json.loads(graphql["graphql"]["variables"]) == {"id": "1"}
    blob = items["POST /api/blob"]["request"]["body"]
    assert blob["mode"] == "file"
    assert (out / blob["file"]["src"]).read_bytes() == bytes(range(256)) * 4

    # Auth.
    secure = items["GET /api/secure"]
    assert secure["request"]["auth"]["type"] == "bearer"
    assert secure["request"]["auth"]["bearer"][0]["value"] == "{{bearerToken}}"
    basic = [r["originalRequest"].get("auth") for r in secure["response"]]
    assert any(a and a["type"] == "bearer" for a in basic)
    keyed = items["GET /api/keyed"]["request"]
    assert {h["key"]: h["value"] for h in keyed["header"]}.get("X-API-Key") == "{{xApiKey}}"
    assert [(q["key"], q["value"]) for q in keyed["url"]["query"]][0] == ("api_key", "{{apiKey}}")

    # Decoded examples.
    for name, coding in (("GET /api/gzip", "gzip"), ("GET /api/brotli", "br")):
        example = items[name]["response"][0]
        assert json.loads(example["body"])["compressed"] == coding
        assert "Content-Encoding" not in {h["key"] for h in example["header"]}

    # No secret anywhere in the file, in any form.
    body = raw.decode()
    for secret in rest_origin.SECRETS:
        assert secret not in body, f"secret {secret!r} leaked into the collection"
    basic_credentials = base64.b64encode(f"{rest_origin.BASIC_USER}:{rest_origin.BASIC_PASSWORD}".encode()).decode()
    assert basic_credentials not in body


def test_postman_export_is_byte_identical_and_group_by_works(captured):
    capture_dir, session, out = captured
    a, b = out / "a.json", out / "b.json"
    export(capture_dir, session, "--postman", str(a), "--no-binary")
    export(capture_dir, session, "--postman", str(b), "--no-binary")
    assert a.read_bytes() == b.read_bytes()
    flat = out / "flat.json"
    export(capture_dir, session, "--postman", str(flat), "--group-by", "none", "--filter", "method:GET !status:4xx")
    collection = json.loads(flat.read_text())
    assert all("request" in item for item in collection["item"])
    assert {item["request"]["method"] for item in collection["item"]} == {"GET"}


def test_keep_secrets_keeps_them(captured):
    capture_dir, session, out = captured
    target = out / "raw.json"
    export(capture_dir, session, "--postman", str(target), "--keep-secrets", "--no-binary")
    body = target.read_text()
    assert rest_origin.API_KEY in body and rest_origin.PASSWORD in body


def test_har_export_validates_and_round_trips_through_import(captured):
    capture_dir, session, out = captured
    first = out / "session.har"
    export(capture_dir, session, "--har", str(first))
    har = json.loads(first.read_text())
    errors = list(Draft7Validator(schema("har-1.2.schema.json"), format_checker=FormatChecker()).iter_errors(har))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    entries = har["log"]["entries"]
    assert len(entries) >= 25
    login = next(e for e in entries if e["request"]["url"].endswith("/api/login"))
    assert login["request"]["httpVersion"] == "HTTP/1.1"
    assert login["request"]["postData"]["mimeType"] == "application/json"
    assert login["serverIPAddress"] == "127.0.0.1"
    assert set(login["timings"]) >= {"blocked", "dns", "connect", "ssl", "send", "wait", "receive"}
    form = next(e for e in entries if e["request"]["url"].endswith("/api/forms"))
    assert {p["name"] for p in form["request"]["postData"]["params"]} == {"name", "client_secret"}
    session_entry = next(e for e in entries if e["request"]["url"].endswith("/api/session"))
    assert session_entry["response"]["cookies"][0]["name"] == "sid"
    assert session_entry["response"]["cookies"][0]["httpOnly"] is True
    gz = next(e for e in entries if e["request"]["url"].endswith("/api/gzip"))
    assert json.loads(gz["response"]["content"]["text"])["compressed"] == "gzip"
    blob = next(e for e in entries if e["request"]["url"].endswith("/api/blob"))
    assert base64.b64decode(blob["request"]["postData"]["text"]) == bytes(range(256)) * 4

    p = run_tapline("import", str(first), "--capture", str(capture_dir))
    assert p.returncode == 0, describe(p)
    imported = text(p).strip()
    second = out / "again.har"
    export(capture_dir, imported, "--har", str(second))
    again = json.loads(second.read_text())["log"]["entries"]

    def comparable(entry):
        entry = json.loads(json.dumps(entry))
        if any(h["name"].lower() == "content-encoding" for h in entry["response"]["headers"]):
            # Imported bodies are stored decoded, as HAR holds them (docs/export.md).
            entry["response"].pop("bodySize")
            entry["response"]["content"].pop("compression", None)
        entry.pop("_flowId")
        return entry
    assert [comparable(e) for e in again] == [comparable(e) for e in entries]


def test_curl_export_replays_the_request(captured, rest):
    capture_dir, session, _ = captured
    p = export(capture_dir, session, "--curl", "--filter", "path:/api/login")
    command = text(p)
    assert "curl" in command and "--data-binary" in command and "/api/login" in command
    flow = run_tapline("show", session, "--capture", str(capture_dir), "--filter", "path:/api/login", "--json")
    assert flow.returncode == 0, describe(flow)
    (listed,) = json.loads(text(flow))
    single = export(capture_dir, session, "--curl", "--flow", str(listed["id"]))
    replay = subprocess.run(["sh", "-c", text(single).replace(HOST + ":", HOST + ":", 1)], capture_output=True, timeout=30)
    assert replay.returncode == 0, replay.stderr
    assert rest_origin.ACCESS_TOKEN.encode() in replay.stdout


@pytest.mark.parametrize("fixture", sorted(p.name for p in (FIXTURES / "har").glob("*.har"))
                         or ["(HAR fixtures missing)"])
def test_import_reads_every_fixture_har(fixture, tmp_path):
    source = fixture_path("har", fixture)
    p = run_tapline("import", str(source), "--capture", str(tmp_path / "cap"))
    assert p.returncode == 0, describe(p)
    session = text(p).strip()
    expected = len(json.loads(source.read_text(encoding="utf-8-sig"))["log"]["entries"])
    listed = run_tapline("show", session, "--capture", str(tmp_path / "cap"), "--json")
    assert listed.returncode == 0, describe(listed)
    assert len(json.loads(text(listed))) == expected
    har = tmp_path / "out.har"
    export(tmp_path / "cap", session, "--har", str(har))
    errors = list(Draft7Validator(schema("har-1.2.schema.json"), format_checker=FormatChecker())
                  .iter_errors(json.loads(har.read_text())))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_import_names_the_broken_entry_and_field(tmp_path):
    bad = tmp_path / "bad.har"
    bad.write_text(json.dumps({"log": {"version": "1.2", "entries": [
        {"startedDateTime": "2024-01-01T00:00:00Z", "request": {"method": "GET", "url": "http://a/"},
         "response": {"status": 200}},
        {"startedDateTime": "2024-01-01T00:00:00Z", "request": {"method": "GET", "url": 7}, "response": {}}]}}))
    p = run_tapline("import", str(bad), "--capture", str(tmp_path / "cap"))
    assert p.returncode == 1
    assert "log.entries[1].request.url" in p.stderr
    p = run_tapline("import", str(tmp_path / "missing.har"), "--capture", str(tmp_path / "cap"))
    assert p.returncode == 1 and "missing.har: no such file" in p.stderr
    p = run_tapline("export", "x", "--postman", "a.json", "--har", "b.har")
    assert p.returncode == 2


def test_mitmproxy_har_of_the_same_traffic_gives_the_same_endpoints(captured, rest, tmp_path):
    repo = Path(__file__).resolve().parents[2]
    mitmdump = os.environ.get("TAPLINE_MITMDUMP") or shutil.which("mitmdump", path=str(repo / ".venv-mitmproxy" / "bin"))
    if mitmdump is None:
        pytest.fail("mitmdump is not installed: run scripts/install-test-deps.sh (it makes .venv-mitmproxy) "
                    "or set TAPLINE_MITMDUMP", pytrace=False)
    capture_dir, session, out = captured
    port = free_port()
    har = tmp_path / "mitm.har"
    proc = subprocess.Popen([mitmdump, "--mode", f"reverse:{rest.url}", "--listen-host", HOST, "-p", str(port),
                             "--set", f"hardump={har}", "--set", f"confdir={tmp_path / 'mitmconf'}", "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, 30, alive=lambda: proc.poll() is None)
        drive(f"http://{HOST}:{port}")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert har.exists(), proc.stderr.read().decode(errors="replace")
    p = run_tapline("import", str(har), "--capture", str(tmp_path / "cap"))
    assert p.returncode == 0, describe(p)
    theirs = tmp_path / "mitm.json"
    export(tmp_path / "cap", text(p).strip(), "--postman", str(theirs), "--no-binary")
    ours = out / "ours.json"
    export(capture_dir, session, "--postman", str(ours), "--no-binary")

    def endpoints(path):
        return sorted(item["name"] for item in requests_of(json.loads(path.read_text())))
    assert endpoints(theirs) == endpoints(ours)


def test_websocket_messages_survive_import_and_reach_both_exports(tmp_path):
    source = fixture_path("har", "mitmproxy-savehar-websocket.har")
    p = run_tapline("import", str(source), "--capture", str(tmp_path / "cap"))
    assert p.returncode == 0, describe(p)
    session = text(p).strip()
    har = tmp_path / "ws.har"
    export(tmp_path / "cap", session, "--har", str(har))
    original = json.loads(source.read_text())["log"]["entries"]
    entries = json.loads(har.read_text())["log"]["entries"]
    assert [e.get("_resourceType") for e in entries] == ["websocket"] * 3
    assert [[(m["type"], m["opcode"], m["data"]) for m in e["_webSocketMessages"]] for e in entries] == \
           [[(m["type"], m["opcode"], m["data"]) for m in e["_webSocketMessages"]] for e in original]
    collection = tmp_path / "ws.json"
    export(tmp_path / "cap", session, "--postman", str(collection))
    (item,) = requests_of(json.loads(collection.read_text()))
    extension = item["_tapline"]
    assert extension["protocol"] == "websocket" and extension["url"].startswith("wss://")
    assert extension["messages"] and extension["messages"][0]["direction"] in ("send", "receive")
    assert "WebSocket" in item["description"]
