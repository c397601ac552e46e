"""Leaving care, a young person's own sign-in, and deleting an account for good.

Deleting happens in two steps, both run by :func:`run_due` (a daily job and
``flask purge-deleted-accounts``):

1. :data:`~memorybox.leaving.models.CHANGE_OF_MIND_DAYS` after they asked, everything of
   theirs goes: items with their stored files and renditions, story sections, versions and
   drafts, letters and their notes, albums, shares, exports and their files, unfinished
   uploads, tags, messages, the people and placements recorded for them, and their login.
   What stays is the record that an account existed (the child row, emptied of their name
   and birthday, and the :class:`AccountDeletion` row) and the audit of professional reads.
2. After the authority's retention period (``Authority.retention_years``), those go too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from memorybox import clock
from memorybox.accounts import services as accounts
from memorybox.accounts.models import Role, User
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import Base, db
from memorybox.exports.models import Export
from memorybox.leaving.models import (
    CHANGE_OF_MIND_DAYS,
    OWN_ACCOUNT_AGE,
    AccountDeletion,
    CareLeaving,
    NamedPerson,
)
from memorybox.letters.models import Letter, LetterNote, LetterVersion
from memorybox.memories import services as memories
from memorybox.memories import uploads
from memorybox.memories.models import MemoryItem, UploadSession
from memorybox.notifications.models import TalkRequest
from memorybox.search.models import ItemTag, SearchDocument, Tag
from memorybox.sharing.models import Collection, CollectionItem, Consent
from memorybox.storage import Storage, StorageError
from memorybox.story.models import (
    ReadReceipt,
    SectionDraft,
    SectionVersion,
    StorySection,
    Transcript,
    version_items,
)
from memorybox.words import N_

log = logging.getLogger(__name__)

#: what the child row keeps once an account is deleted (no name, no birthday)
DELETED_NAME = "Deleted account"


class LeavingError(ValueError):
    """The change can't be made. The message is for the person making it."""


# --- facts policy reads -------------------------------------------------------------------


def leaving_of(child: Child) -> CareLeaving | None:
    return db.session.scalar(select(CareLeaving).where(CareLeaving.child_id == child.id))


def has_left_care(child: Child, day: date | None = None) -> bool:
    record = leaving_of(child)
    return record is not None and record.left_on <= (day or clock.today())


def deletion_of(child: Child) -> AccountDeletion | None:
    return db.session.scalar(select(AccountDeletion).where(AccountDeletion.child_id == child.id))


def deletion_waiting(child: Child) -> AccountDeletion | None:
    """Their asking to delete, while they can still change their mind."""
    deletion = deletion_of(child)
    return deletion if deletion is not None and deletion.deleted_at is None else None


def is_deleted(child: Child) -> bool:
    deletion = deletion_of(child)
    return deletion is not None and deletion.deleted_at is not None


def old_enough(child: Child, day: date | None = None) -> bool:
    """16 or over: they run their own account (their own email, password, deleting it)."""
    age = child.age_on(day or clock.today())
    return age is not None and age >= OWN_ACCOUNT_AGE


def delete_day(deletion: AccountDeletion) -> date:
    return deletion.delete_at.astimezone(clock.LOCAL_ZONE).date()


def named_people(child: Child) -> list[NamedPerson]:
    query = (
        select(NamedPerson).where(NamedPerson.child_id == child.id).order_by(NamedPerson.added_at)
    )
    return list(db.session.scalars(query))


def named_people_ids(child_id: int) -> Any:
    """SQL: the ids of the people a manager has added for this child to share with."""
    return select(NamedPerson.user_id).where(NamedPerson.child_id == child_id)


# --- what a manager records ---------------------------------------------------------------


def record_left_care(child: Child, left_on: date, by: User) -> CareLeaving:
    """The young person left care on ``left_on``: every placement and allocation still
    open then ends that day (so staff lose access through the usual rules). Their box,
    story and letters stay theirs."""
    if leaving_of(child) is not None:
        raise LeavingError(N_("Leaving care is already recorded for this young person."))
    if left_on > clock.today() + timedelta(days=366):
        raise LeavingError(N_("Please choose a day within the next year."))
    rows: list[Placement | Allocation] = [
        *db.session.scalars(select(Placement).where(Placement.child_id == child.id)),
        *db.session.scalars(select(Allocation).where(Allocation.child_id == child.id)),
    ]
    for row in rows:
        if row.end_date is None or row.end_date > left_on:
            row.end_date = max(left_on, row.start_date)
    record = CareLeaving(child_id=child.id, left_on=left_on, recorded_by_id=by.id)
    db.session.add(record)
    db.session.flush()
    return record


