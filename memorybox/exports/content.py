"""What goes into an export: only what the person who asked may see, checked one by one."""

from __future__ import annotations

from dataclasses import dataclass

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.policy import Action
from memorybox.story import services as story
from memorybox.story.models import SectionVersion, StorySection


@dataclass(frozen=True)
class Section:
    section: StorySection
    version: SectionVersion
    item_ids: tuple[int, ...]  # things attached to the version that the requester may see


@dataclass(frozen=True)
class Contents:
    child: Child
    requester: User
    items: list[MemoryItem]
    sections: list[Section]


def gather(requester: User, child: Child) -> Contents:
    """The box and story as ``requester`` may see them today. Only processed items (whose
    stored original has had location data removed) are ever exported."""
    items = [
        item
        for item in memories.box_items(child)
        if item.is_ready and policy.can(requester, Action.ITEM_VIEW, item)
    ]
    item_ids = {item.id for item in items}
    sections = []
    for section in story.sections_of(child):
        version = section.latest
        if version is None or not policy.can(requester, Action.SECTION_READ, section):
            continue
        attached = tuple(i.id for i in version.items if i.id in item_ids)
        sections.append(Section(section, version, attached))
    return Contents(child, requester, items, sections)
