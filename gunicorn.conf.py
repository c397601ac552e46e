"""Gunicorn settings for the Procfile's ``web`` process, from the environment.

The Procfile gives the address on the command line (``--bind``), which wins over
anything here. Sizes (see docs/deploy.md for a small VM and a large deployment):

- ``WEB_CONCURRENCY``: worker processes (default: one per CPU core, at least 2). Each runs
  Python on one core at a time, so more processes than cores only adds memory.
- ``MEMORYBOX_WEB_THREADS``: threads per worker (default 4): requests that wait on
  PostgreSQL, storage or a slow client let another run. Each thread holds at most one
  database connection, so the pool per process (``MEMORYBOX_DB_POOL_SIZE``) defaults to this.
- ``MEMORYBOX_WEB_KEEPALIVE``: seconds an idle kept-alive connection stays open (default 5).
- ``MEMORYBOX_ACCESS_LOG``: where the access log goes (default ``-``, standard output;
  empty for none).
- ``MEMORYBOX_WEB_TIMEOUT``: seconds before a silent worker is restarted (default 60).
- ``MEMORYBOX_WEB_MAX_REQUESTS``: restart a worker after this many requests (default 0:
  never), with up to 10% jitter so they do not all restart at once.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


workers = _int("WEB_CONCURRENCY", max(2, os.cpu_count() or 1))
threads = _int("MEMORYBOX_WEB_THREADS", 4)
worker_class = "gthread"
keepalive = _int("MEMORYBOX_WEB_KEEPALIVE", 5)
timeout = _int("MEMORYBOX_WEB_TIMEOUT", 60)
max_requests = _int("MEMORYBOX_WEB_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("MEMORYBOX_ACCESS_LOG", "-") or None
bind = [f"0.0.0.0:{os.environ.get('PORT', '5000')}"]  # noqa: S104 - the Procfile's --bind wins

# The app is built in each worker after the fork (no preload), so no database connection or
# storage client is ever shared between processes.
os.environ.setdefault("MEMORYBOX_DB_POOL_SIZE", str(threads))