def add_named_person(child: Child, person: User | None, by: User) -> NamedPerson:
    """Someone (a personal adviser) the young person can choose when sharing by name. They
    see only what the young person shares with them."""
    if (
        person is None
        or person.authority_id != child.authority_id
        or person.role not in {Role.SOCIAL_WORKER, Role.CARER}
        or not person.is_active
    ):
        raise LeavingError(N_("Please choose someone from your authority."))
    if db.session.scalar(
        select(NamedPerson).where(
            NamedPerson.child_id == child.id, NamedPerson.user_id == person.id
        )
    ):
        raise LeavingError(N_("They are already on the list."))
    named = NamedPerson(child_id=child.id, user_id=person.id, added_by_id=by.id)
    db.session.add(named)
    db.session.flush()
    return named


# --- what the young person does -----------------------------------------------------------


def set_sign_in_email(user: User, email: str) -> None:
    """Their own email becomes the one they sign in with; every other session ends."""
    email = accounts.normalise_email(email)
    if email == user.email:
        return
    other = accounts.find_user_by_email(email)
    if other is not None:
        raise LeavingError(N_("Someone already has an account with that email address."))
    user.email = email
    accounts.end_other_sessions(user)


def ask_to_delete(child: Child) -> AccountDeletion:
    now = clock.now()
    deletion = AccountDeletion(
        child_id=child.id, asked_at=now, delete_at=now + timedelta(days=CHANGE_OF_MIND_DAYS)
    )
    db.session.add(deletion)
    db.session.flush()
    return deletion


def cancel_deletion(deletion: AccountDeletion) -> None:
    db.session.delete(deletion)
    db.session.flush()


# --- deleting for good --------------------------------------------------------------------


@dataclass
class Purged:
    accounts: int = 0  # accounts whose things were deleted
    records: int = 0  # records of deleted accounts removed after the retention period


def run_due(storage: Storage) -> Purged:
    """Delete every account whose 30 days are over, then every record whose retention
    period is over. Safe to run again: each step reads what is left."""
    done = Purged()
    now = clock.now()
    due = list(
        db.session.scalars(
            select(AccountDeletion.id).where(
                AccountDeletion.deleted_at.is_(None), AccountDeletion.delete_at <= now
            )
        )
    )
    for deletion_id in due:
        deletion = db.session.get(AccountDeletion, deletion_id)
        if deletion is not None and deletion.deleted_at is None:
            delete_everything(deletion, storage)
            done.accounts += 1
    today = clock.today()
    expired = list(
        db.session.scalars(
            select(AccountDeletion.id).where(
                AccountDeletion.deleted_at.is_not(None), AccountDeletion.keep_until <= today
            )
        )
    )
    for deletion_id in expired:
        deletion = db.session.get(AccountDeletion, deletion_id)
        if deletion is not None:
            forget_record(deletion)
            done.records += 1
    return done


def _forget_object(storage: Storage, key: str | None) -> None:
    if not key:
        return
    try:
        storage.delete(key)
    except (StorageError, OSError):
        log.warning("could not delete stored object %s; it is now an orphan", key)


