"""The access matrix: every route, every method, every kind of person, every kind of target.

``MATRIX`` is the specification, written as data. For each endpoint it names the kind of
object in the URL (``target``, whose names are in ``TARGETS``) and, for each HTTP method,
what each actor state may do:

* an actor state that is not listed is denied: 404 when signed in, a redirect to the
  sign-in page when anonymous, and "refused" for a switched-off account;
* a set of target names: allowed on exactly those targets, denied on the others;
* ``ALLOW`` / ``DENY`` / ``LOGIN`` / ``REFUSED``: that outcome on every target.

Outcomes:

* ``ALLOW``: a 2xx, or a 3xx that does not send the person to /login;
* ``DENY``: exactly 404 for a signed-in person, with the same body as a missing id on the
  same route (so "not yours" and "not there" look alike), and nothing stored changes;
* ``LOGIN``: a 302 to /login (anonymous visitors of signed-in pages, and signing out);
* ``REFUSED``: what a switched-off account's old session gets: a 302 to /login or a 404
  (or the sign-in form's 401 when it tries to sign in again), never a 2xx, and nothing
  stored changes.

Actor states are the people of ``tests.factories.World``, plus ``disabled``: the young
person's own account, signed in and then switched off by a manager (its session was made
before the switch-off, so it carries the old session version).

Consent state is a dimension of the item targets. Each name in ``SHARED_TARGETS`` is a kept
item of world.child shared ``via`` the item itself or an album it is in, with one audience
(``SHARE_AUDIENCES``: carers, the social worker, or one named person, who may be from the
child's past or have no relationship at all) in one consent state: granted, expired (its
end date has come) or revoked; plus the same with no consent at all, and a shared item the
child has put in the bin. Every route in ``FETCH_ENDPOINTS`` (whatever fetches an item: its
page, its state, its original, web copy, thumbnail, poster, preview and player) is tried on
all of them, with items made of the kind of file it serves (a photo, a video, a PDF); every
other item route on those granted through the item (a consent lets someone look, never
change, decide, comment or share).

The same goes for My Story: every section route is tried on a section of world.child's
(with saved words) shared with each of those audiences in each consent state, or not at all,
beside one with nothing saved yet and sections of other children. A consent lets someone
read a section ("Before you ask me again"), never write in it, see its versions or share it.
Restoring is tried with a version of the section in the URL and with versions of other
sections (another child's, another of the child's own, none at all): only the first works.

A case is (endpoint, method, actor state, target). ``test_access`` runs one group per test,
on a fresh app and world, and tries every target with a fresh client:

* a GET (or HEAD) group has every actor state (reading changes nothing that decides access;
  the switched-off account goes last, as switching it off changes the world);
* a POST (PATCH, DELETE) group has one actor state that is allowed somewhere (what its
  allowed requests change could change the answer for another actor), or all the actor
  states that are refused on every target together (a refused request changes nothing, and
  that is checked).

Targets are distinct objects, so a POST that succeeds on one target cannot change the answer
for another (a fresh world per case would cost many minutes on SQLite). Failures list every
wrong case in the group, not just the first.

``test_matrix_covers_every_route`` keeps the matrix and ``app.url_map`` in step: a new
route, a new method (HEAD, PATCH and DELETE included) or a removed route fails it, and so
does a GET route on an item that is not in ``FETCH_ENDPOINTS`` (so a new media route cannot
skip the consent cases). The tests after it post fields a form does not offer (a role, an
owner, a child, a consent, an upload or a person from elsewhere) and check what was stored.

Run with ``-s`` to see how many cases were checked.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select, text

from memorybox import clock
from memorybox.accounts import services as accounts
from memorybox.accounts.models import Authority, Invitation, Role, User
from memorybox.children.models import Allocation, Child, Placement
from memorybox.contributors.models import Contributor
from memorybox.db import Base, db
from memorybox.letters.models import Letter, LetterVersion, ReleaseRule
from memorybox.memories import processing, uploads
from memorybox.memories import services as memories
from memorybox.memories.models import (
    Comment,
    ItemStatus,
    MemoryItem,
    Processing,
    Rendition,
    UploadSession,
)
from memorybox.notifications import service as notifications
from memorybox.notifications.models import HelpRequest, TalkRequest
from memorybox.notifications.service import Target
from memorybox.sharing.models import Audience, Basis, Collection, CollectionItem, Consent
from memorybox.storage import new_key
from memorybox.story import services as story
from memorybox.story import transcribe
from memorybox.story.models import SectionVersion, StorySection, Transcript, TranscriptState
from memorybox.transfers import services as transfers
from memorybox.transfers.models import Transfer
from memorybox.web import second_factor as step
from tests import factories
from tests.factories import World

# Password hashing is not what this file tests: keep it cheap, as many worlds are built.
pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

# --- outcomes and actor states ----------------------------------------------------------

ALLOW = "allow"
DENY = "deny"
LOGIN = "login"
REFUSED = "refused"
OUTCOMES = {ALLOW, DENY, LOGIN, REFUSED}

ANON = "anonymous"
DISABLED = "disabled"

#: actor state -> the World attribute that signs in (None: nobody signed in)
ACTORS: dict[str, str | None] = {
    ANON: None,
    "young_person": "young_person",  # owns world.child
    "other_young_person": "other_young_person",  # owns world.other_child, same authority
    "carer_active": "carer",  # active placement with child and young_child
    "carer_ended": "ended_carer",  # placement with child ended yesterday
    "carer_none": "unplaced_carer",
    "sw_allocated": "social_worker",  # allocated to child and young_child
    "sw_ended": "ended_social_worker",
    "sw_unallocated": "unallocated_social_worker",
    "manager_same": "manager",  # manager of world.authority
    "manager_other": "other_manager",  # manager of world.other_authority
    # Family and past carers who send things to world.child (see _contributor): one who
    # may send, one the child said "no more" to, one whose access a social worker ended
    # (their account is switched off, so they are refused like DISABLED).
    "contributor_active": "contributor:active",
    "contributor_blocked": "contributor:blocked",
    "contributor_ended": "contributor:ended",
    # The young person's account, signed in, then switched off by a manager. Keep it last:
    # switching it off changes the world for every case after it in a group.
    DISABLED: "young_person",
}
CONTRIBUTOR_ENDED = "contributor_ended"
SIGNED_IN = [name for name in ACTORS if name not in (ANON, DISABLED, CONTRIBUTOR_ENDED)]
EVERYONE = dict.fromkeys(ACTORS, ALLOW)
EVERYONE_SIGNED_IN = dict.fromkeys(SIGNED_IN, ALLOW)

# --- targets: the object named in the URL ----------------------------------------------

MISSING = "missing"
MISSING_ID = 999_999
NO_TARGET = "-"

#: items of world.child (and two of world.young_child, who has no login)
ITEM_TARGETS = (
    "kept",  # the child added it themselves
    "suggested",  # the active carer sent it, waiting for the child to decide
    "ended_carer",  # the ended carer sent it during their old placement; the child kept it
    "bin",  # the child's own item, now in the child's bin
    "carer_bin",  # the active carer sent it, the child moved it to the bin
    "awaiting",  # the active carer sent it; it waits for the social worker's approval
    "not_approved",  # the social worker did not pass it on: it never reaches the child
    "young_child_kept",  # in young_child's box: the active carer added it
    "young_child_suggested",  # the active carer sent it to young_child, waiting
    # sent by contributor_active (world.child's birth mum), in each state
    "contribution_waiting",  # waits for the allocated social worker's check
    "contribution_passed",  # passed on: a suggestion for the child
    "contribution_not_passed",  # the social worker did not pass it on
    "contribution_kept",  # passed on, and the child kept it
    # a photo in a later-life letter to world.child (by world.social_worker): an attachment
    "attachment_draft",  # of a draft letter
    "attachment_waiting",  # of a letter given, opening on a day still to come
    "attachment_open",  # of a letter that is open (its day is today)
    MISSING,
)

#: consent audience -> the actor state in that audience (the "person" audiences name them)
SHARE_AUDIENCES: dict[str, str] = {
    "carers": "carer_active",  # whoever has an active placement now
    "social_worker": "sw_allocated",  # whoever holds the allocation now
    "person_ended_carer": "carer_ended",  # a named person from the child's past
    "person_unallocated_sw": "sw_unallocated",  # a named person with no relationship at all
}
SHARE_VIAS = ("item", "album")  # a consent on the item itself, or on an album it is in
#: granted: live (through an album, ending tomorrow); expired: its end date was yesterday
#: (through an album: is today, the first day it stops); revoked: stopped by the child
CONSENT_STATES = ("granted", "expired", "revoked")
NOT_SHARED = ("item-none", "album-none")  # kept (and in an album): no consent at all
SHARED_BIN = "bin-granted"  # shared with every audience, then put in the bin by the child

#: a kept item of world.child in every consent state: "<via>-<audience>-<state>"
SHARED_TARGETS: tuple[str, ...] = (
    *NOT_SHARED,
    *(
        f"{via}-{audience}-{state}"
        for via in SHARE_VIAS
        for audience in SHARE_AUDIENCES
        for state in CONSENT_STATES
    ),
    SHARED_BIN,
)
#: the granted ones, through the item itself (the album path is the same rule), and in the bin
GRANTED_TARGETS: tuple[str, ...] = (
    *(f"item-{audience}-granted" for audience in SHARE_AUDIENCES),
    SHARED_BIN,
)


def granted_to(actor: str) -> set[str]:
    """The shared targets (of fetch routes) whose live consent has ``actor`` in its audience."""
    return {
        f"{via}-{audience}-granted"
        for via in SHARE_VIAS
        for audience, member in SHARE_AUDIENCES.items()
        if member == actor
    }


#: what an item's file is: an upload's name and its bytes
PHOTO = ("photo.jpg", factories.jpeg_bytes)
VIDEO = ("clip.mp4", factories.mp4_bytes)
DOCUMENT = ("report.pdf", factories.pdf_bytes)

#: Whatever fetches an item: its page, its state and every byte served from it (original,
#: web copy, thumbnail, poster, preview, player), each tried on every consent state, with
#: every item of its scene made from the kind of file that route serves. A new route that
#: serves an item's bytes goes here (test_matrix_covers_every_route insists).
FETCH_ENDPOINTS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "items.show": PHOTO,
    "items.status": PHOTO,
    "items.file": PHOTO,
    "items.thumbnail": PHOTO,
    "items.download": PHOTO,
    "items.poster": VIDEO,
    "items.play": VIDEO,
    "items.preview": DOCUMENT,
}
#: GET routes on an item that show no part of it beyond its title (kept out of the above)
ITEM_FORMS = {"items.edit", "sharing.share_item", "items.talk"}

CHILD_TARGETS = (
    "child",
    "other_child",
    "young_child",
    "other_authority_child",
    # moved from world.authority to world.other_authority (see _moved_child): its old carer,
    # social worker and manager (carer_active, sw_allocated, manager_same) keep nothing
    "moved_child",
    MISSING,
)
OWN_AUTHORITY_CHILDREN = {"child", "other_child", "young_child"}

USER_TARGETS = (
    "user_same",  # world.carer: an account in world.authority
    "user_self",  # world.manager: manager_same's own account
    "user_other",  # world.other_authority_young_person
    MISSING,
)
PLACEMENT_TARGETS = ("active_same", "ended_same", "active_other", MISSING)
ALLOCATION_TARGETS = ("active_same", "ended_same", "active_other", MISSING)
INVITATION_TARGETS = ("waiting_same", "revoked_same", "waiting_other", MISSING)

#: albums; each holds one kept item of its child
COLLECTION_TARGETS = (
    "album_private",  # world.child's, not shared
    "album_carers",  # world.child's, shared with the carers (granted)
    "album_social_worker",  # shared with the social worker (granted)
    "album_person",  # shared with the unallocated social worker by name (granted)
    "album_expired",  # shared with the carers; the end date was yesterday
    "album_revoked",  # shared with the social worker; stopped
    "young_child_album",  # world.young_child's (no login: the social worker keeps it)
    "other_child_album",  # world.other_child's
    MISSING,
)
CHILDS_ALBUMS = {t for t in COLLECTION_TARGETS if t.startswith("album_")}

#: resumable uploads (tus): started, not finished, unless said
UPLOAD_TARGETS = (
    "own_upload",  # the young person's, for world.child
    "carer_upload",  # the active carer's, for world.child
    "young_child_upload",  # the active carer's, for world.young_child
    "ended_carer_upload",  # the ended carer's, for world.child, started before the end
    "used_upload",  # the young person's, finished and made into an item already
    "other_child_upload",  # world.other_child's own
    MISSING,
)
UPLOAD_BYTES = factories.jpeg_bytes()  # what every upload target is (to be) made of

#: consents
CONSENT_TARGETS = (
    "consent_carers",  # world.child's item, shared with the carers
    "consent_person",  # world.child's item, shared with the ended carer by name
    "consent_expired",  # world.child's item, shared with the social worker, ending today
    "consent_revoked",  # world.child's item, stopped already
    "consent_album",  # world.child's album, shared with the social worker
    "young_child_consent",  # world.young_child's item, shared by the social worker for them
    "other_child_consent",  # world.other_child's item, shared by them
    "consent_section",  # world.child's story section, shared with the social worker
    MISSING,
)

#: world.child's story sections, each with saved words, shared with every audience in every
#: consent state, or not at all: "section-<audience>-<state>" and "section-none". Shared with
#: the social worker, the end dates sit on the boundary: granted ends tomorrow, expired today
#: (with the others: none, and yesterday).
SECTION_SHARES: tuple[str, ...] = (
    "section-none",
    *(f"section-{audience}-{state}" for audience in SHARE_AUDIENCES for state in CONSENT_STATES),
)
SECTION_TARGETS = (
    *SECTION_SHARES,
    "section_empty",  # world.child's, nothing saved yet (nothing to share or read)
    "other_child_section",  # world.other_child's (Blake, who decides for himself), saved words
    "young_child_section",  # world.young_child's (no login), saved words (made directly)
    MISSING,
)
#: restoring: a section in the URL and a version id beside it (each its own section)
VERSION_TARGETS = (
    "own_version",  # an earlier version of world.child's section, on that section
    "other_child_version",  # world.other_child's section and its own version
    "version_of_other_child",  # world.child's section, a version of world.other_child's
    "version_of_other_section",  # world.child's section, a version of another of theirs
    "version_missing",  # world.child's section, a version id that is not there
    MISSING,  # a section that is not there
)
#: a voice note in a section (turning it into words): the section in the URL, an item beside it
VOICE_TARGETS = (
    "own_voice_note",  # world.child's section and the voice note attached to it
    "voice_note_of_other_section",  # world.child's section, a voice note of another of theirs
    "voice_note_photo",  # world.child's section and a photo attached to it (not a voice note)
    "other_child_voice_note",  # world.other_child's section and their voice note
    "voice_note_missing",  # world.child's section, an item id that is not there
    MISSING,  # a section that is not there
)
#: words heard in a voice note, waiting for the child to check them
TRANSCRIPT_TARGETS = (
    "own_transcript",  # world.child's, ready to check
    "own_transcript_used",  # world.child's, already saved into a version
    "transcript_of_other_section",  # world.child's section, another section's transcript
    "other_child_transcript",  # world.other_child's, ready to check
    "transcript_missing",  # world.child's section, a transcript id that is not there
    MISSING,
)
#: story prompts: each authority's own (seeded defaults)
PROMPT_TARGETS = ("prompt_same", "prompt_hidden_same", "prompt_other", MISSING)

#: exports: finished ones of each requester's, by who asked and for whom
EXPORT_TARGETS = (
    "own_export",  # the young person's own JSON export of their box
    "sw_export",  # the allocated social worker's JSON export of what Alex shares
    "other_child_export",  # world.other_child's own
    MISSING,
)

#: children whose capacity to decide about sharing may be recorded, or not
CAPACITY_TARGETS = (
    "child",  # world.child: 13, over the authority's sharing age (12): decides already
    "younger",  # a young person of 10 with a login, allocated to world.social_worker
    "young_child",  # world.young_child: no login, so nothing to decide for themselves
    "other_child",  # world.other_child: no social worker
    MISSING,
)
#: "I need help" requests
HELP_TARGETS = (
    "help_open",  # world.child's, nobody has said they have seen it yet
    "help_seen",  # world.child's, the social worker has seen it
    "help_escalated",  # world.child's, not seen in time: sent on to the managers
    "other_child_help",  # world.other_child's (no social worker: the duty team's at once)
    "other_authority_help",  # world.other_authority_child's
    MISSING,
)
#: "I'd like to talk about this" requests
TALK_TARGETS = (
    "talk_open",  # world.child's, about a kept item, not seen yet
    "talk_seen",  # world.child's, the social worker has seen it
    "talk_item_gone",  # world.child's, the item was deleted for ever since
    "talk_letter",  # world.child's, about a letter that is open
    "other_child_talk",  # world.other_child's
    MISSING,
)
#: later-life letters (all written by world.social_worker)
LETTER_TARGETS = (
    "letter_draft",  # world.child's, not given yet
    "letter_waiting",  # world.child's, given, opens on a day still to come
    "letter_to_ask",  # world.child's, given, opens when the child asks (not asked yet)
    "letter_asked",  # world.child's, given, the child asked, nobody agreed yet
    "letter_open",  # world.child's, given, its day is today (with a content note)
    "young_child_letter",  # world.young_child's (no login), given, waiting
    "other_child_letter",  # world.other_child's (no social worker now), given and open
    MISSING,
)
#: requests to move a child to another authority
TRANSFER_TARGETS = (
    "waiting_out",  # world.other_child, world.authority -> world.other_authority, waiting
    "waiting_in",  # world.other_authority_child, coming to world.authority, waiting
    "declined_out",  # world.young_child, world.authority -> world.other_authority, declined
    "accepted_out",  # the moved child's (see _moved_child): accepted, the child moved
    MISSING,
)
#: family and past carers invited to send things (see _contributor)
CONTRIBUTOR_TARGETS = (
    "contributor_active",  # world.child's, may send
    "contributor_blocked",  # world.child's, the child said "no more"
    "contributor_ended",  # world.child's, a social worker ended their access
    "contributor_invited",  # world.child's, invited, not joined yet
    "other_child_contributor",  # world.other_child's (no social worker now), joined
    MISSING,
)
#: a notification in each signed-in actor's own Messages, about world.child's kept item
NOTE_TARGETS = (*(f"note_of_{state}" for state in SIGNED_IN), MISSING)

#: kind of target -> the targets every case of that kind is tried on
#: a young person's own account (their email, deleting it): world.child is 17 and has left
#: care; world.other_child is 15 (under 16: nothing is offered)
LEAVER_TARGETS = ("left_care", "under_16", "young_child", "other_authority_child", MISSING)
#: the same young people, each having asked to delete their account: world.child after care,
#: world.other_child at 16, still in care
LEAVER_WAITING_TARGETS = ("left_care_waiting", "in_care_16_waiting", "young_child", MISSING)

TARGETS: dict[str, tuple[str, ...]] = {
    "none": (NO_TARGET,),
    "item": (*ITEM_TARGETS, *GRANTED_TARGETS),
    "fetch": (*ITEM_TARGETS, *SHARED_TARGETS),
    "child": CHILD_TARGETS,
    "user": USER_TARGETS,
    "placement": PLACEMENT_TARGETS,
    "allocation": ALLOCATION_TARGETS,
    "invitation": INVITATION_TARGETS,
    "collection": COLLECTION_TARGETS,
    "consent": CONSENT_TARGETS,
    "upload": UPLOAD_TARGETS,
    "section": SECTION_TARGETS,
    "version": VERSION_TARGETS,
    "voice": VOICE_TARGETS,
    "transcript": TRANSCRIPT_TARGETS,
    "prompt": PROMPT_TARGETS,
    "export": EXPORT_TARGETS,
    "capacity": CAPACITY_TARGETS,
    "help": HELP_TARGETS,
    "talk": TALK_TARGETS,
    "note": NOTE_TARGETS,
    "letter": LETTER_TARGETS,
    "leaver": LEAVER_TARGETS,
    "leaver_waiting": LEAVER_WAITING_TARGETS,
    "transfer": TRANSFER_TARGETS,
    "contributor": CONTRIBUTOR_TARGETS,
}

#: URL argument for each kind of target
TARGET_ARG = {
    "item": "item_id",
    "fetch": "item_id",
    "child": "child_id",
    "user": "user_id",
    "placement": "placement_id",
    "allocation": "allocation_id",
    "invitation": "invitation_id",
    "collection": "collection_id",
    "consent": "consent_id",
    "upload": "upload_id",
    "section": "section_id",
    "version": "section_id",  # and version_id, from Scene.extra["<target>:version"]
    "voice": "section_id",  # and item_id, from Scene.extra["<target>:item"]
    "transcript": "section_id",  # and transcript_id, from Scene.extra["<target>:transcript"]
    "prompt": "prompt_id",
    "export": "export_id",
    "capacity": "child_id",
    "help": "request_id",
    "talk": "request_id",
    "note": "note_id",
    "letter": "letter_id",
    "leaver": "child_id",
    "leaver_waiting": "child_id",
    "transfer": "transfer_id",
    "contributor": "contributor_id",
}
#: the id of a missing target, where MISSING_ID is not the right shape
MISSING_IDS: dict[str, str] = {"upload": "0" * 32}

# --- the matrix -------------------------------------------------------------------------

#: world.child's items that are in the box (kept), on item routes and on fetch routes
CHILD_KEPT = {"kept", "ended_carer", "contribution_kept"} | (set(GRANTED_TARGETS) - {SHARED_BIN})
CHILD_KEPT_FETCH = CHILD_KEPT | (set(SHARED_TARGETS) - {SHARED_BIN})
#: what the child sees of their own: the box, the suggestions and the bin. Never what waits
#: for the social worker's approval or was not approved: moderation keeps those from them.
IN_BOX = CHILD_KEPT | {"suggested", "contribution_passed"}
IN_BIN = {"bin", "carer_bin", SHARED_BIN}
#: what the active carer added for world.child and world.young_child, not in a bin
CARER_ADDED = {"suggested", "awaiting", "not_approved", "young_child_kept", "young_child_suggested"}

#: a letter's photos (see ITEM_TARGETS), and those taken off while the letter can change
ATTACHMENTS = {"attachment_draft", "attachment_waiting", "attachment_open"}
REMOVABLE_ATTACHMENTS = ATTACHMENTS - {"attachment_open"}

FETCH_VIEWERS = {
    # (an attachment: only once its letter is open)
    "young_person": CHILD_KEPT_FETCH | IN_BOX | IN_BIN | {"attachment_open"},
    # what they added, placement active, not in the bin; and what is shared with them
    "carer_active": CARER_ADDED | granted_to("carer_active"),
    "carer_ended": granted_to("carer_ended"),
    # approval of what waits; young_child's box (no login); what is shared with them
    "sw_allocated": {"awaiting", "contribution_waiting", "young_child_kept"}
    | granted_to("sw_allocated")
    | ATTACHMENTS,  # as they read the letter it is in
    "sw_unallocated": granted_to("sw_unallocated"),
}
BOX_OWNERS = {"young_person": {"child"}, "other_young_person": {"other_child"}}
#: who sees and runs sharing (and albums) for a child: the child, who decides for themselves
#: (world.child is 13 and world.other_child 14, over the sharing age of 12); the allocated
#: social worker for a child without a login
SHARING_DECIDERS = {**BOX_OWNERS, "sw_allocated": {"young_child"}}
MANAGERS = {"manager_same": ALLOW, "manager_other": ALLOW}
#: My Story: the child writes (and sees versions of) every section of their own story
CHILDS_SECTIONS = {*SECTION_SHARES, "section_empty"}
SECTION_WRITERS = {"young_person": CHILDS_SECTIONS, "other_young_person": {"other_child_section"}}
#: sharing a section: who decides for the child, once something is saved in it
SECTION_SHARERS = {
    "young_person": set(SECTION_SHARES),
    "other_young_person": {"other_child_section"},
    "sw_allocated": {"young_child_section"},  # on behalf of a child with no login
}


def section_granted_to(actor: str) -> set[str]:
    """The sections whose live consent has ``actor`` in its audience."""
    return {
        f"section-{audience}-granted"
        for audience, member in SHARE_AUDIENCES.items()
        if member == actor
    }


#: reading a section: the child (sent on to write in it); anyone in a live consent's audience
SECTION_READERS = {
    **SECTION_WRITERS,
    **{actor: section_granted_to(actor) for actor in SHARE_AUDIENCES.values()},
}
PROMPT_MANAGERS = {
    "manager_same": {"prompt_same", "prompt_hidden_same"},
    "manager_other": {"prompt_other"},
}
SOCIAL_WORKERS = {"sw_allocated": ALLOW, "sw_ended": ALLOW, "sw_unallocated": ALLOW}
STAFF = {**SOCIAL_WORKERS, **MANAGERS}
CHILD_MANAGERS = {
    "manager_same": OWN_AUTHORITY_CHILDREN,
    "manager_other": {"other_authority_child", "moved_child"},
}
#: who carries on with an upload: who started it, while they may still add to that box
UPLOADERS = {
    "young_person": {"own_upload"},
    "other_young_person": {"other_child_upload"},
    "carer_active": {"carer_upload", "young_child_upload"},
}
ADDERS = {**BOX_OWNERS, "carer_active": {"child", "young_child"}}
EXPORTERS = {
    **BOX_OWNERS,
    "carer_active": {"child", "young_child"},
    "carer_ended": {"child"},
    "sw_allocated": {"child", "young_child"},
}
EXPORT_OWNERS = {
    "young_person": {"own_export"},
    "other_young_person": {"other_child_export"},
    "sw_allocated": {"sw_export"},
}
ALBUM_MANAGERS = {
    "young_person": CHILDS_ALBUMS,
    "other_young_person": {"other_child_album"},
    "sw_allocated": {"young_child_album"},
}

MATRIX: dict[str, dict[str, Any]] = {
    # Signing in and out: open to everyone. A switched-off account cannot sign in again.
    "auth.login": {
        "target": "none",
        "GET": EVERYONE,
        "POST": {**EVERYONE, DISABLED: REFUSED, CONTRIBUTOR_ENDED: REFUSED},
    },
    "auth.logout": {"target": "none", "POST": dict.fromkeys(ACTORS, LOGIN)},
    "auth.accept_invitation": {"target": "none", "GET": EVERYONE, "POST": EVERYONE},
    "auth.change_password": {
        "target": "none",
        "GET": EVERYONE_SIGNED_IN,
        "POST": EVERYONE_SIGNED_IN,
    },
    "home.index": {"target": "none", "GET": EVERYONE_SIGNED_IN},
    # The second step of signing in: only those asked for one (social workers, managers;
    # carers when their authority turns it on). Past it already, it sends them home.
    "second_factor.verify": {"target": "none", "GET": STAFF, "POST": STAFF},
    "second_factor.setup": {"target": "none", "GET": STAFF, "POST": STAFF},
    "home.healthz": {"target": "none", "GET": EVERYONE},
    # Own pages.
    "carer.home": {
        "target": "none",
        "GET": {"carer_active": ALLOW, "carer_ended": ALLOW, "carer_none": ALLOW},
    },
    "caseload.home": {"target": "none", "GET": SOCIAL_WORKERS},
    "caseload.reviews": {"target": "none", "GET": SOCIAL_WORKERS},
    "notifications.index": {"target": "none", "GET": EVERYONE_SIGNED_IN},
    "notifications.read": {"target": "none", "POST": EVERYONE_SIGNED_IN},
    "notifications.settings": {
        "target": "none",
        "GET": EVERYONE_SIGNED_IN,
        "POST": EVERYONE_SIGNED_IN,
    },
    # Opening a message: your own only (where it leads is asked of policy again there).
    "notifications.open": {
        "target": "note",
        "GET": {state: {f"note_of_{state}"} for state in SIGNED_IN},
    },
    # "I need help": the child who asked, the social worker allocated now and the managers of
    # the child's authority (who make sure someone answers) see it; they, not the child, say
    # they have seen it, once.
    "help.help_request": {
        "target": "help",
        "GET": {
            "young_person": {"help_open", "help_seen", "help_escalated"},
            "other_young_person": {"other_child_help"},
            "sw_allocated": {"help_open", "help_seen", "help_escalated"},
            "manager_same": {"help_open", "help_seen", "help_escalated", "other_child_help"},
            "manager_other": {"other_authority_help"},
        },
    },
    "help.acknowledge_help": {
        "target": "help",
        "POST": {
            "sw_allocated": {"help_open", "help_escalated"},
            "manager_same": {"help_open", "help_escalated", "other_child_help"},
            "manager_other": {"other_authority_help"},
        },
    },
    # "I'd like to talk about this": the child who asked and the allocated social worker.
    "help.talk_request": {
        "target": "talk",
        "GET": {
            "young_person": {"talk_open", "talk_seen", "talk_item_gone", "talk_letter"},
            "other_young_person": {"other_child_talk"},
            "sw_allocated": {"talk_open", "talk_seen", "talk_item_gone", "talk_letter"},
        },
    },
    "help.acknowledge_talk": {
        "target": "talk",
        "POST": {"sw_allocated": {"talk_open", "talk_item_gone", "talk_letter"}},
    },
    # A child's box: only the child; a carer with an active placement may add.
    "box.gallery": {"target": "child", "GET": BOX_OWNERS},
    "box.timeline": {"target": "child", "GET": BOX_OWNERS},
    "box.suggested": {"target": "child", "GET": BOX_OWNERS},
    "box.bin": {"target": "child", "GET": BOX_OWNERS},
    "box.add": {"target": "child", "GET": ADDERS, "POST": ADDERS},
    # Resumable uploads: start one where you may add; carry on with, look at or cancel only
    # your own, unused, while you still may add to that box.
    "uploads.create": {"target": "child", "POST": ADDERS},
    "uploads.resume": {"target": "upload", "HEAD": UPLOADERS},
    "uploads.append": {"target": "upload", "PATCH": UPLOADERS},
    "uploads.cancel": {"target": "upload", "DELETE": UPLOADERS},
    # One item: see FETCH_ENDPOINTS below for the page and its bytes. Only the child
    # changes anything (the social worker decides suggestions for a child with no login).
    "items.edit": {
        "target": "item",
        "GET": {"young_person": IN_BOX},
        "POST": {"young_person": IN_BOX},
    },
    "items.keep": {
        "target": "item",
        "POST": {
            "young_person": {"suggested", "contribution_passed"},
            "sw_allocated": {"young_child_suggested"},
        },
    },
    "items.decline": {
        "target": "item",
        "POST": {
            "young_person": {"suggested", "contribution_passed"},
            "sw_allocated": {"young_child_suggested"},
        },
    },
    "items.delete": {"target": "item", "POST": {"young_person": IN_BOX}},
    "items.restore": {"target": "item", "POST": {"young_person": IN_BIN}},
    "items.purge": {"target": "item", "POST": {"young_person": IN_BIN}},
    # Talking about an item: the child and the person who added it, while both can see it;
    # asking the social worker to talk: the child, about what is in the box.
    "items.comment": {
        "target": "item",
        "POST": {
            "young_person": IN_BOX,
            "carer_active": {"suggested", "young_child_kept", "young_child_suggested"},
        },
    },
    # The child's own gentle choices (hide until ready, only with someone): theirs alone.
    "items.gentle": {"target": "item", "POST": {"young_person": IN_BOX}},
    "items.talk": {
        "target": "item",
        "GET": {"young_person": CHILD_KEPT},
        "POST": {"young_person": CHILD_KEPT},
    },
    # Moderation: the allocated social worker, while moderation is on (it is, in the item
    # scene), on what waits for approval.
    "items.approve": {
        "target": "item",
        "POST": {"sw_allocated": {"awaiting", "contribution_waiting"}},
    },
    "items.not_approve": {
        "target": "item",
        "POST": {"sw_allocated": {"awaiting", "contribution_waiting"}},
    },
    # Sharing: who decides for the child (the child over the sharing age; the allocated
    # social worker for a child with no login) shares what is kept in the box.
    "sharing.overview": {"target": "child", "GET": SHARING_DECIDERS},
    "sharing.seen": {"target": "child", "GET": SHARING_DECIDERS},
    "sharing.share_item": {
        "target": "item",
        "GET": {"young_person": CHILD_KEPT, "sw_allocated": {"young_child_kept"}},
        "POST": {"young_person": CHILD_KEPT, "sw_allocated": {"young_child_kept"}},
    },
    "sharing.share_album": {
        "target": "collection",
        "GET": ALBUM_MANAGERS,
        "POST": ALBUM_MANAGERS,
    },
    "sharing.stop": {
        "target": "consent",
        "POST": {
            "young_person": {
                "consent_carers",
                "consent_person",
                "consent_expired",
                "consent_album",
                "consent_section",
            },
            "other_young_person": {"other_child_consent"},
            "sw_allocated": {"young_child_consent"},
        },
    },
    "sharing.albums": {"target": "child", "GET": SHARING_DECIDERS, "POST": SHARING_DECIDERS},
    "sharing.album": {
        "target": "collection",
        "GET": {
            **ALBUM_MANAGERS,
            "sw_allocated": {"young_child_album", "album_social_worker"},
            "carer_active": {"album_carers"},
            "sw_unallocated": {"album_person"},
        },
    },
    "sharing.add_to_album": {
        "target": "item",
        "POST": {"young_person": IN_BOX | IN_BIN, "sw_allocated": {"young_child_kept"}},
    },
    "sharing.remove_from_album": {"target": "collection", "POST": ALBUM_MANAGERS},
    "sharing.help": {"target": "child", "GET": BOX_OWNERS, "POST": BOX_OWNERS},
    # What a child shares with me: anyone in the child's life now (the manager of their
    # authority included: the page shows a manager nothing of the box), or in the audience
    # of a live consent (the child scene shares an album with the ended carer by name).
    # Exports: the child of their own box; people in the child's life now (or named in a
    # live share) of what is shared with them; managers never. Each export is its
    # requester's alone, while they may still ask for it.
    "exports.index": {"target": "child", "GET": EXPORTERS},
    "exports.create": {"target": "child", "POST": EXPORTERS},
    "exports.status": {"target": "export", "GET": EXPORT_OWNERS},
    "exports.download": {"target": "export", "GET": EXPORT_OWNERS},
    "shared.child": {
        "target": "child",
        "GET": {
            "carer_active": {"child", "young_child"},
            "carer_ended": {"child"},
            "sw_allocated": {"child", "young_child"},
            # Managers run accounts and relationships; nothing a child shares is for them.
        },
    },
    # Recording that a child with a login decides for themselves: their social worker.
    # (only for a young person under the authority's sharing age: world.child, at 13, decides
    # already; world.young_child has no login).
    "caseload.decides_sharing": {"target": "capacity", "POST": {"sw_allocated": {"younger"}}},
    # Running an authority: each manager runs their own.
    "manage.overview": {"target": "none", "GET": MANAGERS},
    # How much needs each social worker (counts, never contents): each manager, their own.
    "manage.caseloads": {"target": "none", "GET": MANAGERS},
    "manage.settings": {"target": "none", "GET": MANAGERS, "POST": MANAGERS},
    "manage.people": {"target": "none", "GET": MANAGERS},
    "manage.invite": {"target": "none", "GET": MANAGERS, "POST": MANAGERS},
    "manage.child_list": {"target": "none", "GET": MANAGERS},
    "manage.new_child": {"target": "none", "GET": MANAGERS, "POST": MANAGERS},
    "manage.person": {
        "target": "user",
        "GET": {"manager_same": {"user_same", "user_self"}, "manager_other": {"user_other"}},
    },
    "manage.team_manager": {
        "target": "user",
        "POST": {"manager_same": {"user_same", "user_self"}, "manager_other": {"user_other"}},
    },
    "manage.disable": {
        "target": "user",
        "POST": {"manager_same": {"user_same"}, "manager_other": {"user_other"}},
    },
    "manage.enable": {
        "target": "user",
        "POST": {"manager_same": {"user_same"}, "manager_other": {"user_other"}},
    },
    # A manager resets someone's second factor (a page to confirm, then the reset): in their
    # own authority, never their own.
    "manage.reset_second_factor": {
        "target": "user",
        "GET": {"manager_same": {"user_same"}, "manager_other": {"user_other"}},
        "POST": {"manager_same": {"user_same"}, "manager_other": {"user_other"}},
    },
    "manage.child": {"target": "child", "GET": CHILD_MANAGERS},
    "manage.add_placement": {"target": "child", "POST": CHILD_MANAGERS},
    "manage.add_allocation": {"target": "child", "POST": CHILD_MANAGERS},
    "manage.end_placement": {
        "target": "placement",
        "POST": {"manager_same": {"active_same"}, "manager_other": {"active_other"}},
    },
    "manage.end_allocation": {
        "target": "allocation",
        "POST": {"manager_same": {"active_same"}, "manager_other": {"active_other"}},
    },
    "manage.revoke_invitation": {
        "target": "invitation",
        "POST": {"manager_same": {"waiting_same"}, "manager_other": {"waiting_other"}},
    },
}
# My Story. The child's own story: only the child writes it, sees it whole, sees its
# versions and restores them; who decides for the child shares a section once it has saved
# words; a live consent lets its audience read that section and nothing more.
MATRIX.update(
    {
        "story.home": {"target": "child", "GET": BOX_OWNERS},
        "story.add_section": {"target": "child", "POST": BOX_OWNERS},
        "story.edit": {"target": "section", "GET": SECTION_WRITERS, "POST": SECTION_WRITERS},
        "story.draft": {"target": "section", "POST": SECTION_WRITERS},
        "story.gentle": {"target": "section", "POST": SECTION_WRITERS},
        "story.versions": {"target": "section", "GET": SECTION_WRITERS},
        "story.restore": {
            "target": "version",
            "POST": {
                "young_person": {"own_version"},
                "other_young_person": {"other_child_version"},
            },
        },
        "story.share": {"target": "section", "GET": SECTION_SHARERS, "POST": SECTION_SHARERS},
        # Voice notes and their words: the child's own, like writing.
        "story.voice_note": {
            "target": "section",
            "GET": SECTION_WRITERS,
            "POST": SECTION_WRITERS,
        },
        "story.ask_words": {
            "target": "voice",
            "POST": {
                "young_person": {"own_voice_note"},
                "other_young_person": {"other_child_voice_note"},
            },
        },
        **{
            endpoint: {
                "target": "transcript",
                **{
                    method: {
                        "young_person": {"own_transcript"},
                        "other_young_person": {"other_child_transcript"},
                    }
                    for method in methods
                },
            }
            for endpoint, methods in (
                ("story.words", ("GET", "POST")),
                ("story.words_status", ("GET",)),
                ("story.discard_words", ("POST",)),
            )
        },
        # "Before you ask me again": whoever may see what the child shares with them.
        "story.shared_story": {"target": "child", "GET": MATRIX["shared.child"]["GET"]},
        "story.read": {"target": "section", "GET": SECTION_READERS},
        # Story prompts: each manager for their own authority.
        "manage.story_prompts": {"target": "none", "GET": MANAGERS, "POST": MANAGERS},
        "manage.rename_story_prompt": {"target": "prompt", "POST": PROMPT_MANAGERS},
        "manage.move_story_prompt": {"target": "prompt", "POST": PROMPT_MANAGERS},
        "manage.hide_story_prompt": {"target": "prompt", "POST": PROMPT_MANAGERS},
    }
)
# Finding things: the child in their own box and story; anyone who may see what the child
# shares with them, in that (what they find is asked of policy, item by item and section by
# section: tests/test_search_scopes.py). Tags are the child's own: only they add or take off
# one, on what is in their box.
MATRIX.update(
    {
        "search.box": {"target": "child", "GET": BOX_OWNERS},
        "search.shared": {"target": "child", "GET": MATRIX["shared.child"]["GET"]},
        "tags.add": {"target": "item", "POST": {"young_person": IN_BOX}},
        "tags.remove": {"target": "item", "POST": {"young_person": IN_BOX}},
    }
)
# Fetching an item: the child sees all of theirs (but what moderation holds back); a carer
# what they added, placement active, not in the bin; anyone in the audience of a live
# consent what it covers, while it is not in the bin.
MATRIX.update({endpoint: {"target": "fetch", "GET": FETCH_VIEWERS} for endpoint in FETCH_ENDPOINTS})
# Later-life letters: the child sees every letter given to them and when it opens, and its
# words, note and their own choices once it is open (before: nothing); the social workers
# allocated now write, give, change until it opens, and agree when the child asks. Carers,
# managers and workers whose allocation ended: nothing.
CHILDS_GIVEN_LETTERS = {"letter_waiting", "letter_to_ask", "letter_asked", "letter_open"}
CHILDS_LETTERS = {"letter_draft", *CHILDS_GIVEN_LETTERS}
LETTER_WRITERS = {"sw_allocated": {"child", "young_child"}}
OPEN_LETTER_READERS = {
    "young_person": {"letter_open"},
    "other_young_person": {"other_child_letter"},
}
MATRIX.update(
    {
        "letters.index": {"target": "child", "GET": BOX_OWNERS},
        "letters.read": {
            "target": "letter",
            "GET": {
                "young_person": CHILDS_GIVEN_LETTERS,
                "other_young_person": {"other_child_letter"},
            },
        },
        "letters.gentle": {"target": "letter", "POST": OPEN_LETTER_READERS},
        "letters.keep_note": {"target": "letter", "POST": OPEN_LETTER_READERS},
        "letters.talk": {
            "target": "letter",
            "GET": OPEN_LETTER_READERS,
            "POST": OPEN_LETTER_READERS,
        },
        "letters.ask": {"target": "letter", "POST": {"young_person": {"letter_to_ask"}}},
        "letters.written": {"target": "child", "GET": LETTER_WRITERS},
        "letters.new": {"target": "child", "GET": LETTER_WRITERS, "POST": LETTER_WRITERS},
        "letters.manage": {
            "target": "letter",
            "GET": {"sw_allocated": {*CHILDS_LETTERS, "young_child_letter"}},
        },
        "letters.edit": {
            "target": "letter",
            "GET": {"sw_allocated": {*CHILDS_LETTERS, "young_child_letter"} - {"letter_open"}},
            "POST": {"sw_allocated": {*CHILDS_LETTERS, "young_child_letter"} - {"letter_open"}},
        },
        "letters.attach": {
            "target": "letter",
            "GET": {"sw_allocated": {*CHILDS_LETTERS, "young_child_letter"} - {"letter_open"}},
            "POST": {"sw_allocated": {*CHILDS_LETTERS, "young_child_letter"} - {"letter_open"}},
        },
        "letters.remove_attachment": {
            "target": "item",
            "POST": {"sw_allocated": REMOVABLE_ATTACHMENTS},
        },
        "letters.keep_attachment": {
            "target": "item",
            "POST": {"young_person": {"attachment_open"}},
        },
        "letters.give": {"target": "letter", "POST": {"sw_allocated": {"letter_draft"}}},
        "letters.agree": {"target": "letter", "POST": {"sw_allocated": {"letter_asked"}}},
        "letters.delete": {
            "target": "letter",
            "GET": {"sw_allocated": {"letter_draft"}},
            "POST": {"sw_allocated": {"letter_draft"}},
        },
    }
)
# Moving a child to another authority: the child's manager asks (one request at a time);
# both sides' managers read a request; the receiving side accepts or declines it while it
# waits, the sending side takes it back. Nobody else, ever.
BOTH_SIDES = {"waiting_out", "waiting_in", "declined_out", "accepted_out"}
TRANSFER_ANSWERERS = {"manager_same": {"waiting_in"}, "manager_other": {"waiting_out"}}
MATRIX.update(
    {
        "transfers.index": {"target": "none", "GET": MANAGERS},
        "transfers.new": {"target": "child", "GET": CHILD_MANAGERS, "POST": CHILD_MANAGERS},
        "transfers.show": {
            "target": "transfer",
            "GET": {"manager_same": BOTH_SIDES, "manager_other": BOTH_SIDES},
        },
        "transfers.accept": {"target": "transfer", "POST": TRANSFER_ANSWERERS},
        "transfers.decline": {"target": "transfer", "POST": TRANSFER_ANSWERERS},
        "transfers.withdraw": {
            "target": "transfer",
            "POST": {"manager_same": {"waiting_out"}, "manager_other": {"waiting_in"}},
        },
    }
)

# Leaving care and a young person's own account: from 16 the young person (in care or after)
# sets their own sign-in email and asks to delete their account, and changes their mind
# while it waits; under 16 nothing is offered. The child's managers record leaving care and
# add people (a personal adviser) the young person can share with by name.
MATRIX.update(
    {
        "leaving.email": {
            "target": "leaver",
            "GET": {"young_person": {"left_care"}},
            "POST": {"young_person": {"left_care"}},
        },
        "leaving.delete": {
            "target": "leaver",
            "GET": {"young_person": {"left_care"}},
            "POST": {"young_person": {"left_care"}},
        },
        "leaving.cancel": {
            "target": "leaver_waiting",
            "POST": {
                "young_person": {"left_care_waiting"},
                "other_young_person": {"in_care_16_waiting"},
            },
        },
        "leaving.left_care": {"target": "child", "GET": CHILD_MANAGERS, "POST": CHILD_MANAGERS},
        "leaving.add_named_person": {"target": "child", "POST": CHILD_MANAGERS},
    }
)

# The letterbox: a contributor's one page (sending stops, with a plain message, when the
# child says "no more"); the allocated social worker invites and ends access; the child says
# "no more from this person" and takes it back. Nobody else, ever.
LETTERBOX_SENDERS = {"contributor_active": ALLOW, "contributor_blocked": ALLOW}
CHILDS_CONTRIBUTORS = {"contributor_active", "contributor_blocked", "contributor_invited"}
MATRIX.update(
    {
        "contributors.send": {
            "target": "none",
            "GET": LETTERBOX_SENDERS,
            "POST": LETTERBOX_SENDERS,
        },
        "contributors.manage": {
            "target": "child",
            "GET": {"sw_allocated": {"child", "young_child"}},
            "POST": {"sw_allocated": {"child", "young_child"}},
        },
        "contributors.end": {
            "target": "contributor",
            "POST": {"sw_allocated": CHILDS_CONTRIBUTORS},
        },
        "contributors.senders": {"target": "child", "GET": BOX_OWNERS},
        "contributors.stop": {
            "target": "contributor",
            "POST": {
                "young_person": {"contributor_active"},
                "other_young_person": {"other_child_contributor"},
            },
        },
        "contributors.allow": {
            "target": "contributor",
            "POST": {"young_person": {"contributor_blocked"}},
        },
    }
)

HTTP_METHODS = ("GET", "HEAD", "POST", "PATCH", "DELETE")
READ_METHODS = {"GET", "HEAD"}  # they change nothing that decides access


def expected(endpoint: str, method: str, actor: str, target: str) -> str:
    """The matrix, read for one case."""
    rule = MATRIX[endpoint][method].get(actor)
    if rule is None:
        return {ANON: LOGIN, DISABLED: REFUSED, CONTRIBUTOR_ENDED: REFUSED}.get(actor, DENY)
    if isinstance(rule, str):
        return rule
    return ALLOW if target in rule else DENY


def _kind_of(endpoint: str) -> str:
    return str(MATRIX[endpoint]["target"])


def _targets_of(endpoint: str) -> tuple[str, ...]:
    return TARGETS[_kind_of(endpoint)]


def _groups() -> Iterator[Any]:
    """GET, HEAD: one group of every actor state. POST, PATCH, DELETE: one group per actor
    state allowed on some target, and one group of all the others (refused everywhere, so
    they change nothing)."""
    for endpoint, entry in MATRIX.items():
        for method in HTTP_METHODS:
            if method not in entry:
                continue
            if method in READ_METHODS:
                yield pytest.param(endpoint, method, tuple(ACTORS), id=f"{endpoint}-{method}")
                continue
            refused = []
            for actor in ACTORS:
                if any(
                    expected(endpoint, method, actor, t) == ALLOW for t in _targets_of(endpoint)
                ):
                    yield pytest.param(
                        endpoint, method, (actor,), id=f"{endpoint}-{method}-{actor}"
                    )
                else:
                    refused.append(actor)
            if refused:
                yield pytest.param(
                    endpoint, method, tuple(refused), id=f"{endpoint}-{method}-others"
                )


GROUPS = list(_groups())
CASE_COUNT = len(ACTORS) * sum(
    len(TARGETS[entry["target"]])
    for entry in MATRIX.values()
    for method in HTTP_METHODS
    if method in entry
)


# --- the scene: a world plus the targets one case needs --------------------------------


@dataclass
class Scene:
    app: Flask
    world: World
    ids: dict[str, int | str] = field(default_factory=dict)  # target name -> id
    media: tuple[str, Callable[[], bytes]] = PHOTO  # the file of every item made for targets
    #: ids a POST needs beside its target (an album to add to, an item to take out)
    extra: dict[str, int] = field(default_factory=dict)
    _other_people: dict[Role, User] = field(default_factory=dict)

    def other_authority_person(self, role: Role) -> User:
        """A carer or social worker in the other authority, made on first use."""
        if role not in self._other_people:
            self._other_people[role] = factories.user(self.app, self.world.other_authority, role)
        return self._other_people[role]


def _binned(it: MemoryItem) -> MemoryItem:
    it.deleted_at = clock.now() - timedelta(days=1)
    db.session.commit()
    return it


def _audience(w: World, name: str) -> tuple[Audience, User | None]:
    """A ``SHARE_AUDIENCES`` name as a consent's audience and named person."""
    people = {
        "person_ended_carer": w.ended_carer,
        "person_unallocated_sw": w.unallocated_social_worker,
    }
    if name in people:
        return Audience.PERSON, people[name]
    return Audience(name), None


