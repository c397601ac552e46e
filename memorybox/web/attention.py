"""What needs a professional's attention about each child now: help nobody has acknowledged,
requests to talk, things waiting for their approval, story parts changed since they last read
them, new shares and new comments. Newest and most urgent first.

Everything here is asked of policy as the person it is for (a manager's counts per social
worker are worked out as each worker would see them, and only the numbers are shown). It is
read for many children (and many workers) at once, in the same few queries whatever their
number: a caseload of 300 costs what a caseload of 3 does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.notifications.service import open_requests
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Visit
from memorybox.story import services as story
from memorybox.story.models import StorySection

#: kind -> how many of it, in words, in the order a caseload lists them
KINDS: dict[str, Callable[[int], str]] = {
    "help": lambda n: ngettext(
        "%(num)s help request not seen yet", "%(num)s help requests not seen yet", n
    ),
    "talk": lambda n: ngettext("%(num)s request to talk", "%(num)s requests to talk", n),
    "review": lambda n: ngettext(
        "%(num)s waiting for your approval", "%(num)s waiting for your approval", n
    ),
    "story": lambda n: ngettext(
        "%(num)s story part changed or not read", "%(num)s story parts changed or not read", n
    ),
    "shared": lambda n: ngettext("%(num)s new share", "%(num)s new shares", n),
    "comment": lambda n: ngettext("%(num)s new comment", "%(num)s new comments", n),
}

#: kind -> the heading of its column on a manager's Caseloads page
HEADINGS: dict[str, LazyString] = {
    "help": lazy_gettext("Help requests not seen yet"),
    "talk": lazy_gettext("Requests to talk"),
    "review": lazy_gettext("Waiting for your approval"),
    "story": lazy_gettext("Story parts changed or not read"),
    "shared": lazy_gettext("New shares"),
    "comment": lazy_gettext("New comments"),
}

#: how many new shares the single view names one by one (the rest are counted)
SHARES_NAMED = 20


@dataclass(frozen=True)
class Need:
    kind: str
    when: datetime
    text: str
    link: str
    urgent: bool = False


@dataclass
class Attention:
    needs: list[Need] = field(default_factory=list)  # named, most urgent then newest first
    counts: Counter[str] = field(default_factory=Counter)
    shared: int = 0  # how many things the child shares with the person
    since: dict[int, datetime] = field(default_factory=dict)  # item id -> when (one child)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def urgent(self) -> int:
        return self.counts["help"]

    @property
    def unnamed_shares(self) -> int:
        """New shares counted but not named one by one."""
        return self.counts["shared"] - sum(1 for n in self.needs if n.kind == "shared")

    def add(self, need: Need) -> None:
        self.needs.append(need)
        self.counts[need.kind] += 1

    def summary(self) -> list[str]:
        return [say(self.counts[kind]) for kind, say in KINDS.items() if self.counts[kind]]


Key = tuple[int, int]  # (viewer id, child id)


def last_visit(viewer_id: int, child_id: int) -> Visit | None:
    return db.session.scalar(
        select(Visit).where(Visit.viewer_id == viewer_id, Visit.child_id == child_id)
    )


def gather(
    pairs: Sequence[tuple[User, Child]], *, name_shares: bool = False
) -> dict[Key, Attention]:
    """What needs each person about each child, for all the pairs at once. With
    ``name_shares`` (one person's page for one child), the newest new shares are named."""
    found: dict[Key, Attention] = {(v.id, c.id): Attention() for v, c in pairs}
    if not pairs:
        return found
    viewers = {v.id: v for v, _ in pairs}
    children = {c.id: c for _, c in pairs}
    by_child: dict[int, list[User]] = {}
    for viewer, child in pairs:
        by_child.setdefault(child.id, []).append(viewer)
    relationships.prime_people(viewers)

    def each(child_id: int) -> list[tuple[User, Attention]]:
        return [(v, found[(v.id, child_id)]) for v in by_child.get(child_id, [])]

    for request in open_requests(HelpRequest, list(children)):
        for viewer, attention in each(request.child_id):
            if policy.can(viewer, Action.HELP_ACKNOWLEDGE, request):
                name = children[request.child_id].display_name
                attention.add(
                    Need(
                        "help",
                        request.created_at,
                        _("%(name)s pressed “I need help”", name=name),
                        url_for("help.help_request", request_id=request.id),
                        urgent=True,
                    )
                )
    for talk in open_requests(TalkRequest, list(children)):
        for viewer, attention in each(talk.child_id):
            if policy.can(viewer, Action.TALK_ACKNOWLEDGE, talk):
                name = children[talk.child_id].display_name
                attention.add(
                    Need(
                        "talk",
                        talk.created_at,
                        _("%(name)s would like to talk about a letter", name=name)
                        if talk.letter_id
                        else _(
                            "%(name)s would like to talk about one of their memories", name=name
                        ),
                        url_for("help.talk_request", request_id=talk.id),
                    )
                )
    for item in memories.awaiting_review(list(children.values())):
        for viewer, attention in each(item.child_id):
            if policy.can(viewer, Action.ITEM_REVIEW, item):
                attention.add(
                    Need(
                        "review",
                        item.created_at,
                        _(
                            "%(name)s sent “%(title)s” for you to check",
                            name=item.added_by.display_name,
                            title=item.title,
                        ),
                        url_for("items.show", item_id=item.id),
                    )
                )
    _story(found, each, list(children), list(viewers.values()))
    if name_shares and len(pairs) == 1:
        ((viewer, child),) = pairs
        _shares_of_one(found[(viewer.id, child.id)], viewer, child)
    else:
        _shares(found, viewers, children)
    _comments(found, list(viewers), list(children))
    for attention in found.values():
        attention.needs.sort(key=lambda n: (not n.urgent, -n.when.timestamp()))
    return found


def _story(
    found: dict[Key, Attention],
    each: Callable[[int], list[tuple[User, Attention]]],
    child_ids: list[int],
    viewers: list[User],
) -> None:
    """Parts of the story shared with each person that are new to them or changed since
    they last read them."""
    query = (
        select(StorySection)
        .options(joinedload(StorySection.prompt), joinedload(StorySection.child))
        .where(StorySection.child_id.in_(child_ids))
    )
    sections = list(db.session.scalars(query))
    story.prime_latest(sections)
    sharing.prime_section_consents(child_ids, [s.id for s in sections])
    readable = [s for s in sections if s.latest is not None]
    changes = story.changes_for_many(viewers, readable)
    for section in readable:
        for viewer, attention in each(section.child_id):
            if not policy.can(viewer, Action.SECTION_READ, section):
                continue
            receipt, changed = changes.get((viewer.id, section.id), (None, True))
            if not changed:
                continue
            latest = section.latest
            assert latest is not None
            words = (
                _(
                    "“%(title)s” in %(name)s's story has changed since you last read it",
                    title=section.title,
                    name=section.child.display_name,
                )
                if receipt
                else _(
                    "“%(title)s” in %(name)s's story is new to you",
                    title=section.title,
                    name=section.child.display_name,
                )
            )
            attention.add(
                Need(
                    "story",
                    latest.created_at,
                    words,
                    url_for("story.read", section_id=section.id),
                )
            )


def _shares(
    found: dict[Key, Attention],
    viewers: dict[int, User],
    children: dict[int, Child],
) -> None:
    """What was shared with each person since they last looked at that child's page."""
    shares = policy.shared_since(list(viewers), list(children)).subquery()
    new = or_(Visit.last_seen_at.is_(None), shares.c.since > Visit.last_seen_at)
    visits = and_(Visit.viewer_id == shares.c.viewer_id, Visit.child_id == shares.c.child_id)
    counted = (
        select(
            shares.c.viewer_id,
            shares.c.child_id,
            func.count(),
            func.coalesce(func.sum(case((new, 1), else_=0)), 0),
        )
        .select_from(shares)
        .outerjoin(Visit, visits)
        .group_by(shares.c.viewer_id, shares.c.child_id)
    )
    for viewer_id, child_id, total, new_ones in db.session.execute(counted):
        attention = found.get((viewer_id, child_id))
        if attention is not None:
            attention.shared = total
            if new_ones:
                attention.counts["shared"] += new_ones


def _shares_of_one(attention: Attention, viewer: User, child: Child) -> None:
    """One person's page for one child: every share with them, read once (when each was
    shared and its title), counted, the newest new ones named, and kept for the page's
    "New" marks."""
    shares = policy.shared_since([viewer.id], [child.id]).subquery()
    visit = last_visit(viewer.id, child.id)
    query = select(shares.c.item_id, shares.c.since, MemoryItem.title).join(
        MemoryItem, MemoryItem.id == shares.c.item_id
    )
    rows = sorted(db.session.execute(query), key=lambda r: (r.since, r.item_id), reverse=True)
    attention.shared = len(rows)
    attention.since = {row.item_id: row.since for row in rows}
    new = [r for r in rows if visit is None or r.since > visit.last_seen_at]
    attention.counts["shared"] += len(new)
    for row in new[:SHARES_NAMED]:
        attention.needs.append(
            Need(
                "shared",
                row.since,
                _("“%(title)s” was shared with you", title=row.title),
                url_for("items.show", item_id=row.item_id),
            )
        )


def _comments(found: dict[Key, Attention], viewer_ids: list[int], child_ids: list[int]) -> None:
    query = select(Notification).where(
        Notification.user_id.in_(viewer_ids),
        Notification.child_id.in_(child_ids),
        Notification.kind == "comment",
        Notification.read_at.is_(None),
    )
    for note in db.session.scalars(query):
        attention = found.get((note.user_id, note.child_id or 0))
        if attention is not None:
            attention.add(
                Need(
                    "comment",
                    note.created_at,
                    note.message,
                    url_for("notifications.open", note_id=note.id),
                )
            )


def for_child(viewer: User, child: Child) -> Attention:
    """What needs ``viewer`` about ``child`` now, the newest shares named."""
    return gather([(viewer, child)], name_shares=True)[(viewer.id, child.id)]


def caseload(viewer: User, children: list[Child]) -> list[tuple[Child, Attention]]:
    """Each child with what needs attention (and how much they share with the worker),
    most urgent first, then most to do, then by name."""
    found = gather([(viewer, child) for child in children])
    rows = [(child, found[(viewer.id, child.id)]) for child in children]
    rows.sort(key=lambda row: (-row[1].urgent, -row[1].total, row[0].display_name.lower()))
    return rows
