"""Telling people at once, from the pages where things happen: an in-app notification for
each (pointing at what it is about, holding none of it) and an email that only says "you
have a new message" to those who want one. See :mod:`memorybox.notifications.service`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.children import relationships
from memorybox.contributors import services as contributors
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.notifications import service as notifications
from memorybox.notifications.service import Sender, Target
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Consent
from memorybox.story.models import SectionVersion, StorySection
from memorybox.words import N_, Words


def sender() -> Sender:
    return Sender(
        mailer=current_app.extensions["memorybox.mailer"],
        base_url=current_app.config["BASE_URL"],
        mail_from=current_app.config["MAIL_FROM"],
    )


def tell(people: Iterable[User | None], **what: Any) -> list[User]:
    """Notify each person (once), commit, then email those who want it. Returns who was
    told. ``what``: see :func:`memorybox.notifications.service.tell`."""
    return notifications.tell(sender(), people, **what)


def audience_members(consent: Consent) -> list[User]:
    if consent.audience is Audience.PERSON:
        return [consent.person] if consent.person is not None else []
    if consent.audience is Audience.CARERS:
        return [p.carer for p in relationships.current_carers(consent.child_id)]
    return relationships.social_workers_of(consent.child_id)


def _subject(consent: Consent) -> tuple[Target, int]:
    if consent.item_id is not None:
        return Target.ITEM, consent.item_id
    if consent.story_section_id is not None:
        return Target.SECTION, consent.story_section_id
    assert consent.collection_id is not None
    return Target.COLLECTION, consent.collection_id


def shared(consent: Consent) -> None:
    child = consent.child
    target, target_id = _subject(consent)
    template = {
        Target.ITEM: N_("%(name)s has shared something new with you."),
        Target.SECTION: N_("%(name)s has shared part of their story with you."),
        Target.COLLECTION: N_("%(name)s has shared an album with you."),
    }[target]
    tell(
        audience_members(consent),
        kind="shared",
        message=Words(template, name=child.display_name),
        target=target,
        target_id=target_id,
        child=child,
    )


def section_changed(section: StorySection, version: SectionVersion | None) -> list[User]:
    """Tell the people a section is shared with (who may read it today) that its words
    changed. One unread notice per reader and section: saving five times in an evening
    sends one. The notice never carries the section's title or words."""
    if version is None or version.number == 1:
        return []
    before = next((v for v in section.versions if v.number == version.number - 1), None)
    if before is not None and before.body == version.body:
        return []  # only what goes with the words changed
    child = section.child
    readers = [
        person
        for consent in sharing.active_consents_for_section(section)
        for person in audience_members(consent)
        if policy.can(person, Action.SECTION_READ, section)
        and not notifications.unread_about(person, "story_changed", Target.SECTION, section.id)
    ]
    return tell(
        readers,
        kind="story_changed",
        message=Words(
            N_("%(name)s has changed part of their story that they share with you."),
            name=child.display_name,
        ),
        target=Target.SECTION,
        target_id=section.id,
        child=child,
    )


def first_read(section: StorySection, reader: User) -> None:
    """The child hears that someone they shared a part with read it for the first time
    (unless they turned these messages off)."""
    child = section.child
    young_person = child.user
    if young_person is None or not young_person.tell_me_reads:
        return
    tell(
        [young_person],
        kind="story_read",
        message=Words(
            N_("%(name)s read part of your story for the first time."),
            name=reader.display_name,
        ),
        target=Target.OWN_SECTION,
        target_id=section.id,
        child=child,
    )


def _suggestion_waiting(item: MemoryItem, kind: str) -> None:
    tell(
        [item.child.user],
        kind=kind,
        message=Words(
            N_("%(name)s sent you something. You can choose if you want to keep it."),
            name=item.added_by.display_name,
        ),
        target=Target.ITEM,
        target_id=item.id,
        child=item.child,
    )


def item_added(item: MemoryItem) -> None:
    """An adult added something: the child hears there is a suggestion waiting, or (where the
    authority checks first) the allocated social worker hears there is one to check."""
    child = item.child
    adder = item.added_by
    if item.status is ItemStatus.SUGGESTED:
        _suggestion_waiting(item, "suggestion")
    elif item.status is ItemStatus.AWAITING_APPROVAL:
        tell(
            relationships.social_workers_of(child.id),
            kind="review",
            message=Words(
                N_(
                    "%(adder)s sent something for %(name)s. "
                    "Please check it before %(name)s sees it."
                ),
                adder=adder.display_name,
                name=child.display_name,
            ),
            target=Target.REVIEW,
            target_id=item.id,
            child=child,
        )


def reviewed(item: MemoryItem, approved: bool) -> None:
    """After the social worker's check: the child hears of a suggestion waiting; the adder
    hears if it was not passed on."""
    child = item.child
    if approved:
        _suggestion_waiting(item, "approved")
        return
    # Family and past carers never open an item: their notice leads to their own page.
    link = contributors.for_sender(child.id, item.added_by_id)
    tell(
        [item.added_by],
        kind="not_approved",
        message=Words(
            N_("Something you sent for %(name)s was not passed on."), name=child.display_name
        ),
        target=Target.SENT if link is not None else Target.ITEM,
        target_id=link.id if link is not None else item.id,
        child=child,
    )


def decided(item: MemoryItem, kept: bool, wrote: bool) -> None:
    """The adder hears that the child kept or declined what they sent: never why, unless
    the child wrote something (then it is on the item's page, as a comment)."""
    adder = item.added_by
    child = item.child
    if adder.id == child.user_id or not policy.can(adder, Action.ITEM_VIEW, item):
        return
    if kept:
        template = (
            N_("%(name)s kept what you sent. %(name)s wrote you a few words.")
            if wrote
            else N_("%(name)s kept what you sent.")
        )
    else:
        template = (
            N_("%(name)s chose not to keep what you sent. %(name)s wrote you a few words.")
            if wrote
            else N_("%(name)s chose not to keep what you sent.")
        )
    message = Words(template, name=child.display_name)
    tell(
        [adder],
        kind="decided",
        message=message,
        target=Target.COMMENTS if wrote else Target.ITEM,
        target_id=item.id,
        child=child,
    )


def commented(item: MemoryItem, author: User) -> None:
    child = item.child
    people: list[User | None]
    if child.user_id == author.id:
        people = [item.added_by]
        message = Words(
            N_("%(name)s wrote a comment on something you sent."), name=child.display_name
        )
    else:
        people = [child.user]
        message = Words(
            N_("%(name)s wrote to you about something in your box."), name=author.display_name
        )
    tell(
        [p for p in people if p is not None and p.id != author.id],
        kind="comment",
        message=message,
        target=Target.COMMENTS,
        target_id=item.id,
        child=child,
    )
