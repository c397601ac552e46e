"""Describing people to a child in plain words: "Sam, your social worker"."""

from __future__ import annotations

from flask_babel import gettext as _

from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.children.services import allocations_of, placements_of


def describe(person: User | None, child: Child) -> str:
    """Who someone is to the child, today. Reads the child's placements and allocations once
    per request, however many lines a page describes."""
    if person is None:
        return _("Someone")
    if person.id == child.user_id:
        return _("You")
    placements = [p for p in placements_of(child) if p.carer_id == person.id]
    allocations = [a for a in allocations_of(child) if a.social_worker_id == person.id]
    if any(p.is_active for p in placements):
        return _("%(name)s, your foster carer", name=person.display_name)
    if any(a.is_active for a in allocations):
        return _("%(name)s, your social worker", name=person.display_name)
    if placements:
        return _("%(name)s, who used to be your foster carer", name=person.display_name)
    if allocations:
        return _("%(name)s, who used to be your social worker", name=person.display_name)
    return person.display_name