def _consent(
    child: Child,
    audience: Audience,
    *,
    state: str = "granted",
    person: User | None = None,
    item: MemoryItem | None = None,
    collection: Collection | None = None,
    section: StorySection | None = None,
    decided_by: User | None = None,
    ends_on: date | None = None,
) -> Consent:
    """A consent row, made directly: the service refuses an end date that has passed and a
    person from outside the child's life, and the matrix needs both.

    ``expired`` ends on ``ends_on``, yesterday unless given (today is the first day it has
    stopped: a consent stops *on* its end date); ``revoked`` was stopped an hour ago by
    whoever gave it."""
    by = decided_by or child_user(child)
    consent = Consent(
        child_id=child.id,
        item_id=item.id if item is not None else None,
        collection_id=collection.id if collection is not None else None,
        story_section_id=section.id if section is not None else None,
        audience=audience,
        person_id=person.id if person is not None else None,
        ends_on=ends_on or (clock.today() - timedelta(days=1) if state == "expired" else None),
        decided_by_id=by.id,
        basis=Basis.OWN_DECISION if by.id == child.user_id else Basis.ON_BEHALF,
        childs_wishes="" if by.id == child.user_id else "Casey smiled and said yes.",
    )
    if state == "revoked":
        consent.revoked_at = clock.now() - timedelta(hours=1)
        consent.revoked_by_id = by.id
    db.session.add(consent)
    db.session.commit()
    return consent


