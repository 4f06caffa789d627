"""Postman export of a session whose last response body was lost (a torn capture: its
segment ends before that body), rv-export review item 2.

Classifying requests for the path-variable rule reads their JSON responses; a body that
cannot be read there makes the request no evidence for the rule instead of aborting the
whole export (only the bodies the collection shows must be readable). Six item slugs,
answered alike, then the first slug again, whose response bytes are cut off the segment:
the export succeeds, the slugs are one `GET /api/v1/items/:itemId` with the seven flows
counted, and its one example is the first slug's response, read whole.
"""

from __future__ import annotations

import json
import os

from tapline_testkit import postman_origins
from tapline_testkit.capture import read_events
from tapline_testkit.proxy import TaplineFactory
from tapline_testkit.util import curl, describe, run_tapline


def test_an_unreadable_response_body_does_not_abort_the_postman_export(tmp_path_factory):
    api = postman_origins.api_origin()
    factory = TaplineFactory(tmp_path_factory)
    try:
        proxy = factory()
        slugs = postman_origins.ITEM_SLUGS + postman_origins.ITEM_SLUGS[:1]
        for slug in slugs:
            r = curl("-x", proxy.proxy_url, f"{api.url}/api/v1/items/{slug}")
            assert r.returncode == 0, r.stderr
        proxy.stop()
    finally:
        problems = factory.stop_all()
        api.stop()
    assert not problems, problems

    # Tear the capture: the segment ends where the last response body starts.
    session = proxy.session_dir()
    bodies = [e for e in read_events(session) if e["type"] == "body" and e["dir"] == "response"]
    assert len(bodies) == len(slugs), bodies
    last = bodies[-1]
    assert all(e["flow"] != last["flow"] for e in bodies[:-1]), "one body line per response"
    os.truncate(session / "bodies" / f"{last['seg']:06d}.bin", last["off"])
    shown = run_tapline("show", str(session), "--flow", str(last["flow"]), "--body", "response")
    assert shown.returncode != 0, "the body must really be unreadable: " + describe(shown)

    target = tmp_path_factory.mktemp("postman-damaged") / "items.postman_collection.json"
    p = run_tapline("export", proxy.session_id, "--capture", str(proxy.capture_dir), "--postman", str(target),
                    timeout=60)
    assert p.returncode == 0, describe(p)
    collection = json.loads(target.read_text())
    assert "7 flows, 1 endpoint." in collection["info"]["description"], collection["info"]

    def requests(items: list) -> list[dict]:
        return [r for item in items for r in (requests(item["item"]) if "item" in item else [item])]

    (items,) = requests(collection["item"])
    assert items["name"] == "GET /api/v1/items/:itemId", items["name"]
    (example,) = items["response"]
    assert json.loads(example["body"])["slug"] == slugs[0], example["body"]
