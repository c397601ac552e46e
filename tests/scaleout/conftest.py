"""The scale-out suite: skipped in the ordinary test runs, run once by ``make pytest-scaleout``
(which sets ``MEMORYBOX_SCALEOUT=1``). With ``MEMORYBOX_REQUIRE_POSTGRES`` / ``_S3`` /
``_REDIS`` set (CI), a missing service fails the run instead of skipping it.

Every test gets the deployment whole (``stack``): whatever the test before it stopped is
started again, and the sign-in limits are emptied. Fault tests fill in a ``reliability``
row; the rows become the table in ``docs/reliability.md`` when
``MEMORYBOX_RELIABILITY_REPORT`` names that file (``make reliability-report``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from shutil import which
from typing import Any, NoReturn

import psycopg
import pytest

from tests.scaleout import report
from tests.scaleout.stack import Stack, build
from tests.seaweed import SeaweedMissing, run_seaweed

ENABLE_ENV = "MEMORYBOX_SCALEOUT"
ADMIN_URL_ENV = "MEMORYBOX_SCALEOUT_PG"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "scaleout: needs the whole deployment (make pytest-scaleout)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("scaleout") and not os.environ.get(ENABLE_ENV):
        pytest.skip(f"the scale-out suite runs on its own: make pytest-scaleout ({ENABLE_ENV}=1)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    if rep.when == "call":
        item.stash[report.OUTCOME] = rep
    return rep


def _missing(require_env: str, why: str) -> NoReturn:
    if os.environ.get(require_env):
        pytest.fail(f"{why} ({require_env} is set, so the scale-out suite may not skip)")
    pytest.skip(f"{why}: scale-out suite skipped")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    admin_url = os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.Error as exc:
        _missing("MEMORYBOX_REQUIRE_POSTGRES", f"no PostgreSQL at {admin_url}: {exc}")
    if which("redis-server") is None:
        _missing("MEMORYBOX_REQUIRE_REDIS", "redis-server is not installed")
    folder = tmp_path_factory.mktemp("scaleout")
    with ExitStack() as cleanup:
        try:
            s3 = cleanup.enter_context(run_seaweed(folder / "seaweed"))
        except SeaweedMissing as exc:
            _missing("MEMORYBOX_REQUIRE_S3", str(exc))
        deployment = build(folder, admin_url, s3)
        cleanup.callback(deployment.stop)
        yield deployment


@pytest.fixture(autouse=True)
def whole_stack(request: pytest.FixtureRequest) -> Iterator[Stack | None]:
    """Before each scale-out test: everything running, sign-in limits empty. After a
    failure: the processes' last log lines, to see why."""
    if not request.node.get_closest_marker("scaleout"):
        yield None
        return
    deployment: Stack = request.getfixturevalue("stack")
    deployment.ensure_running()
    deployment.redis.client(1).flushdb()
    yield deployment
    outcome = request.node.stash.get(report.OUTCOME, None)
    if outcome is not None and outcome.failed:
        print(deployment.logs())
    deployment.ensure_running()


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Iterator[report.Row]:
    """A row of the reliability table for this fault test; the outcome comes from the test."""
    row = report.Row(test=request.node.name)
    started = time.monotonic()
    yield row
    row.seconds = time.monotonic() - started
    outcome = request.node.stash.get(report.OUTCOME, None)
    row.passed = bool(outcome is not None and outcome.passed)
    if outcome is not None and outcome.failed:
        crash = getattr(outcome.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(outcome.longrepr)
        row.failure = text.strip().splitlines()[0][:200]
    report.add(row)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = report.collected()
    if not rows:
        return
    table = report.markdown(rows)
    terminalreporter.write_sep("=", "reliability: faults on the scale-out stack")
    terminalreporter.write_line(table)
    target = os.environ.get(report.REPORT_ENV)
    if target:
        report.write(Path(target), table)
        terminalreporter.write_line(f"written to {target}")
