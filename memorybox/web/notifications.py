"""The notification centre ("Messages"): the list, opening one (which marks it read and
leads to exactly what it is about, asked of policy again), and message settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from memorybox import i18n
from memorybox.accounts.models import THEMES, Role, User
from memorybox.children import relationships
from memorybox.contributors.models import Contributor
from memorybox.db import db
from memorybox.letters.models import Letter
from memorybox.memories.models import MemoryItem
from memorybox.notifications import service as notifications
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.notifications.service import Target
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Collection
from memorybox.story.models import StorySection
from memorybox.transfers.models import Transfer
from memorybox.web import lists
from memorybox.web.access import can, load, require, signed_in_actor
from memorybox.web.people import describe

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

#: target kind -> (row type, the action that must be allowed, where it leads)
_ROUTES: dict[Target, tuple[type, Action, str, dict[str, Any]]] = {
    Target.ITEM: (MemoryItem, Action.ITEM_VIEW, "items.show", {}),
    Target.COMMENTS: (MemoryItem, Action.ITEM_VIEW, "items.show", {"_anchor": "comments"}),
    Target.REVIEW: (MemoryItem, Action.ITEM_REVIEW, "items.show", {}),
    Target.SECTION: (StorySection, Action.SECTION_READ, "story.read", {}),
    Target.OWN_SECTION: (StorySection, Action.SECTION_EDIT, "story.home", {}),
    Target.COLLECTION: (Collection, Action.COLLECTION_VIEW, "sharing.album", {}),
    Target.HELP: (HelpRequest, Action.HELP_VIEW, "help.help_request", {}),
    Target.TALK: (TalkRequest, Action.TALK_VIEW, "help.talk_request", {}),
    Target.LETTER: (Letter, Action.LETTER_SEE, "letters.read", {}),
    Target.LETTER_WRITTEN: (Letter, Action.LETTER_READ, "letters.manage", {}),
    Target.TRANSFER: (Transfer, Action.TRANSFER_VIEW, "transfers.show", {}),
    Target.SENT: (Contributor, Action.CONTRIBUTOR_HOME, "contributors.send", {}),
}
_ARGS = {
    MemoryItem: "item_id",
    StorySection: "section_id",
    Collection: "collection_id",
    HelpRequest: "request_id",
    TalkRequest: "request_id",
    Letter: "letter_id",
    Transfer: "transfer_id",
}


def destination(note: Notification) -> str | None:
    """Where this notice leads for the signed-in person today, or None if they may no
    longer see what it is about (or it is gone)."""
    try:
        target = Target(note.target_type)
    except ValueError:
        return note.link or url_for("notifications.index")  # notices from before targets
    model, action, endpoint, extra = _ROUTES[target]
    row = db.session.get(model, note.target_id) if note.target_id is not None else None
    if row is None or not can(action, row):
        return None
    if target is Target.OWN_SECTION:
        return url_for(endpoint, child_id=row.child_id, _anchor="who-read")
    if target is Target.SENT:  # a contributor has one page: what they sent is listed there
        return url_for(endpoint, _anchor="sent-heading")
    return url_for(endpoint, **{_ARGS[model]: row.id}, **extra)


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.NOTIFICATIONS_VIEW, user)
    notes = lists.page(lambda after: notifications.for_user(user, after))
    return render_template("notifications/index.html", notes=notes, active="notifications")


@bp.get("/<int:note_id>", endpoint="open")
@login_required
def open_note(note_id: int) -> ResponseReturnValue:
    note = load(Notification, note_id, Action.NOTIFICATION_OPEN)
    notifications.mark_read(note)
    target = destination(note)
    if target is None:
        return render_template("notifications/gone.html", note=note, active="notifications")
    return redirect(target)


@bp.post("/read")
@login_required
def read() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.NOTIFICATIONS_VIEW, user)
    notifications.mark_all_read(user)
    return redirect(url_for("notifications.index"))


class MessageSettingsForm(FlaskForm):
    email_messages = BooleanField(_l("Send me an email when I have a new message"))
    tell_me_reads = BooleanField(
        _l("Tell me when someone reads part of my story for the first time")
    )
    trusted_person = SelectField(
        _l("Someone you trust to open hard memories with"), choices=[], validate_choice=False
    )

    def validate_trusted_person(self, field: SelectField) -> None:
        # Only someone from the list (or nobody); not sent at all keeps the choice as it is.
        if field.raw_data and field.data not in {str(c[0]) for c in field.iter_choices()}:
            raise ValidationError(_("Please choose someone from the list."))

    trusted_how = StringField(
        _l("How to reach them (you don't have to say)"),
        validators=[Optional(), Length(max=200, message=i18n.keep_under(200))],
    )
    language = SelectField(_l("Language"), choices=[], validators=[Optional()])
    theme = RadioField(
        _l("Colours for your pages"),
        choices=[SelectChoice(name, LazyString(gettext, words)) for name, words in THEMES.items()],
        validators=[Optional()],
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    user: User = signed_in_actor()
    require(Action.NOTIFICATIONS_VIEW, user)
    young = user.role is Role.YOUNG_PERSON
    # An unticked box sends nothing: read the form as sent, even when nothing is ticked.
    form = MessageSettingsForm(
        formdata=request.form if request.method == "POST" else None,
        data={
            "email_messages": user.wants_email,
            "tell_me_reads": user.tell_me_reads,
            "theme": user.theme if user.theme in THEMES else "purple",
        },
    )
    form.language.choices = [
        SelectChoice(code, name, render_kw={"lang": code.replace("_", "-")})
        for code, name in i18n.offered().items()
    ]
    if request.method == "GET":
        form.language.data = i18n.normalise(str(get_locale())) or i18n.DEFAULT
    own = relationships.child_of_user(user.id) if young else None
    if own is None:
        del form.tell_me_reads
        del form.theme
        del form.trusted_person
        del form.trusted_how
    else:
        people = sharing.people_in_childs_life(own)
        form.trusted_person.choices = [SelectChoice("", _("Nobody yet"))] + [
            SelectChoice(str(p.id), describe(p, own)) for p in people
        ]
        if request.method == "GET":
            form.trusted_person.data = str(own.trusted_person_id or "")
            form.trusted_how.data = own.trusted_how
    if form.validate_on_submit():
        user.email_messages = bool(form.email_messages.data)
        chosen = i18n.normalise(form.language.data) if form.language.raw_data else None
        if chosen is not None:  # not sent: the language stays as it is
            user.language = chosen
            refresh()
        if own is not None:
            user.tell_me_reads = bool(form.tell_me_reads.data)
            if form.theme.data in THEMES:  # not sent: the colours stay as they are
                user.theme = str(form.theme.data)
            if form.trusted_person.raw_data:
                chosen = form.trusted_person.data or ""
                own.trusted_person_id = int(chosen) if chosen.isdigit() else None
            if form.trusted_how.raw_data:
                own.trusted_how = " ".join((form.trusted_how.data or "").split())
        db.session.commit()
        flash(_("Saved. You can change these at any time."))
        return redirect(url_for("notifications.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "notifications/settings.html", form=form, young=own is not None, active="notifications"
    ), status
