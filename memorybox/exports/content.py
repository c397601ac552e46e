"""What goes into an export: only what the person who asked may see, checked one by one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.letters import services as letters
from memorybox.letters.models import Letter, LetterVersion
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
class LetterCopy:
    """A letter the child has been given and can open: the words as they were when it
    opened, the day it opened, the child's own private note about it (theirs to keep), and
    its photos and documents (only processed ones, which the requester may open)."""

    letter: Letter
    version: LetterVersion
    opened_on: date | None
    own_note: str
    attachments: tuple[MemoryItem, ...] = ()


@dataclass(frozen=True)
class Contents:
    child: Child
    requester: User
    items: list[MemoryItem]
    sections: list[Section]
    letters: list[LetterCopy] = field(default_factory=list)


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
    # Letters are the child's alone: only they may open one (no adult's export holds any).
    copies = []
    for letter in reversed(letters.letters_of(child, given_only=True)):  # oldest first
        words = letter.latest
        if words is None or not policy.can(requester, Action.LETTER_OPEN, letter):
            continue
        note = letters.private_note(letter)
        attachments = tuple(
            item
            for item in letter.attachments
            if item.is_ready and policy.can(requester, Action.ITEM_VIEW, item)
        )
        copies.append(
            LetterCopy(
                letter, words, letters.opens_on(letter), note.body if note else "", attachments
            )
        )
    return Contents(child, requester, items, sections, copies)
