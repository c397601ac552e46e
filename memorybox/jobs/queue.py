"""The Huey instance the worker (``huey_consumer memorybox.jobs.tasks.huey``) consumes.

Configured from the environment at import, because the consumer imports it without an app:
``REDIS_URL`` selects Redis, otherwise a SQLite file in the instance folder. The web app
sets ``immediate`` from ``QUEUE_IMMEDIATE`` (tests run tasks in-process).

Enqueue only after the transaction that created the rows has committed, so the worker
never starts before the row exists: callers commit, then call the task.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from memorybox.config import default_instance_path


def make_huey(url: str, immediate: bool = False) -> Huey:
    parsed = urlparse(url)
    # A job's result is what it ended with: an attempt that failed and will be tried again
    # is not stored as its result (huey 3 stores those by default).
    options = {"immediate": immediate, "store_intermediate_errors": False}
    if parsed.scheme in {"redis", "rediss"}:
        queue: Huey = RedisHuey("memorybox", url=url, **options)
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
