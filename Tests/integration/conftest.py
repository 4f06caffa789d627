"""Fixtures for Tapline's integration tests.

  tapline(*args, capture=True, listen_host=..., env=...)  start a proxy (see
      tapline_testkit.proxy.TaplineProcess: .port, .capture_dir, .session_dir(),
      .ca_path, .peak_rss_kb(), .stop(), .kill9(), .cli(...)); every proxy still
      running at the end of the test must exit 0 within a timeout on SIGTERM.
  origin / https_origin          threaded HTTP/1.1 origin servers that record requests
  test_ca                        throwaway CA that signed https_origin's certificate
  nghttpd / nghttpd_tls          nghttpd (h2c / TLS) serving the requesting module's
                                 `docroot` fixture
  h2_upstream                    an H2Origin (Python h2, h2c) shared by a module's tests
Module-level helpers (free_port, wait_for_port, curl, ...) live in tapline_testkit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tapline_testkit.h2 import H2Origin, Nghttpd
from tapline_testkit.origin import OriginServer, TestCA
from tapline_testkit.proxy import TaplineFactory
from tapline_testkit.util import free_port, wait_for_port  # noqa: F401 - re-exported


REPOSITORY = Path(__file__).resolve().parents[2]
_reads_outside: list[str] = []


# Programs the person running the tests chose by environment (the binary under test, a
# peer's path) may live anywhere; everything else a test reads must be in the repository.
_CHOSEN_PROGRAMS = {Path(os.environ[name]).resolve() for name in ("TAPLINE_BIN", "TAPLINE_MITMDUMP")
                    if os.environ.get(name)}


def _outside_repository(path) -> bool:
    """True for a path beside the repository (such as the shared material folder): a fresh clone has nothing there."""
    if isinstance(path, int):
        return False
    try:
        resolved = Path(os.fsdecode(path)).resolve()
    except (TypeError, ValueError, OSError):
        return False
    return (resolved.is_relative_to(REPOSITORY.parent) and not resolved.is_relative_to(REPOSITORY)
            and resolved not in _CHOSEN_PROGRAMS)


def _audit(event: str, args: tuple) -> None:
    if event == "open" and args and _outside_repository(args[0]):
        _reads_outside.append(os.fsdecode(args[0]))
    elif event == "subprocess.Popen" and len(args) > 1 and isinstance(args[1], (list, tuple)):
        _reads_outside.extend(str(a) for a in args[1] if isinstance(a, (str, os.PathLike)) and _outside_repository(a))


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _no_reads_outside_the_repository():
    """A fresh clone must pass on its own: fail any test that reads a file beside the repository."""
    del _reads_outside[:]
    yield
    if _reads_outside:
        paths = sorted(set(_reads_outside))
        del _reads_outside[:]
        pytest.fail(f"the test read outside the repository ({REPOSITORY}): {paths}; "
                    "copy what it needs under Tests/fixtures", pytrace=False)


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("test-ca"))


@pytest.fixture
def origin():
    server = OriginServer()
    yield server
    server.stop()


@pytest.fixture
def https_origin(test_ca):
    server = OriginServer(tls=test_ca)
    yield server
    server.stop()


@pytest.fixture
def tapline(tmp_path_factory):
    factory = TaplineFactory(tmp_path_factory)
    yield factory
    problems = factory.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def h2_upstream():
    server = H2Origin()
    yield server
    server.stop()


@pytest.fixture
def nghttpd(docroot):
    server = Nghttpd(docroot)
    yield server
    server.stop()


@pytest.fixture
def nghttpd_tls(docroot, test_ca):
    server = Nghttpd(docroot, tls=test_ca)
    yield server
    server.stop()