def delete_everything(deletion: AccountDeletion, storage: Storage) -> None:
    """Step 1: everything of theirs goes; the emptied child row, this row and the audit of
    professional reads stay (see the module's docstring)."""
    child = deletion.child
    child_id, user_id = child.id, child.user_id
    # Items one by one, the way the bin deletes them: the row, then its stored objects.
    for item_id in list(
        db.session.scalars(select(MemoryItem.id).where(MemoryItem.child_id == child_id))
    ):
        item = db.session.get(MemoryItem, item_id)
        if item is not None:
            memories.delete_for_ever(item, storage)
    for upload in list(
        db.session.scalars(select(UploadSession).where(UploadSession.child_id == child_id))
    ):
        try:
            uploads.cancel(upload, storage)
        except (StorageError, FileNotFoundError):
            db.session.delete(upload)
            db.session.commit()
    export_keys = list(
        db.session.scalars(select(Export.storage_key).where(Export.child_id == child_id))
    )
    session = db.session
    session.execute(delete(Export).where(Export.child_id == child_id))
    # The story: every section, its versions, drafts, read receipts and heard words.
    sections = select(StorySection.id).where(StorySection.child_id == child_id)
    versions = select(SectionVersion.id).where(SectionVersion.section_id.in_(sections))
    session.execute(delete(Transcript).where(Transcript.section_id.in_(sections)))
    session.execute(delete(ReadReceipt).where(ReadReceipt.section_id.in_(sections)))
    session.execute(delete(version_items).where(version_items.c.version_id.in_(versions)))
    session.execute(delete(SectionDraft).where(SectionDraft.section_id.in_(sections)))
    session.execute(delete(Consent).where(Consent.child_id == child_id))
    session.execute(delete(SectionVersion).where(SectionVersion.section_id.in_(sections)))
    session.execute(delete(StorySection).where(StorySection.child_id == child_id))
    # Albums (empty now: their items have gone), tags and the search index.
    albums = select(Collection.id).where(Collection.child_id == child_id)
    session.execute(delete(CollectionItem).where(CollectionItem.collection_id.in_(albums)))
    session.execute(delete(Collection).where(Collection.child_id == child_id))
    tags = select(Tag.id).where(Tag.child_id == child_id)
    session.execute(delete(ItemTag).where(ItemTag.tag_id.in_(tags)))
    session.execute(delete(Tag).where(Tag.child_id == child_id))
    session.execute(delete(SearchDocument).where(SearchDocument.child_id == child_id))
    # Letters: their words, versions, the young person's own notes, asking to talk.
    letters = select(Letter.id).where(Letter.child_id == child_id)
    session.execute(delete(TalkRequest).where(TalkRequest.letter_id.in_(letters)))
    session.execute(delete(LetterNote).where(LetterNote.letter_id.in_(letters)))
    session.execute(delete(LetterVersion).where(LetterVersion.letter_id.in_(letters)))
    session.execute(delete(Letter).where(Letter.child_id == child_id))
    # Their own doings in the audit trail go; professionals' reads of their things stay.
    if user_id is not None:
        session.execute(delete(AuditEvent).where(AuditEvent.actor_id == user_id))
    # Whatever else names the child or their login (messages, placements, allocations,
    # people named for them, leaving care, invitations, requests...): every table, so a
    # table added later is not missed.
    child.user_id = None
    session.flush()
    _sweep("children", child_id, keep={"children", "audit_events", "account_deletions"})
    if user_id is not None:
        _sweep("users", user_id, keep={"users"})
        session.execute(delete(User).where(User.id == user_id))
    child.display_name = DELETED_NAME
    child.date_of_birth = None
    child.trusted_person_id = None
    child.trusted_how = ""
    child.decides_sharing_since = None
    child.decides_sharing_recorded_by_id = None
    now = clock.now()
    deletion.deleted_at = now
    years = child.authority.retention_years
    today = clock.today()
    try:
        deletion.keep_until = today.replace(year=today.year + years)
    except ValueError:  # 29 February
        deletion.keep_until = (today - timedelta(days=1)).replace(year=today.year + years)
    session.commit()
    for key in export_keys:
        _forget_object(storage, key)
    log.info("account of child %s deleted; record kept until %s", child_id, deletion.keep_until)


def _sweep(table_name: str, row_id: int, keep: set[str]) -> None:
    """Delete the rows of every table (dependents first) that name this row; a column
    that may be empty is emptied instead when the row is someone else's (a user's)."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in keep:
            continue
        for column in table.columns:
            if not any(fk.column.table.name == table_name for fk in column.foreign_keys):
                continue
            if table_name == "users" and column.nullable:
                db.session.execute(
                    update(table).where(column == row_id).values({column.name: None})
                )
            else:
                db.session.execute(delete(table).where(column == row_id))


def forget_record(deletion: AccountDeletion) -> None:
    """Step 2, after the retention period: the audit of reads and the record go too."""
    child_id = deletion.child_id
    db.session.execute(delete(AuditEvent).where(AuditEvent.child_id == child_id))
    db.session.delete(deletion)
    db.session.flush()
    _sweep("children", child_id, keep={"children"})
    db.session.execute(delete(Child).where(Child.id == child_id))
    db.session.commit()
    log.info("record of deleted account (child %s) removed", child_id)
