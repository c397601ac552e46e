"""'I'd like to talk about this': the child asks their social worker to talk about one memory,
and says whether the worker may see it. Callers have asked policy first."""

from __future__ import annotations

from dataclasses import dataclass

from memorybox import clock, policy
from memorybox.accounts.models import User
from memorybox.children import relationships
from memorybox.db import db
from memorybox.memories.models import MemoryItem
from memorybox.notifications import service as notifications
from memorybox.notifications.models import TalkRequest
from memorybox.notifications.service import Sender, Target
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from memorybox.words import N_, Words

WORDS_MAX = 500
TALK_WISH = N_("So we can talk about it.")


@dataclass(frozen=True)
class Asked:
    request: TalkRequest
    told: list[User]
    shared_with: list[User]  # who may see the item now because the child said yes


def workers(item: MemoryItem) -> list[User]:
    """The social workers allocated to the item's child today (active accounts)."""
    return [w for w in relationships.social_workers_of(item.child_id) if w.is_active]


def workers_who_cannot_see(item: MemoryItem) -> list[User]:
    """The allocated social workers who could not open the item today."""
    return [w for w in workers(item) if not policy.can(w, Action.ITEM_VIEW, item)]


def ask(item: MemoryItem, by: User, words: str, show_item: bool, sender: Sender) -> Asked | None:
    """Tell the allocated social workers; with none, nothing is recorded (None).

    A yes from a child who decides about sharing for themselves is a consent for this item
    and each worker told who could not see it yet (recorded as the child's own decision,
    with "so we can talk about it" as their wish)."""
    told_to = workers(item)
    if not told_to:
        return None
    child = item.child
    request = TalkRequest(
        child_id=child.id,
        item_id=item.id,
        requested_by_id=by.id,
        words=words.strip()[:WORDS_MAX],
        shows_item=show_item,
        created_at=clock.now(),
    )
    db.session.add(request)
    shared_with: list[User] = []
    if show_item and sharing.decides_for_self(child):
        for worker in workers_who_cannot_see(item):
            sharing.grant(
                child=child,
                decided_by=by,
                on_behalf=False,
                audience=Audience.PERSON,
                person=worker,
                item=item,
                childs_wishes=TALK_WISH,
            )
            shared_with.append(worker)
    db.session.flush()
    told = notifications.tell(
        sender,
        told_to,
        kind="talk",
        message=Words(
            N_("%(name)s would like to talk with you about one of their memories."),
            name=child.display_name,
        ),
        target=Target.TALK,
        target_id=request.id,
        child=child,
    )
    return Asked(request, told, shared_with)


def acknowledge(request: TalkRequest, by: User, sender: Sender) -> None:
    notifications.acknowledge(
        request,
        by,
        sender,
        kind="talk_seen",
        message=Words(
            N_("%(name)s has seen that you'd like to talk. They will be in touch."),
            name=by.display_name,
        ),
        target=Target.TALK,
    )


def open_requests(child_ids: list[int]) -> list[TalkRequest]:
    """Requests nobody has acknowledged yet, for these children, oldest first."""
    return notifications.open_requests(TalkRequest, child_ids)
