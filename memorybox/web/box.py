"""A child's box: gallery, timeline, suggestions, bin, and adding a new item."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from memorybox import i18n, pagination
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.jobs.tasks import process_item
from memorybox.media.inspect import UnsupportedFile
from memorybox.memories import services as memories
from memorybox.memories import uploads
from memorybox.memories.models import ItemStatus, MemoryItem
from memorybox.policy import Action
from memorybox.storage import StorageError
from memorybox.web import alerts, lists
from memorybox.web.access import can, load, signed_in_actor, signed_in_only, storage
from memorybox.web.errors import wants_json
from memorybox.web.forms import AddItemForm
from memorybox.words import words_of

bp = Blueprint("box", __name__, url_prefix="/children/<int:child_id>")


signed_in_only(bp)


@bp.get("/box")
def gallery(child_id: int) -> str:
    child = load(Child, child_id, Action.BOX_VIEW)
    return render_template(
        "box/gallery.html",
        child=child,
        items=lists.page(lambda after: memories.box_page(child, after)),
        suggestion_count=memories.suggestion_count(child),
    )


@bp.get("/timeline")
def timeline(child_id: int) -> str:
    """The box in date order, oldest first, a page at a time; "jump to a year" starts the
    list at that year."""
    child = load(Child, child_id, Action.BOX_VIEW)
    from_year = lists.year()
    items = lists.page(lambda after: memories.timeline_page(child, after, from_year))
    # The year of the row before this page (from its cursor), so a year's heading shows once.
    previous = None
    if lists.cursor():
        previous = pagination.decode(lists.cursor() or "", 2)[0].year
    return render_template(
        "box/timeline.html",
        child=child,
        items=items,
        years=memories.timeline_years(child),
        from_year=from_year,
        previous_year=previous,
    )


@bp.get("/suggested")
def suggested(child_id: int) -> str:
    child = load(Child, child_id, Action.BOX_VIEW)
    items = lists.page(lambda after: memories.suggestions_page(child, after))
    return render_template("box/suggested.html", child=child, items=items)


@bp.get("/bin")
def bin(child_id: int) -> str:
    child = load(Child, child_id, Action.BOX_VIEW)
    items = lists.page(lambda after: memories.bin_page(child, after))
    return render_template(
        "box/bin.html", child=child, items=items, expires_on=memories.bin_expires_on
    )


def _form_error(form: AddItemForm, child: Child, message: str, status: int) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=message), status
    form.file.errors = [message]
    return render_template("box/add.html", form=form, child=child), status


class AddRefused(Exception):
    """The file could not be added; ``message`` is for the person adding it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def store_upload(
    form: AddItemForm, child: Child, user: User, letter_id: int | None = None
) -> MemoryItem:
    """Store the file a valid add form brought (sent whole, or resumable parts finished
    earlier) as a new item for ``child`` (with ``letter_id``: a photo or document of that
    letter, sent whole). The caller queues its processing."""
    details = memories.ItemDetails(
        form.title.data or "", form.caption.data or "", form.memory_date.data
    )
    try:
        if form.upload.data and letter_id is None:
            resumable = uploads.find(form.upload.data)
            if (
                resumable is None
                or resumable.child_id != child.id
                or not resumable.complete
                or not can(Action.UPLOAD_USE, resumable)
            ):
                # The same answer whether it is missing or someone else's.
                raise AddRefused(_("We lost track of that file. Please choose it again."), 400)
            return memories.add_item_from_upload(
                actor=user, upload=resumable, details=details, storage=storage()
            )
        return memories.add_item(
            actor=user,
            child=child,
            stream=form.file.data.stream,
            filename=form.file.data.filename,
            details=details,
            storage=storage(),
            max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
            letter_id=letter_id,
        )
    except UnsupportedFile as exc:
        raise AddRefused(i18n.problem_words(words_of(exc)), 415) from None
    except memories.TooLarge:
        raise AddRefused(_("That file is too big. Please choose a smaller one."), 413) from None
    except StorageError:
        raise AddRefused(
            _("We couldn't save that just now. Please try again in a minute."), 503
        ) from None


@bp.route("/add", methods=["GET", "POST"])
def add(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.ITEM_ADD)
    user = signed_in_actor()
    form = AddItemForm()
    if request.method == "GET":
        return render_template("box/add.html", form=form, child=child)
    if not form.validate():
        if wants_json():
            errors = [str(e) for field in form for e in field.errors]
            return jsonify(error=" ".join(errors)), 400
        return render_template("box/add.html", form=form, child=child), 400
    try:
        item = store_upload(form, child, user)
    except AddRefused as exc:
        return _form_error(form, child, exc.message, exc.status)
    if form.content_note.data and form.content_note.data.strip():
        memories.set_content_note(item, form.content_note.data, user)
    process_item(item.id)  # after the commit: the worker never starts before the row exists
    alerts.item_added(item)
    target = url_for("carer.home")
    if can(Action.BOX_VIEW, child):
        flash(_("“%(title)s” is in your box now.", title=item.title))
        target = url_for("items.show", item_id=item.id)
    elif item.status is ItemStatus.AWAITING_APPROVAL:
        flash(
            _(
                "Thank you. %(name)s's social worker will check “%(title)s” first, then pass "
                "it on to %(name)s.",
                name=child.display_name,
                title=item.title,
            )
        )
    else:
        flash(
            _(
                "Thank you. “%(title)s” has been sent to %(name)s, who can choose to keep it.",
                title=item.title,
                name=child.display_name,
            )
        )
    if wants_json():
        return jsonify(redirect=target), 201
    return redirect(target)
