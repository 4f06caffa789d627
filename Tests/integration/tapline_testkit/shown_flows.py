"""A session's flows as a user reads them: through `tapline show --json`."""

from __future__ import annotations

import json

from .util import describe, run_tapline, text, wait_until


def finished_flows(proxy, count: int, timeout: float = 10.0) -> list[dict]:
    """The proxy's session's flows in full (`tapline show --flow N --json`) once `count` of
    them have ended (waits up to `timeout` seconds for that)."""
    def ended():
        p = run_tapline("show", str(proxy.session_dir()), "--json", home=proxy.home)
        assert p.returncode == 0, describe(p)
        # `state` is "open" until the flow's flowEnded line is in the capture (docs/capture-format.md).
        done = [f["id"] for f in json.loads(text(p)) if f["state"] != "open"]
        return done if len(done) >= count else None
    ids = wait_until(ended, timeout, message=f"{count} finished flows in the capture")
    details = []
    for flow_id in ids:
        p = run_tapline("show", str(proxy.session_dir()), "--flow", str(flow_id), "--json", home=proxy.home)
        assert p.returncode == 0, describe(p)
        details.append(json.loads(text(p)))
    return details
