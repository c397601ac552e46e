"""What needs a professional's attention about one child now: help nobody has acknowledged,
requests to talk, things waiting for their approval, story parts changed since they last
read them, new shares and new comments. Newest and most urgent first.

Everything here is asked of policy as the person it is for (a manager's counts per social
worker are worked out as each worker would see them, and only the numbers are shown)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from sqlalchemy import select

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.notifications import help as helping
from memorybox.notifications import service as notifications
from memorybox.notifications import talk as talking
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Consent, Visit
from memorybox.story import services as story

#: kind -> (one, many), in the order a caseload lists them
KINDS: dict[str, tuple[str, str]] = {
    "help": ("help request not seen yet", "help requests not seen yet"),
    "talk": ("request to talk", "requests to talk"),
    "review": ("waiting for your approval", "waiting for your approval"),
    "story": ("story part changed or not read", "story parts changed or not read"),
    "shared": ("new share", "new shares"),
    "comment": ("new comment", "new comments"),
}


@dataclass(frozen=True)
class Need:
    kind: str
    when: datetime
    text: str
    link: str
    urgent: bool = False


@dataclass
class Attention:
    needs: list[Need] = field(default_factory=list)
    shared: int = 0  # how many things in the box the person may open

    @property
    def counts(self) -> Counter[str]:
        return Counter(n.kind for n in self.needs)

    @property
    def total(self) -> int:
        return len(self.needs)

    @property
    def urgent(self) -> int:
        return sum(1 for n in self.needs if n.urgent)

    def summary(self) -> list[str]:
        counts = self.counts
        return [
            f"{counts[kind]} {one if counts[kind] == 1 else many}"
            for kind, (one, many) in KINDS.items()
            if counts[kind]
        ]


def last_visit(viewer_id: int, child_id: int) -> Visit | None:
    return db.session.scalar(
        select(Visit).where(Visit.viewer_id == viewer_id, Visit.child_id == child_id)
    )


def _shared_since(item: MemoryItem, viewer_consents: list[Consent]) -> datetime | None:
    """When this item was first shared with the viewer (through a live consent)."""
    times = []
    for consent in viewer_consents:
        if consent.item_id == item.id:
            times.append(consent.created_at)
        elif consent.collection_id is not None and consent.collection is not None:
            entry = next((e for e in consent.collection.entries if e.item_id == item.id), None)
            if entry is not None:
                times.append(max(consent.created_at, entry.added_at))
    return min(times) if times else None


def shared_items(viewer: User, child: Child) -> list[tuple[MemoryItem, datetime | None]]:
    """What in the child's box ``viewer`` may open, and since when it is shared with them."""
    consents = [c for c in sharing.candidate_consents(child) if policy.in_audience(viewer, c)]
    return [
        (item, _shared_since(item, consents))
        for item in memories.box_items(child)
        if policy.can(viewer, Action.ITEM_VIEW, item)
    ]


def for_child(
    viewer: User,
    child: Child,
    *,
    items: list[tuple[MemoryItem, datetime | None]] | None = None,
) -> Attention:
    """What needs ``viewer`` about ``child`` now. ``items`` (from :func:`shared_items`) can be
    passed in when the caller has it already."""
    needs: list[Need] = []
    name = child.display_name
    for request in helping.open_requests([child.id]):
        if policy.can(viewer, Action.HELP_ACKNOWLEDGE, request):
            needs.append(
                Need(
                    "help",
                    request.created_at,
                    f"{name} pressed “I need help”",
                    url_for("help.help_request", request_id=request.id),
                    urgent=True,
                )
            )
    for talk in talking.open_requests([child.id]):
        if policy.can(viewer, Action.TALK_ACKNOWLEDGE, talk):
            needs.append(
                Need(
                    "talk",
                    talk.created_at,
                    f"{name} would like to talk about one of their memories",
                    url_for("help.talk_request", request_id=talk.id),
                )
            )
    for item in memories.awaiting_review([child]):
        if policy.can(viewer, Action.ITEM_REVIEW, item):
            needs.append(
                Need(
                    "review",
                    item.created_at,
                    f"{item.added_by.display_name} sent “{item.title}” for you to check",
                    url_for("items.show", item_id=item.id),
                )
            )
    for section in story.sections_of(child):
        latest = section.latest
        if latest is None or not policy.can(viewer, Action.SECTION_READ, section):
            continue
        receipt, changed = story.changed_since(section, viewer)
        if changed:
            what = "has changed since you last read it" if receipt else "is new to you"
            needs.append(
                Need(
                    "story",
                    latest.created_at,
                    f"“{section.title}” in {name}'s story {what}",
                    url_for("story.read", section_id=section.id),
                )
            )
    visit = last_visit(viewer.id, child.id)
    items = items if items is not None else shared_items(viewer, child)
    for item, since in items:
        if since is not None and (visit is None or since > visit.last_seen_at):
            needs.append(
                Need(
                    "shared",
                    since,
                    f"“{item.title}” was shared with you",
                    url_for("items.show", item_id=item.id),
                )
            )
    for note in notifications.unread_for_child(viewer, child.id, ["comment"]):
        needs.append(
            Need(
                "comment",
                note.created_at,
                note.message,
                url_for("notifications.open", note_id=note.id),
            )
        )
    needs.sort(key=lambda n: (not n.urgent, -n.when.timestamp()))
    return Attention(needs, shared=len(items))


def caseload(viewer: User, children: list[Child]) -> list[tuple[Child, Attention]]:
    """Each child with what needs attention, most urgent first, then most to do, then by
    name."""
    rows = [(child, for_child(viewer, child)) for child in children]
    rows.sort(key=lambda row: (-row[1].urgent, -row[1].total, row[0].display_name.lower()))
    return rows
