"""My Story: prompts, sections, versions, drafts, read receipts and "what changed".

Callers have asked policy first. Everything stored is plain text: any HTML a browser or a
copy-and-paste brings in is taken out here, and templates escape what is left.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import nh3
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from memorybox import clock, memo
from memorybox.accounts.models import Authority, User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.pagination import Order, Page, keyset
from memorybox.story.models import (
    BODY_MAX,
    HINT_MAX,
    TITLE_MAX,
    ReadReceipt,
    SectionDraft,
    SectionVersion,
    StoryPrompt,
    StorySection,
    latest_key,
)
from memorybox.words import N_, Words


class StoryError(ValueError):
    """The change can't be made. The message is for the person making it."""


DEFAULT_PROMPTS: tuple[tuple[str, str, str], ...] = (
    (
        "about-me",
        N_("About me"),
        N_("What would you like people to know about you? What do you enjoy?"),
    ),
    (
        "people",
        N_("People who matter to me"),
        N_("Who is important to you? What do you like about them?"),
    ),
    (
        "places",
        N_("Places I have lived"),
        N_("Where have you lived? What do you remember about each place?"),
    ),
    (
        "school",
        N_("School and what I am good at"),
        N_("What is school like for you? What are you good at, in or out of school?"),
    ),
    (
        "health",
        N_("Health and what helps me"),
        N_("How do you look after yourself? What helps you feel okay?"),
    ),
    (
        "worries",
        N_("Things that worry me"),
        N_("Is anything worrying you? You only write what you want to."),
    ),
    (
        "adults-know",
        N_("What I want the adults in my life to know"),
        N_("What should the grown-ups around you understand about you?"),
    ),
    (
        "hopes",
        N_("My hopes for the future"),
        N_("What would you like to happen next? What are your dreams?"),
    ),
)


# --- plain text ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text(raw: str) -> str:
    """Text with every HTML tag (and the contents of scripts and styles) taken out.

    nh3 parses like a browser does and returns escaped text; unescaping gives back what the
    child typed (``I <3 my nan`` and ``Tom & Jerry`` stay as they are)."""
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    # Repeat until nothing changes, so escaped tags (``&lt;script&gt;``) can't come back as
    # tags once unescaped: what is stored would pass through the cleaner untouched.
    for _ in range(20):
        cleaned = html.unescape(
            nh3.clean(text, tags=set(), clean_content_tags={"script", "style"}, attributes={})
        )
        if cleaned == text:
            return text.strip()
        text = cleaned
    return text.replace("<", "").replace(">", "").strip()  # deliberately nested escaping


def one_line(raw: str, limit: int) -> str:
    return " ".join(plain_text(raw).split())[:limit]


# --- prompts ------------------------------------------------------------------------------


def prompts_of(authority: Authority, *, include_hidden: bool = True) -> list[StoryPrompt]:
    """The authority's prompts in order, seeding the defaults the first time they are asked for."""
    query = select(StoryPrompt).where(StoryPrompt.authority_id == authority.id)
    prompts = list(db.session.scalars(query.order_by(StoryPrompt.position, StoryPrompt.id)))
    if not prompts:
        _seed_defaults(authority)
        prompts = list(db.session.scalars(query.order_by(StoryPrompt.position, StoryPrompt.id)))
    return [p for p in prompts if include_hidden or not p.is_hidden]


def _seed_defaults(authority: Authority) -> None:
    for position, (key, title, hint) in enumerate(DEFAULT_PROMPTS):
        db.session.add(
            StoryPrompt(
                authority_id=authority.id, key=key, title=title, hint=hint, position=position
            )
        )
    try:
        db.session.commit()
    except IntegrityError:  # another request seeded them at the same moment
        db.session.rollback()


def add_prompt(authority: Authority, title: str, hint: str) -> StoryPrompt:
    title = one_line(title, TITLE_MAX)
    if not title:
        raise StoryError(N_("Please give the prompt a title."))
    last = db.session.scalar(
        select(func.max(StoryPrompt.position)).where(StoryPrompt.authority_id == authority.id)
    )
    prompt = StoryPrompt(
        authority_id=authority.id,
        title=title,
        hint=one_line(hint, HINT_MAX),
        position=(last if last is not None else -1) + 1,
    )
    db.session.add(prompt)
    db.session.commit()
    return prompt


