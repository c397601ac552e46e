"""Background tasks. Each takes ids (or nothing), loads fresh rows, and is safe to run twice."""

from __future__ import annotations

import logging
from functools import cache

from flask import Flask
from huey import crontab

from memorybox.jobs.queue import huey

log = logging.getLogger(__name__)

__all__ = ["huey", "purge_expired_bin"]


@cache
def _worker_app() -> Flask:
    from memorybox import create_app

    return create_app()


def _app() -> Flask:
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    return _worker_app()


@huey.periodic_task(crontab(minute="17", hour="3"), retries=3, retry_delay=60)
def purge_expired_bin() -> int:
    """Daily: delete for ever what has waited in a bin for more than 30 days."""
    from memorybox.memories import services
    from memorybox.storage import get_storage

    app = _app()
    with app.app_context():
        removed = services.purge_expired_bin(get_storage(app.config["STORAGE_URL"]))
    log.info("bin purge removed %d items", removed)
    return removed
