"""One item: its page, its file, and the child's choices about it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from memorybox import i18n
from memorybox.accounts.models import User
from memorybox.audit import service as audit
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.memories.models import ItemKind, MemoryItem, Processing
from memorybox.notifications import talk as talking
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.web import alerts
from memorybox.web.access import actor, can, load, signed_in_actor, signed_in_only, storage
from memorybox.web.forms import CommentForm, ItemDetailsForm, TalkForm
from memorybox.web.people import describe
from memorybox.web.serving import send_stored
from memorybox.web.sharing import describe_audience, viewers_of

bp = Blueprint("items", __name__, url_prefix="/items/<int:item_id>")


signed_in_only(bp)


def _viewed(item: MemoryItem, action: str) -> MemoryItem:
    """Record every look by anyone who is not the child (the child's own looks are theirs)."""
    if not can(Action.BOX_VIEW, item.child):
        audit.record(actor(), action, item)
        db.session.commit()
    return item


@bp.get("")
def show(item_id: int) -> ResponseReturnValue:
    item = _viewed(load(MemoryItem, item_id, Action.ITEM_VIEW), "item:view")
    if can(Action.ITEM_GENTLE, item) and _waits(item) and not request.args.get("open"):
        return _gentle_page(item)
    return _render_show(item)


def _waits(item: MemoryItem) -> bool:
    """The child asked to be asked first: a note not yet read, hidden until ready, or only
    with someone they trust."""
    return item.waits_for_the_child or item.with_someone


def _gentle_page(item: MemoryItem, status: int = 200) -> ResponseReturnValue:
    """A calm page before a memory the child wanted to be careful with: what the note says
    (and who wrote it), or who they wanted to open it with; open it now, wait, or later."""
    child = item.child
    return render_template(
        "items/gentle.html",
        item=item,
        child=child,
        note_by=describe(db.session.get(User, item.content_note_by_id), child)
        if item.content_note_by_id
        else None,
        trusted=describe(child.trusted_person, child) if child.trusted_person else None,
        Gentle=memories.Gentle,
    ), status


@bp.post("/gentle")
def gentle(item_id: int) -> ResponseReturnValue:
    """The child's choice on a gentle page, or on the item's page. Each can be undone."""
    item = load(MemoryItem, item_id, Action.ITEM_GENTLE)
    try:
        choice = memories.Gentle(request.form.get("choice", ""))
    except ValueError:
        flash(_("Please choose one of the buttons."))
        return _gentle_page(item, 400)
    memories.choose(item, choice)
    words = {
        memories.Gentle.OPEN: None,
        memories.Gentle.LATER_WITH_SOMEONE: _(
            "That's fine. We'll ask you first next time, and remind you who you wanted to be with."
        ),
        memories.Gentle.ALONE: _("You can open it on your own now."),
        memories.Gentle.HIDE: _("It is hidden until you're ready. You can show it again any time."),
        memories.Gentle.SHOW: _("It is not hidden any more."),
    }[choice]
    if words:
        flash(words)
    if choice in (memories.Gentle.LATER_WITH_SOMEONE, memories.Gentle.HIDE):
        return redirect(url_for("box.gallery", child_id=item.child_id))
    return redirect(url_for("items.show", item_id=item.id, open=1))


def _render_show(
    item: MemoryItem, comment_form: CommentForm | None = None, status: int = 200
) -> ResponseReturnValue:
    managing = can(Action.SHARING_VIEW, item.child)
    return render_template(
        "items/show.html",
        item=item,
        ItemKind=ItemKind,
        expires=memories.bin_expires_on(item),
        viewers=viewers_of(item) if managing else [],
        consents=sharing.active_consents_for_item(item) if managing else [],
        albums=sharing.collections_of(item.child)
        if can(Action.COLLECTION_MANAGE, item.child)
        else [],
        in_albums=sharing.collections_containing(item) if managing else [],
        comments=memories.comments_on(item) if can(Action.ITEM_COMMENT, item) else [],
        comment_form=comment_form or CommentForm(),
        describe=describe,
        describe_audience=describe_audience,
        processing_message=processing_message(item),
    ), status


@bp.post("/comments")
def comment(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_COMMENT)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_show(item, form, 400)
    author = signed_in_actor()
    memories.add_comment(item, author, form.body.data or "")
    db.session.commit()
    alerts.commented(item, author)
    flash(_("Your comment is saved."))
    return redirect(url_for("items.show", item_id=item.id) + "#comments")


@bp.route("/talk", methods=["GET", "POST"])
def talk(item_id: int) -> ResponseReturnValue:
    """ "I'd like to talk about this": the child can add a few words and, if their social
    worker cannot see this yet, say whether they may (so they can talk about it)."""
    item = load(MemoryItem, item_id, Action.ITEM_TALK)
    workers = talking.workers(item)
    unseen = talking.workers_who_cannot_see(item)
    form = TalkForm()
    if not unseen:
        del form.show_item
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template(
            "items/talk.html",
            item=item,
            form=form,
            workers=workers,
            unseen=unseen,
            decides=sharing.decides_for_self(item.child),
        ), status
    show = bool(unseen) and form.show_item.data == "yes"
    asked = talking.ask(item, signed_in_actor(), form.words.data or "", show, alerts.sender())
    if asked is None:
        flash(
            _(
                "You don't have a social worker in Memory Box right now, so we couldn't pass "
                "this on. You could talk to an adult you trust."
            )
        )
        return redirect(url_for("items.show", item_id=item.id))
    names = i18n.and_list(p.display_name for p in asked.told)
    if asked.shared_with:
        flash(
            _(
                "We have told %(names)s that you'd like to talk. %(names)s can see “%(title)s” "
                "now. You can stop that at any time, under “Who can see this”.",
                names=names,
                title=item.title,
            )
        )
    elif show:
        flash(
            _(
                "We have told %(names)s that you'd like to talk. We told %(names)s you said "
                "they may see it.",
                names=names,
            )
        )
    else:
        flash(_("We have told %(names)s that you'd like to talk.", names=names))
    return redirect(url_for("help.talk_request", request_id=asked.request.id))


@bp.post("/approve")
def approve(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_REVIEW)
    memories.review(item, signed_in_actor(), approve=True)
    alerts.reviewed(item, approved=True)
    flash(
        _(
            "“%(title)s” has been passed on to %(name)s.",
            title=item.title,
            name=item.child.display_name,
        )
    )
    return redirect(url_for("caseload.reviews"))


@bp.post("/not-approve")
def not_approve(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_REVIEW)
    memories.review(item, signed_in_actor(), approve=False)
    alerts.reviewed(item, approved=False)
    flash(
        _(
            "“%(title)s” will not be shown to %(child)s. %(sender)s has been told.",
            title=item.title,
            child=item.child.display_name,
            sender=item.added_by.display_name,
        )
    )
    return redirect(url_for("caseload.reviews"))


#: what serving a file needs with the item: its child (for policy) and its renditions
_WITH_FILES = (joinedload(MemoryItem.child), joinedload(MemoryItem.renditions))


def _ready(item_id: int) -> MemoryItem:
    """Load an item someone may see, whose files are safe to serve (location removed)."""
    item = load(MemoryItem, item_id, Action.ITEM_VIEW, _WITH_FILES)
    if not item.is_ready:
        abort(404)
    return item


def _send_rendition(item_id: int, name: str, action: str) -> ResponseReturnValue:
    item = _ready(item_id)
    rendition = item.rendition(name)
    if rendition is None:
        abort(404)
    key, content_type, size = rendition.storage_key, rendition.content_type, rendition.size_bytes
    download = memories.download_name(item, key.rsplit(".", 1)[-1])
    _viewed(item, action)  # commits: what is served was read before
    attachment = not content_type.startswith(("image/", "video/", "audio/"))
    return send_stored(key, content_type, size, download, attachment)


@bp.get("/file")
def file(item_id: int) -> ResponseReturnValue:
    """A photo as shown in the page (the large web copy)."""
    return _send_rendition(item_id, "large", "item:view-file")


@bp.get("/thumbnail")
def thumbnail(item_id: int) -> ResponseReturnValue:
    return _send_rendition(item_id, "thumb", "item:thumbnail")


@bp.get("/poster")
def poster(item_id: int) -> ResponseReturnValue:
    return _send_rendition(item_id, "poster", "item:poster")


@bp.get("/preview")
def preview(item_id: int) -> ResponseReturnValue:
    return _send_rendition(item_id, "preview", "item:preview")


@bp.get("/play")
def play(item_id: int) -> ResponseReturnValue:
    """Video or sound for the page's player (H.264/AAC MP4 or AAC audio), seekable."""
    return _send_rendition(item_id, "web", "item:play")


@bp.get("/download")
def download(item_id: int) -> ResponseReturnValue:
    """The original, with location data removed, always as an attachment."""
    item = _ready(item_id)
    key, content_type, size = item.storage_key, item.content_type, item.size_bytes
    download = memories.download_name(item, item.extension)
    _viewed(item, "item:download")  # commits: what is served was read before
    return send_stored(key, content_type, size, download, True)


@bp.get("/status")
def status(item_id: int) -> ResponseReturnValue:
    """Where processing has got to, for the page to update itself."""
    item = load(MemoryItem, item_id, Action.ITEM_VIEW)
    return jsonify(
        state=item.processing.value,
        ready=item.is_ready,
        message=processing_message(item),
    )


def processing_message(item: MemoryItem) -> str:
    kind = item.kind.value
    if item.processing is Processing.READY:
        return ""
    if item.processing is Processing.FAILED:
        if item.processing_error:
            return i18n.problem_words(item.processing_error)
        return {
            "photo": _("We couldn't get your photo ready."),
            "document": _("We couldn't get your document ready."),
            "audio": _("We couldn't get your sound clip ready."),
            "video": _("We couldn't get your video ready."),
        }[kind]
    return {
        "photo": _("Getting your photo ready…"),
        "document": _("Getting your document ready…"),
        "audio": _("Getting your sound clip ready…"),
        "video": _("Getting your video ready…"),
    }[kind]


@bp.route("/edit", methods=["GET", "POST"])
def edit(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_EDIT)
    form = ItemDetailsForm(obj=item)
    if form.validate_on_submit():
        memories.update_details(
            item,
            memories.ItemDetails(
                form.title.data or "", form.caption.data or "", form.memory_date.data
            ),
        )
        flash(_("Saved."))
        return redirect(url_for("items.show", item_id=item.id))
    status = 400 if request.method == "POST" else 200
    return render_template("items/edit.html", item=item, form=form), status


def _decide(item_id: int, keep: bool) -> Response:
    """Keep or decline a suggestion. The adder is told which, never why, unless the child
    writes a few words (kept as a comment on the item, where the adder can read them)."""
    item = load(MemoryItem, item_id, Action.ITEM_DECIDE)
    words = (request.form.get("words") or "").strip()[: memories.COMMENT_MAX]
    memories.decide(item, keep=keep)
    if words and can(Action.ITEM_COMMENT, item):
        memories.add_comment(item, signed_in_actor(), words)
        db.session.commit()
    else:
        words = ""
    alerts.decided(item, kept=keep, wrote=bool(words))
    if not keep:
        flash(_("OK. “%(title)s” won't go in the box.", title=item.title))
    elif can(Action.BOX_VIEW, item.child):
        flash(_("“%(title)s” is in your box now.", title=item.title))
    else:
        flash(
            _(
                "“%(title)s” is in %(name)s's box now.",
                title=item.title,
                name=item.child.display_name,
            )
        )
    return redirect(_after_deciding(item))


@bp.post("/keep")
def keep(item_id: int) -> Response:
    return _decide(item_id, keep=True)


@bp.post("/decline")
def decline(item_id: int) -> Response:
    return _decide(item_id, keep=False)


def _after_deciding(item: MemoryItem) -> str:
    if can(Action.BOX_VIEW, item.child):
        return url_for("box.suggested", child_id=item.child_id)
    return url_for("shared.child", child_id=item.child_id)


@bp.post("/delete")
def delete(item_id: int) -> Response:
    item = load(MemoryItem, item_id, Action.ITEM_DELETE)
    memories.move_to_bin(item)
    flash(_("“%(title)s” is in your bin. You can bring it back for 30 days.", title=item.title))
    return redirect(url_for("box.gallery", child_id=item.child_id))


@bp.post("/restore")
def restore(item_id: int) -> Response:
    item = load(MemoryItem, item_id, Action.ITEM_RESTORE)
    memories.restore(item)
    flash(_("“%(title)s” is back in your box.", title=item.title))
    return redirect(url_for("box.bin", child_id=item.child_id))


@bp.post("/purge")
def purge(item_id: int) -> Response:
    item = load(MemoryItem, item_id, Action.ITEM_PURGE)
    child_id, title = item.child_id, item.title
    memories.delete_for_ever(item, storage())
    flash(_("“%(title)s” has been deleted for ever.", title=title))
    return redirect(url_for("box.bin", child_id=child_id))
