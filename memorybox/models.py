"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from memorybox.accounts.models import (
    Authority,
    Invitation,
    RecoveryCode,
    RememberedDevice,
    Role,
    User,
)
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.contributors.models import Contributor
from memorybox.db import Base
from memorybox.exports.models import Export, ExportKind, ExportState
from memorybox.leaving.models import AccountDeletion, CareLeaving, NamedPerson
from memorybox.letters.models import Letter, LetterNote, LetterVersion, ReleaseRule
from memorybox.memories.models import (
    Comment,
    ItemKind,
    ItemStatus,
    MemoryItem,
    Processing,
    Rendition,
)
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.search.models import ItemTag, SearchDocument, Tag
from memorybox.sharing.models import Audience, Basis, Collection, CollectionItem, Consent, Visit
from memorybox.story.models import (
    ReadReceipt,
    SectionDraft,
    SectionVersion,
    StoryPrompt,
    StorySection,
)
from memorybox.transfers.models import Transfer, TransferState

__all__ = [
    "AccountDeletion",
    "CareLeaving",
    "NamedPerson",
    "Transfer",
    "TransferState",
    "Letter",
    "LetterNote",
    "LetterVersion",
    "ReleaseRule",
    "Export",
    "ExportKind",
    "ExportState",
    "Processing",
    "Rendition",
    "Audience",
    "Basis",
    "Collection",
    "CollectionItem",
    "Comment",
    "Contributor",
    "Consent",
    "HelpRequest",
    "ItemTag",
    "SearchDocument",
    "Tag",
    "Notification",
    "TalkRequest",
    "Visit",
    "ReadReceipt",
    "SectionDraft",
    "SectionVersion",
    "StoryPrompt",
    "StorySection",
    "Allocation",
    "AuditEvent",
    "Authority",
    "Base",
    "Child",
    "Invitation",
    "ItemKind",
    "ItemStatus",
    "MemoryItem",
    "Placement",
    "RecoveryCode",
    "RememberedDevice",
    "Role",
    "User",
]
