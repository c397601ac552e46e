"""The one place that decides who may do what. Deny by default.

Views ask :func:`can` (or :func:`require`, which answers "not found" when the answer is no),
templates ask ``can(...)``; nothing else in the code checks a role or an owner.
Each rule reads live facts (placements, allocations, account state) on every call, so ending
a relationship or disabling an account takes effect on the very next request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import aliased

from memorybox import clock, memo
from memorybox.accounts.models import Authority, Invitation, Role, User
from memorybox.children import relationships
from memorybox.children.models import Allocation, Child, Placement
from memorybox.contributors.models import Contributor
from memorybox.db import db
from memorybox.exports.models import Export, ExportKind
from memorybox.leaving import services as leaving
from memorybox.letters import services as letters
from memorybox.letters.models import Letter, ReleaseRule
from memorybox.memories.models import BIN_DAYS, ItemStatus, MemoryItem, UploadSession
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Collection, CollectionItem, Consent
from memorybox.story.models import SectionVersion, StoryPrompt, StorySection
from memorybox.transfers.models import Transfer, TransferState


class Action(enum.StrEnum):
    # A child's box (target: Child)
    BOX_VIEW = "box:view"  # gallery, timeline, suggested list, bin
    ITEM_ADD = "item:add"  # add a new item to this child's box
    CHILD_SEE = "child:see"  # see the child's name in a list (carer, social worker, manager)
    # One item (target: MemoryItem)
    ITEM_VIEW = "item:view"  # its page and its file, inline or downloaded
    ITEM_EDIT = "item:edit"  # title, caption, memory date
    ITEM_TAG = "item:tag"  # see, add and take off the child's own tags
    ITEM_DECIDE = "item:decide"  # keep or decline a suggestion
    ITEM_DELETE = "item:delete"  # move to the bin
    ITEM_RESTORE = "item:restore"  # take back out of the bin
    ITEM_PURGE = "item:purge"  # delete for ever, from the bin
    # Running the authority (target: Authority, User, Child, Placement, Allocation, Invitation)
    AUTHORITY_MANAGE = "authority:manage"
    ACCOUNT_MANAGE = "account:manage"
    ACCOUNT_DISABLE = "account:disable"
    SECOND_FACTOR_RESET = "second-factor:reset"  # a manager resets someone's (target: User)
    SECOND_FACTOR_USE = "second-factor:use"  # set up and use your own (target: the actor)
    CHILD_MANAGE = "child:manage"
    RELATIONSHIP_END = "relationship:end"
    INVITATION_REVOKE = "invitation:revoke"
    # Own pages (target: the actor)
    CARER_HOME = "carer:home"
    CASELOAD_VIEW = "caseload:view"
    NOTIFICATIONS_VIEW = "notifications:view"  # your messages and message settings
    NOTIFICATION_OPEN = "notification:open"  # target: Notification (your own)
    # Sharing (target: Child unless noted)
    SHARING_VIEW = "sharing:view"  # read every consent, and who has looked
    SHARING_DECIDE = "sharing:decide"  # give consents for this child
    ITEM_SHARE = "item:share"  # target: MemoryItem
    COLLECTION_MANAGE = "collection:manage"  # make albums, add and remove items
    COLLECTION_VIEW = "collection:view"  # target: Collection
    COLLECTION_SHARE = "collection:share"  # target: Collection
    CONSENT_REVOKE = "consent:revoke"  # target: Consent
    SHARED_VIEW = "shared:view"  # what this child shares with me
    CAPACITY_RECORD = "capacity:record"  # record that the child decides for themselves
    HELP_ASK = "help:ask"  # the "I need help" button
    HELP_VIEW = "help:view"  # one "I need help" request and who saw it (target: HelpRequest)
    HELP_ACKNOWLEDGE = "help:acknowledge"  # "I've seen this, I'll be in touch" (HelpRequest)
    TALK_VIEW = "talk:view"  # one "I'd like to talk about this" (target: TalkRequest)
    TALK_ACKNOWLEDGE = "talk:acknowledge"  # target: TalkRequest
    CHILD_ATTENTION = "child:attention"  # what needs the allocated social worker now (Child)
    ITEM_TALK = "item:talk"  # "I'd like to talk about this" (target: MemoryItem)
    ITEM_GENTLE = "item:gentle"  # the child's own gentle choices about one item
    NOTE_READ = "note:read"  # an item's content note: the child, and whoever wrote it
    ITEM_COMMENT = "item:comment"  # read and write comments (target: MemoryItem)
    ITEM_REVIEW = "item:review"  # moderation: approve or not (target: MemoryItem)
    REVIEW_QUEUE = "review:queue"  # target: the actor
    UPLOAD_USE = "upload:use"  # continue or use a resumable upload (target: UploadSession)
    # My Story
    STORY_VIEW_OWN = "story:view-own"  # the child's own story page (target: Child)
    STORY_WRITE = "story:write"  # add a section of your own (target: Child)
    SECTION_EDIT = "section:edit"  # write, autosave, versions, restore (target: StorySection)
    SECTION_SHARE = "section:share"  # give a consent for one section (target: StorySection)
    SECTION_READ = "section:read"  # read a shared section (target: StorySection)
    STORY_PROMPT_MANAGE = "story-prompt:manage"  # rename, move, hide (target: StoryPrompt)
    # Exports
    EXPORT_REQUEST = "export:request"  # target: Child (any kind), or an unsaved Export (its kind)
    EXPORT_DOWNLOAD = "export:download"  # its progress and its file (target: Export)
    # Later-life letters
    LETTERS_OWN = "letters:own"  # the child's own list of letters (target: Child)
    LETTERS_WRITE = "letters:write"  # a worker's list of a child's letters, and a new one
    LETTER_SEE = "letter:see"  # that a letter exists, who wrote it, when it opens (Letter)
    LETTER_OPEN = "letter:open"  # its words, its note, the child's choices and own note
    LETTER_ASK = "letter:ask"  # "I'd like to open it" (a letter that opens when asked)
    LETTER_TALK = "letter:talk"  # "I'd like to talk about this" (an open letter)
    LETTER_READ = "letter:read"  # a social worker's page of a letter: words, versions, state
    LETTER_EDIT = "letter:edit"  # change the words (a new version), the note, the rule
    LETTER_GIVE = "letter:give"  # give a draft to the child (then they know it exists)
    LETTER_AGREE = "letter:agree"  # agree to the child's asking: it opens now
    LETTER_DELETE = "letter:delete"  # throw away a draft the child was never given
    LETTER_ATTACH = "letter:attach"  # add a photo or document to a letter not open yet
    ATTACHMENT_REMOVE = "attachment:remove"  # take one off again (target: MemoryItem)
    ATTACHMENT_KEEP = "attachment:keep"  # the child keeps a copy in their box (MemoryItem)
    ALBUM_ITEM = "album:item"  # put in an album, or take out (MemoryItem): never an attachment
    # Leaving care and a young person's own account (target: Child)
    ACCOUNT_EMAIL = "account:email"  # from 16: their own sign-in email
    ACCOUNT_DELETE = "account:delete"  # from 16: ask to delete their account
    ACCOUNT_DELETE_CANCEL = "account:delete-cancel"  # change their mind within the 30 days
    CARE_LEAVE = "care:leave"  # a manager records the day the young person left care
    NAMED_PERSON_ADD = "named-person:add"  # a manager adds someone to share with by name
    # Moving a child to another authority (target: Child for a new request, else Transfer)
    TRANSFER_REQUEST = "transfer:request"  # the sending authority's manager asks
    TRANSFER_VIEW = "transfer:view"  # a request and its trail: either side's managers
    TRANSFER_ACCEPT = "transfer:accept"  # the receiving authority's manager: the child moves
    TRANSFER_DECLINE = "transfer:decline"  # the receiving authority's manager, with a reason
    TRANSFER_WITHDRAW = "transfer:withdraw"  # the sending authority's manager, while it waits
    # Family and past carers who send things (the letterbox)
    CONTRIBUTOR_HOME = "contributor:home"  # their one page: what they sent (Contributor)
    CONTRIBUTOR_SEND = "contributor:send"  # send something now (target: Contributor)
    CONTRIBUTORS_MANAGE = "contributors:manage"  # a worker's list, and invite (Child)
    CONTRIBUTOR_END = "contributor:end"  # a worker ends their access (Contributor)
    SENDERS_VIEW = "senders:view"  # the child's own list of who sends them things (Child)
    SENDER_STOP = "sender:stop"  # the child: "no more from this person" (Contributor)
    SENDER_ALLOW = "sender:allow"  # the child takes that back (Contributor)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


DENY = Decision(False, "not allowed")


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str) -> Decision:
    return Decision(False, reason)


def _is_the_child(actor: User, child: Child) -> bool:
    return child.user_id is not None and child.user_id == actor.id


def _manager_of(actor: User, authority_id: int) -> bool:
    return actor.role is Role.MANAGER and actor.authority_id == authority_id


# --- rules about a child's box ----------------------------------------------------------


def _box_view(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("this is your own box")
    return _deny("only the child sees their whole box")


def _item_add(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("this is your own box")
    if actor.role is Role.CARER and relationships.has_active_placement(actor.id, child.id):
        return _allow("carer with an active placement")
    return _deny("no active placement")


def _child_see(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("yourself")
    if actor.authority_id != child.authority_id:
        return _deny("another authority")
    if actor.role is Role.MANAGER:
        return _allow("manager of the child's authority")
    if actor.role is Role.CARER and relationships.has_active_placement(actor.id, child.id):
        return _allow("carer with an active placement")
    if actor.role is Role.SOCIAL_WORKER and relationships.has_active_allocation(actor.id, child.id):
        return _allow("allocated social worker")
    return _deny("no active relationship")


# --- rules about one item ---------------------------------------------------------------


HELD_BACK = frozenset({ItemStatus.AWAITING_APPROVAL, ItemStatus.NOT_APPROVED})


def _item_view(actor: User, item: MemoryItem) -> Decision:
    child = item.child
    if _is_the_child(actor, child):
        if item.status in HELD_BACK:
            return _deny("waiting for, or not given, the social worker's approval")
        return _allow("this is your own box")
    if item.in_bin:
        return _deny("in the child's bin")
    if (
        actor.role is Role.CARER
        and item.added_by_id == actor.id
        and relationships.has_active_placement(actor.id, child.id)
    ):
        return _allow("you added this during an active placement")
    if item.status is ItemStatus.AWAITING_APPROVAL and _checks(actor, item):
        return _allow("waiting for your approval")
    if item.status is not ItemStatus.KEPT:
        return _deny("not in the child's box")
    if _proxy_for(actor, child):
        return _allow("you look after this box for a child without a login")
    for consent in sharing.active_consents_for_item(item):
        if in_audience(actor, consent):
            return _allow("the child shared this with you")
    return _deny("private to the child")


def in_audience(actor: User, consent: Consent) -> bool:
    """Is ``actor`` in this consent's audience today? Relationships are read live."""
    if consent.audience is Audience.PERSON:
        return consent.person_id == actor.id
    if consent.audience is Audience.CARERS:
        return actor.role is Role.CARER and relationships.has_active_placement(
            actor.id, consent.child_id
        )
    if consent.audience is Audience.SOCIAL_WORKER:
        return actor.role is Role.SOCIAL_WORKER and relationships.has_active_allocation(
            actor.id, consent.child_id
        )
    return False


