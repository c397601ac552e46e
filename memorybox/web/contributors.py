"""The letterbox: family and past carers send things to one child; the allocated social
worker invites them, checks everything they send and can end their access; the child can
say "no more from this person"."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from memorybox import i18n
from memorybox.accounts import services as accounts
from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.contributors import services as contributors
from memorybox.contributors.letter import letter_pdf
from memorybox.contributors.models import Contributor
from memorybox.db import db
from memorybox.jobs.tasks import process_item
from memorybox.memories import services as memories
from memorybox.memories.models import MemoryItem
from memorybox.policy import Action
from memorybox.web import alerts
from memorybox.web.access import can, load, require, signed_in_actor, signed_in_only
from memorybox.web.box import AddRefused, store_upload
from memorybox.web.forms import AddItemForm
from memorybox.web.manage import invitation_link
from memorybox.words import words_of

bp = Blueprint("contributors", __name__)

signed_in_only(bp)


class ContributionForm(AddItemForm):
    """The same form (and the same checks) as every upload; a contributor's words to the
    child go in the caption. Words alone are sent as a one-page letter (a PDF)."""

    def validate_file(self, field: FileField) -> None:
        if not field.data and not self.upload.data and not (self.caption.data or "").strip():
            raise ValidationError(_l("Please write a message or choose a file to send."))

    def words_only(self) -> bool:
        return not self.file.data and not self.upload.data


class ContributorInviteForm(FlaskForm):
    display_name = StringField(
        _l("Their name"), validators=[DataRequired(_l("Please type their name.")), Length(max=80)]
    )
    relation = StringField(
        _l("Who they are to the child"),
        validators=[
            DataRequired(_l("Please say who they are to the child.")),
            Length(max=contributors.RELATION_MAX, message=i18n.up_to_letters(60)),
        ],
    )
    email = EmailField(
        _l("Their email address"),
        validators=[
            DataRequired(_l("Please type their email address.")),
            Email(_l("That doesn't look like an email address."), check_deliverability=False),
            Length(max=254),
        ],
    )


def first_name(child: Child) -> str:
    return (child.display_name.split() or [child.display_name])[0]


STATE_WORDS = {
    contributors.WAITING: _l("Waiting to be checked"),
    contributors.PASSED_ON: _l("Passed on"),
    contributors.NOT_PASSED_ON: _l("Not passed on"),
}


def _own_link() -> Contributor:
    link = contributors.of_user(signed_in_actor().id)
    if link is None:
        abort(404)
    require(Action.CONTRIBUTOR_HOME, link)
    return link


def _send_page(link: Contributor, form: ContributionForm, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "contributors/send.html",
        link=link,
        form=form,
        name=first_name(link.child),
        sent=[(item, STATE_WORDS[contributors.state_of(item)]) for item in contributors.sent(link)],
    ), status


@bp.route("/send", methods=["GET", "POST"])
def send() -> ResponseReturnValue:
    """A contributor's whole world: send something, and see what became of what they sent."""
    link = _own_link()
    form = ContributionForm()
    if request.method == "GET":
        return _send_page(link, form)
    if not can(Action.CONTRIBUTOR_SEND, link):
        return redirect(url_for("contributors.send"))  # the page says so, nothing more
    if not form.validate():
        return _send_page(link, form, 400)
    user = signed_in_actor()
    if form.words_only():
        pdf = letter_pdf(form.title.data or "", form.caption.data or "")
        form.file.data = FileStorage(io.BytesIO(pdf), "letter.pdf", content_type="application/pdf")
    try:
        item = store_upload(form, link.child, user)
    except AddRefused as exc:
        form.file.errors = [exc.message]
        return _send_page(link, form, exc.status)
    if form.content_note.data and form.content_note.data.strip():
        memories.set_content_note(item, form.content_note.data, user)
    process_item(item.id)  # location removed and renditions made, as for every upload
    alerts.item_added(item)  # the allocated social worker hears there is one to check
    audit.record(user, "contribution:send", item)
    db.session.commit()
    flash(
        _(
            "Thank you. %(name)s's social worker will check “%(title)s” first.",
            name=first_name(link.child),
            title=item.title,
        )
    )
    return redirect(url_for("contributors.send"))


