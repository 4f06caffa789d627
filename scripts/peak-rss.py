#!/usr/bin/env python3
"""Runs a command as its child and writes the child's peak RSS (KiB, `ru_maxrss` from
wait4) and its wall time (seconds) to a file, as `KIB SECONDS`; exits with the child's
status.

    peak-rss.py RESULT_FILE COMMAND [ARGS...]

Why a launcher: a child that a big Python process (pytest, a benchmark holding a
session) starts directly inherits that process's peak RSS. subprocess forks with vfork,
and exec keeps the larger of the old and new high-water marks, so the child "peaks" at
its parent's size. This launcher is small, and forks (a copy of itself) before the exec.
Used by Tests/integration/test_replay_memory.py and bench/replay.py."""

import os
import sys
import time

started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
with open(sys.argv[1], "w") as result:
    result.write(f"{usage.ru_maxrss} {elapsed:.6f}")
sys.exit(os.waitstatus_to_exitcode(status))