def rename_prompt(prompt: StoryPrompt, title: str, hint: str) -> None:
    title = one_line(title, TITLE_MAX)
    if not title:
        raise StoryError(N_("Please give the prompt a title."))
    prompt.title = title
    prompt.hint = one_line(hint, HINT_MAX)
    db.session.commit()


def move_prompt(prompt: StoryPrompt, step: int) -> None:
    """Swap with the neighbour above (step -1) or below (step +1)."""
    prompts = prompts_of(prompt.authority)
    for position, p in enumerate(prompts):  # make positions 0..n-1 first
        p.position = position
    index = prompts.index(prompt)
    other = index + step
    if 0 <= other < len(prompts):
        prompts[index].position, prompts[other].position = other, index
    db.session.commit()


def set_prompt_hidden(prompt: StoryPrompt, hidden: bool) -> None:
    prompt.hidden_at = clock.now() if hidden else None
    db.session.commit()


# --- sections -----------------------------------------------------------------------------


def sections_of(child: Child) -> list[StorySection]:
    """The child's story in order: the authority's prompts, then the child's own sections,
    each with its newest version read (for all of them in one query).

    A section from a hidden prompt stays while it has words in it: nothing the child wrote
    disappears because a prompt changed."""
    prompts = prompts_of(child.authority)
    existing = _sections(child)
    by_prompt = {s.prompt_id: s for s in existing if s.prompt_id is not None}
    missing = [p for p in prompts if not p.is_hidden and p.id not in by_prompt]
    if missing:
        for prompt in missing:
            db.session.add(StorySection(child_id=child.id, prompt_id=prompt.id))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
        existing = _sections(child)
        by_prompt = {s.prompt_id: s for s in existing if s.prompt_id is not None}
    prime_latest(existing)
    ordered = [
        by_prompt[p.id]
        for p in prompts
        if p.id in by_prompt and (not p.is_hidden or by_prompt[p.id].latest is not None)
    ]
    own = sorted((s for s in existing if s.prompt_id is None), key=lambda s: (s.created_at, s.id))
    return ordered + own


def _sections(child: Child) -> list[StorySection]:
    query = (
        select(StorySection)
        .options(joinedload(StorySection.prompt))
        .where(StorySection.child_id == child.id)
    )
    return list(db.session.scalars(query))


def prime_latest(sections: Iterable[StorySection]) -> None:
    """Read the newest version of each of these sections, one query for them all."""
    ids = [s.id for s in sections]
    if not ids:
        return
    newest = (
        select(SectionVersion.section_id, func.max(SectionVersion.number).label("number"))
        .where(SectionVersion.section_id.in_(ids))
        .group_by(SectionVersion.section_id)
        .subquery()
    )
    query = select(SectionVersion).join(
        newest,
        and_(
            SectionVersion.section_id == newest.c.section_id,
            SectionVersion.number == newest.c.number,
        ),
    )
    found = {v.section_id: v for v in db.session.scalars(query)}
    facts = memo.facts()
    for section_id in ids:
        facts[latest_key(section_id)] = found.get(section_id)


def set_gentle(section: StorySection, field: str, value: bool) -> None:
    """The child's choice: ``hide_until_ready`` or ``with_someone``."""
    if field not in {"hide_until_ready", "with_someone"}:
        raise ValueError(field)
    setattr(section, field, value)
    db.session.commit()


def add_own_section(child: Child, title: str) -> StorySection:
    title = one_line(title, TITLE_MAX)
    if not title:
        raise StoryError(N_("Please give your new part a title."))
    section = StorySection(child_id=child.id, own_title=title)
    db.session.add(section)
    db.session.commit()
    return section


def attachable_items(child: Child) -> list[MemoryItem]:
    """Things the child can attach: kept in their own box, not in the bin."""
    query = (
        select(MemoryItem)
        .where(
            MemoryItem.child_id == child.id,
            MemoryItem.status == ItemStatus.KEPT,
            MemoryItem.deleted_at.is_(None),
        )
        .order_by(MemoryItem.title, MemoryItem.id)
    )
    return list(db.session.scalars(query))