def _allocated(actor: User, child: Child) -> bool:
    return actor.role is Role.SOCIAL_WORKER and relationships.has_active_allocation(
        actor.id, child.id
    )


def _decides_on_behalf(actor: User, child: Child) -> bool:
    return _allocated(actor, child) and not sharing.decides_for_self(child)


def _proxy_for(actor: User, child: Child) -> bool:
    """A child too young for a login: their social worker keeps the box for them. A child
    with their own login is never seen into, whatever their age: their social worker shares
    on their behalf by title, as the child asks, without opening anything."""
    return child.user_id is None and _allocated(actor, child)


def _reviewer(actor: User, child: Child) -> bool:
    return _allocated(actor, child) and child.authority.moderation_required


def _checks(actor: User, item: MemoryItem) -> bool:
    """Does ``actor`` check this item before the child sees it? The allocated social worker,
    where the authority asks for it, and always for what family and past carers send."""
    if item.added_by.role is Role.CONTRIBUTOR:
        return _allocated(actor, item.child)
    return _reviewer(actor, item.child)


# --- rules about sharing ----------------------------------------------------------------


def _sharing_decide(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child) and sharing.decides_for_self(child):
        return _allow("you decide who sees your things")
    if _decides_on_behalf(actor, child):
        return _allow("you manage sharing for this child")
    return _deny("not the one who decides")


