"""The web process's settings: gunicorn.conf.py reads its sizes from the environment and
hands the thread count on as the database pool size."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

from memorybox.db import make_engine

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("WEB_CONCURRENCY", "MEMORYBOX_WEB_THREADS", "MEMORYBOX_DB_POOL_SIZE", "PORT"):
        monkeypatch.setenv(name, "")  # so that what the file sets is undone after the test
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _settings(monkeypatch)
    assert conf["worker_class"] == "gthread"
    assert conf["threads"] == 4 and int(str(conf["workers"])) >= 2
    assert conf["bind"] == ["0.0.0.0:5000"]
    assert os.environ["MEMORYBOX_DB_POOL_SIZE"] == "4"


def test_sizes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _settings(monkeypatch, WEB_CONCURRENCY="3", MEMORYBOX_WEB_THREADS="8", PORT="8000")
    assert (conf["workers"], conf["threads"], conf["bind"]) == (3, 8, ["0.0.0.0:8000"])
    assert os.environ["MEMORYBOX_DB_POOL_SIZE"] == "8"
    conf = _settings(monkeypatch, MEMORYBOX_WEB_THREADS="8", MEMORYBOX_DB_POOL_SIZE="12")
    assert os.environ["MEMORYBOX_DB_POOL_SIZE"] == "12"


def test_pool_size_reaches_the_engine() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none", pool_size=8)
    assert engine.pool.size() == 8  # type: ignore[attr-defined]
    engine.dispose()
