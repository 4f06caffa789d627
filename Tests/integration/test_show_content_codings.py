"""`tapline show` lists a body's content codings as the export layer reads them from the
response (rv-export review item 1: the CLI only formats them): every `Content-Encoding`
field counts, in order, as one list (RFC 9110 §5.3), so a response sent with
`Content-Encoding: gzip` and then `Content-Encoding: br` is listed as `gzip, br` (the CLI
used to look at the first field only and say `gzip`), in the RESP column and in the list's
JSON `responseEncoding`."""

from __future__ import annotations

import gzip
import json

from tapline_testkit.proxy import TaplineFactory
from tapline_testkit.rest_origin import RestHandler, RestOrigin
from tapline_testkit.util import curl, describe, run_tapline

BODY = gzip.compress(b"two codings, one list\n" * 50)


class _TwoCodingsHandler(RestHandler):
    def do_GET(self):
        self._send(200, BODY, "text/plain", [("Content-Encoding", "gzip"), ("Content-Encoding", "br")])


def test_every_content_encoding_field_is_listed_in_order(tmp_path_factory):
    origin = RestOrigin(_TwoCodingsHandler)
    factory = TaplineFactory(tmp_path_factory)
    try:
        proxy = factory()
        r = curl("-x", proxy.proxy_url, f"{origin.url}/twice")
        assert r.returncode == 0, r.stderr
        assert r.stdout == BODY, "relayed as received"
        proxy.stop()
    finally:
        problems = factory.stop_all()
        origin.stop()
    assert not problems, problems

    session = str(proxy.session_dir())
    listed = run_tapline("show", session, "--json")
    assert listed.returncode == 0, describe(listed)
    (flow,) = json.loads(listed.stdout)
    assert flow["responseEncoding"] == "gzip, br", flow
    assert flow["requestEncoding"] is None, flow
    text = run_tapline("show", session)
    assert text.returncode == 0, describe(text)
    (row,) = [line for line in text.stdout.decode().splitlines() if "/twice" in line]
    assert f"{len(BODY)} B gzip, br" in row, row
