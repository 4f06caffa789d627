"""`tapline replay` on bad input (issue #23, "Bad input and limits"), the cases
`test_replay.py::test_bad_input_each_with_its_message` does not cover: a session whose
proxy was killed with SIGKILL while a request was in flight (its last line torn), a
session whose stored response bodies are gone, and targets that time out or refuse
while the rest of the flows go on. Each case checks the message a user reads and that
the other flows are replayed and compared as usual.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path

from tapline_testkit.scripted_origin import ScriptedHTTP1Origin
from tapline_testkit.util import HOST, ThreadedTestServer, curl, describe, free_port, text, wait_until

from test_diff import answer
from test_replay import replay


class SilentOrigin(ThreadedTestServer):
    """Accepts connections and reads what comes, never answering: a request to it is
    in flight until its client gives up (or the test stops the origin)."""

    def __init__(self):
        self.connections: list[socket.socket] = []
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        self.connections.append(conn)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            pass

    def stop(self) -> None:
        super().stop()
        for conn in self.connections:
            conn.close()


def origin_answers() -> dict:
    return {"/a": answer(b'{"a": 1}'), "/b": answer(b'{"b": 2}'), "/empty": answer(b"", status="204 No Content")}


def record_flows(tapline, origin, paths: list[str]) -> tuple[object, str]:
    """A proxy with each of `paths` (on `origin`) requested through it; the proxy is left running."""
    proxy = tapline()
    for path in paths:
        r = curl("-x", proxy.proxy_url, origin.url + path)
        assert r.returncode == 0, r.stderr
    return proxy, str(proxy.session_dir())


def test_a_session_whose_proxy_was_killed_replays_what_ended_and_names_the_flow_in_flight(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(origin_answers())
    silent = SilentOrigin()
    try:
        proxy, session = record_flows(tapline, origin, ["/a", "/b"])
        # a third request is in flight (its origin never answers) when the proxy is killed
        hanging = subprocess.Popen(["curl", "-s", "-x", proxy.proxy_url, f"http://{silent.authority}/hang"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            events = Path(session) / "events.jsonl"
            wait_until(lambda: any('"requestHead"' in line and "/hang" in line for line in events.read_text().splitlines()),
                       timeout=10, message="the in-flight request's head in events.jsonl")
            proxy.kill9()
        finally:
            hanging.kill()
            hanging.wait(timeout=10)
        # the kill tore the last line as a crash mid-write would
        with open(events, "ab") as f:
            f.write(b'{"type":"flowEnded","flow":3,"t":17')

        p = replay(proxy, session, "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        assert "was not closed" in p.stderr and "replaying its 2 complete flows; 1 skipped" in p.stderr, describe(p)
        assert "last line is incomplete" in p.stderr, describe(p)
        assert "skipped flow 3" in text(p) and "had not ended when its session stopped" in text(p), describe(p)
        document = json.loads((tmp_path / "r.json").read_text())
        assert document["summary"] == {"sent": 2, "equal": 2, "different": 0, "failed": 0, "skipped": 1}
        assert [flow["source"] for flow in document["skipped"]] == [3]
    finally:
        silent.stop()
        origin.stop()


def test_missing_response_body_segments_name_the_flow_and_the_rest_is_replayed(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(origin_answers())
    try:
        proxy, session = record_flows(tapline, origin, ["/a", "/empty"])
        proxy.stop()
        bodies = Path(session) / "bodies"
        removed = sorted(bodies.iterdir())
        assert removed, "the recorded response body is stored in a segment"
        for segment in removed:
            segment.unlink()

        p = replay(proxy, session, "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        assert "skipped flow 1" in text(p), describe(p)
        assert f"its stored response body is missing: {removed[0]} does not exist (damaged session)" in text(p), describe(p)
        document = json.loads((tmp_path / "r.json").read_text())
        # the flow without a body is sent and compared as usual
        assert document["summary"] == {"sent": 1, "equal": 1, "different": 0, "failed": 0, "skipped": 1}
        assert [flow["url"].rsplit("/", 1)[1] for flow in document["flows"]] == ["empty"]
    finally:
        origin.stop()


def test_a_flow_line_damaged_after_its_first_members_is_skipped_once_when_its_turn_comes(tapline, tmp_path):
    """Without --filter the plan reads a flowEnded line by its first members alone
    (docs/replay.md): damage after them is found when the flow is read again to be sent,
    and the flow is skipped then, once whatever --repeat, the reason naming the line.
    With --filter the plan reads the line whole: the session's warning names it and the
    flow is skipped as not ended."""
    origin = ScriptedHTTP1Origin(origin_answers())
    try:
        proxy, session = record_flows(tapline, origin, ["/a", "/b"])
        proxy.stop()
        events = Path(session) / "events.jsonl"
        lines = events.read_bytes().split(b"\n")
        (index,) = [i for i, line in enumerate(lines) if b'"type":"flowEnded","flow":2,' in line]
        offset = sum(len(line) + 1 for line in lines[:index])
        lines[index] = lines[index][:-1] + b',"x":}'
        events.write_bytes(b"\n".join(lines))

        p = replay(proxy, session, "--repeat", "2", "--report", str(tmp_path / "r.json"))
        assert p.returncode == 1, describe(p)
        assert "line skipped" not in p.stderr, describe(p)
        skipped = [line for line in text(p).splitlines() if line.startswith("skipped flow")]
        assert len(skipped) == 1 and skipped[0].startswith("skipped flow 2 "), describe(p)
        assert (f"it could not be read again from the session: cannot read {events}: its flowEnded line is damaged "
                f"after its first members (not a JSON object (corrupt line)): the line at byte {offset}") in skipped[0], describe(p)
        document = json.loads((tmp_path / "r.json").read_text())
        assert document["summary"] == {"sent": 2, "equal": 2, "different": 0, "failed": 0, "skipped": 1}
        assert [flow["source"] for flow in document["skipped"]] == [2]

        p = replay(proxy, session, "--filter", "path:/b")
        assert p.returncode == 1, describe(p)
        assert f"events.jsonl:{index + 1}: not a JSON object (corrupt line); line skipped" in p.stderr, describe(p)
        assert "skipped flow 2" in text(p) and "had not ended when its session stopped" in text(p), describe(p)
    finally:
        origin.stop()

def test_a_truncated_body_and_a_missing_segment_are_skipped_once_when_their_turn_comes_as_a_whole_read_skips_them(tapline, tmp_path):
    """Without --filter the plan takes a plain flow's body and end lines by their first
    members alone (docs/replay.md): a flow whose body was truncated (no --allow-truncated)
    or whose body segment is missing is skipped when its turn comes, once whatever
    --repeat, with the reason a plan that reads them whole (--filter) gives, in the
    summary, the report and the JUnit file alike; exit 1."""
    origin = ScriptedHTTP1Origin(origin_answers())
    try:
        proxy, session = record_flows(tapline, origin, ["/a", "/b", "/empty"])
        proxy.stop()
        events = Path(session) / "events.jsonl"
        lines = events.read_bytes().split(b"\n")
        (truncated,) = [i for i, line in enumerate(lines) if b'"type":"responseEnd","flow":1,' in line]
        lines[truncated] = lines[truncated].replace(b'"truncated":false', b'"truncated":true')
        (body,) = [i for i, line in enumerate(lines) if b'"type":"body","flow":2,' in line]
        lines[body] = re.sub(rb'"seg":[0-9]+,', b'"seg":7,', lines[body])
        events.write_bytes(b"\n".join(lines))
        missing = Path(session) / "bodies" / "000007.bin"
        assert not missing.exists()

        def skipped_lines(p) -> list[str]:
            return [line for line in text(p).splitlines() if line.startswith("skipped flow")]

        whole = replay(proxy, session, "--filter", "kind:http")
        assert whole.returncode == 1, describe(whole)
        expected = [f"skipped flow 1  GET {origin.url}/a: its response body was truncated by --max-body-capture "
                    "(kept 8 of 8 bytes); --allow-truncated sends what was kept",
                    f"skipped flow 2  GET {origin.url}/b: its stored response body is missing: {missing} does not exist "
                    "(damaged session)"]
        assert skipped_lines(whole) == expected, describe(whole)

        p = replay(proxy, session, "--repeat", "2", "--report", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml"))
        assert p.returncode == 1, describe(p)
        assert skipped_lines(p) == expected, describe(p)
        assert "line skipped" not in p.stderr, describe(p)
        document = json.loads((tmp_path / "r.json").read_text())
        assert document["summary"] == {"sent": 2, "equal": 2, "different": 0, "failed": 0, "skipped": 2}, document["summary"]
        assert [(flow["source"], flow["method"], flow["reason"]) for flow in document["skipped"]] == [
            (1, "GET", expected[0].split(": ", 1)[1]), (2, "GET", expected[1].split(": ", 1)[1])], document["skipped"]
        junit = (tmp_path / "j.xml").read_text()
        assert 'errors="0" skipped="2"' in junit, junit
        assert junit.count("<skipped message=") == 2, junit

        p = replay(proxy, session, "--allow-truncated", "--report", str(tmp_path / "t.json"))
        assert p.returncode == 1, describe(p)
        assert skipped_lines(p) == expected[1:], describe(p)
    finally:
        origin.stop()


def test_a_target_that_times_out_or_refuses_fails_that_flow_with_its_kind_and_the_rest_go_on(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(origin_answers())
    other = ScriptedHTTP1Origin(origin_answers())
    silent = SilentOrigin()
    try:
        # flows 1 and 2 to `origin`, flow 3 to `other`, all recorded fine
        proxy, session = record_flows(tapline, origin, ["/a", "/b"])
        r = curl("-x", proxy.proxy_url, other.url + "/b")
        assert r.returncode == 0, r.stderr
        proxy.stop()

        for target, kind in [(silent.authority, "upstream-timeout"), (f"{HOST}:{free_port()}", "upstream-unreachable")]:
            report = tmp_path / f"{kind}.json"
            p = replay(proxy, session, "--map-host", f"{other.authority}={target}", "--timeout", "1",
                       "--report", str(report))
            assert p.returncode == 1, describe(p)
            assert f"failed: {kind}" in text(p), describe(p)
            document = json.loads(report.read_text())
            assert document["summary"] == {"sent": 3, "equal": 2, "different": 0, "failed": 1, "skipped": 0}, describe(p)
            failed = [flow for flow in document["flows"] if flow["result"] == "failed"]
            assert [flow["source"] for flow in failed] == [3] and failed[0]["error"]["kind"] == kind, document
    finally:
        silent.stop()
        other.stop()
        origin.stop()
