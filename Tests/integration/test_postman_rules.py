"""Postman export rules on real captured traffic (issue #21, items 16-18).

An API (`/api/v1/users|orders|items|uploads`) and a web site's root
(`/data.json`, `/redirect`, `/sse`, `/favicon.ico`, `/big.bin`, `POST /api/echo`)
are fetched by curl through Tapline as a forward proxy; the session is exported
to Postman and checked against the official v2.1.0 schema and for:
- folders named by the path segment that distinguishes endpoints (`users`, not `api`);
- six item slugs answered alike become one `GET /api/v1/items/:itemId`, while the
  site's distinct names, answered differently or file names, stay six requests;
- a multipart body without the captured Content-Type (its boundary) or Content-Length;
- pretty-printed example bodies without the captured, now wrong, Content-Length.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest
from jsonschema import Draft4Validator, Draft7Validator

from tapline_testkit import postman_origins
from tapline_testkit.proxy import TaplineFactory
from tapline_testkit.util import HOST, curl, describe, run_tapline

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"


class Export(NamedTuple):
    collection: dict
    api_host: str  # the host folder's name: 127.0.0.1:PORT
    site_host: str


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Export:
    """The Postman export of one session of both origins' traffic, with --include-static so
    that /favicon.ico is among the site's names at the root, as in the issue's report."""
    api, site = postman_origins.api_origin(), postman_origins.site_origin()
    factory = TaplineFactory(tmp_path_factory)
    try:
        proxy = factory()

        def fetch(*args: str, input: bytes | None = None) -> None:
            r = curl("-x", proxy.proxy_url, *args, input=input)
            assert r.returncode == 0, r.stderr

        fetch(f"{api.url}/api/v1/users")
        for user in (1, 2, 3):
            fetch(f"{api.url}/api/v1/users/{user}")
        for order in postman_origins.ORDER_UUIDS:
            fetch(f"{api.url}/api/v1/orders/{order}")
        for slug in postman_origins.ITEM_SLUGS:
            fetch(f"{api.url}/api/v1/items/{slug}")
        fetch("-F", "title=report", "-F", "file=@-;filename=report.csv;type=text/csv", f"{api.url}/api/v1/uploads",
              input=b"a,b\n1,2\n")
        for path in ("/data.json", "/redirect", "/sse", "/favicon.ico", "/big.bin"):
            fetch(f"{site.url}{path}")
        fetch("-H", "Content-Type: application/json", "--data-binary", '{"hello":"site"}', f"{site.url}/api/echo")
        proxy.stop()
    finally:
        problems = factory.stop_all()
        api.stop()
        site.stop()
    assert not problems, problems

    target = tmp_path_factory.mktemp("postman-rules") / "rules.postman_collection.json"
    p = run_tapline("export", proxy.session_id, "--capture", str(proxy.capture_dir), "--postman", str(target),
                    "--include-static", "--no-binary", timeout=60)
    assert p.returncode == 0, describe(p)
    return Export(json.loads(target.read_text()), f"{HOST}:{api.port}", f"{HOST}:{site.port}")


def host_folder(exported: Export, host: str) -> dict:
    (folder,) = [f for f in exported.collection["item"] if f["name"] == host]
    return folder


def requests_in(items: list) -> dict[str, dict]:
    """Every request below `items`, by name."""
    found: dict[str, dict] = {}
    for item in items:
        if "item" in item:
            found.update(requests_in(item["item"]))
        else:
            found[item["name"]] = item
    return found


def headers(entries: list) -> dict[str, str]:
    return {h["key"].lower(): h["value"] for h in entries}


def test_collection_validates_against_the_postman_schema(exported):
    for validator, name in ((Draft7Validator, "postman-collection-v2.1.0.schema.json"),
                            (Draft4Validator, "postman-collection-v2.1.0.draft-04.schema.json")):
        errors = list(validator(json.loads((SCHEMAS / name).read_text())).iter_errors(exported.collection))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_api_folders_skip_the_shared_api_v1_prefix(exported):
    """Item 16: /api/v1/users/..., /api/v1/orders/... land in folders users, orders, items, not one `api`."""
    api = host_folder(exported, exported.api_host)
    assert [f["name"] for f in api["item"]] == ["users", "orders", "items", "uploads"]
    users = requests_in(next(f for f in api["item"] if f["name"] == "users")["item"])
    assert sorted(users) == ["GET /api/v1/users", "GET /api/v1/users/:userId"]


def test_slugs_answered_alike_are_one_templated_request(exported):
    """Item 17, the API: six slugs with the same JSON shape are one variable."""
    api = requests_in(host_folder(exported, exported.api_host)["item"])
    assert sorted(api) == ["GET /api/v1/items/:itemId", "GET /api/v1/orders/:orderId", "GET /api/v1/users",
                           "GET /api/v1/users/:userId", "POST /api/v1/uploads"]
    url = api["GET /api/v1/items/:itemId"]["request"]["url"]
    assert url["raw"] == "{{baseUrl_127_0_0_1_%s}}/api/v1/items/:itemId" % exported.api_host.split(":")[1]
    (variable,) = url["variable"]
    assert variable["key"] == "itemId" and variable["value"] == postman_origins.ITEM_SLUGS[0]
    for slug in postman_origins.ITEM_SLUGS:
        assert slug in variable["description"]


def test_a_web_sites_distinct_names_stay_separate_requests(exported):
    """Item 17, the web site: file names and names answered differently are never merged into `/:id`."""
    site = requests_in(host_folder(exported, exported.site_host)["item"])
    assert sorted(site) == ["GET /big.bin", "GET /data.json", "GET /favicon.ico", "GET /redirect", "GET /sse",
                            "POST /api/echo"]
    for item in site.values():
        assert "variable" not in item["request"]["url"], item["name"]


def test_multipart_request_drops_the_captured_boundary_and_length(exported):
    """Item 18: Postman builds the formdata body with its own boundary."""
    upload = requests_in(host_folder(exported, exported.api_host)["item"])["POST /api/v1/uploads"]
    assert upload["request"]["body"]["mode"] == "formdata"
    assert {e["key"]: e["type"] for e in upload["request"]["body"]["formdata"]} == {"title": "text", "file": "file"}
    for entries in (upload["request"]["header"], upload["response"][0]["originalRequest"]["header"]):
        sent = headers(entries)
        assert "content-type" not in sent and "content-length" not in sent, sent


def test_pretty_printed_examples_have_no_stale_content_length(exported):
    """Item 18: a JSON example is pretty-printed, so the captured Content-Length no longer fits it;
    a body shown exactly as received keeps its own."""
    api = requests_in(host_folder(exported, exported.api_host)["item"])
    for name in ("GET /api/v1/users/:userId", "GET /api/v1/orders/:orderId", "POST /api/v1/uploads"):
        example = api[name]["response"][0]
        assert "\n" in example["body"], name
        assert "content-length" not in headers(example["header"]), (name, example["header"])
    sse = requests_in(host_folder(exported, exported.site_host)["item"])["GET /sse"]["response"][0]
    assert sse["body"] == postman_origins.SSE_BODY.decode()
    assert headers(sse["header"])["content-length"] == str(len(postman_origins.SSE_BODY))
