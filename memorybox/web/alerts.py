"""Telling people at once: an in-app notification for each, and an email when mail is set up.

Emails never carry a child's content or name beyond a first name: only "sign in to see"."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, url_for
from sqlalchemy import select

from memorybox import policy
from memorybox.accounts.models import Role, User
from memorybox.children import relationships
from memorybox.children import services as children
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.notifications import service as notifications
from memorybox.notifications.mail import Mailer
from memorybox.notifications.models import Notification
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Consent
from memorybox.story.models import SectionVersion, StorySection


def _mailer() -> Mailer:
    return current_app.extensions["memorybox.mailer"]


def tell(
    people: Iterable[User],
    *,
    kind: str,
    message: str,
    link: str,
    child: Child | None = None,
    urgent: bool = False,
) -> list[User]:
    """Notify each person (once), commit, then email them. Returns who was told."""
    told: dict[int, User] = {}
    for person in people:
        if person.is_active and person.id not in told:
            told[person.id] = person
            notifications.notify(
                person,
                kind=kind,
                message=message,
                link=link,
                child_id=child.id if child else None,
                urgent=urgent,
            )
    db.session.commit()
    base = current_app.config["BASE_URL"]
    for person in told.values():
        notifications.email(
            _mailer(),
            person.email,
            ("Urgent: " if urgent else "") + "Memory Box: " + message,
            f"{message}\n\nSign in to Memory Box to see it: {base}{link}\n",
            current_app.config["MAIL_FROM"],
        )
    return list(told.values())


def social_workers_of(child: Child) -> list[User]:
    return [a.social_worker for a in relationships.current_allocations(child.id)]


def audience_members(consent: Consent) -> list[User]:
    if consent.audience is Audience.PERSON:
        return [consent.person] if consent.person is not None else []
    if consent.audience is Audience.CARERS:
        return [p.carer for p in relationships.current_carers(consent.child_id)]
    return [a.social_worker for a in relationships.current_allocations(consent.child_id)]


def shared(consent: Consent) -> None:
    child = consent.child
    tell(
        audience_members(consent),
        kind="shared",
        message=f"{child.display_name} has shared something new with you.",
        link=url_for("shared.child", child_id=child.id),
        child=child,
    )


def _already_told(person: User, kind: str, child: Child) -> bool:
    """An unread notice of the same kind about the same child is still waiting for them."""
    query = select(Notification.id).where(
        Notification.user_id == person.id,
        Notification.kind == kind,
        Notification.child_id == child.id,
        Notification.read_at.is_(None),
    )
    return db.session.scalar(query.limit(1)) is not None


def section_changed(section: StorySection, version: SectionVersion | None) -> list[User]:
    """Tell the people a section is shared with (who may read it today) that its words
    changed. One unread notice per reader and child: saving five times in an evening sends
    one. The notice never carries the section's title or words (emails leave the app)."""
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
        and not _already_told(person, "story_changed", child)
    ]
    return tell(
        readers,
        kind="story_changed",
        message=f"{child.display_name} has changed part of their story that they share with you.",
        link=url_for("story.shared_story", child_id=child.id),
        child=child,
    )


def help_requested(child: Child) -> list[str]:
    """Alert the allocated social worker at once; with none, the authority's duty inbox."""
    message = f"{child.display_name} pressed “I need help”. Please get in touch with them today."
    link = url_for("shared.child", child_id=child.id)
    told = tell(
        social_workers_of(child), kind="help", message=message, link=link, child=child, urgent=True
    )
    if told:
        return [u.display_name for u in told]
    managers = children.people_with_role(child.authority, Role.MANAGER)
    tell(
        managers,
        kind="help",
        message=message,
        link=url_for("notifications.index"),
        child=child,
        urgent=True,
    )
    duty = child.authority.duty_email
    if duty:
        notifications.email(
            _mailer(),
            duty,
            "Urgent: Memory Box: a child needs help",
            f"{message}\n\nThis child has no allocated social worker in Memory Box.\n",
            current_app.config["MAIL_FROM"],
        )
    return ["the duty team"]
