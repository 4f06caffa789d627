"""`tapline replay --threads N` (issue #23, replay throughput): the recorded connections
are spread over N event loops, and the replay finds exactly what a one-loop replay
finds: the same verdict and differences for every source flow, one replay flow per
source flow, the replay session's flow and connection ids each handed out once.
"""

from __future__ import annotations

import json
from pathlib import Path

from tapline_testkit.scripted_origin import ScriptedHTTP1Origin
from tapline_testkit.util import describe, text

from test_diff import KNOWN_CHANGES, PATHS, api_answers, differences_by_path, record
from test_replay import replay, replay_session_of


def by_source(report: dict) -> dict[int, tuple[str, list[dict]]]:
    return {flow["source"]: (flow["result"], flow["differences"]) for flow in report["flows"]}


def test_two_loops_compare_every_flow_as_one_loop_does(tapline, tmp_path):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, origin)  # one curl, so one recorded connection, per path
        origin.answers = api_answers(2, changed=True)
        proxy = tapline.started[0]
        reports = {}
        for threads in ("1", "2"):
            reports[threads] = tmp_path / f"threads{threads}.json"
            p = replay(proxy, source, "--concurrency", str(len(PATHS)), "--threads", threads,
                       "--report", str(reports[threads]))
            assert p.returncode == 1, describe(p)
            assert "mismatches: sent 6: 1 equal, 5 different, 0 failed; 0 skipped" in text(p), describe(p)
    finally:
        origin.stop()

    one, two = (json.loads(reports[t].read_text()) for t in ("1", "2"))
    assert differences_by_path(two) == KNOWN_CHANGES
    assert by_source(two) == by_source(one)
    assert sorted(flow["replay"] for flow in two["flows"]) == list(range(1, 7))

    # the replay session: each source flow replayed once, on a connection of its own
    events = [json.loads(line)
              for line in (Path(replay_session_of(p, proxy)) / "events.jsonl").read_text().splitlines()]
    assert sorted(e["sourceFlow"] for e in events if e["type"] == "flowReplays") == list(range(1, 7))
    opened = [e["conn"] for e in events if e["type"] == "connectionOpened"]
    assert sorted(opened) == list(range(1, 7)), opened


def test_threads_is_checked(tapline):
    origin = ScriptedHTTP1Origin(api_answers(1, changed=False))
    try:
        source = record(tapline, origin)
    finally:
        origin.stop()
    p = replay(tapline.started[0], source, "--threads", "0")
    assert p.returncode == 2, describe(p)
    assert "--threads takes a whole number from 1 to 256, not \"0\"" in p.stderr, describe(p)