def _sharing_view(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("this is about your things")
    return _sharing_decide(actor, child)


def _item_share(actor: User, item: MemoryItem) -> Decision:
    if item.in_bin or item.status is not ItemStatus.KEPT:
        return _deny("only things kept in the box can be shared")
    return _sharing_decide(actor, item.child)


def _collection_manage(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("your albums")
    if _proxy_for(actor, child):
        return _allow("you look after this box for a child without a login")
    return _deny("only the child makes albums")


def _collection_view(actor: User, collection: Collection) -> Decision:
    if _collection_manage(actor, collection.child):
        return _allow("your albums")
    for consent in sharing.active_consents_for_collection(collection):
        if in_audience(actor, consent):
            return _allow("the child shared this with you")
    return _deny("private to the child")


def _collection_share(actor: User, collection: Collection) -> Decision:
    return _sharing_decide(actor, collection.child)


def _consent_revoke(actor: User, consent: Consent) -> Decision:
    """Stopping is always safe: the child can stop any share of their things, whoever made
    it and whatever their age; the one who decides for them can too."""
    if consent.revoked_at is not None:
        return _deny("already stopped")
    if _is_the_child(actor, consent.child):
        return _allow("your things")
    return _sharing_decide(actor, consent.child)


def _shared_view(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child) or actor.role is Role.MANAGER:
        return _deny("nothing is shared with managers")
    if _child_see(actor, child):
        return _allow("you are in this child's life now")
    if _shares_something_with(actor.id, child.id, clock.today()):
        return _allow("the child shared something with you")
    return _deny("nothing shared with you")


@memo.remembered
def _shares_something_with(actor_id: int, child_id: int, day: Any) -> bool:
    """Does a live consent of this child's reach this person today? (One query, rather than
    every consent of a child who may share thousands of things.)"""
    actor = relationships.user(actor_id)
    if actor is None:
        return False
    query = select(
        exists().where(Consent.child_id == child_id, _live_consent(day), _reaching(actor))
    )
    return bool(db.session.scalar(query))


def _capacity_record(actor: User, child: Child) -> Decision:
    if child.user_id is None or sharing.decides_for_self(child):
        return _deny("nothing to record")
    if _allocated(actor, child):
        return _allow("allocated social worker")
    return _deny("allocated social worker only")


def _help_ask(actor: User, child: Child) -> Decision:
    return _allow("asking for help") if _is_the_child(actor, child) else _deny("the child only")


def _item_talk(actor: User, item: MemoryItem) -> Decision:
    if _is_the_child(actor, item.child) and item.status is ItemStatus.KEPT and not item.in_bin:
        return _allow("your item")
    return _deny("the child only")


def _item_gentle(actor: User, item: MemoryItem) -> Decision:
    """Hiding, waiting, opening with someone: the child's own choices, about what is theirs."""
    if (
        _is_the_child(actor, item.child)
        and not item.in_bin
        and item.status in {ItemStatus.KEPT, ItemStatus.SUGGESTED}
    ):
        return _allow("your item")
    return _deny("the child only")


def _note_read(actor: User, item: MemoryItem) -> Decision:
    """A content note is for the child, and stays known to the one who wrote it; no other
    adult sees it (nor any of the child's gentle choices)."""
    if not item.content_note:
        return _deny("no note")
    if _is_the_child(actor, item.child) and item.status not in HELD_BACK:
        return _allow("a note for you")
    if item.content_note_by_id == actor.id and _item_view(actor, item):
        return _allow("you wrote it")
    return _deny("not for you")


def _help_view(actor: User, request: HelpRequest) -> Decision:
    """The child who asked; the social worker allocated now; the authority's managers, who
    make sure someone answers when nobody has."""
    child = request.child
    if _is_the_child(actor, child):
        return _allow("you asked for help")
    if _allocated(actor, child):
        return _allow("allocated social worker")
    if _manager_of(actor, child.authority_id):
        return _allow("manager of the child's authority")
    return _deny("not for you")


def _help_acknowledge(actor: User, request: HelpRequest) -> Decision:
    if request.acknowledged_at is not None:
        return _deny("someone has seen it already")
    if _is_the_child(actor, request.child):
        return _deny("the child asked")
    return _help_view(actor, request)


def _talk_view(actor: User, request: TalkRequest) -> Decision:
    child = request.child
    if _is_the_child(actor, child):
        return _allow("you asked to talk")
    if _allocated(actor, child):
        return _allow("allocated social worker")
    return _deny("not for you")


def _talk_acknowledge(actor: User, request: TalkRequest) -> Decision:
    if request.acknowledged_at is not None:
        return _deny("seen already")
    if _allocated(actor, request.child):
        return _allow("allocated social worker")
    return _deny("allocated social worker only")


def _child_attention(actor: User, child: Child) -> Decision:
    if _allocated(actor, child):
        return _allow("allocated social worker")
    return _deny("allocated social worker only")


def _item_comment(actor: User, item: MemoryItem) -> Decision:
    """The child and the person who added it talk about it, while both can see it."""
    if item.in_bin or item.status in {ItemStatus.AWAITING_APPROVAL, ItemStatus.NOT_APPROVED}:
        return _deny("not in the box")
    if _is_the_child(actor, item.child):
        return _allow("your item")
    if item.added_by_id == actor.id and _item_view(actor, item):
        return _allow("you added this")
    return _deny("the child and the adder only")


def _item_review(actor: User, item: MemoryItem) -> Decision:
    if item.status is ItemStatus.AWAITING_APPROVAL and _checks(actor, item):
        return _allow("allocated social worker")
    return _deny("nothing to review")


def _review_queue(actor: User, target: User) -> Decision:
    if actor.role is Role.SOCIAL_WORKER and target.id == actor.id:
        return _allow("your own queue")
    return _deny("social workers only")


def _upload_use(actor: User, upload: UploadSession) -> Decision:
    if upload.user_id != actor.id or upload.used_at is not None:
        return _deny("not your upload")
    return _item_add(actor, upload.child)


def _notifications_view(actor: User, target: User) -> Decision:
    return _allow("your own") if target.id == actor.id else _deny("someone else's")


def _notification_open(actor: User, note: Notification) -> Decision:
    """Opening your own notice is always allowed; where it leads is asked again there."""
    return _allow("your own") if note.user_id == actor.id else _deny("someone else's")


def _owner_only(check: Callable[[MemoryItem], Decision]) -> Callable[[User, MemoryItem], Decision]:
    def rule(actor: User, item: MemoryItem) -> Decision:
        if not _is_the_child(actor, item.child):
            return _deny("only the child changes their box")
        if item.status in HELD_BACK:
            return _deny("not in the box")
        return check(item)

    return rule


def _editable(item: MemoryItem) -> Decision:
    if item.in_bin:
        return _deny("restore it from the bin first")
    return _allow("your item")


def _decidable(item: MemoryItem) -> Decision:
    if item.in_bin or item.status is not ItemStatus.SUGGESTED:
        return _deny("nothing to decide")
    return _allow("a suggestion for you")


def _item_decide(actor: User, item: MemoryItem) -> Decision:
    """The child keeps or declines; for a child with no login, their social worker does."""
    if _proxy_for(actor, item.child):
        return _decidable(item)
    return _owner_only(_decidable)(actor, item)


def _restorable(item: MemoryItem) -> Decision:
    if item.deleted_at is None:
        return _deny("not in the bin")
    if clock.now() - item.deleted_at > timedelta(days=BIN_DAYS):
        return _deny("the bin keeps things for 30 days")
    return _allow("in your bin")


def _purgeable(item: MemoryItem) -> Decision:
    if item.deleted_at is None:
        return _deny("move it to the bin first")
    return _allow("in your bin")


# --- rules about running an authority --------------------------------------------------


def _authority_manage(actor: User, authority: Authority) -> Decision:
    if _manager_of(actor, authority.id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


def _account_manage(actor: User, user: User) -> Decision:
    if _manager_of(actor, user.authority_id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


def _account_disable(actor: User, user: User) -> Decision:
    if user.id == actor.id:
        return _deny("you cannot switch off your own account")
    return _account_manage(actor, user)


def second_factor_required(user: User) -> bool:
    """Social workers and managers always use a second factor after their password;
    carers when their authority turns it on; young people and family never have to."""
    if user.role in (Role.SOCIAL_WORKER, Role.MANAGER):
        return True
    return user.role is Role.CARER and user.authority.carer_second_factor


def _second_factor_use(actor: User, user: User) -> Decision:
    if user.id != actor.id:
        return _deny("only your own")
    if second_factor_required(actor):
        return _allow("staff use a second factor")
    return _deny("no second factor is asked of you")


def _second_factor_reset(actor: User, user: User) -> Decision:
    if user.id == actor.id:
        return _deny("another manager resets your own second factor")
    return _account_manage(actor, user)


def _child_manage(actor: User, child: Child) -> Decision:
    if leaving.is_deleted(child):
        return _deny("this account was deleted: only the record that it existed is kept")
    if _manager_of(actor, child.authority_id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


def _relationship_end(actor: User, rel: Placement | Allocation) -> Decision:
    if not _manager_of(actor, rel.child.authority_id):
        return _deny("not a manager here")
    if rel.state == "ended":
        return _deny("already ended")
    return _allow("manager of this authority")


def _invitation_revoke(actor: User, invitation: Invitation) -> Decision:
    if not _manager_of(actor, invitation.authority_id):
        return _deny("not a manager here")
    if not invitation.is_usable:
        return _deny("no longer waiting")
    return _allow("manager of this authority")


def _carer_home(actor: User, target: User) -> Decision:
    if actor.role is Role.CARER and target.id == actor.id:
        return _allow("your own page")
    return _deny("carers only")


def _caseload_view(actor: User, target: User) -> Decision:
    if actor.role is Role.SOCIAL_WORKER and target.id == actor.id:
        return _allow("your own caseload")
    return _deny("social workers only")


# --- rules about My Story ----------------------------------------------------------------


def _story_own(actor: User, child: Child) -> Decision:
    """A story is the child's own voice: only the child writes it or sees all of it."""
    if _is_the_child(actor, child):
        return _allow("your story")
    return _deny("only the child sees their whole story")


def _section_edit(actor: User, section: StorySection) -> Decision:
    return _story_own(actor, section.child)


def _section_share(actor: User, section: StorySection) -> Decision:
    if section.latest is None:
        return _deny("nothing saved to share yet")
    return _sharing_decide(actor, section.child)


def _section_read(actor: User, section: StorySection) -> Decision:
    if _is_the_child(actor, section.child):
        return _allow("your story")
    if section.latest is None:
        return _deny("nothing written yet")
    for consent in sharing.active_consents_for_section(section):
        if in_audience(actor, consent):
            return _allow("the child shared this with you")
    return _deny("private to the child")


def _story_prompt_manage(actor: User, prompt: StoryPrompt) -> Decision:
    if _manager_of(actor, prompt.authority_id):
        return _allow("manager of this authority")
    return _deny("not a manager here")


# --- rules about exports ------------------------------------------------------------------

PROFESSIONAL_EXPORTS = frozenset({ExportKind.PDF, ExportKind.JSON})


def _export_request_child(actor: User, child: Child) -> Decision:
    """The young person exports their own box; someone the child shares with exports what
    is shared with them (the contents are filtered item by item when the export is built)."""
    if _is_the_child(actor, child):
        return _allow("your own box")
    if _shared_view(actor, child):
        return _allow("what the child shares with you")
    return _deny("nothing to export")


def _export_request(actor: User, export: Export) -> Decision:
    child = export.child
    if export.requested_by_id is not None and export.requested_by_id != actor.id:
        return _deny("someone else's export")
    if _is_the_child(actor, child):
        return _allow("your own box")
    if export.kind not in PROFESSIONAL_EXPORTS:
        return _deny("only the young person takes their whole box")
    return _export_request_child(actor, child)


def _export_download(actor: User, export: Export) -> Decision:
    """The person who asked, while the export lasts and while they may still ask for it."""
    if export.requested_by_id != actor.id:
        return _deny("someone else's export")
    if export.expired:
        return _deny("this export has expired")
    return _export_request(actor, export)


# --- rules about later-life letters --------------------------------------------------------


def _letters_own(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("your letters")
    return _deny("the child only")


def _letters_write(actor: User, child: Child) -> Decision:
    """Any social worker allocated now writes, and carries on with what an earlier one
    began; the allocation ending ends it."""
    if _allocated(actor, child):
        return _allow("allocated social worker")
    return _deny("allocated social worker only")


def _letter_see(actor: User, letter: Letter) -> Decision:
    """Nothing hidden: once given, the child knows it exists and when it opens."""
    if _is_the_child(actor, letter.child) and letter.given:
        return _allow("a letter for you")
    return _deny("the child, once it is given")


def _letter_open(actor: User, letter: Letter) -> Decision:
    if not _letter_see(actor, letter):
        return _deny("the child only")
    if letters.is_open(letter):
        return _allow("it is open")
    return _deny("not open yet")


def _letter_ask(actor: User, letter: Letter) -> Decision:
    if not _letter_see(actor, letter):
        return _deny("the child only")
    if letter.rule is not ReleaseRule.ASKED or letter.asked_at is not None:
        return _deny("nothing to ask")
    return _allow("it opens when you ask")


def _letter_read(actor: User, letter: Letter) -> Decision:
    """The social workers allocated now: what was written and where it is (never the
    child's own note, nor their gentle choices, which no route shows them)."""
    return _letters_write(actor, letter.child)


def _letter_edit(actor: User, letter: Letter) -> Decision:
    if letters.is_open(letter):
        return _deny("an open letter stays as the child got it")
    return _letters_write(actor, letter.child)


def _letter_give(actor: User, letter: Letter) -> Decision:
    if letter.given or letter.latest is None:
        return _deny("nothing to give")
    return _letters_write(actor, letter.child)


def _letter_delete(actor: User, letter: Letter) -> Decision:
    if letter.given:
        return _deny("a letter the child was given stays theirs")
    return _letters_write(actor, letter.child)


def _attachment(actor: User, action: Action, item: MemoryItem) -> Decision:
    """A letter's photo or document follows its letter, whatever the item rule would say:
    the child sees nothing of it (not even that it exists) until the letter is open; the
    social workers allocated now see it as they read the letter; nobody else ever does. It
    is only looked at (no sharing, tags, comments, bin), and taken off only while the
    letter can still change."""
    letter = item.letter
    if letter is None or letter.child_id != item.child_id:
        return _deny("not in a letter")
    if action is Action.ITEM_VIEW:
        if _is_the_child(actor, item.child):
            if _letter_open(actor, letter):
                return _allow("in a letter that is open")
            return _deny("in a letter that is not open yet")
        if _letter_read(actor, letter):
            return _allow("in a letter you may read")
        return _deny("in a letter")
    if action is Action.ATTACHMENT_REMOVE:
        if _letter_edit(actor, letter):
            return _allow("the letter can still change")
        return _deny("an open letter stays as the child got it")
    if action is Action.ATTACHMENT_KEEP:
        if _is_the_child(actor, item.child) and _letter_open(actor, letter) and item.is_ready:
            return _allow("a copy for your box: the letter stays as it is")
        return _deny("the child, once the letter is open")
    return _deny("a letter's photos and documents are only looked at")


def _attachment_remove(actor: User, item: MemoryItem) -> Decision:
    return _deny("not in a letter")  # letters' attachments are answered by _attachment


def _letter_agree(actor: User, letter: Letter) -> Decision:
    if (
        not letter.given
        or letter.rule is not ReleaseRule.ASKED
        or letter.asked_at is None
        or letter.agreed_at is not None
    ):
        return _deny("nothing to agree to")
    return _letters_write(actor, letter.child)


# --- rules about moving a child to another authority -----------------------------------------


def _transfer_request(actor: User, child: Child) -> Decision:
    """Only the manager of the child's authority now; one request waits at a time."""
    if not _manager_of(actor, child.authority_id):
        return _deny("not a manager here")
    if _transfer_waiting(child.id):
        return _deny("a move is already waiting for an answer")
    return _allow("manager of the child's authority")


def _transfer_waiting(child_id: int) -> bool:
    query = select(
        exists().where(Transfer.child_id == child_id, Transfer.state == TransferState.WAITING)
    )
    return bool(db.session.scalar(query))


def _transfer_view(actor: User, transfer: Transfer) -> Decision:
    """Both sides' managers read the request and its trail (never the child's things)."""
    if _manager_of(actor, transfer.from_authority_id):
        return _allow("manager of the sending authority")
    if _manager_of(actor, transfer.to_authority_id):
        return _allow("manager of the receiving authority")
    return _deny("not a manager of either side")


def _transfer_answer(actor: User, transfer: Transfer) -> Decision:
    if not transfer.waiting:
        return _deny("already answered")
    if _manager_of(actor, transfer.to_authority_id):
        return _allow("manager of the receiving authority")
    return _deny("the receiving authority's managers only")


def _transfer_withdraw(actor: User, transfer: Transfer) -> Decision:
    if not transfer.waiting:
        return _deny("already answered")
    if _manager_of(actor, transfer.from_authority_id):
        return _allow("manager of the sending authority")
    return _deny("the sending authority's managers only")


# --- rules about leaving care and a young person's own account -----------------------------


def _own_account(actor: User, child: Child) -> Decision:
    """From 16 a young person runs their own account: their email, their password, and
    whether it is deleted. (Younger, their social worker helps: nothing is offered.)"""
    if not _is_the_child(actor, child):
        return _deny("the young person only")
    if not leaving.old_enough(child):
        return _deny("from 16")
    return _allow("your own account")


def _account_delete(actor: User, child: Child) -> Decision:
    if leaving.deletion_waiting(child) is not None:
        return _deny("already asked")
    return _own_account(actor, child)


def _account_delete_cancel(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child) and leaving.deletion_waiting(child) is not None:
        return _allow("you can change your mind")
    return _deny("nothing to cancel")


def _care_leave(actor: User, child: Child) -> Decision:
    if leaving.leaving_of(child) is not None or leaving.is_deleted(child):
        return _deny("already recorded")
    return _child_manage(actor, child)


def _named_person_add(actor: User, child: Child) -> Decision:
    if leaving.is_deleted(child):
        return _deny("this account was deleted")
    return _child_manage(actor, child)


# --- rules about contributors (family and past carers who send things) --------------------


def _contributor_home(actor: User, link: Contributor) -> Decision:
    if link.user_id == actor.id and actor.role is Role.CONTRIBUTOR and not link.ended:
        return _allow("your own page")
    return _deny("the contributor only")


def _contributor_send(actor: User, link: Contributor) -> Decision:
    """Only while the child has not said "no more", and someone is there to check it."""
    if not _contributor_home(actor, link):
        return _deny("the contributor only")
    if link.blocked:
        return _deny("the child said no more for now")
    if not relationships.social_workers_of(link.child_id):
        return _deny("nobody to check it")
    return _allow("you may send something")


def _contributors_manage(actor: User, child: Child) -> Decision:
    if _allocated(actor, child):
        return _allow("allocated social worker")
    return _deny("allocated social worker only")


def _contributor_end(actor: User, link: Contributor) -> Decision:
    if link.ended:
        return _deny("already ended")
    return _contributors_manage(actor, link.child)


def _senders_view(actor: User, child: Child) -> Decision:
    if _is_the_child(actor, child):
        return _allow("people who send you things")
    return _deny("the child only")


def _sender_stop(actor: User, link: Contributor) -> Decision:
    if link.user_id is None or link.blocked or link.ended:
        return _deny("nothing to stop")
    return _senders_view(actor, link.child)


def _sender_allow(actor: User, link: Contributor) -> Decision:
    if link.user_id is None or not link.blocked or link.ended:
        return _deny("nothing to undo")
    return _senders_view(actor, link.child)


RULES: dict[tuple[Action, type], Callable[[User, Any], Decision]] = {
    (Action.BOX_VIEW, Child): _box_view,
    (Action.ITEM_ADD, Child): _item_add,
    (Action.CHILD_SEE, Child): _child_see,
    (Action.ITEM_VIEW, MemoryItem): _item_view,
    (Action.ITEM_EDIT, MemoryItem): _owner_only(_editable),
    (Action.ITEM_TAG, MemoryItem): _owner_only(_editable),
    (Action.ITEM_DECIDE, MemoryItem): _item_decide,
    (Action.ITEM_DELETE, MemoryItem): _owner_only(_editable),
    (Action.ITEM_RESTORE, MemoryItem): _owner_only(_restorable),
    (Action.ITEM_PURGE, MemoryItem): _owner_only(_purgeable),
    (Action.AUTHORITY_MANAGE, Authority): _authority_manage,
    (Action.ACCOUNT_MANAGE, User): _account_manage,
    (Action.ACCOUNT_DISABLE, User): _account_disable,
    (Action.SECOND_FACTOR_RESET, User): _second_factor_reset,
    (Action.SECOND_FACTOR_USE, User): _second_factor_use,
    (Action.CHILD_MANAGE, Child): _child_manage,
    (Action.RELATIONSHIP_END, Placement): _relationship_end,
    (Action.RELATIONSHIP_END, Allocation): _relationship_end,
    (Action.INVITATION_REVOKE, Invitation): _invitation_revoke,
    (Action.CARER_HOME, User): _carer_home,
    (Action.CASELOAD_VIEW, User): _caseload_view,
    (Action.NOTIFICATIONS_VIEW, User): _notifications_view,
    (Action.NOTIFICATION_OPEN, Notification): _notification_open,
    (Action.HELP_VIEW, HelpRequest): _help_view,
    (Action.HELP_ACKNOWLEDGE, HelpRequest): _help_acknowledge,
    (Action.TALK_VIEW, TalkRequest): _talk_view,
    (Action.TALK_ACKNOWLEDGE, TalkRequest): _talk_acknowledge,
    (Action.CHILD_ATTENTION, Child): _child_attention,
    (Action.SHARING_VIEW, Child): _sharing_view,
    (Action.SHARING_DECIDE, Child): _sharing_decide,
    (Action.ITEM_SHARE, MemoryItem): _item_share,
    (Action.COLLECTION_MANAGE, Child): _collection_manage,
    (Action.COLLECTION_VIEW, Collection): _collection_view,
    (Action.COLLECTION_SHARE, Collection): _collection_share,
    (Action.CONSENT_REVOKE, Consent): _consent_revoke,
    (Action.SHARED_VIEW, Child): _shared_view,
    (Action.CAPACITY_RECORD, Child): _capacity_record,
    (Action.HELP_ASK, Child): _help_ask,
    (Action.ITEM_TALK, MemoryItem): _item_talk,
    (Action.ITEM_COMMENT, MemoryItem): _item_comment,
    (Action.ITEM_GENTLE, MemoryItem): _item_gentle,
    (Action.NOTE_READ, MemoryItem): _note_read,
    (Action.ITEM_REVIEW, MemoryItem): _item_review,
    (Action.REVIEW_QUEUE, User): _review_queue,
    (Action.UPLOAD_USE, UploadSession): _upload_use,
    (Action.STORY_VIEW_OWN, Child): _story_own,
    (Action.STORY_WRITE, Child): _story_own,
    (Action.SECTION_EDIT, StorySection): _section_edit,
    (Action.SECTION_SHARE, StorySection): _section_share,
    (Action.SECTION_READ, StorySection): _section_read,
    (Action.STORY_PROMPT_MANAGE, StoryPrompt): _story_prompt_manage,
    (Action.EXPORT_REQUEST, Child): _export_request_child,
    (Action.EXPORT_REQUEST, Export): _export_request,
    (Action.EXPORT_DOWNLOAD, Export): _export_download,
    (Action.LETTERS_OWN, Child): _letters_own,
    (Action.LETTERS_WRITE, Child): _letters_write,
    (Action.LETTER_SEE, Letter): _letter_see,
    (Action.LETTER_OPEN, Letter): _letter_open,
    (Action.LETTER_ASK, Letter): _letter_ask,
    (Action.LETTER_TALK, Letter): _letter_open,
    (Action.LETTER_READ, Letter): _letter_read,
    (Action.LETTER_EDIT, Letter): _letter_edit,
    (Action.LETTER_GIVE, Letter): _letter_give,
    (Action.LETTER_AGREE, Letter): _letter_agree,
    (Action.LETTER_DELETE, Letter): _letter_delete,
    (Action.LETTER_ATTACH, Letter): _letter_edit,
    (Action.ATTACHMENT_REMOVE, MemoryItem): _attachment_remove,
    (Action.ATTACHMENT_KEEP, MemoryItem): _attachment_remove,
    (Action.ALBUM_ITEM, MemoryItem): _item_view,  # (a letter's photo: see _attachment)
    (Action.ACCOUNT_EMAIL, Child): _own_account,
    (Action.ACCOUNT_DELETE, Child): _account_delete,
    (Action.ACCOUNT_DELETE_CANCEL, Child): _account_delete_cancel,
    (Action.CARE_LEAVE, Child): _care_leave,
    (Action.NAMED_PERSON_ADD, Child): _named_person_add,
    (Action.TRANSFER_REQUEST, Child): _transfer_request,
    (Action.TRANSFER_VIEW, Transfer): _transfer_view,
    (Action.TRANSFER_ACCEPT, Transfer): _transfer_answer,
    (Action.TRANSFER_DECLINE, Transfer): _transfer_answer,
    (Action.TRANSFER_WITHDRAW, Transfer): _transfer_withdraw,
    (Action.CONTRIBUTOR_HOME, Contributor): _contributor_home,
    (Action.CONTRIBUTOR_SEND, Contributor): _contributor_send,
    (Action.CONTRIBUTORS_MANAGE, Child): _contributors_manage,
    (Action.CONTRIBUTOR_END, Contributor): _contributor_end,
    (Action.SENDERS_VIEW, Child): _senders_view,
    (Action.SENDER_STOP, Contributor): _sender_stop,
    (Action.SENDER_ALLOW, Contributor): _sender_allow,
}


# --- the same rules as SQL, for lists -----------------------------------------------------
#
# A list of thousands cannot ask ``can`` row by row. These build the WHERE clause that picks
# exactly the rows ``can`` would allow (tests compare the two for every person and item of a
# world in every state), so a list reads one page of what someone may see from an index.


def _reaches(actor: User) -> list[ColumnElement[bool]]:
    """SQL twin of :func:`in_audience` for one person, one condition per audience that can
    hold them (kept apart, so each is read from an index rather than one OR over the table)."""
    day = clock.today()
    reach: list[ColumnElement[bool]] = [
        and_(Consent.person_id == actor.id, Consent.audience == Audience.PERSON)
    ]
    if actor.role is Role.CARER:
        placed = relationships.children_placed_ids(actor.id, day)
        if placed:
            reach.append(and_(Consent.child_id.in_(placed), Consent.audience == Audience.CARERS))
    if actor.role is Role.SOCIAL_WORKER:
        allocated = relationships.children_allocated_ids(actor.id, day)
        if allocated:
            reach.append(
                and_(Consent.child_id.in_(allocated), Consent.audience == Audience.SOCIAL_WORKER)
            )
    return reach


def _reaching(actor: User) -> ColumnElement[bool]:
    return or_(*_reaches(actor))


def _live_consent(day: Any) -> ColumnElement[bool]:
    return and_(Consent.revoked_at.is_(None), or_(Consent.ends_on.is_(None), Consent.ends_on > day))


def _shared_item_ids(actor: User, day: Any, child_id: int | None = None) -> Any:
    """Ids of the items a live consent reaching ``actor`` covers, directly or through an
    album (a subquery that does not depend on the outer row, so the database reads it once
    and matches it to every item, rather than looking for consents item by item). With
    ``child_id``, only that child's consents are read (a list of one child's things)."""
    covered = aliased(MemoryItem)
    one_child = [Consent.child_id == child_id] if child_id is not None else []
    branches = []
    for reach in _reaches(actor):
        branches.append(
            select(Consent.item_id)
            .join(
                covered, and_(covered.id == Consent.item_id, covered.child_id == Consent.child_id)
            )
            .where(reach, _live_consent(day), *one_child)
        )
        branches.append(
            select(CollectionItem.item_id)
            .join(Consent, Consent.collection_id == CollectionItem.collection_id)
            .join(
                covered,
                and_(covered.id == CollectionItem.item_id, covered.child_id == Consent.child_id),
            )
            .where(reach, _live_consent(day), *one_child)
        )
    return union(*branches)


def viewable_items(actor: Any, child_id: int | None = None) -> ColumnElement[bool]:
    """SQL twin of ``can(actor, ITEM_VIEW, item)`` over ``MemoryItem`` (but for a letter's
    photos and documents, which no list ever holds: only their letter's page shows them).
    ``child_id``: the caller lists only that child's items (it must also filter by it); the
    consents read are then only that child's, not those of every child the actor knows."""
    if actor is None or not isinstance(actor, User) or not actor.is_active:
        return false()
    own_children = select(Child.id).where(Child.user_id == actor.id)
    # A letter's photos and documents are never listed: the letter's page shows them.
    own = and_(
        MemoryItem.child_id.in_(own_children),
        MemoryItem.status.not_in([*HELD_BACK, ItemStatus.IN_LETTER]),
    )
    day = clock.today()
    allowed: list[ColumnElement[bool]] = []
    if actor.role is Role.CARER:
        placed = relationships.children_placed_ids(actor.id, day)
        allowed.append(
            and_(
                MemoryItem.added_by_id == actor.id,
                MemoryItem.child_id.in_(placed),
                MemoryItem.status != ItemStatus.IN_LETTER,
            )
        )
    kept: list[ColumnElement[bool]] = []
    if actor.role is Role.SOCIAL_WORKER:
        allocated = relationships.children_allocated_ids(actor.id, day)
        moderated = (
            select(Child.id)
            .join(Authority, Authority.id == Child.authority_id)
            .where(Child.id.in_(allocated), Authority.moderation_required.is_(True))
        )
        allowed.append(
            and_(
                MemoryItem.status == ItemStatus.AWAITING_APPROVAL,
                MemoryItem.child_id.in_(moderated),
            )
        )
        # What family and past carers send: always checked, whatever the setting.
        allowed.append(
            and_(
                MemoryItem.status == ItemStatus.AWAITING_APPROVAL,
                MemoryItem.child_id.in_(allocated),
                MemoryItem.added_by_id.in_(select(User.id).where(User.role == Role.CONTRIBUTOR)),
            )
        )
        no_login = select(Child.id).where(Child.id.in_(allocated), Child.user_id.is_(None))
        kept.append(MemoryItem.child_id.in_(no_login))
    kept.append(MemoryItem.id.in_(_shared_item_ids(actor, day, child_id)))
    allowed.append(and_(MemoryItem.status == ItemStatus.KEPT, or_(*kept)))
    others = and_(MemoryItem.deleted_at.is_(None), or_(*allowed))
    return or_(own, others)


def readable_sections(actor: Any) -> ColumnElement[bool]:
    """SQL twin of ``can(actor, SECTION_READ, section)`` over ``StorySection``: the child's
    own story; anyone else a section with saved words that a live consent reaching them
    covers."""
    if actor is None or not isinstance(actor, User) or not actor.is_active:
        return false()
    own = StorySection.child_id.in_(select(Child.id).where(Child.user_id == actor.id))
    day = clock.today()
    shared = union(
        *(
            select(Consent.story_section_id).where(
                reach, Consent.story_section_id.is_not(None), _live_consent(day)
            )
            for reach in _reaches(actor)
        )
    )
    saved = exists().where(SectionVersion.section_id == StorySection.id)
    return or_(own, and_(StorySection.id.in_(shared), saved))


def shared_since(viewer_ids: Iterable[int], child_ids: Iterable[int]) -> Select[Any]:
    """For each person and child: the items shared with that person by a live consent (kept
    and not in the bin), and since when (the earliest of the consents that reach them; an
    item added to a shared album later counts from when it was added). Columns: viewer_id,
    child_id, item_id, since. The SQL twin of asking ``can`` of every item with consents in
    hand, for many people at once (a manager's counts per social worker)."""
    day = clock.today()
    viewer_list, child_list = list(viewer_ids), list(child_ids)
    viewers = aliased(User)
    # Who a consent reaches, one way per audience: (the viewer's id column, extra joins).
    placement = aliased(Placement)
    allocation = aliased(Allocation)
    audiences: list[tuple[Any, Any, Any]] = [
        (Consent.person_id, None, Consent.audience == Audience.PERSON),
        (
            placement.carer_id,
            (
                placement,
                and_(
                    placement.child_id == Consent.child_id,
                    relationships.active_on(placement, day),
                ),
            ),
            and_(Consent.audience == Audience.CARERS, viewers.role == Role.CARER),
        ),
        (
            allocation.social_worker_id,
            (
                allocation,
                and_(
                    allocation.child_id == Consent.child_id,
                    relationships.active_on(allocation, day),
                ),
            ),
            and_(Consent.audience == Audience.SOCIAL_WORKER, viewers.role == Role.SOCIAL_WORKER),
        ),
    ]
    later = case(
        (CollectionItem.added_at > Consent.created_at, CollectionItem.added_at),
        else_=Consent.created_at,
    )
    branches = []
    for viewer_column, join, audience in audiences:
        for through_album in (False, True):
            since = later if through_album else Consent.created_at
            query = select(
                viewer_column.label("viewer_id"),
                Consent.child_id.label("child_id"),
                MemoryItem.id.label("item_id"),
                since.label("since"),
            ).select_from(Consent)
            if through_album:
                query = query.join(
                    CollectionItem, CollectionItem.collection_id == Consent.collection_id
                ).join(MemoryItem, MemoryItem.id == CollectionItem.item_id)
            else:
                query = query.join(MemoryItem, MemoryItem.id == Consent.item_id)
            if join is not None:
                query = query.join(*join)
            query = query.join(viewers, viewers.id == viewer_column).where(
                viewer_column.in_(viewer_list),
                viewers.disabled_at.is_(None),
                Consent.child_id.in_(child_list),
                audience,
                _live_consent(day),
                MemoryItem.child_id == Consent.child_id,
                MemoryItem.status == ItemStatus.KEPT,
                MemoryItem.deleted_at.is_(None),
            )
            branches.append(query)
    shares = union_all(*branches).subquery()
    return select(
        shares.c.viewer_id,
        shares.c.child_id,
        shares.c.item_id,
        func.min(shares.c.since).label("since"),
    ).group_by(shares.c.viewer_id, shares.c.child_id, shares.c.item_id)


def viewable(actor: Any, items: Iterable[MemoryItem]) -> list[MemoryItem]:
    """The items ``actor`` may open, asked one by one of :func:`can`, after reading the facts
    for all of them at once (which albums each is in; relationships and a child's live
    consents are read once per request anyway)."""
    wanted = list(items)
    sharing.prime_item_consents(item.id for item in wanted)
    return [item for item in wanted if can(actor, Action.ITEM_VIEW, item)]


def can(actor: Any, action: Action | str, target: Any) -> Decision:
    """May ``actor`` do ``action`` to ``target``? Anything without a rule is denied."""
    if actor is None or not isinstance(actor, User) or not actor.is_active:
        return _deny("not signed in")
    if target is None:
        return DENY
    try:
        action = Action(action)
    except ValueError:
        return _deny("unknown action")
    rule = RULES.get((action, type(target)))
    if rule is None:
        return _deny("no rule for this")
    if isinstance(target, MemoryItem) and target.status is ItemStatus.IN_LETTER:
        return _attachment(actor, action, target)
    return rule(actor, target)
