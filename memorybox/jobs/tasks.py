"""Background tasks. Each takes ids (or nothing), loads fresh rows, and is safe to run twice."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

from flask import Flask
from huey import crontab
from huey.exceptions import RetryTask

from memorybox.jobs.queue import huey

log = logging.getLogger(__name__)

__all__ = [
    "build_export",
    "escalate_help",
    "forget_objects",
    "huey",
    "process_item",
    "purge_deleted_accounts",
    "purge_expired_bin",
    "transcribe_voice_note",
]

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (5, 30, 120, 600, 1800)  # seconds before attempts 2..6


def _whole_from_environment(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


#: How long a job may go unheard of before it counts as lost (``MEMORYBOX_STALLED_AFTER_
#: SECONDS``, 15 minutes by default; tests of lost workers shorten it).
STALLED_AFTER = timedelta(seconds=_whole_from_environment("MEMORYBOX_STALLED_AFTER_SECONDS", 900))
STALLED_AFTER_MINUTES = STALLED_AFTER.total_seconds() / 60
#: How often the sweeper looks for lost jobs (``MEMORYBOX_SWEEP_EVERY_MINUTES``, default 5).
SWEEP_EVERY_MINUTES = _whole_from_environment("MEMORYBOX_SWEEP_EVERY_MINUTES", 5)


@cache
def _worker_app() -> Flask:
    from memorybox import create_app

    return create_app()


@contextmanager
def _app_context() -> Iterator[Flask]:
    """The current app when a task runs inside one (immediate mode), else the worker's own.
    Never push a second context over a request's: its teardown would end the request's
    database session."""
    from flask import current_app, has_app_context

    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    app = _worker_app()
    with app.app_context():
        yield app


@huey.on_startup()
def start_media_spares() -> None:
    """As each worker starts: start the warm media child processes (see
    :mod:`memorybox.media.tools`), so the first upload does not wait for one to start."""
    from memorybox.media import tools

    tools.warm_up()


@huey.task()
def process_item(item_id: int) -> str | None:
    """Remove location data and make the web renditions for one item.

    A passing problem (storage unreachable) is retried with backoff; after
    ``MAX_ATTEMPTS`` the item is marked failed, with a reason people can read."""
    from memorybox.memories import processing

    with _app_context() as app:
        max_attempts = 1 if huey.immediate else MAX_ATTEMPTS
        try:
            state = processing.process(
                item_id,
                app.extensions["memorybox.storage"],
                max_attempts=max_attempts,
                stalled_after=STALLED_AFTER,
                forget_later=_forget_later,
            )
        except processing.TryAgainLater as exc:
            delay = BACKOFF_SECONDS[min(exc.attempt - 1, len(BACKOFF_SECONDS) - 1)]
            raise RetryTask(delay=delay) from exc
    return state.value if state else None


def _forget_later(keys: list[str]) -> None:
    forget_objects.schedule((keys,), delay=BACKOFF_SECONDS[0])


@huey.task(retries=30, retry_delay=60)
def forget_objects(keys: list[str]) -> int:
    """Delete objects a failed processing attempt stored but could not remove because
    storage had gone away (they would be orphans); retried until storage is back."""
    from memorybox.memories import processing

    with _app_context() as app:
        return processing.forget_unnamed(app.extensions["memorybox.storage"], keys)


@huey.periodic_task(crontab(minute="17", hour="3"), retries=3, retry_delay=60)
def purge_expired_bin() -> int:
    """Daily: delete for ever what has waited in a bin for more than 30 days."""
    from memorybox.memories import services

    with _app_context() as app:
        removed = services.purge_expired_bin(app.extensions["memorybox.storage"])
    log.info("bin purge removed %d items", removed)
    return removed


@huey.periodic_task(crontab(minute="29", hour="3"), retries=3, retry_delay=60)
def purge_deleted_accounts() -> int:
    """Daily: delete the accounts whose 30 days to change their mind are over, and the
    records of deleted accounts whose retention period is over."""
    from memorybox.leaving import services as leaving

    with _app_context() as app:
        done = leaving.run_due(app.extensions["memorybox.storage"])
    log.info("deleted %d accounts, removed %d old records", done.accounts, done.records)
    return done.accounts + done.records


@huey.periodic_task(crontab(minute=f"*/{SWEEP_EVERY_MINUTES}"))
def requeue_stalled() -> int:
    """Every few minutes: a worker killed mid-job, or a queue that was down when the job was
    sent, leaves an item waiting or working; queue it again, so every job ends ready or
    failed-with-a-reason."""
    from memorybox.memories import processing
    from memorybox.story import voice

    with _app_context():
        stalled = processing.stalled_items(STALLED_AFTER)
        words = voice.stalled(math.ceil(STALLED_AFTER_MINUTES))
    for item_id in stalled:
        process_item(item_id)
    for transcript_id in words:
        transcribe_voice_note(transcript_id)
    return len(stalled) + len(words)


@huey.periodic_task(crontab(minute="41", hour="3"))
def remove_abandoned_uploads() -> int:
    """Daily: resumable uploads nobody finished within two days are removed, parts and all."""
    from memorybox.memories import uploads

    with _app_context() as app:
        return uploads.abandon_old(app.extensions["memorybox.storage"])


@huey.task()
def build_export(export_id: int) -> str | None:
    """Build one export (PDF, JSON or ZIP) into storage, updating its progress as it goes."""
    from memorybox.exports import services

    log.info("building export %s", export_id)
    with _app_context() as app:
        state = services.build(export_id, app.extensions["memorybox.storage"])
    return state.value if state else None


@huey.task()
def transcribe_voice_note(transcript_id: int) -> str | None:
    """Hear the words in a voice note (the "transcribe" extra), as a draft for the child.
    Waits, a few seconds at a time, for a voice note that is still being processed."""
    from memorybox.story import voice

    with _app_context() as app:
        try:
            state = voice.run(transcript_id, app.extensions["memorybox.storage"])
        except voice.NotReadyYet as exc:
            if huey.immediate:
                voice.give_up(transcript_id)
                return None
            raise RetryTask(delay=3) from exc
    return state.value if state else None


@huey.periodic_task(crontab(minute="*/10"))
def tidy_exports() -> int:
    """Every 10 minutes: rebuild exports whose worker was lost; delete expired ones (a copy
    of a child's things must not outlive its 7 days)."""
    from memorybox.exports import services

    with _app_context() as app:
        removed = services.remove_expired(app.extensions["memorybox.storage"])
        stalled = services.stalled(math.ceil(STALLED_AFTER_MINUTES))
    for export_id in stalled:
        build_export(export_id)
    return removed + len(stalled)


@huey.periodic_task(crontab(minute="*"))
def escalate_help() -> int:
    """Every minute: an "I need help" nobody has acknowledged within the authority's working
    hours goes on to the duty inbox and the team managers (once; recorded)."""
    from memorybox.notifications import help as helping
    from memorybox.notifications.service import Sender

    with _app_context() as app:
        sender = Sender(
            mailer=app.extensions["memorybox.mailer"],
            base_url=app.config["BASE_URL"],
            mail_from=app.config["MAIL_FROM"],
        )
        return helping.escalate_due(sender)


@huey.periodic_task(crontab(minute="7"))
def announce_open_letters() -> int:
    """Every hour: tell each child of a letter that has opened (a day or a birthday has
    come), once. The child's own pages tell them too, whichever comes first."""
    from memorybox.letters import services as letters
    from memorybox.notifications.service import Sender

    with _app_context() as app:
        sender = Sender(
            mailer=app.extensions["memorybox.mailer"],
            base_url=app.config["BASE_URL"],
            mail_from=app.config["MAIL_FROM"],
        )
        return letters.announce_due(None, sender)
