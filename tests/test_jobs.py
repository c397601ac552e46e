"""The job queue: Huey on SQLite (the default) and on Redis, with a real consumer."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from memorybox.jobs.queue import make_huey
from tests.conftest import worker_number

# Each xdist worker its own database (15, 14...): the tests empty the queue they use.
REDIS_URL = os.environ.get(
    "MEMORYBOX_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - worker_number()}"
)


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


def _queue_url(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite://{tmp_path / 'queue.sqlite3'}"
    if not _redis_available():
        if os.environ.get("MEMORYBOX_REQUIRE_REDIS"):
            pytest.fail(f"Redis is required here but not reachable at {REDIS_URL}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_real_consumer_runs_queued_jobs_and_retries_failures(kind, tmp_path):
    queue = make_huey(_queue_url(kind, tmp_path))
    queue.flush()
    marker = uuid.uuid4().hex
    seen: list[str] = []
    attempts: list[int] = []

    @queue.task(name=f"double-{marker}")
    def double(n: int) -> int:
        seen.append(marker)
        return n * 2

    @queue.task(retries=2, retry_delay=0, name=f"flaky-{marker}")
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("storage blinked")
        return "done"

    result = double(21)
    flaky_result = flaky()
    consumer = queue.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer._set_signal_handlers = lambda: None  # signals belong to the main thread
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        assert result.get(blocking=True, timeout=15) == 42
        assert flaky_result.get(blocking=True, timeout=15) == "done"
    finally:
        consumer.stop(graceful=True)
        thread.join(timeout=15)
        queue.flush()
    assert seen == [marker]
    assert len(attempts) == 3


def test_the_app_runs_jobs_in_process_only_when_told(app):
    from memorybox.jobs.queue import huey

    assert huey.immediate is True  # the test config asks for it
    from memorybox import create_app

    other = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "QUEUE_IMMEDIATE": False,
            "SECRET_KEY": "x" * 40,
        }
    )
    assert other.config["QUEUE_IMMEDIATE"] is False
    assert huey.immediate is False
    huey.immediate = True


def test_unknown_queue_urls_are_refused():
    with pytest.raises(ValueError, match="Unsupported queue URL"):
        make_huey("ftp://example.org/queue")


def test_sqlite_queue_survives_a_restart(tmp_path):
    url = f"sqlite://{tmp_path / 'q.sqlite3'}"
    first = make_huey(url)

    @first.task(name="persist")
    def persist() -> str:
        return "ok"

    persist()
    assert first.pending_count() == 1
    assert make_huey(url).pending_count() == 1
