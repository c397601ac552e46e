"""The Huey instance the worker (``huey_consumer memorybox.jobs.tasks.huey``) consumes.

Configured from the environment at import, because the consumer imports it without an app:
``REDIS_URL`` selects Redis, otherwise a SQLite file in the instance folder. The web app
sets ``immediate`` from ``QUEUE_IMMEDIATE`` (tests run tasks in-process).

Enqueue only after the transaction that created the rows has committed, so the worker
never starts before the row exists: callers commit, then call the task.

The database, not the queue, is the record of work to do: every task's row says what is
still waiting, and the sweepers in ``tasks`` queue anything left waiting too long. So when
Redis cannot be reached, sending a job logs a warning and carries on (the person's upload
or export is saved; the sweeper sends the job once Redis is back) instead of failing the
request after its work was committed. Jobs already queued survive a Redis restart only if
Redis keeps them: production Redis needs ``appendonly yes``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from memorybox.config import default_instance_path

log = logging.getLogger(__name__)


class RedisQueue(RedisHuey):
    """Huey on Redis, whose ``enqueue`` survives Redis being away (see the module's notes)."""

    def enqueue(self, task: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return super().enqueue(task)
        except RedisError as exc:
            log.warning(
                "queue unreachable (%s): %s not sent now; the sweeper will send it again",
                type(exc).__name__,
                task.name,
            )
            return None


def make_huey(url: str, immediate: bool = False) -> Huey:
    parsed = urlparse(url)
    # A job's result is what it ended with: an attempt that failed and will be tried again
    # is not stored as its result (huey 3 stores those by default).
    options = {"immediate": immediate, "store_intermediate_errors": False}
    if parsed.scheme in {"redis", "rediss"}:
        queue: Huey = RedisQueue("memorybox", url=url, **options)
    elif parsed.scheme == "sqlite":
        path = Path(url.removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)
        queue = SqliteHuey("memorybox", filename=str(path), **options)
    elif parsed.scheme == "memory":
        queue = MemoryHuey("memorybox", **options)
    else:
        raise ValueError(
            f"Unsupported queue URL scheme {parsed.scheme!r}: use sqlite:// or redis://"
        )
    return queue


def queue_url_from_environment() -> str:
    default = f"sqlite://{Path(default_instance_path()) / 'queue.sqlite3'}"
    return os.environ.get("REDIS_URL", os.environ.get("QUEUE_URL", default))


huey = make_huey(queue_url_from_environment())