def child_user(child: Child) -> User:
    user = db.session.get(User, child.user_id) if child.user_id is not None else None
    assert user is not None, "give decided_by for a child without a login"
    return user


def _section(child: Child, title: str, *bodies: str, by: User | None = None) -> StorySection:
    """A section of the child's own, with a saved version for each of ``bodies``, made
    directly (a child with no login has no way to write one)."""
    section = StorySection(child_id=child.id, own_title=title)
    db.session.add(section)
    db.session.flush()
    writer = by or child_user(child)
    for number, body in enumerate(bodies, 1):
        db.session.add(
            SectionVersion(
                section_id=section.id,
                number=number,
                body=body,
                created_by_id=writer.id,
                created_at=clock.now(),
            )
        )
    db.session.commit()
    return section


def _first_version(section: StorySection) -> int:
    db.session.refresh(section)
    return section.versions[0].id


def _album(child: Child, name: str, *items: MemoryItem) -> Collection:
    album = Collection(child_id=child.id, name=name)
    db.session.add(album)
    db.session.flush()
    for it in items:
        db.session.add(CollectionItem(collection_id=album.id, item_id=it.id))
    db.session.commit()
    return album


@dataclass(frozen=True)
class _Processed:
    """An upload the app has processed (location removed, renditions made), kept to copy."""

    columns: dict[str, Any]
    original: bytes
    renditions: list[tuple[dict[str, Any], bytes, str]]  # columns, bytes, key suffix