def _check_items(section: StorySection, items: Iterable[MemoryItem]) -> list[MemoryItem]:
    allowed = {i.id for i in attachable_items(section.child)}
    chosen = list(items)
    if any(i.id not in allowed for i in chosen):
        raise StoryError(N_("You can only add things that are in your box."))
    return chosen


def save_version(
    section: StorySection,
    body: str,
    items: Sequence[MemoryItem],
    by: User,
    *,
    source: str = "typed",
    restored_from: int | None = None,
) -> SectionVersion | None:
    """Save a new version; ``None`` when nothing changed since the last one. Clears the draft."""
    text = plain_text(body)
    if len(text) > BODY_MAX:
        raise StoryError(Words(N_("This part can have up to %(num)s letters."), num=BODY_MAX))
    chosen = _check_items(section, items)
    latest = section.latest
    draft = draft_of(section)
    if draft is not None:
        db.session.delete(draft)
    if (
        latest is not None
        and restored_from is None
        and latest.body == text
        and {i.id for i in latest.items} == {i.id for i in chosen}
    ):
        db.session.commit()
        return None
    version = SectionVersion(
        section_id=section.id,
        number=(latest.number + 1) if latest is not None else 1,
        body=text,
        source=source,
        restored_from=restored_from,
        created_by_id=by.id,
        created_at=clock.now(),
    )
    version.items = chosen
    db.session.add(version)
    db.session.commit()
    db.session.refresh(section)
    return version


def restore(section: StorySection, version: SectionVersion, by: User) -> SectionVersion:
    """Restoring makes a new version with the old words (and the old things still in the box)."""
    if version.section_id != section.id:
        raise StoryError(N_("That version is not part of this section."))
    allowed = {i.id for i in attachable_items(section.child)}
    items = [i for i in version.items if i.id in allowed]
    new = save_version(section, version.body, items, by, restored_from=version.number)
    assert new is not None
    return new


def versions_page(section: StorySection, cursor: str | None) -> Page[SectionVersion]:
    """One page of a section's versions, newest first, with what was attached to each."""
    query = (
        select(SectionVersion)
        .options(selectinload(SectionVersion.items))
        .where(SectionVersion.section_id == section.id)
    )
    return keyset(query, (Order(SectionVersion.number),), cursor, values_of=lambda v: (v.number,))


def version_of(section: StorySection, version_id: int) -> SectionVersion | None:
    version = db.session.get(SectionVersion, version_id)
    return version if version is not None and version.section_id == section.id else None


# --- drafts -------------------------------------------------------------------------------


def draft_of(section: StorySection) -> SectionDraft | None:
    return db.session.scalar(select(SectionDraft).where(SectionDraft.section_id == section.id))


def save_draft(section: StorySection, body: str) -> SectionDraft:
    text = plain_text(body)
    if len(text) > BODY_MAX:
        raise StoryError(Words(N_("This part can have up to %(num)s letters."), num=BODY_MAX))
    draft = draft_of(section)
    if draft is None:
        draft = SectionDraft(section_id=section.id, body=text)
        db.session.add(draft)
    draft.body = text
    draft.updated_at = clock.now()
    try:
        db.session.commit()
    except IntegrityError:  # two autosaves raced to make the first draft
        db.session.rollback()
        draft = draft_of(section)
        assert draft is not None
        draft.body = text
        draft.updated_at = clock.now()
        db.session.commit()
    return draft


def unsaved_draft(section: StorySection) -> SectionDraft | None:
    """A draft worth offering back: newer than the last save and different from it."""
    draft = draft_of(section)
    latest = section.latest
    if draft is None:
        return None
    if latest is not None and (draft.body == latest.body or draft.updated_at < latest.created_at):
        return None
    return draft


# --- reading ------------------------------------------------------------------------------


def last_read(section: StorySection, reader: User) -> ReadReceipt | None:
    return db.session.scalar(
        select(ReadReceipt)
        .join(SectionVersion, SectionVersion.id == ReadReceipt.version_id)
        .where(ReadReceipt.section_id == section.id, ReadReceipt.reader_id == reader.id)
        .order_by(SectionVersion.number.desc())
        .limit(1)
    )