# --- the allocated social worker ----------------------------------------------------------


def _manage_page(
    child: Child, form: ContributorInviteForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "contributors/manage.html", child=child, form=form, links=contributors.of_child(child)
    ), status


@bp.route("/children/<int:child_id>/contributors", methods=["GET", "POST"])
def manage(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.CONTRIBUTORS_MANAGE)
    form = ContributorInviteForm()
    if request.method == "GET":
        audit.record(signed_in_actor(), "contributors:view", child)
        db.session.commit()
        return _manage_page(child, form)
    if not form.validate():
        return _manage_page(child, form, 400)
    try:
        link, token = contributors.invite(
            child=child,
            email=form.email.data or "",
            display_name=form.display_name.data or "",
            relation=form.relation.data or "",
            invited_by=signed_in_actor(),
            days_valid=current_app.config["INVITATION_DAYS"],
        )
    except (accounts.InvitationError, contributors.ContributorError) as exc:
        form.email.errors = [i18n.problem_words(words_of(exc))]
        return _manage_page(child, form, 400)
    audit.record(signed_in_actor(), "contributor:invite", child)
    db.session.commit()
    return render_template(
        "contributors/invited.html", child=child, link=link, url=invitation_link(token)
    ), 201


@bp.post("/contributors/<int:contributor_id>/end")
def end(contributor_id: int) -> ResponseReturnValue:
    link = load(Contributor, contributor_id, Action.CONTRIBUTOR_END)
    contributors.end(link, signed_in_actor())
    audit.record(signed_in_actor(), "contributor:end", link.child)
    db.session.commit()
    flash(
        _(
            "%(name)s can't send anything to %(child)s any more.",
            name=link.name,
            child=link.child.display_name,
        )
    )
    return redirect(url_for("contributors.manage", child_id=link.child_id))


# --- the child ------------------------------------------------------------------------------


@bp.get("/children/<int:child_id>/senders")
def senders(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.SENDERS_VIEW)
    return render_template(
        "contributors/senders.html", child=child, links=contributors.accepted_of_child(child)
    )


def _after_choice(link: Contributor) -> ResponseReturnValue:
    back = request.form.get("back", "")
    if back.isdigit() and can(Action.ITEM_VIEW, db.session.get(MemoryItem, int(back))):
        return redirect(url_for("items.show", item_id=int(back), open=1))
    return redirect(url_for("contributors.senders", child_id=link.child_id))


@bp.post("/senders/<int:contributor_id>/stop")
def stop(contributor_id: int) -> ResponseReturnValue:
    link = load(Contributor, contributor_id, Action.SENDER_STOP)
    contributors.block(link)
    audit.record(signed_in_actor(), "sender:stop", link.child)
    db.session.commit()
    flash(
        _("OK. %(name)s can't send you anything now. You can change this any time.", name=link.name)
    )
    return _after_choice(link)


@bp.post("/senders/<int:contributor_id>/allow")
def allow(contributor_id: int) -> ResponseReturnValue:
    link = load(Contributor, contributor_id, Action.SENDER_ALLOW)
    contributors.unblock(link)
    audit.record(signed_in_actor(), "sender:allow", link.child)
    db.session.commit()
    flash(_("OK. %(name)s can send you things again.", name=link.name))
    return _after_choice(link)


# --- words for other pages --------------------------------------------------------------------


@bp.app_template_global()
def sender_of(item: MemoryItem) -> Contributor | None:
    """The contributor who sent ``item``, if family or a past carer sent it."""
    return contributors.for_sender(item.child_id, item.added_by_id)


@bp.app_template_global()
def senders_of(items: list[MemoryItem]) -> dict[int, Contributor]:
    """item id -> who sent it, for a list's items that family or past carers sent."""
    return contributors.senders_of(list(items))


@bp.app_template_global()
def contributors_of(child: Child) -> list[Contributor]:
    return contributors.of_child(child)