#: upload name -> the processed upload: each kind of file is processed once per run
_PROCESSED: dict[str, _Processed] = {}


def _storage(app: Flask) -> Any:
    return app.extensions["memorybox.storage"]


def _columns(row: Any, skip: set[str]) -> dict[str, Any]:
    return {a.key: getattr(row, a.key) for a in row.__mapper__.column_attrs if a.key not in skip}


def _processed(scene: Scene) -> _Processed:
    """Upload and process the scene's kind of file the app's own way, once; keep the result."""
    name, make = scene.media
    if name not in _PROCESSED:
        storage, w = _storage(scene.app), scene.world
        made = memories.add_item(
            actor=w.young_person,
            child=w.child,
            stream=io.BytesIO(make()),
            filename=name,
            details=memories.ItemDetails("Processed once", "", None),
            storage=storage,
            max_bytes=scene.app.config["MAX_UPLOAD_BYTES"],
        )
        assert processing.process(made.id, storage) is Processing.READY
        db.session.refresh(made)

        def stored(key: str) -> bytes:
            return b"".join(storage.iter_bytes(key))

        _PROCESSED[name] = _Processed(
            columns=_columns(made, {"id", "child_id", "added_by_id", "storage_key"}),
            original=stored(made.storage_key),
            renditions=[
                (
                    _columns(r, {"id", "item_id", "storage_key"}),
                    stored(r.storage_key),
                    r.storage_key.rsplit(".", 1)[-1],
                )
                for r in made.renditions
            ],
        )
        for rendition in list(made.renditions):
            storage.delete(rendition.storage_key)
        memories.delete_for_ever(made, storage)  # leave the world as it was
    return _PROCESSED[name]


def _item(
    scene: Scene,
    child: Child,
    adder: User,
    *,
    title: str,
    status: ItemStatus = ItemStatus.KEPT,
) -> MemoryItem:
    """A ready item of the scene's kind: a copy, with its own stored objects, of an upload
    the app processed (processing every target's file again would cost minutes)."""
    source, storage = _processed(scene), _storage(scene.app)

    def store(content: bytes, content_type: str, suffix: str) -> str:
        key = new_key(suffix)
        storage.save(key, io.BytesIO(content), content_type)
        return key

    columns = dict(source.columns)
    columns.update(
        child_id=child.id,
        added_by_id=adder.id,
        status=status,
        title=title,
        storage_key=store(source.original, columns["content_type"], columns["extension"]),
        created_at=clock.now(),
        updated_at=clock.now(),
        decided_at=None,
        deleted_at=None,
        reviewed_by_id=None,
        reviewed_at=None,
    )
    it = MemoryItem(**columns)
    for rendition_columns, content, suffix in source.renditions:
        key = store(content, rendition_columns["content_type"], suffix)
        it.renditions.append(Rendition(**rendition_columns, storage_key=key))
    db.session.add(it)
    db.session.commit()
    return it


def _build_items(scene: Scene) -> None:
    w = scene.world
    w.authority.moderation_required = True  # so that "awaiting" has a reviewer
    db.session.commit()
    kept = _item(scene, w.child, w.young_person, title="My bike")
    suggested = _item(scene, w.child, w.carer, title="Sports day", status=ItemStatus.SUGGESTED)
    old = _item(scene, w.child, w.ended_carer, title="Old garden")
    old.created_at = clock.now() - timedelta(days=200)  # during the ended placement
    db.session.commit()
    binned = _binned(_item(scene, w.child, w.young_person, title="Blurry one"))
    carer_binned = _binned(
        _item(scene, w.child, w.carer, title="Rainy walk", status=ItemStatus.SUGGESTED)
    )
    awaiting = _item(scene, w.child, w.carer, title="Zoo trip", status=ItemStatus.AWAITING_APPROVAL)
    not_approved = _item(scene, w.child, w.carer, title="Old photo", status=ItemStatus.NOT_APPROVED)
    young_kept = _item(scene, w.young_child, w.carer, title="Casey's drawing")
    young_suggested = _item(
        scene, w.young_child, w.carer, title="Casey at the park", status=ItemStatus.SUGGESTED
    )
    sender = _contributor(scene, "active").user
    assert sender is not None
    for state, status in (
        ("waiting", ItemStatus.AWAITING_APPROVAL),
        ("passed", ItemStatus.SUGGESTED),
        ("not_passed", ItemStatus.NOT_APPROVED),
        ("kept", ItemStatus.KEPT),
    ):
        sent = _item(scene, w.child, sender, title=f"From mum {state}", status=status)
        scene.ids[f"contribution_{state}"] = sent.id
    for state in ("draft", "waiting", "open"):  # a letter's attachment, in each state
        in_letter = _item(
            scene, w.child, w.social_worker, title=f"Farm {state}", status=ItemStatus.IN_LETTER
        )
        in_letter.letter_id = _letter(w, w.child, state).id
        db.session.commit()
        scene.ids[f"attachment_{state}"] = in_letter.id
    scene.ids.update(
        kept=kept.id,
        suggested=suggested.id,
        ended_carer=old.id,
        bin=binned.id,
        carer_bin=carer_binned.id,
        awaiting=awaiting.id,
        not_approved=not_approved.id,
        young_child_kept=young_kept.id,
        young_child_suggested=young_suggested.id,
    )
    # empty albums, for adding items to
    scene.extra["album_of_child"] = _album(w.child, "Holidays").id
    scene.extra["album_of_young_child"] = _album(w.young_child, "Casey's album").id


def _build_shared(scene: Scene, names: Iterable[str]) -> None:
    """A kept item of world.child for each ``SHARED_TARGETS`` name among ``names``."""
    w = scene.world
    for name in names:
        if name not in SHARED_TARGETS:
            continue
        it = _item(scene, w.child, w.young_person, title=f"Shared {name}")
        scene.ids[name] = it.id
        if name == SHARED_BIN:
            for audience_name in SHARE_AUDIENCES:
                audience, person = _audience(w, audience_name)
                _consent(w.child, audience, person=person, item=it)
            _binned(it)
            continue
        via, _, rest = name.partition("-")
        album = _album(w.child, f"Album {name}", it) if via == "album" else None
        if rest == "none":
            continue
        audience_name, _, state = rest.rpartition("-")
        audience, person = _audience(w, audience_name)
        subject = {"collection": album} if album is not None else {"item": it}
        # Through an album, the end dates sit on the boundary: a granted consent ends
        # tomorrow, an expired one today. Through the item: none, and yesterday.
        ends_on = None
        if album is not None and state != "revoked":
            ends_on = clock.today() + timedelta(days=1 if state == "granted" else 0)
        _consent(w.child, audience, state=state, person=person, ends_on=ends_on, **subject)


def _build_item_targets(kind: str) -> Callable[[Scene], None]:
    def build(scene: Scene) -> None:
        _build_items(scene)
        _build_shared(scene, TARGETS[kind])

    return build


def _build_children(scene: Scene) -> None:
    w = scene.world
    # made here, not by the POST data: what a case sends must not change the world
    scene.other_authority_person(Role.CARER)
    scene.other_authority_person(Role.SOCIAL_WORKER)
    scene.ids.update(
        child=w.child.id,
        other_child=w.other_child.id,
        young_child=w.young_child.id,
        other_authority_child=w.other_authority_child.id,
        moved_child=_moved_child(scene).child_id,
    )
    # What world.child shares, by name (an album, so that no item needs making): live with
    # the ended carer; ended with the unallocated social worker; stopped with the ended one.
    for person, state in (
        (w.ended_carer, "granted"),
        (w.unallocated_social_worker, "expired"),
        (w.ended_social_worker, "revoked"),
    ):
        album = _album(w.child, f"For {person.display_name}")
        _consent(w.child, Audience.PERSON, state=state, person=person, collection=album)


def _moved_child(scene: Scene) -> Transfer:
    """A child of world.authority, placed with world.carer, allocated to world.social_worker
    and sharing an album with them and, by name, with world.ended_carer; then moved to
    world.other_authority (its manager accepted). Its old people keep nothing."""
    w = scene.world
    young = factories.user(scene.app, w.authority, Role.YOUNG_PERSON, "Eden")
    child = factories.child(w.authority, young, "Eden", age=13)
    factories.placement(child, w.carer)
    factories.allocation(child, w.social_worker)
    album = _album(child, "Eden's things")
    for audience, person in (
        (Audience.CARERS, None),
        (Audience.SOCIAL_WORKER, None),
        (Audience.PERSON, w.ended_carer),
    ):
        _consent(child, audience, person=person, collection=album)
    transfer = Transfer(
        child_id=child.id,
        from_authority_id=w.authority.id,
        to_authority_id=w.other_authority.id,
        planned_on=clock.today(),
        requested_by_id=w.manager.id,
    )
    db.session.add(transfer)
    db.session.commit()
    transfers.accept(transfer, w.other_manager)
    return transfer


def _build_transfers(scene: Scene) -> None:
    w = scene.world

    def waiting(child: Child, to: Authority, by: User) -> Transfer:
        transfer = Transfer(
            child_id=child.id,
            from_authority_id=child.authority_id,
            to_authority_id=to.id,
            planned_on=clock.today() + timedelta(days=7),
            requested_by_id=by.id,
        )
        db.session.add(transfer)
        db.session.commit()
        return transfer

    declined = waiting(w.young_child, w.other_authority, w.manager)
    transfers.decline(declined, w.other_manager, "No foster home free.")
    scene.ids.update(
        waiting_out=waiting(w.other_child, w.other_authority, w.manager).id,
        waiting_in=waiting(w.other_authority_child, w.authority, w.other_manager).id,
        declined_out=declined.id,
        accepted_out=_moved_child(scene).id,
    )


def _build_users(scene: Scene) -> None:
    w = scene.world
    scene.ids.update(
        user_same=w.carer.id, user_self=w.manager.id, user_other=w.other_authority_young_person.id
    )


def _build_placements(scene: Scene) -> None:
    w = scene.world
    rows = db.session.scalars(select(Placement).where(Placement.child_id == w.child.id)).all()
    by_carer = {p.carer_id: p.id for p in rows}
    carer_b = scene.other_authority_person(Role.CARER)
    other = factories.placement(w.other_authority_child, carer_b)
    scene.ids.update(
        active_same=by_carer[w.carer.id],
        ended_same=by_carer[w.ended_carer.id],
        active_other=other.id,
    )


def _build_allocations(scene: Scene) -> None:
    w = scene.world
    rows = db.session.scalars(select(Allocation).where(Allocation.child_id == w.child.id)).all()
    by_sw = {a.social_worker_id: a.id for a in rows}
    sw_b = scene.other_authority_person(Role.SOCIAL_WORKER)
    other = factories.allocation(w.other_authority_child, sw_b)
    scene.ids.update(
        active_same=by_sw[w.social_worker.id],
        ended_same=by_sw[w.ended_social_worker.id],
        active_other=other.id,
    )


_invited = itertools.count(1)


def _invite(authority: Any, by: User) -> accounts.IssuedInvitation:
    n = next(_invited)
    return accounts.invite(
        authority=authority,
        email=f"invited{n}-{authority.id}@example.test",
        display_name=f"Invited {n}",
        role=Role.CARER,
        invited_by=by,
        days_valid=7,
    )


def _build_invitations(scene: Scene) -> None:
    w = scene.world
    waiting = _invite(w.authority, w.manager).invitation
    revoked = _invite(w.authority, w.manager).invitation
    accounts.revoke_invitation(revoked)
    other = _invite(w.other_authority, w.other_manager).invitation
    scene.ids.update(waiting_same=waiting.id, revoked_same=revoked.id, waiting_other=other.id)


