"""Describing people to a child in plain words: "Sam, your social worker"."""

from __future__ import annotations

from memorybox.accounts.models import User
from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.children.services import allocations_of, placements_of


def describe(person: User | None, child: Child) -> str:
    if person is None:
        return "Someone"
    if person.id == child.user_id:
        return "You"
    if any(p.carer_id == person.id for p in relationships.current_carers(child.id)):
        return f"{person.display_name}, your foster carer"
    if any(a.social_worker_id == person.id for a in relationships.current_allocations(child.id)):
        return f"{person.display_name}, your social worker"
    if any(p.carer_id == person.id for p in placements_of(child)):
        return f"{person.display_name}, who used to be your foster carer"
    if any(a.social_worker_id == person.id for a in allocations_of(child)):
        return f"{person.display_name}, who used to be your social worker"
    return person.display_name
