"""The child's side of sharing: who can see what, albums, sharing and stopping, who looked,
and asking for help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from memorybox import clock, i18n, policy
from memorybox.accounts.models import User
from memorybox.audit import service as audit
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.exports.models import Export
from memorybox.i18n import gettext as _
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.notifications import help as helping
from memorybox.pagination import Page
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience, Collection, Consent
from memorybox.story.models import StorySection
from memorybox.transfers import services as transfers
from memorybox.web import alerts, lists, words
from memorybox.web.access import can, load, require, signed_in_actor, signed_in_only
from memorybox.web.forms import AlbumForm, ShareForm
from memorybox.web.people import describe
from memorybox.words import words_of

bp = Blueprint("sharing", __name__)


signed_in_only(bp)


@bp.get("/children/<int:child_id>/sharing")
def overview(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.SHARING_VIEW)
    history = lists.page(lambda after: sharing.consents_page(child, after))
    return render_template(
        "sharing/overview.html",
        child=child,
        albums=sharing.collections_of(child),
        items=lists.page(lambda after: memories.box_page(child, after), "items"),
        active=lists.page(lambda after: sharing.consents_page(child, after, live=True), "now"),
        history=history,
        ended_by_move=transfers.ended_by_move(c.id for c in history.rows),
        decides_for_self=sharing.decides_for_self(child),
        describe=describe,
    )


@bp.get("/children/<int:child_id>/seen")
def seen(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.SHARING_VIEW)
    events = lists.page(lambda after: audit.looks_page(child, after))
    return render_template(
        "sharing/seen.html",
        child=child,
        lines=Page(_seen_lines(events.rows, child), events.more),
        describe=describe,
    )


def _seen_lines(events: list[AuditEvent], child: Child) -> list[SeenLine]:
    """One line per person, thing, way and day, newest first: opening a page also fetches its
    picture, and both are recorded, but for the child that is one look."""
    item_ids = [e.item_id for e in events if e.item_id]
    titles = _names(select(MemoryItem.id, MemoryItem.title), MemoryItem.id, item_ids)
    section_ids = [e.target_id for e in events if e.target_type == "storysection" and e.target_id]
    sections = {
        s.id: s.title
        for s in _rows(
            select(StorySection).options(joinedload(StorySection.prompt)),
            StorySection.id,
            section_ids,
        )
    }
    export_ids = [e.target_id for e in events if e.target_type == "export" and e.target_id]
    kinds = {x.id: x.kind.label for x in _rows(select(Export), Export.id, export_ids)}
    lines: list[SeenLine] = []
    seen_keys: set[tuple[object, ...]] = set()
    # A page holds a few people on a few days: each is described, and each day written, once.
    people: dict[int | None, str] = {}
    days: dict[date, str] = {}
    for event in events:
        day = event.occurred_at.astimezone(clock.LOCAL_ZONE).date()
        if event.item_id:
            key: tuple[object, ...] = (event.actor_id, event.action, "item", event.item_id, day)
        else:
            key = (event.actor_id, event.action, event.target_type, event.target_id, day)
        if key in seen_keys:  # the same look again (a page and its picture): said once
            continue
        seen_keys.add(key)
        if event.actor_id not in people:
            people[event.actor_id] = describe(event.actor, child)
        who = people[event.actor_id]
        if day not in days:
            days[day] = i18n.weekday(day)
        # "Jo, your foster carer, looked at ...": a description with a comma is closed by one
        said = {"who": who + ("," if ", " in who else ""), "day": days[day]}
        if event.item_id:
            verb = "downloaded" if event.action == "item:download" else "looked at"
            title = titles.get(event.item_id)
            what = title or ""
            if verb == "downloaded":
                words = (
                    _("%(who)s downloaded “%(title)s” on %(day)s.", title=title, **said)
                    if title is not None
                    else _("%(who)s downloaded something you deleted on %(day)s.", **said)
                )
            else:
                words = (
                    _("%(who)s looked at “%(title)s” on %(day)s.", title=title, **said)
                    if title is not None
                    else _("%(who)s looked at something you deleted on %(day)s.", **said)
                )
        elif event.target_type == "storysection" and event.action == Action.SECTION_READ.value:
            verb = "read"
            heading = sections.get(event.target_id or 0)
            what = heading or ""
            words = (
                _("%(who)s read “%(title)s” in your story on %(day)s.", title=heading, **said)
                if heading
                else _("%(who)s read part of your story on %(day)s.", **said)
            )
        elif event.target_type == "export":
            verb = "downloaded" if event.action == Action.EXPORT_DOWNLOAD.value else "asked for"
            label = kinds.get(event.target_id or 0)
            what = label or ""
            if verb == "downloaded":
                words = (
                    _(
                        "%(who)s downloaded a copy of what you share with them: %(kind)s on "
                        "%(day)s.",
                        kind=label,
                        **said,
                    )
                    if label
                    else _(
                        "%(who)s downloaded a copy of what you share with them on %(day)s.", **said
                    )
                )
            else:
                words = (
                    _(
                        "%(who)s asked for a copy of what you share with them: %(kind)s on "
                        "%(day)s.",
                        kind=label,
                        **said,
                    )
                    if label
                    else _(
                        "%(who)s asked for a copy of what you share with them on %(day)s.", **said
                    )
                )
        else:
            continue
        line_key = (event.actor_id, verb, what, day)
        if line_key in seen_keys:
            continue
        seen_keys.add(line_key)
        lines.append(SeenLine(who, verb, what, day, words))
    return lines


def _rows(query: Any, column: Any, ids: list[int]) -> list[Any]:
    """Rows whose ``column`` is one of ``ids`` (no query at all for none)."""
    return list(db.session.scalars(query.where(column.in_(ids)))) if ids else []


def _names(query: Any, column: Any, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {key: name for key, name in db.session.execute(query.where(column.in_(ids)))}


@dataclass(frozen=True)
class SeenLine:
    who: str
    verb: str
    what: str
    day: date
    words: str  # the whole line, in the page's language


def _share_form(child: Child) -> ShareForm:
    form = ShareForm()
    people = sharing.people_in_childs_life(child)
    form.person_id.choices = [SelectChoice("", _("Choose someone"))] + [
        SelectChoice(str(p.id), describe(p, child)) for p in people
    ]
    return form


def handle_share(
    child: Child,
    *,
    on_behalf: bool,
    title: str,
    subject: dict[str, Any],
    template: str,
    context: dict[str, Any],
    done: str,
) -> ResponseReturnValue:
    """The share form for any subject (an item, an album, a story section): show it, or
    record the consent, tell the audience at once and go to ``done``."""
    form = _share_form(child)
    args = {"form": form, "child": child, "on_behalf": on_behalf, **context}
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template(template, **args), status
    person = None
    if form.audience.data == Audience.PERSON.value and (form.person_id.data or "").isdigit():
        person = db.session.get(User, int(form.person_id.data or 0))
    try:
        consent = sharing.grant(
            child=child,
            decided_by=signed_in_actor(),
            on_behalf=on_behalf,
            audience=Audience(form.audience.data),
            person=person,
            ends_on=form.ends_on.data,
            childs_wishes=form.childs_wishes.data or "",
            **subject,
        )
    except sharing.SharingError as exc:
        form.audience.errors = [i18n.problem_words(words_of(exc))]
        return render_template(template, **args), 400
    db.session.commit()
    alerts.shared(consent)
    flash(_("Done. “%(title)s” is shared. You can stop sharing at any time.", title=title))
    return redirect(done)


def _share(
    child: Child, item: MemoryItem | None, collection: Collection | None
) -> ResponseReturnValue:
    if item is not None:
        title, done = item.title, url_for("items.show", item_id=item.id)
    else:
        assert collection is not None
        title, done = collection.name, url_for("sharing.album", collection_id=collection.id)
    return handle_share(
        child,
        on_behalf=not can(Action.BOX_VIEW, child),
        title=title,
        subject={"item": item, "collection": collection},
        template="sharing/share.html",
        context={"item": item, "collection": collection, "subject": title},
        done=done,
    )


@bp.route("/items/<int:item_id>/share", methods=["GET", "POST"])
def share_item(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_SHARE)
    return _share(item.child, item, None)


@bp.route("/albums/<int:collection_id>/share", methods=["GET", "POST"])
def share_album(collection_id: int) -> ResponseReturnValue:
    collection = load(Collection, collection_id, Action.COLLECTION_SHARE)
    return _share(collection.child, None, collection)


@bp.post("/consents/<int:consent_id>/stop")
def stop(consent_id: int) -> ResponseReturnValue:
    consent = load(Consent, consent_id, Action.CONSENT_REVOKE)
    sharing.revoke(consent, signed_in_actor())
    flash(
        _(
            "Stopped. %(who)s can't see “%(title)s” any more.",
            who=describe_audience(consent),
            title=consent.subject_title,
        )
    )
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("sharing.overview", child_id=consent.child_id))


def describe_audience(consent: Consent, capital: bool = True) -> str:
    if consent.audience is Audience.PERSON and consent.person is not None:
        return consent.person.display_name
    label = consent.audience.label
    return label[0].upper() + label[1:] if capital else label


@bp.route("/children/<int:child_id>/albums", methods=["GET", "POST"])
def albums(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.COLLECTION_MANAGE)
    form = AlbumForm()
    if form.validate_on_submit():
        album = sharing.create_collection(child, form.name.data or "")
        flash(
            _("Your album “%(name)s” is ready. Add things to it from their pages.", name=album.name)
        )
        return redirect(url_for("sharing.album", collection_id=album.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "sharing/albums.html", child=child, albums=sharing.collections_of(child), form=form
    ), status


@bp.get("/albums/<int:collection_id>")
def album(collection_id: int) -> ResponseReturnValue:
    collection = load(Collection, collection_id, Action.COLLECTION_VIEW)
    viewer = signed_in_actor()
    managing = can(Action.COLLECTION_MANAGE, collection.child)
    page = lists.page(lambda after: sharing.album_page(collection, after))
    items = Page(policy.viewable(viewer, page.rows), page.more)
    return render_template(
        "sharing/album.html",
        album=collection,
        child=collection.child,
        items=items,
        managing=managing,
        consents=sharing.active_consents_for_collection(collection) if managing else [],
        describe_audience=describe_audience,
    )


def _album_and_item(collection_raw: str, item_raw: str) -> tuple[Collection, MemoryItem]:
    collection = (
        db.session.get(Collection, int(collection_raw)) if collection_raw.isdigit() else None
    )
    item = db.session.get(MemoryItem, int(item_raw)) if item_raw.isdigit() else None
    if collection is None or item is None or item.child_id != collection.child_id:
        abort(404)
    require(Action.COLLECTION_MANAGE, collection.child)
    require(Action.ALBUM_ITEM, item)  # what they may see, but never a letter's photo
    return collection, item


@bp.post("/items/<int:item_id>/add-to-album")
def add_to_album(item_id: int) -> ResponseReturnValue:
    collection, item = _album_and_item(request.form.get("collection_id", ""), str(item_id))
    sharing.add_to_collection(collection, item)
    flash(_("“%(title)s” is in your album “%(name)s”.", title=item.title, name=collection.name))
    return redirect(url_for("items.show", item_id=item.id))


@bp.post("/albums/<int:collection_id>/remove")
def remove_from_album(collection_id: int) -> ResponseReturnValue:
    collection, item = _album_and_item(str(collection_id), request.form.get("item_id", ""))
    sharing.remove_from_collection(collection, item)
    flash(
        _(
            "“%(title)s” is out of the album “%(name)s”. It is still in your box.",
            title=item.title,
            name=collection.name,
        )
    )
    return redirect(url_for("sharing.album", collection_id=collection.id))


@bp.route("/children/<int:child_id>/help", methods=["GET", "POST"])
def help(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.HELP_ASK)
    if request.method == "GET":
        return render_template(
            "sharing/help.html", child=child, asked=helping.requests_of(child), active="help"
        )
    asked = helping.ask(child, signed_in_actor(), alerts.sender())
    flash(
        _(
            "We have told %(who)s. Someone will get in touch with you as soon as they can.",
            who=words.told(asked),
        )
    )
    # Redirect, so reloading the page never sends a second alert.
    return redirect(url_for("sharing.help", child_id=child.id, sent=1))


def viewers_of(item: MemoryItem) -> list[tuple[User, str]]:
    """Everyone who can open this item right now, and why: asked of policy, person by person,
    so the panel shows exactly what the database grants (never more, never fewer)."""
    child = item.child
    candidates: dict[int, User] = {p.id: p for p in sharing.people_in_childs_life(child)}
    for consent in sharing.active_consents_for_item(item):
        if consent.person is not None:
            candidates[consent.person.id] = consent.person
    result = []
    for person in sorted(candidates.values(), key=lambda p: p.display_name):
        if person.id == child.user_id:
            continue
        decision = policy.can(person, Action.ITEM_VIEW, item)
        if decision:
            result.append((person, decision.reason))
    return result