def _build_collections(scene: Scene) -> None:
    w = scene.world

    def album(name: str, child: Child, adder: User) -> Collection:
        it = _item(scene, child, adder, title=f"In {name}")
        made = _album(child, name, it)
        scene.ids[name] = made.id
        scene.extra[f"{name}:item"] = it.id
        return made

    album("album_private", w.child, w.young_person)
    for name, audience, person, state in (
        ("album_carers", Audience.CARERS, None, "granted"),
        ("album_social_worker", Audience.SOCIAL_WORKER, None, "granted"),
        ("album_person", Audience.PERSON, w.unallocated_social_worker, "granted"),
        ("album_expired", Audience.CARERS, None, "expired"),
        ("album_revoked", Audience.SOCIAL_WORKER, None, "revoked"),
    ):
        made = album(name, w.child, w.young_person)
        _consent(w.child, audience, state=state, person=person, collection=made)
    album("young_child_album", w.young_child, w.carer)
    album("other_child_album", w.other_child, w.other_young_person)


def _build_consents(scene: Scene) -> None:
    w = scene.world

    def item_of(child: Child, adder: User) -> MemoryItem:
        return _item(scene, child, adder, title="Shared thing")

    consents = {
        "consent_carers": _consent(w.child, Audience.CARERS, item=item_of(w.child, w.young_person)),
        "consent_person": _consent(
            w.child, Audience.PERSON, person=w.ended_carer, item=item_of(w.child, w.young_person)
        ),
        "consent_expired": _consent(
            w.child,
            Audience.SOCIAL_WORKER,
            state="expired",
            ends_on=clock.today(),
            item=item_of(w.child, w.young_person),
        ),
        "consent_revoked": _consent(
            w.child, Audience.CARERS, state="revoked", item=item_of(w.child, w.young_person)
        ),
        "consent_album": _consent(
            w.child,
            Audience.SOCIAL_WORKER,
            collection=_album(w.child, "Nan", item_of(w.child, w.young_person)),
        ),
        "young_child_consent": _consent(
            w.young_child,
            Audience.CARERS,
            item=item_of(w.young_child, w.carer),
            decided_by=w.social_worker,
        ),
        "other_child_consent": _consent(
            w.other_child, Audience.CARERS, item=item_of(w.other_child, w.other_young_person)
        ),
        "consent_section": _consent(
            w.child, Audience.SOCIAL_WORKER, section=_section(w.child, "About me", "Hello.")
        ),
    }
    scene.ids.update({name: consent.id for name, consent in consents.items()})


def _build_uploads(scene: Scene) -> None:
    """Uploads as the tus routes leave them, made through the same service."""
    w, storage = scene.world, _storage(scene.app)

    def start(name: str, user: User, child: Child) -> UploadSession:
        session = uploads.start(
            user=user,
            child=child,
            length=len(UPLOAD_BYTES),
            filename="photo.jpg",
            storage=storage,
            max_bytes=scene.app.config["MAX_RESUMABLE_BYTES"],
        )
        scene.ids[name] = session.id
        return session

    start("own_upload", w.young_person, w.child)
    start("carer_upload", w.carer, w.child)
    start("young_child_upload", w.carer, w.young_child)
    start("ended_carer_upload", w.ended_carer, w.child)
    start("other_child_upload", w.other_young_person, w.other_child)
    used = start("used_upload", w.young_person, w.child)
    uploads.append(
        used, offset=0, stream=io.BytesIO(UPLOAD_BYTES), length=len(UPLOAD_BYTES), storage=storage
    )
    memories.add_item_from_upload(
        actor=w.young_person,
        upload=used,
        details=memories.ItemDetails("From an upload", "", None),
        storage=storage,
    )


def _build_sections(scene: Scene) -> None:
    w = scene.world
    for name in SECTION_SHARES:
        section = _section(w.child, f"Part {name}", "My first words.", "My newer words.")
        scene.ids[name] = section.id
        _, _, rest = name.partition("-")
        if rest == "none":
            continue
        audience_name, _, state = rest.rpartition("-")
        audience, person = _audience(w, audience_name)
        ends_on = None
        if audience_name == "social_worker" and state != "revoked":
            ends_on = clock.today() + timedelta(days=1 if state == "granted" else 0)
        _consent(w.child, audience, state=state, person=person, section=section, ends_on=ends_on)
    scene.ids["section_empty"] = _section(w.child, "Nothing yet").id
    scene.ids["other_child_section"] = _section(w.other_child, "Blake's part", "Blake's words.").id
    young = _section(w.young_child, "Casey's part", "Casey's words.", by=w.social_worker)
    scene.ids["young_child_section"] = young.id


def _build_versions(scene: Scene) -> None:
    w = scene.world

    def mine(title: str) -> StorySection:
        return _section(w.child, title, "My first words.", "My newer words.")

    theirs = _section(w.other_child, "Blake's part", "Blake's words.", "Newer.")
    other_childs = _section(w.other_child, "Blake's other part", "Blake's words.")
    sibling = mine("Another part of mine")
    own = mine("About me")
    for name, section, version_id in (
        ("own_version", own, _first_version(own)),
        ("other_child_version", theirs, _first_version(theirs)),
        ("version_of_other_child", mine("School"), _first_version(other_childs)),
        ("version_of_other_section", mine("Places"), _first_version(sibling)),
        ("version_missing", mine("Hopes"), MISSING_ID),
    ):
        scene.ids[name] = section.id
        scene.extra[f"{name}:version"] = version_id


def _voice_note(scene: Scene, child: Child, section: StorySection) -> MemoryItem:
    """A real (processed) sound clip in the child's box, attached to ``section``."""
    storage = scene.app.extensions["memorybox.storage"]
    note = memories.add_item(
        actor=child_user(child),
        child=child,
        stream=io.BytesIO(factories.wav_bytes(8000)),
        filename="voice.wav",
        details=memories.ItemDetails(f"Voice note {section.id}", "", None),
        storage=storage,
        max_bytes=scene.app.config["MAX_UPLOAD_BYTES"],
    )
    processing.process(note.id, storage)
    latest = section.versions[-1] if section.versions else None
    version = SectionVersion(
        section_id=section.id,
        number=(latest.number + 1) if latest else 1,
        body=latest.body if latest else "",
        source="voice-note",
        created_by_id=child_user(child).id,
        created_at=clock.now(),
    )
    version.items = [note]
    db.session.add(version)
    db.session.commit()
    db.session.refresh(section)
    return note


def _build_voice(scene: Scene) -> None:
    w = scene.world
    own = _section(w.child, "About me", "My words.")
    note = _voice_note(scene, w.child, own)
    elsewhere = _section(w.child, "School", "My words.")
    _voice_note(scene, w.child, _section(w.child, "Places", "My words."))
    other_note = _voice_note(scene, w.child, _section(w.child, "Hopes", "My words."))
    with_photo = _section(w.child, "People", "My words.")
    photo = factories.item(scene.app, w.child, w.young_person, title="Photo")
    version = with_photo.versions[-1]
    version.items = [photo]
    db.session.commit()
    theirs = _section(w.other_child, "Blake's part", "Blake's words.")
    their_note = _voice_note(scene, w.other_child, theirs)
    for name, section, item_id in (
        ("own_voice_note", own, note.id),
        ("voice_note_of_other_section", elsewhere, other_note.id),
        ("voice_note_photo", with_photo, photo.id),
        ("other_child_voice_note", theirs, their_note.id),
        ("voice_note_missing", _section(w.child, "Worries", "Words."), MISSING_ID),
    ):
        scene.ids[name] = section.id
        scene.extra[f"{name}:item"] = item_id


def _build_transcripts(scene: Scene) -> None:
    w = scene.world

    def transcript(child: Child, title: str, *, used: bool = False) -> tuple[StorySection, int]:
        section = _section(child, title, "My words.")
        note = _voice_note(scene, child, section)
        made = Transcript(
            section_id=section.id,
            item_id=note.id,
            requested_by_id=child_user(child).id,
            state=TranscriptState.READY,
            text="Words the computer heard.",
            used_in_version_id=section.versions[-1].id if used else None,
        )
        db.session.add(made)
        db.session.commit()
        return section, made.id

    own, own_id = transcript(w.child, "About me")
    used, used_id = transcript(w.child, "School", used=True)
    _, sibling_id = transcript(w.child, "Places")
    theirs, their_id = transcript(w.other_child, "Blake's part")
    for name, section, transcript_id in (
        ("own_transcript", own, own_id),
        ("own_transcript_used", used, used_id),
        ("transcript_of_other_section", _section(w.child, "Hopes", "Words."), sibling_id),
        ("other_child_transcript", theirs, their_id),
        ("transcript_missing", _section(w.child, "Worries", "Words."), MISSING_ID),
    ):
        scene.ids[name] = section.id
        scene.extra[f"{name}:transcript"] = transcript_id


def _build_prompts(scene: Scene) -> None:
    w = scene.world
    same = story.prompts_of(w.authority)
    story.set_prompt_hidden(same[1], True)
    other = story.prompts_of(w.other_authority)
    scene.ids.update(
        prompt_same=same[0].id, prompt_hidden_same=same[1].id, prompt_other=other[0].id
    )


def _build_exports(scene: Scene) -> None:
    """Finished exports, asked for and built through the same service the pages use."""
    from memorybox.exports import services as exports
    from memorybox.exports.models import ExportKind

    w, storage = scene.world, _storage(scene.app)
    for name, user, child in (
        ("own_export", w.young_person, w.child),
        ("sw_export", w.social_worker, w.child),
        ("other_child_export", w.other_young_person, w.other_child),
    ):
        export = exports.request(user, child, ExportKind.JSON)
        exports.build(export.id, storage)
        scene.ids[name] = export.id


def _build_capacity(scene: Scene) -> None:
    w = scene.world
    login = factories.user(scene.app, w.authority, Role.YOUNG_PERSON, "Ellis")
    younger = factories.child(w.authority, login, "Ellis", age=10)
    factories.allocation(younger, w.social_worker)
    scene.ids.update(
        child=w.child.id,
        younger=younger.id,
        young_child=w.young_child.id,
        other_child=w.other_child.id,
    )


def _build_help(scene: Scene) -> None:
    """Help requests as the service leaves them, made directly (so no message is sent)."""
    w = scene.world
    now = clock.now()

    def made(name: str, child: Child, by: User, **columns: Any) -> None:
        request = HelpRequest(
            child_id=child.id, requested_by_id=by.id, created_at=now, sent_to="Sam", **columns
        )
        db.session.add(request)
        db.session.commit()
        scene.ids[name] = request.id

    made("help_open", w.child, w.young_person, escalate_at=now + timedelta(hours=4))
    made("help_seen", w.child, w.young_person, acknowledged_at=now, acknowledged_by=w.social_worker)
    made("help_escalated", w.child, w.young_person, escalate_at=now, escalated_at=now)
    made("other_child_help", w.other_child, w.other_young_person, escalate_at=now)
    made("other_authority_help", w.other_authority_child, w.other_authority_young_person)


def _build_talk(scene: Scene) -> None:
    w = scene.world

    def made(name: str, child: Child, by: User, item: MemoryItem | None, **columns: Any) -> None:
        request = TalkRequest(
            child_id=child.id,
            item_id=item.id if item is not None else None,
            requested_by_id=by.id,
            words="Can we talk about this?",
            created_at=clock.now(),
            **columns,
        )
        db.session.add(request)
        db.session.commit()
        scene.ids[name] = request.id

    made("talk_open", w.child, w.young_person, factories.item(scene.app, w.child, w.young_person))
    made(
        "talk_seen",
        w.child,
        w.young_person,
        factories.item(scene.app, w.child, w.young_person),
        acknowledged_at=clock.now(),
        acknowledged_by=w.social_worker,
    )
    made("talk_item_gone", w.child, w.young_person, None)
    theirs = factories.item(scene.app, w.other_child, w.other_young_person)
    made("other_child_talk", w.other_child, w.other_young_person, theirs)
    request = TalkRequest(
        child_id=w.child.id,
        letter_id=_letter(w, w.child, "open").id,
        requested_by_id=w.young_person.id,
        created_at=clock.now(),
    )
    db.session.add(request)
    db.session.commit()
    scene.ids["talk_letter"] = request.id


def _letter(w: World, child: Child, state: str) -> Letter:
    """A letter by world.social_worker in one state (made directly: nobody is told)."""
    today, now = clock.today(), clock.now()
    rule = {
        "draft": (ReleaseRule.DATE, today + timedelta(days=30)),
        "waiting": (ReleaseRule.DATE, today + timedelta(days=30)),
        "to_ask": (ReleaseRule.ASKED, None),
        "asked": (ReleaseRule.ASKED, None),
        "open": (ReleaseRule.DATE, today),
    }[state]
    letter = Letter(
        child_id=child.id,
        written_by_id=w.social_worker.id,
        title="Why you are in care",
        content_note="This is about your birth family." if state == "open" else "",
        rule=rule[0],
        opens_on=rule[1],
        given_at=None if state == "draft" else now,
        given_by_id=None if state == "draft" else w.social_worker.id,
        asked_at=now if state == "asked" else None,
        created_at=now,
    )
    db.session.add(letter)
    db.session.add(
        LetterVersion(letter=letter, number=1, body="Dear you.", created_by_id=w.social_worker.id)
    )
    db.session.commit()
    return letter


def _build_letters(scene: Scene) -> None:
    w = scene.world
    for state in ("draft", "waiting", "to_ask", "asked", "open"):
        scene.ids[f"letter_{state}"] = _letter(w, w.child, state).id
    scene.ids["young_child_letter"] = _letter(w, w.young_child, "waiting").id
    scene.ids["other_child_letter"] = _letter(w, w.other_child, "open").id


def _contributor(scene: Scene, state: str) -> Contributor:
    """A contributor in one state, made on first use: "active", "blocked" (the child said no
    more), "ended" (a social worker ended it: account switched off), "invited" (not joined)
    for world.child, birth family; "other_child" for world.other_child, joined."""
    key = f"contributor:{state}"
    if key in scene.extra:
        found = db.session.get(Contributor, scene.extra[key])
        assert found is not None
        return found
    w = scene.world
    child = w.other_child if state == "other_child" else w.child
    issued = accounts.invite(
        authority=w.authority,
        email=f"contributor-{state}@example.test",
        display_name=f"Mum {state}",
        role=Role.CONTRIBUTOR,
        invited_by=w.social_worker,
        days_valid=7,
    )
    link = Contributor(
        child_id=child.id,
        invitation_id=issued.invitation.id,
        relation="birth mum",
        invited_by_id=w.social_worker.id,
    )
    db.session.add(link)
    if state != "invited":
        person = factories.user(scene.app, w.authority, Role.CONTRIBUTOR, f"Mum {state}")
        issued.invitation.accepted_at = clock.now()
        issued.invitation.user_id = person.id
        link.user_id = person.id
    if state == "blocked":
        link.blocked_at = clock.now()
    db.session.commit()
    if state == "ended":
        link.ended_at = clock.now()
        link.ended_by_id = w.social_worker.id
        assert link.user is not None
        accounts.disable(link.user)
    scene.extra[key] = link.id
    return link


def _build_contributors(scene: Scene) -> None:
    for state in ("active", "blocked", "ended", "invited"):
        scene.ids[f"contributor_{state}"] = _contributor(scene, state).id
    scene.ids["other_child_contributor"] = _contributor(scene, "other_child").id


def _person(scene: Scene, state: str) -> User | None:
    """The account an actor state signs in with."""
    attr = ACTORS[state]
    if attr is None:
        return None
    if attr.startswith("contributor:"):
        return _contributor(scene, attr.partition(":")[2]).user
    return getattr(scene.world, attr)


def _build_notes(scene: Scene) -> None:
    """A message in each person's own Messages, about a kept item of world.child's that only
    the child may see (so for everyone else it opens to "you can no longer see this")."""
    w = scene.world
    item = factories.item(scene.app, w.child, w.young_person)
    for state in SIGNED_IN:
        note = notifications.notify(
            _person(scene, state),
            kind="shared",
            message="Alex has shared something new with you.",
            target=Target.ITEM,
            target_id=item.id,
            child_id=w.child.id,
        )
        db.session.commit()
        scene.ids[f"note_of_{state}"] = note.id


def _aged(child: Child, years: int) -> None:
    today = clock.today()
    child.date_of_birth = date(today.year - years, today.month, 1)