def record_read(section: StorySection, version: SectionVersion, reader: User) -> ReadReceipt:
    """The first time someone opens a version, keep when. Later openings change nothing."""
    receipt = db.session.scalar(
        select(ReadReceipt).where(
            ReadReceipt.version_id == version.id, ReadReceipt.reader_id == reader.id
        )
    )
    if receipt is None:
        receipt = ReadReceipt(
            section_id=section.id, version_id=version.id, reader_id=reader.id, read_at=clock.now()
        )
        db.session.add(receipt)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            found = db.session.scalar(
                select(ReadReceipt).where(
                    ReadReceipt.version_id == version.id, ReadReceipt.reader_id == reader.id
                )
            )
            assert found is not None
            receipt = found
    return receipt


def receipts_for_child(child: Child) -> list[ReadReceipt]:
    """Who read which part, newest first, one line per person and part (their latest read)."""
    query = (
        select(ReadReceipt)
        .options(joinedload(ReadReceipt.reader), joinedload(ReadReceipt.section))
        .join(StorySection, StorySection.id == ReadReceipt.section_id)
        .where(StorySection.child_id == child.id, ReadReceipt.reader_id != child.user_id)
        .order_by(ReadReceipt.read_at.desc(), ReadReceipt.id.desc())
    )
    seen: set[tuple[int, int]] = set()
    result = []
    for receipt in db.session.scalars(query):
        key = (receipt.reader_id, receipt.section_id)
        if key not in seen:
            seen.add(key)
            result.append(receipt)
    return result


@dataclass(frozen=True)
class Change:
    """A piece of a word-by-word comparison: ``same``, ``added`` or ``removed`` text."""

    kind: str
    text: str


_TOKENS = re.compile(r"\s+|[^\s]+")


def changes(before: str, after: str) -> list[Change]:
    """Word-by-word differences, for showing as <ins>/<del> (templates escape the text)."""
    old = _TOKENS.findall(before)
    new = _TOKENS.findall(after)
    result: list[Change] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            result.append(Change("same", "".join(old[a1:a2])))
            continue
        if op in {"delete", "replace"}:
            result.append(Change("removed", "".join(old[a1:a2])))
        if op in {"insert", "replace"}:
            result.append(Change("added", "".join(new[b1:b2])))
    return result


def changed_since(section: StorySection, reader: User) -> tuple[ReadReceipt | None, bool]:
    """The reader's last read of this section, and whether a newer version exists since."""
    return _changed(section, last_read(section, reader))


def _changed(section: StorySection, receipt: ReadReceipt | None) -> tuple[ReadReceipt | None, bool]:
    latest = section.latest
    if latest is None:
        return receipt, False
    return receipt, receipt is None or receipt.version_id != latest.id


def changes_for(
    reader: User, sections: Sequence[StorySection]
) -> dict[int, tuple[ReadReceipt | None, bool]]:
    """:func:`changed_since` for many sections, one query for them all."""
    found = changes_for_many([reader], sections)
    return {s.id: found[(reader.id, s.id)] for s in sections}


def changes_for_many(
    readers: Sequence[User], sections: Sequence[StorySection]
) -> dict[tuple[int, int], tuple[ReadReceipt | None, bool]]:
    """:func:`changed_since` for every reader and section, one query for them all."""
    section_ids = [s.id for s in sections]
    reader_ids = [r.id for r in readers]
    last: dict[tuple[int, int], tuple[int, ReadReceipt]] = {}
    if section_ids and reader_ids:
        query = (
            select(ReadReceipt, SectionVersion.number)
            .join(SectionVersion, SectionVersion.id == ReadReceipt.version_id)
            .where(ReadReceipt.section_id.in_(section_ids), ReadReceipt.reader_id.in_(reader_ids))
        )
        for receipt, number in db.session.execute(query):
            key = (receipt.reader_id, receipt.section_id)
            if key not in last or number > last[key][0]:
                last[key] = (number, receipt)
    return {
        (r.id, s.id): _changed(s, last[(r.id, s.id)][1] if (r.id, s.id) in last else None)
        for r in readers
        for s in sections
    }


def read_on(moment: datetime) -> str:
    """ "3 March", or "3 March 2025" when it wasn't this year."""
    today = clock.today()
    return moment.strftime("%-d %B" if moment.year == today.year else "%-d %B %Y")
