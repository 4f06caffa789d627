"""`make bench`'s HTTP/2 script still runs: a tiny load through every case, checking
the table it prints (not the numbers, which only mean something on a full run)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tapline_testkit.util import tapline_bin

ROOT = Path(__file__).resolve().parents[2]
CASES = ("direct-h2c", "h2c-no-capture", "h2c-capture", "direct-tls", "tls-capture")


def test_h2_bench_prints_every_case_with_a_ratio():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "h2.py"), "--bin", str(tapline_bin()),
                        "--requests", "2000", "--rounds", "2"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(\S+)\s+(\d+)\s+([\d.]+)\s+(?:\d+ MB|-)\s+([\d.]+)x\s+([\d.]+)-([\d.]+)x", line)
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(4)), float(m.group(5)), float(m.group(6)))
    assert set(rows) == set(CASES), r.stdout
    for name, (rps, ratio, low, high) in rows.items():
        assert rps > 0, name
        assert low <= ratio <= high, name
        if name.startswith("direct"):
            assert ratio == low == high == 1.0, name
        else:
            assert 0 < ratio < 5, name  # a proxied case against the mean of its two baselines


def test_h2_bench_rejects_zero_rounds():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "h2.py"), "--bin", str(tapline_bin()), "--rounds", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "--rounds and --requests must be at least 1" in r.stderr


def test_h1_to_h2c_ab_bench_compares_two_builds_per_round():
    binary = str(tapline_bin())
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "ab_h1_to_h2c.py"), binary, binary,
                        "--rounds", "2", "--duration", "1"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    rounds = re.findall(r"round \d+: base ([\d,]+) req/s, new ([\d,]+) req/s, new/base ([\d.]+)", r.stdout)
    assert len(rounds) == 2, r.stdout
    for base, new, ratio in rounds:
        assert int(base.replace(",", "")) > 0 and int(new.replace(",", "")) > 0, r.stdout
    assert re.search(r"^new/base [\d.]+  \(rounds [\d.]+-[\d.]+\)$", r.stdout, re.M), r.stdout