def _build_leavers(waiting: bool) -> Callable[[Scene], None]:
    def build(scene: Scene) -> None:
        from memorybox.leaving import services as leaving

        w = scene.world
        _aged(w.child, 17)
        leaving.record_left_care(w.child, clock.today(), w.manager)
        _aged(w.other_child, 16 if waiting else 15)
        if waiting:
            leaving.ask_to_delete(w.child)
            leaving.ask_to_delete(w.other_child)
        db.session.commit()
        names = (
            ("left_care_waiting", "in_care_16_waiting") if waiting else ("left_care", "under_16")
        )
        scene.ids.update({names[0]: w.child.id, names[1]: w.other_child.id})
        scene.ids.update(
            young_child=w.young_child.id, other_authority_child=w.other_authority_child.id
        )

    return build


BUILDERS: dict[str, Callable[[Scene], None]] = {
    "item": _build_item_targets("item"),
    "fetch": _build_item_targets("fetch"),
    "child": _build_children,
    "user": _build_users,
    "placement": _build_placements,
    "allocation": _build_allocations,
    "invitation": _build_invitations,
    "collection": _build_collections,
    "consent": _build_consents,
    "upload": _build_uploads,
    "section": _build_sections,
    "version": _build_versions,
    "voice": _build_voice,
    "transcript": _build_transcripts,
    "prompt": _build_prompts,
    "export": _build_exports,
    "capacity": _build_capacity,
    "help": _build_help,
    "talk": _build_talk,
    "note": _build_notes,
    "letter": _build_letters,
    "leaver": _build_leavers(waiting=False),
    "leaver_waiting": _build_leavers(waiting=True),
    "transfer": _build_transfers,
    "contributor": _build_contributors,
    "none": lambda scene: None,
}

# --- what each POST sends: valid data, so an allowed POST really does its work ----------


def _photo_upload(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {
        "title": "A new memory",
        "caption": "",
        "file": (io.BytesIO(factories.jpeg_bytes()), "photo.jpg"),
    }


def _relationship(prefix: str, role: Role) -> Callable[[Scene, User | None, str], dict]:
    def data(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
        w = scene.world
        if target in ("other_authority_child", "moved_child"):
            person = scene.other_authority_person(role)
        else:
            person = w.unplaced_carer if role is Role.CARER else w.unallocated_social_worker
        return {
            f"{prefix}-person_id": str(person.id),
            f"{prefix}-start_date": clock.today().isoformat(),
        }

    return data


def _transfer_request(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    """To the authority that is not the manager's own."""
    w = scene.world
    mine = actor is not None and actor.authority_id == w.authority.id
    to = w.other_authority if mine else w.authority
    return {"to_authority": str(to.id), "planned_on": "2031-01-01", "note": "An aunt."}


def _login(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    who = actor or scene.world.young_person
    return {"email": who.email, "password": factories.PASSWORD}


def _accept(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    issued = _invite(scene.world.authority, scene.world.manager)
    return {
        "token": issued.token,
        "password": "a brand new password",
        "confirm": "a brand new password",
    }


def _new_password(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {
        "current": factories.PASSWORD,
        "password": "a brand new password",
        "confirm": "a brand new password",
    }


def _invitation(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {"display_name": "Morgan", "email": "morgan@example.org", "role": "carer"}


def _share(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    # The child's wishes are needed when the social worker shares for a child with no login.
    return {
        "audience": "social_worker",
        "person_id": "",
        "ends_on": "",
        "childs_wishes": "Casey smiled and said yes.",
    }


def _album_to_add_to(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    whose = "young_child" if target.startswith("young_child") else "child"
    return {"collection_id": str(scene.extra[f"album_of_{whose}"])}


def _item_to_take_out(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {"item_id": str(scene.extra.get(f"{target}:item", MISSING_ID))}


def _prompt_words(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    prefix = f"p{scene.ids.get(target, MISSING_ID)}"
    return {f"{prefix}-title": "Pets I have loved", f"{prefix}-hint": "Who were they?"}


def _settings(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {
        "self_sharing_age": "12",
        "duty_email": "duty@example.org",
        "help_escalation_hours": "4",
    }


@dataclass(frozen=True)
class Raw:
    """A request body that is not a form: the tus upload protocol's."""

    headers: dict[str, str]
    body: bytes = b""


TUS = {"Tus-Resumable": "1.0.0"}


def _tus_start(scene: Scene, actor: User | None, target: str) -> Raw:
    name = base64.b64encode(b"photo.jpg").decode()
    return Raw(
        {**TUS, "Upload-Length": str(len(UPLOAD_BYTES)), "Upload-Metadata": f"filename {name}"}
    )


def _tus_part(scene: Scene, actor: User | None, target: str) -> Raw:
    """The whole file as one (last) part."""
    headers = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    return Raw(headers, UPLOAD_BYTES)


#: what each POST, PATCH and DELETE sends (nothing, unless listed)
POST_DATA: dict[str, Callable[[Scene, User | None, str], dict[str, Any] | Raw]] = {
    # their email as it is: a new one ends their other sessions, the ones the next targets use
    # (tests/test_leaving_care.py changes it)
    "leaving.email": lambda scene, actor, target: {
        "email": actor.email if actor is not None else "someone@personal.example",
        "password": factories.PASSWORD,
    },
    "leaving.delete": lambda scene, actor, target: {"password": factories.PASSWORD},
    "leaving.left_care": lambda scene, actor, target: {"left_on": clock.today().isoformat()},
    "leaving.add_named_person": lambda scene, actor, target: {
        "named-person_id": str(
            scene.world.unallocated_social_worker.id
            if actor is not None and actor.authority_id == scene.world.authority.id
            else scene.other_authority_person(Role.SOCIAL_WORKER).id
        )
    },
    "auth.login": _login,
    "auth.accept_invitation": _accept,
    "auth.change_password": _new_password,
    "box.add": _photo_upload,
    "items.edit": lambda scene, actor, target: {"title": "A better title", "caption": "Sunny"},
    "items.comment": lambda scene, actor, target: {"body": "I love this one."},
    "items.talk": lambda scene, actor, target: {"words": "Can we talk?", "show_item": "no"},
    "items.gentle": lambda scene, actor, target: {"choice": "hide"},
    "story.gentle": lambda scene, actor, target: {"choice": "hide"},
    "sharing.share_item": _share,
    "sharing.share_album": _share,
    "sharing.albums": lambda scene, actor, target: {"name": "Football"},
    "sharing.add_to_album": _album_to_add_to,
    "sharing.remove_from_album": _item_to_take_out,
    "manage.invite": _invitation,
    "manage.new_child": lambda scene, actor, target: {"display_name": "Robin"},
    "manage.settings": _settings,
    "manage.team_manager": lambda scene, actor, target: {
        "team_manager_id": str(actor.id) if actor is not None else ""
    },
    "notifications.settings": lambda scene, actor, target: {"email_messages": "y"},
    "manage.add_placement": _relationship("placement", Role.CARER),
    "manage.add_allocation": _relationship("allocation", Role.SOCIAL_WORKER),
    "tags.add": lambda scene, actor, target: {"name": "Nan"},
    "tags.remove": lambda scene, actor, target: {"tag": "1"},
    "story.add_section": lambda scene, actor, target: {"title": "Football"},
    "story.edit": lambda scene, actor, target: {"body": "What I wrote today."},
    "story.draft": lambda scene, actor, target: {"body": "What I am writing now."},
    "story.share": _share,
    "story.voice_note": _photo_upload,
    "story.words": lambda scene, actor, target: {"words": "Words I checked."},
    "manage.story_prompts": lambda scene, actor, target: {"title": "Pets", "hint": "Who?"},
    "manage.rename_story_prompt": _prompt_words,
    "manage.move_story_prompt": lambda scene, actor, target: {"direction": "down"},
    "exports.create": lambda scene, actor, target: {"kind": "json"},
    "transfers.new": _transfer_request,
    "transfers.decline": lambda scene, actor, target: {"reason": "No foster home free."},
    "letters.gentle": lambda scene, actor, target: {"choice": "open"},
    "letters.keep_note": lambda scene, actor, target: {"body": "Just for me."},
    "letters.talk": lambda scene, actor, target: {"words": "Can we talk?"},
    "letters.attach": _photo_upload,
    "letters.new": lambda scene, actor, target: {
        "title": "A letter",
        "body": "Words for you.",
        "rule": "asked",
    },
    "letters.edit": lambda scene, actor, target: {
        "title": "A letter",
        "body": "Better words for you.",
        "rule": "asked",
    },
    "contributors.send": _photo_upload,
    "contributors.manage": lambda scene, actor, target: {
        "display_name": "Nan",
        "relation": "nan",
        "email": f"nan-{target}@example.org",
    },
    "uploads.create": _tus_start,
    "uploads.append": _tus_part,
    "uploads.resume": lambda scene, actor, target: Raw(TUS),
    "uploads.cancel": lambda scene, actor, target: Raw(TUS),
}

#: POST data that is made by storing something first (a fresh invitation to accept)
PAYLOADS_THAT_WRITE = {"auth.accept_invitation"}

# --- helpers ---------------------------------------------------------------------------

_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]*(")')


def _normalised(body: bytes) -> bytes:
    """The body without the per-request CSRF token in the sign-out form."""
    return _CSRF_VALUE.sub(rb"\1\2", body)


def _is_login_redirect(response: Any) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code == 302 and urlsplit(location).path == "/login"


def _snapshot_queries() -> list[tuple[str, Any]]:
    """One compiled query per table (but the audit log, where denials are recorded)."""
    return [
        (table.name, select(table).order_by(*table.primary_key.columns))
        for table in Base.metadata.sorted_tables
        if table.name != "audit_events"
    ]


_SNAPSHOT_QUERIES: list[tuple[str, Any]] = []


def _postgres_fingerprint() -> Any:
    """On PostgreSQL, one statement answering for every table at once: each table's rows as
    text, sorted, hashed. Any stored change changes its table's hash, as comparing the rows
    would, in one round trip instead of one a table (the snapshot is taken thousands of
    times; the round trips were nearly half the matrix's time)."""
    hashes = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608 - our own tables' names
        f'FROM "{table.name}" t) AS "{table.name}"'
        for table in Base.metadata.sorted_tables
        if table.name != "audit_events"
    )
    return text(f"SELECT {hashes}")


def _snapshot(app: Flask) -> dict[str, Any]:
    """Every stored row (but the audit log) and every stored file. Taken thousands of times:
    straight through the session's connection, and os.walk rather than Path.rglob."""
    db.session.expire_all()
    connection = db.session.connection()
    tables: dict[str, Any]
    if connection.dialect.name == "postgresql":
        if not _SNAPSHOT_QUERIES:
            _SNAPSHOT_QUERIES.append(("*", _postgres_fingerprint()))
        tables = dict(connection.execute(_SNAPSHOT_QUERIES[0][1]).mappings().one())
    else:
        if not _SNAPSHOT_QUERIES:
            _SNAPSHOT_QUERIES.extend(_snapshot_queries())
        tables = {
            name: [tuple(row) for row in connection.execute(query)]
            for name, query in _SNAPSHOT_QUERIES
        }
    root = urlsplit(app.config["STORAGE_URL"]).path
    files = sorted(os.path.join(folder, f) for folder, _, names in os.walk(root) for f in names)
    return {"tables": tables, "files": files}


def _url(endpoint: str, target: str, scene: Scene) -> str:
    kind = _kind_of(endpoint)
    if kind == "none":
        return url_for(endpoint)
    ident = MISSING_IDS.get(kind, MISSING_ID) if target == MISSING else scene.ids[target]
    args: dict[str, Any] = {TARGET_ARG[kind]: ident}
    if kind == "version":
        args["version_id"] = scene.extra.get(f"{target}:version", MISSING_ID)
    if kind == "voice":
        args["item_id"] = scene.extra.get(f"{target}:item", MISSING_ID)
    if kind == "transcript":
        args["transcript_id"] = scene.extra.get(f"{target}:transcript", MISSING_ID)
    return url_for(endpoint, **args)


def _payload(
    endpoint: str, method: str, scene: Scene, actor: User | None, target: str
) -> dict[str, Any] | Raw:
    """What the request sends: valid data, so only policy can stop it."""
    make = POST_DATA.get(endpoint)
    return make(scene, actor, target) if make and method not in READ_METHODS else {}


def _send(client: FlaskClient, method: str, url: str, data: dict[str, Any] | Raw) -> Any:
    if isinstance(data, Raw):
        return client.open(url, method=method, headers=data.headers, data=data.body)
    if method in READ_METHODS or method == "DELETE":
        return client.open(url, method=method)
    return client.open(url, method=method, data=data, content_type="multipart/form-data")


def _signed_in_client(
    app: Flask, session_id: str | None, second_factor: str | None = None
) -> FlaskClient:
    """A fresh client, carrying a session for ``session_id`` (Flask-Login's user id) that
    has passed the second factor (``second_factor``: its mark, as the session keeps it)."""
    client = app.test_client()
    if session_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
            if second_factor is not None:
                session[step.PASSED] = second_factor
    return client


@dataclass
class Visitor:
    """One actor state in one scene: who it is and the session it brings."""

    state: str
    user: User | None
    session_id: str | None
    second_factor: str | None = None


def _visitor(scene: Scene, state: str) -> Visitor:
    user = _person(scene, state)
    if user is None:
        return Visitor(state, None, None)
    session_id = user.get_id()  # what login_as puts in the session, made before any switch-off
    passed = step.marker(user)  # made before any switch-off, like the session
    if state == DISABLED:
        accounts.disable(user)  # as the manager's "switch off" does
    return Visitor(state, user, session_id, passed)


# --- the tests -------------------------------------------------------------------------

_checked: dict[str, int] = {ALLOW: 0, DENY: 0, LOGIN: 0, REFUSED: 0, "groups": 0}


@pytest.fixture(scope="module", autouse=True)
def _transcription_on() -> Iterator[None]:
    """The voice-to-words pages exist only with the "transcribe" extra; the matrix checks
    who may use them whether or not this machine has it (a job that runs without the model
    ends "failed" with a reason, which is still an allowed request)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(transcribe, "available", lambda: True)
    yield
    patch.undo()


@pytest.fixture(scope="module", autouse=True)
def _count_cases() -> Iterator[None]:
    yield
    if not _checked["groups"]:
        return
    total = sum(_checked[outcome] for outcome in OUTCOMES)
    print(
        f"\naccess matrix: {total} cases checked "
        f"({_checked[ALLOW]} allowed, {_checked[DENY]} denied with 404, "
        f"{_checked[LOGIN]} sent to sign in, {_checked[REFUSED]} refused to a switched-off "
        f"account) in {_checked['groups']} groups"
    )
    assert total > 0


def test_matrix_covers_every_route(app: Flask) -> None:
    """Every rule (bar static) and every method it takes is in the matrix, and no more."""
    routes: dict[str, set[str]] = {}
    item_gets = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = (rule.methods or set()) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")  # Flask answers HEAD for every GET route
        routes.setdefault(rule.endpoint, set()).update(methods)
        if "item_id" in rule.arguments and "GET" in methods:
            item_gets.add(rule.endpoint)
    unlisted = sorted(set(routes) - set(MATRIX))
    gone = sorted(set(MATRIX) - set(routes))
    assert not unlisted, f"routes missing from the access matrix: {unlisted}"
    assert not gone, f"the access matrix lists routes that no longer exist: {gone}"
    unfetched = sorted(item_gets - set(FETCH_ENDPOINTS) - ITEM_FORMS)
    assert not unfetched, f"GET routes on an item missing from FETCH_ENDPOINTS: {unfetched}"
    for endpoint, methods in routes.items():
        listed = {m for m in HTTP_METHODS if m in MATRIX[endpoint]}
        assert listed == methods, (
            f"{endpoint}: takes {sorted(methods)}, matrix has {sorted(listed)}"
        )
        for method in listed:
            rules = MATRIX[endpoint][method]
            assert set(rules) <= set(ACTORS), f"{endpoint} {method}: unknown actor state"
            for actor, rule in rules.items():
                if isinstance(rule, str):
                    assert rule in OUTCOMES
                    continue
                unknown = set(rule) - set(_targets_of(endpoint))
                assert not unknown, f"{endpoint}: unknown targets {sorted(unknown)}"
                assert MISSING not in rule, f"{endpoint}: a missing id can never be allowed"
                assert actor != ANON
    for kind in TARGETS:
        assert kind in BUILDERS
        assert kind == "none" or kind in TARGET_ARG
    print(f"\naccess matrix: {CASE_COUNT} cases planned in {len(GROUPS)} groups")
    assert CASE_COUNT > 0


@dataclass
class _Group:
    """What the cases of one group share: the scene, the last snapshot taken (valid until a
    request is allowed, or an account is switched off), and the "not there" answers each
    visitor got (valid until a request is allowed: it could change what the page shows)."""

    app: Flask
    scene: Scene
    endpoint: str
    method: str
    snapshot: dict[str, Any] | None = None
    references: dict[tuple[str, bool], tuple[int, bytes]] = field(default_factory=dict)

    def before(self) -> dict[str, Any]:
        if self.snapshot is None:
            self.snapshot = _snapshot(self.app)
        return self.snapshot


def _reference(
    group: _Group, client: FlaskClient, visitor: Visitor, target: str
) -> tuple[int, bytes]:
    """What this visitor gets for something that is not there: the status and the body."""
    key = (visitor.state, target in (MISSING, NO_TARGET))
    if key not in group.references:
        if key[1]:
            # a page that simply is not there (for HEAD, its status and its empty body)
            method = "HEAD" if group.method == "HEAD" else "GET"
            response = client.open("/no-such-page", method=method)
        else:  # a missing id on the same route
            missing_url = _url(group.endpoint, MISSING, group.scene)
            data = _payload(group.endpoint, group.method, group.scene, visitor.user, MISSING)
            response = _send(client, group.method, missing_url, data)
        group.references[key] = (response.status_code, _normalised(response.data))
    return group.references[key]


def _check(group: _Group, visitor: Visitor, target: str) -> str | None:
    """Run one case; the problem found, or None when the app did what the matrix says."""
    endpoint, method, scene = group.endpoint, group.method, group.scene
    # a fresh session every case
    client = _signed_in_client(group.app, visitor.session_id, visitor.second_factor)
    want = expected(endpoint, method, visitor.state, target)
    url = _url(endpoint, target, scene)
    data = _payload(endpoint, method, scene, visitor.user, target)
    if method == "POST" and endpoint in PAYLOADS_THAT_WRITE:
        group.snapshot = None  # the payload itself stored something
    before = group.before() if want != ALLOW else None

    response = _send(client, method, url, data)
    got = f"{method} {url} [{target}] -> {response.status_code} {response.location or ''}".strip()

    if before is None:
        group.snapshot = None  # an allowed request may change anything
        group.references.clear()
    else:
        group.snapshot = _snapshot(group.app)
        if group.snapshot != before:
            return f"a refused request changed something: {got}"
    if want == ALLOW:
        if not 200 <= response.status_code < 400:
            return f"should be allowed: {got}"
        if _is_login_redirect(response):
            return f"allowed, but sent to sign in: {got}"
    elif want == LOGIN:
        if not _is_login_redirect(response):
            return f"should send to sign in: {got}"
    elif want == REFUSED:
        if not (_is_login_redirect(response) or response.status_code in (401, 404)):
            return f"a switched-off account should be refused: {got}"
    else:
        if response.status_code != 404:
            return f"should be 404: {got}"
        status, body = _reference(group, client, visitor, target)
        if status != 404:
            return f"the missing-id reference answered {status}, not 404"
        if _normalised(response.data) != body:
            return f"forbidden and missing look different: {got}"
    _checked[want] += 1
    return None


@pytest.mark.parametrize(("endpoint", "method", "actors"), GROUPS)
def test_access(
    app: Flask, world: World, endpoint: str, method: str, actors: tuple[str, ...]
) -> None:
    _checked["groups"] += 1
    scene = Scene(app, world)
    scene.media = FETCH_ENDPOINTS.get(endpoint, PHOTO)
    BUILDERS[_kind_of(endpoint)](scene)
    group = _Group(app, scene, endpoint, method)
    problems = []
    for actor in actors:
        visitor = _visitor(scene, actor)
        group.snapshot = None  # switching an account off changes the world
        for target in _targets_of(endpoint):
            problem = _check(group, visitor, target)
            if problem is not None:
                problems.append(f"as {actor}: {problem}")
    assert not problems, f"{endpoint} {method}:\n  " + "\n  ".join(problems)


def test_the_snapshot_sees_any_stored_change(app: Flask, world: World) -> None:
    """The matrix's "a refused request changed nothing" rests on the snapshot: a change to
    any stored value, a new row or a new file must show in it (on PostgreSQL it compares
    each table's hash)."""
    first = _snapshot(app)
    assert _snapshot(app) == first
    world.child.display_name = world.child.display_name + " Jr"
    db.session.commit()
    renamed = _snapshot(app)
    assert renamed != first
    factories.item(app, world.child, world.young_person)
    assert _snapshot(app) != renamed


def test_a_switched_off_account_is_refused_even_with_a_current_session(
    app: Flask, world: World
) -> None:
    """Switching off ends the sessions (new version) and the account itself (not active):
    each on its own is enough. Here the session carries the version after the switch-off."""
    it = factories.item(app, world.child, world.young_person)
    accounts.disable(world.young_person)
    client = app.test_client()
    factories.login_as(client, world.young_person)  # the current session version
    for url in (
        f"/children/{world.child.id}/box",
        f"/children/{world.child.id}/sharing",
        f"/items/{it.id}",
        f"/items/{it.id}/download",
    ):
        response = client.get(url)
        assert _is_login_redirect(response) or response.status_code == 404, url


# --- forged form fields ----------------------------------------------------------------


def _invitations() -> list[Invitation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Invitation)))


def _field_error(body: bytes, field_id: str) -> str:
    match = re.search(
        rf'id="{re.escape(field_id)}-error"><span class="visually-hidden">Error: </span>([^<]*)<',
        body.decode(),
    )
    assert match, f"no error shown for {field_id}"
    return match.group(1).strip()


@pytest.mark.parametrize(
    ("role", "child_attr", "error_field"),
    [
        pytest.param("admin", None, "role", id="role-admin"),
        pytest.param("superuser", None, "role", id="role-superuser"),
        pytest.param("young_person", "other_authority_child", "child_id", id="yp-other-child"),
        pytest.param("carer", "other_authority_child", "child_id", id="carer-other-child"),
        pytest.param("young_person", "missing_child", "child_id", id="yp-missing-child"),
    ],
)
def test_invite_refuses_forged_role_or_child(
    client: FlaskClient, world: World, role: str, child_attr: str | None, error_field: str
) -> None:
    # A child in the other authority with no login yet: the only thing wrong is the authority.
    free_child = factories.child(world.other_authority, None, "Elliot")
    child_id = {None: "", "other_authority_child": str(free_child.id), "missing_child": "999999"}
    factories.login_as(client, world.manager)
    response = client.post(
        "/manage/people/invite",
        data={
            "display_name": "Mallory",
            "email": "mallory@example.org",
            "role": role,
            "child_id": child_id[child_attr],
        },
    )
    assert response.status_code == 400
    message = _field_error(response.data, error_field)
    if error_field == "child_id":
        assert message == "Please choose a child from your authority."
    else:
        assert message, "the person is told what to fix"  # WTForms: "Not a valid choice."
    assert "Traceback" not in response.text
    assert _invitations() == []


def test_invite_ignores_a_forged_authority(client: FlaskClient, world: World) -> None:
    factories.login_as(client, world.manager)
    response = client.post(
        "/manage/people/invite",
        data={
            "display_name": "Mallory",
            "email": "mallory@example.org",
            "role": "carer",
            "authority_id": str(world.other_authority.id),
        },
    )
    assert response.status_code == 201
    (invitation,) = _invitations()
    assert invitation.authority_id == world.authority.id
    assert invitation.role is Role.CARER


def _relationship_counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        len(db.session.scalars(select(Placement)).all()),
        len(db.session.scalars(select(Allocation)).all()),
    )


@pytest.mark.parametrize(
    ("kind", "person"),
    [
        pytest.param("placement", "other_authority_carer", id="placement-other-authority-carer"),
        pytest.param("placement", "social_worker", id="placement-social-worker"),
        pytest.param("placement", "young_person", id="placement-young-person"),
        pytest.param("placement", "manager", id="placement-manager"),
        pytest.param("placement", "missing", id="placement-missing-person"),
        pytest.param("allocation", "other_authority_sw", id="allocation-other-authority-sw"),
        pytest.param("allocation", "carer", id="allocation-carer"),
    ],
)
def test_relationship_refuses_forged_person(
    app: Flask, client: FlaskClient, world: World, kind: str, person: str
) -> None:
    people = {
        "other_authority_carer": lambda: factories.user(app, world.other_authority, Role.CARER),
        "other_authority_sw": lambda: factories.user(
            app, world.other_authority, Role.SOCIAL_WORKER
        ),
        "social_worker": lambda: world.unallocated_social_worker,
        "young_person": lambda: world.other_young_person,
        "manager": lambda: world.manager,
        "carer": lambda: world.unplaced_carer,
    }
    person_id = people[person]().id if person in people else 999_999
    before = _relationship_counts()
    factories.login_as(client, world.manager)
    response = client.post(
        f"/manage/children/{world.child.id}/{kind}s",
        data={f"{kind}-person_id": str(person_id), f"{kind}-start_date": clock.today().isoformat()},
    )
    assert response.status_code == 400
    label = "foster carer" if kind == "placement" else "social worker"
    assert _field_error(response.data, f"{kind}-person_id") == (
        f"Please choose a {label} from your authority."
    )
    assert _relationship_counts() == before


@pytest.mark.parametrize("adder", ["carer", "young_person"])
def test_add_item_ignores_forged_child_and_adder(
    client: FlaskClient, world: World, adder: str
) -> None:
    user = getattr(world, adder)
    factories.login_as(client, user)
    response = client.post(
        f"/children/{world.child.id}/add",
        data={
            "title": "Forged",
            "file": (io.BytesIO(factories.jpeg_bytes()), "photo.jpg"),
            "child_id": str(world.other_child.id),
            "added_by_id": str(world.other_young_person.id),
            "status": "kept" if adder == "carer" else "suggested",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    (item,) = db.session.scalars(select(MemoryItem)).all()
    assert item.child_id == world.child.id
    assert item.added_by_id == user.id
    assert item.status is (ItemStatus.SUGGESTED if adder == "carer" else ItemStatus.KEPT)


def test_edit_item_ignores_forged_child_adder_and_status(
    app: Flask, client: FlaskClient, world: World
) -> None:
    it = factories.item(app, world.child, world.carer, status=ItemStatus.SUGGESTED)
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/items/{it.id}/edit",
        data={
            "title": "Renamed",
            "child_id": str(world.other_child.id),
            "added_by_id": str(world.young_person.id),
            "status": "kept",
            "deleted_at": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(MemoryItem, it.id)
    assert item is not None
    assert item.title == "Renamed"
    assert item.child_id == world.child.id
    assert item.added_by_id == world.carer.id
    assert item.status is ItemStatus.SUGGESTED


# --- forged fields in the sharing forms -------------------------------------------------


def _consent_rows() -> list[tuple[Any, ...]]:
    """Every consent row, every column, in id order."""
    db.session.expire_all()
    table = Consent.__table__
    return [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id))]


def _album_entries() -> list[tuple[int, int]]:
    db.session.expire_all()
    return [
        (e.collection_id, e.item_id)
        for e in db.session.scalars(select(CollectionItem).order_by(CollectionItem.id))
    ]


@pytest.mark.parametrize(
    ("audience", "who"),
    [
        pytest.param("person", "other_manager", id="person-other-authority-manager"),
        pytest.param("person", "manager", id="person-own-manager"),
        pytest.param("person", "unplaced_carer", id="person-unrelated-carer"),
        pytest.param("person", "unallocated_social_worker", id="person-unrelated-sw"),
        pytest.param("person", "other_young_person", id="person-another-child"),
        pytest.param("person", "other_authority_carer", id="person-other-authority-carer"),
        pytest.param("person", "disabled_ended_carer", id="person-switched-off-carer"),
        pytest.param("person", "missing", id="person-missing"),
        pytest.param("person", "nobody", id="person-empty"),
        pytest.param("admin", "nobody", id="audience-admin"),
        pytest.param("everyone", "nobody", id="audience-everyone"),
        pytest.param("manager", "nobody", id="audience-manager"),
        pytest.param("", "nobody", id="audience-empty"),
    ],
)
@pytest.mark.parametrize("subject", ["item", "album"])
def test_share_refuses_forged_audience_or_person(
    app: Flask, client: FlaskClient, world: World, subject: str, audience: str, who: str
) -> None:
    """Only carers, the social worker, or one person from the child's own life."""
    people: dict[str, Callable[[], User]] = {
        "other_authority_carer": lambda: factories.user(app, world.other_authority, Role.CARER),
        "disabled_ended_carer": lambda: _switched_off(world.ended_carer),
    }
    person_id = {"nobody": "", "missing": str(MISSING_ID)}.get(who, "")
    if not person_id and who != "nobody":
        person_id = str((people[who]() if who in people else getattr(world, who)).id)
    it = factories.item(app, world.child, world.young_person)
    url = f"/items/{it.id}/share"
    if subject == "album":
        url = f"/albums/{_album(world.child, 'Nan', it).id}/share"
    factories.login_as(client, world.young_person)
    response = client.post(
        url, data={"audience": audience, "person_id": person_id, "ends_on": "", "childs_wishes": ""}
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert _consent_rows() == []


def _switched_off(user: User) -> User:
    accounts.disable(user)
    return user


@pytest.mark.parametrize("subject", ["item", "album"])
@pytest.mark.parametrize("decider", ["young_person", "social_worker"])
def test_share_ignores_forged_child_decider_basis_and_state(
    app: Flask, client: FlaskClient, world: World, decider: str, subject: str
) -> None:
    """The consent is for the child whose thing is in the URL, decided by whoever is signed
    in, on the basis that follows from who that is, live, for the audience chosen."""
    user = getattr(world, decider)
    child = world.child if decider == "young_person" else world.young_child
    it = factories.item(app, child, world.young_person if child is world.child else world.carer)
    album = _album(child, "Nan", it)
    elsewhere = factories.item(app, world.other_child, world.other_young_person)
    elsewhere_album = _album(world.other_child, "Blake's", elsewhere)
    url = f"/items/{it.id}/share" if subject == "item" else f"/albums/{album.id}/share"
    factories.login_as(client, user)
    response = client.post(
        url,
        data={
            "audience": "carers",
            "person_id": str(world.unplaced_carer.id),  # not asked for carers: dropped
            "ends_on": "",
            "childs_wishes": "Yes please.",
            "child_id": str(world.other_child.id),
            "item_id": str(elsewhere.id),
            "collection_id": str(elsewhere_album.id),
            "decided_by_id": str(world.manager.id),
            "basis": Basis.ON_BEHALF.value if decider == "young_person" else "own_decision",
            "revoked_at": "2020-01-01T00:00:00",
            "revoked_by_id": str(world.manager.id),
            "created_at": "2001-01-01T00:00:00",
        },
    )
    assert response.status_code == 302
    (consent,) = db.session.scalars(select(Consent)).all()
    assert consent.child_id == child.id
    if subject == "item":
        assert (consent.item_id, consent.collection_id) == (it.id, None)
    else:
        assert (consent.item_id, consent.collection_id) == (None, album.id)
    assert consent.audience is Audience.CARERS
    assert consent.person_id is None
    assert consent.decided_by_id == user.id
    expected_basis = Basis.OWN_DECISION if decider == "young_person" else Basis.ON_BEHALF
    assert consent.basis is expected_basis
    assert consent.revoked_at is None and consent.revoked_by_id is None
    assert consent.created_at > clock.now() - timedelta(minutes=5)


@pytest.mark.parametrize(
    "whose", ["other_child", "other_authority_child", "young_child", "missing"]
)
def test_add_to_album_refuses_another_childs_album(
    app: Flask, client: FlaskClient, world: World, whose: str
) -> None:
    it = factories.item(app, world.child, world.young_person)
    _album(world.child, "Mine")
    if whose == "missing":
        collection_id = MISSING_ID
    else:
        child = getattr(world, whose)
        collection_id = _album(child, "Not Alex's").id
    before = _album_entries()
    factories.login_as(client, world.young_person)
    response = client.post(f"/items/{it.id}/add-to-album", data={"collection_id": collection_id})
    assert response.status_code == 404
    assert _album_entries() == before


def test_add_to_album_refuses_another_childs_item_in_the_url(
    app: Flask, client: FlaskClient, world: World
) -> None:
    theirs = factories.item(app, world.other_child, world.other_young_person)
    mine = _album(world.child, "Mine")
    factories.login_as(client, world.young_person)
    response = client.post(f"/items/{theirs.id}/add-to-album", data={"collection_id": mine.id})
    assert response.status_code == 404
    assert _album_entries() == []


def test_remove_from_album_refuses_a_forged_item(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """An item of another child named in the form: 404, and both albums keep their items."""
    mine = factories.item(app, world.child, world.young_person)
    album = _album(world.child, "Mine", mine)
    theirs = factories.item(app, world.other_child, world.other_young_person)
    _album(world.other_child, "Blake's", theirs)
    before = _album_entries()
    factories.login_as(client, world.young_person)
    response = client.post(f"/albums/{album.id}/remove", data={"item_id": theirs.id})
    assert response.status_code == 404
    assert _album_entries() == before


def _some_consents(app: Flask, world: World) -> dict[str, Consent]:
    """Consents of every kind, for world.child and for others."""
    beach = factories.item(app, world.child, world.young_person, title="Beach")
    album = _album(world.child, "Nan", factories.item(app, world.child, world.young_person))
    casey = factories.item(app, world.young_child, world.carer)
    blake = factories.item(app, world.other_child, world.other_young_person)
    drew = factories.item(app, world.other_authority_child, world.other_authority_young_person)
    return {
        "carers": _consent(world.child, Audience.CARERS, item=beach),
        "social_worker": _consent(world.child, Audience.SOCIAL_WORKER, item=beach),
        "person": _consent(world.child, Audience.PERSON, person=world.ended_carer, item=beach),
        "album": _consent(world.child, Audience.CARERS, collection=album),
        "expired": _consent(world.child, Audience.CARERS, state="expired", item=beach),
        "young_child": _consent(
            world.young_child, Audience.CARERS, item=casey, decided_by=world.social_worker
        ),
        "other_child": _consent(world.other_child, Audience.CARERS, item=blake),
        "other_authority_child": _consent(world.other_authority_child, Audience.CARERS, item=drew),
    }


@pytest.mark.parametrize("whose", ["young_child", "other_child", "other_authority_child"])
def test_stop_refuses_another_childs_consent(
    app: Flask, client: FlaskClient, world: World, whose: str
) -> None:
    consents = _some_consents(app, world)
    before = _consent_rows()
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/consents/{consents[whose].id}/stop",
        data={"consent_id": str(consents["carers"].id), "next": "/"},
    )
    assert response.status_code == 404
    assert _consent_rows() == before


@pytest.mark.parametrize("which", ["carers", "social_worker", "person", "album", "expired"])
def test_stopping_one_consent_changes_exactly_that_consent(
    app: Flask, client: FlaskClient, world: World, which: str
) -> None:
    """Nextcloud once wiped every grant on one revocation: here one consent row changes, and
    only in who stopped it and when, whatever other ids the form carries."""
    consents = _some_consents(app, world)
    target = consents[which]
    others = [c for name, c in consents.items() if name != which]
    before = {row[0]: row for row in _consent_rows()}
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/consents/{target.id}/stop",
        data={
            "consent_id": str(others[0].id),
            "child_id": str(world.other_child.id),
            "item_id": str(others[-1].item_id),
            "revoked_by_id": str(world.manager.id),
            "audience": "person",
        },
    )
    assert response.status_code == 302
    after = {row[0]: row for row in _consent_rows()}
    assert after.keys() == before.keys()
    changed = [ident for ident in before if before[ident] != after[ident]]
    assert changed == [target.id]
    columns = [c.name for c in Consent.__table__.columns]
    differs = {
        name
        for name, old, new in zip(columns, before[target.id], after[target.id], strict=True)
        if old != new
    }
    assert differs == {"revoked_at", "revoked_by_id"}
    db.session.expire_all()
    stopped = db.session.get(Consent, target.id)
    assert stopped is not None and stopped.revoked_by_id == world.young_person.id


def test_new_album_ignores_a_forged_child(client: FlaskClient, world: World) -> None:
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/children/{world.child.id}/albums",
        data={"name": "Football", "child_id": str(world.other_child.id)},
    )
    assert response.status_code == 302
    (album,) = db.session.scalars(select(Collection)).all()
    assert album.child_id == world.child.id


def test_comment_ignores_a_forged_author_and_item(
    app: Flask, client: FlaskClient, world: World
) -> None:
    it = factories.item(app, world.child, world.carer, status=ItemStatus.SUGGESTED)
    other = factories.item(app, world.other_child, world.other_young_person)
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/items/{it.id}/comments",
        data={"body": "Thanks!", "author_id": str(world.carer.id), "item_id": str(other.id)},
    )
    assert response.status_code == 302
    (comment,) = db.session.scalars(select(Comment)).all()
    assert (comment.item_id, comment.author_id) == (it.id, world.young_person.id)


def test_help_ignores_a_forged_child_and_asker(client: FlaskClient, world: World) -> None:
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/children/{world.child.id}/help",
        data={"child_id": str(world.other_child.id), "requested_by_id": str(world.carer.id)},
    )
    assert response.status_code in (200, 302)
    (request,) = db.session.scalars(select(HelpRequest)).all()
    assert (request.child_id, request.requested_by_id) == (world.child.id, world.young_person.id)


def test_settings_ignore_a_forged_authority(client: FlaskClient, world: World) -> None:
    factories.login_as(client, world.manager)
    response = client.post(
        "/manage/settings",
        data={
            "self_sharing_age": "14",
            "moderation_required": "y",
            "authority_id": str(world.other_authority.id),
            "id": str(world.other_authority.id),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    mine = db.session.get(Authority, world.authority.id)
    theirs = db.session.get(Authority, world.other_authority.id)
    assert mine is not None and theirs is not None
    assert (mine.self_sharing_age, mine.moderation_required) == (14, True)
    assert (theirs.self_sharing_age, theirs.moderation_required) == (12, False)


def test_recording_capacity_ignores_a_forged_child_and_recorder(
    client: FlaskClient, world: World
) -> None:
    world.authority.self_sharing_age = 14  # so that Alex (13) does not decide yet
    db.session.commit()
    factories.login_as(client, world.social_worker)
    response = client.post(
        f"/caseload/children/{world.child.id}/decides-sharing",
        data={
            "child_id": str(world.other_child.id),
            "decides_sharing_recorded_by_id": str(world.manager.id),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    child = db.session.get(Child, world.child.id)
    other = db.session.get(Child, world.other_child.id)
    assert child is not None and other is not None
    assert child.decides_sharing_since is not None
    assert child.decides_sharing_recorded_by_id == world.social_worker.id
    assert other.decides_sharing_since is None


@pytest.mark.parametrize("verdict", ["approve", "not-approve"])
def test_review_ignores_a_forged_status_and_reviewer(
    app: Flask, client: FlaskClient, world: World, verdict: str
) -> None:
    world.authority.moderation_required = True
    db.session.commit()
    it = factories.item(app, world.child, world.carer, status=ItemStatus.AWAITING_APPROVAL)
    factories.login_as(client, world.social_worker)
    response = client.post(
        f"/items/{it.id}/{verdict}",
        data={"status": "kept", "reviewed_by_id": str(world.manager.id)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(MemoryItem, it.id)
    assert item is not None
    wanted = ItemStatus.SUGGESTED if verdict == "approve" else ItemStatus.NOT_APPROVED
    assert (item.status, item.reviewed_by_id) == (wanted, world.social_worker.id)


def _finished_upload(app: Flask, user: User, child: Child) -> UploadSession:
    storage = _storage(app)
    session = uploads.start(
        user=user,
        child=child,
        length=len(UPLOAD_BYTES),
        filename="photo.jpg",
        storage=storage,
        max_bytes=app.config["MAX_RESUMABLE_BYTES"],
    )
    uploads.append(
        session,
        offset=0,
        stream=io.BytesIO(UPLOAD_BYTES),
        length=len(UPLOAD_BYTES),
        storage=storage,
    )
    return session


def _upload_rows() -> list[tuple[Any, ...]]:
    db.session.expire_all()
    table = UploadSession.__table__
    return [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id))]


@pytest.mark.parametrize(
    ("owner", "for_child"),
    [
        pytest.param("carer", "child", id="the-active-carers-upload-for-this-child"),
        pytest.param("other_young_person", "other_child", id="another-childs-upload"),
    ],
)
def test_add_refuses_an_upload_that_is_not_yours(
    app: Flask, client: FlaskClient, world: World, owner: str, for_child: str
) -> None:
    """The add form's hidden ``upload`` field, forged to name someone else's finished
    upload: nothing is added, the upload is untouched, and the answer is the one for an
    upload that is not there (so the field cannot tell whose uploads exist)."""
    theirs = _finished_upload(app, getattr(world, owner), getattr(world, for_child))
    before = _upload_rows()
    factories.login_as(client, world.young_person)
    url = f"/children/{world.child.id}/add"
    forged = client.post(url, data={"title": "Mine now", "upload": theirs.id})
    missing = client.post(url, data={"title": "Mine now", "upload": "0" * 32})
    assert db.session.scalars(select(MemoryItem)).all() == []
    assert _upload_rows() == before
    assert 400 <= missing.status_code < 500
    assert forged.status_code == missing.status_code, (
        f"someone else's upload answers {forged.status_code}, a missing one {missing.status_code}"
    )


# --- forged fields in the story forms ---------------------------------------------------


def _story_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every My Story table, and every consent."""
    db.session.expire_all()
    connection = db.session.connection()
    return {
        table.name: [
            tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key))
        ]
        for table in Base.metadata.sorted_tables
        if table.name.startswith("story_") or table.name == Consent.__tablename__
    }


@pytest.mark.parametrize(
    ("audience", "who"),
    [
        pytest.param("person", "unplaced_carer", id="person-unrelated-carer"),
        pytest.param("person", "unallocated_social_worker", id="person-unrelated-sw"),
        pytest.param("person", "other_young_person", id="person-another-child"),
        pytest.param("person", "manager", id="person-own-manager"),
        pytest.param("person", "other_manager", id="person-other-authority-manager"),
        pytest.param("person", "other_authority_carer", id="person-other-authority-carer"),
        pytest.param("person", "disabled_ended_carer", id="person-switched-off-carer"),
        pytest.param("person", "missing", id="person-missing"),
        pytest.param("person", "nobody", id="person-empty"),
        pytest.param("everyone", "nobody", id="audience-everyone"),
        pytest.param("manager", "nobody", id="audience-manager"),
    ],
)
def test_share_section_refuses_a_person_outside_the_childs_life(
    app: Flask, client: FlaskClient, world: World, audience: str, who: str
) -> None:
    """A section goes only to carers, the social worker, or one person from the child's life."""
    people: dict[str, Callable[[], User]] = {
        "other_authority_carer": lambda: factories.user(app, world.other_authority, Role.CARER),
        "disabled_ended_carer": lambda: _switched_off(world.ended_carer),
    }
    person_id = {"nobody": "", "missing": str(MISSING_ID)}.get(who, "")
    if not person_id and who != "nobody":
        person_id = str((people[who]() if who in people else getattr(world, who)).id)
    section = _section(world.child, "About me", "I like football.")
    before = _story_rows()
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/story/{section.id}/share",
        data={"audience": audience, "person_id": person_id, "ends_on": "", "childs_wishes": ""},
    )
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert _consent_rows() == []
    assert _story_rows() == before


def test_share_section_ignores_forged_section_child_and_decider(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """The consent is for the section in the URL, of its child, decided by whoever is signed
    in, live, whatever other ids the form carries."""
    mine = _section(world.child, "About me", "I like football.")
    theirs = _section(world.other_child, "Blake's part", "Blake's words.")
    elsewhere = factories.item(app, world.other_child, world.other_young_person)
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/story/{mine.id}/share",
        data={
            "audience": "social_worker",
            "person_id": "",
            "ends_on": "",
            "childs_wishes": "",
            "story_section_id": str(theirs.id),
            "section_id": str(theirs.id),
            "child_id": str(world.other_child.id),
            "item_id": str(elsewhere.id),
            "decided_by_id": str(world.manager.id),
            "basis": Basis.ON_BEHALF.value,
            "revoked_at": "2020-01-01T00:00:00",
        },
    )
    assert response.status_code == 302
    (consent,) = db.session.scalars(select(Consent)).all()
    assert consent.story_section_id == mine.id
    assert consent.child_id == world.child.id
    assert (consent.item_id, consent.collection_id) == (None, None)
    assert consent.audience is Audience.SOCIAL_WORKER and consent.person_id is None
    assert consent.decided_by_id == world.young_person.id
    assert consent.basis is Basis.OWN_DECISION
    assert consent.revoked_at is None


@pytest.mark.parametrize(
    "whose", ["other_child", "other_authority_child", "own_other_section", "missing"]
)
def test_restore_refuses_a_version_of_another_section(
    client: FlaskClient, world: World, whose: str
) -> None:
    """The version id beside the child's own section names another section's version (or
    none): 404, the same answer as a missing version, and nothing changes."""
    mine = _section(world.child, "About me", "My first words.", "My newer words.")
    version_id = {
        "other_child": lambda: _first_version(
            _section(world.other_child, "Blake's part", "Blake's secret words.")
        ),
        "other_authority_child": lambda: _first_version(
            _section(world.other_authority_child, "Drew's part", "Drew's secret words.")
        ),
        "own_other_section": lambda: _first_version(
            _section(world.child, "School", "Words from another part.")
        ),
        "missing": lambda: MISSING_ID,
    }[whose]()
    before = _story_rows()
    factories.login_as(client, world.young_person)
    response = client.post(f"/story/{mine.id}/versions/{version_id}/restore")
    missing = client.post(f"/story/{mine.id}/versions/{MISSING_ID}/restore")
    assert response.status_code == 404
    assert _normalised(response.data) == _normalised(missing.data)
    assert _story_rows() == before
    db.session.expire_all()
    section = db.session.get(StorySection, mine.id)
    assert section is not None and section.latest is not None
    assert section.latest.body == "My newer words."


def test_add_section_ignores_a_forged_child(client: FlaskClient, world: World) -> None:
    """The new section is the URL's child's, whatever child (or prompt) the form names."""
    other_prompt = story.prompts_of(world.other_authority)[0]
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/children/{world.child.id}/story/sections",
        data={
            "title": "Football",
            "child_id": str(world.other_child.id),
            "prompt_id": str(other_prompt.id),
            "own_title": "Not this",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    (section,) = db.session.scalars(select(StorySection)).all()
    assert section.child_id == world.child.id
    assert (section.own_title, section.prompt_id) == ("Football", None)
    assert section.versions == []


def test_edit_section_refuses_another_childs_item_and_ignores_forged_fields(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Things from another child's box can't go with a section; forged version fields are
    ignored: the new version is the next one of the URL's section, by whoever is signed in."""
    mine = _section(world.child, "About me", "My first words.")
    theirs = factories.item(app, world.other_child, world.other_young_person)
    before = _story_rows()
    factories.login_as(client, world.young_person)
    refused = client.post(f"/story/{mine.id}", data={"body": "New words", "items": [theirs.id]})
    assert refused.status_code == 400
    assert _story_rows() == before
    blake = _section(world.other_child, "Blake's part", "Blake's words.")
    response = client.post(
        f"/story/{mine.id}",
        data={
            "body": "New words",
            "section_id": str(blake.id),
            "number": "99",
            "created_by_id": str(world.other_young_person.id),
            "restored_from": "1",
            "source": "voice",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    versions = db.session.scalars(
        select(SectionVersion).order_by(SectionVersion.section_id, SectionVersion.number)
    ).all()
    new = [v for v in versions if v.body == "New words"]
    assert len(new) == 1
    assert (new[0].section_id, new[0].number) == (mine.id, 2)
    assert (new[0].created_by_id, new[0].restored_from, new[0].source) == (
        world.young_person.id,
        None,
        "typed",
    )
