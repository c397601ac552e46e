"""Moving a child to another authority: the managers' pages on both sides.

The sending authority's manager asks (from the child's page); the receiving authority's
manager sees what is coming in and accepts or declines; the sender can withdraw while it
waits. Neither side ever sees inside the child's box."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from memorybox import i18n
from memorybox.accounts.models import Authority
from memorybox.audit import service as audit
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.policy import Action
from memorybox.transfers import services as transfers
from memorybox.transfers.models import Transfer
from memorybox.web.access import load, require, signed_in_actor, signed_in_only
from memorybox.web.forms import ConfirmForm
from memorybox.words import words_of

bp = Blueprint("transfers", __name__, url_prefix="/manage")

signed_in_only(bp)


class TransferForm(FlaskForm):
    to_authority = SelectField(
        _l("The authority the child is moving to"),
        choices=[],
        validate_choice=False,
        validators=[DataRequired(_l("Please choose another authority from the list."))],
    )
    planned_on = DateField(
        _l("Planned date of the move"),
        validators=[DataRequired(_l("Please give the date the move is planned for."))],
    )
    note = TextAreaField(
        _l("A note for the other authority (optional)"),
        validators=[Optional(), Length(max=transfers.NOTE_MAX, message=i18n.keep_under(2000))],
    )


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why you are declining"),
        validators=[
            DataRequired(_l("Please say why, so the other authority knows what to do next.")),
            Length(max=transfers.REASON_MAX, message=i18n.keep_under(2000)),
        ],
    )


#: what each audited step of a request is called on its page
_STEPS = {
    "transfer:request": _l("asked to move the child"),
    "transfer:accept": _l("accepted: the child moved"),
    "transfer:decline": _l("declined"),
    "transfer:withdraw": _l("took the request back"),
}


@bp.app_template_filter("transfer_action")
def transfer_action(action: str) -> str:
    return str(_STEPS.get(action, action))


def _authority() -> Authority:
    user = signed_in_actor()
    require(Action.AUTHORITY_MANAGE, user.authority)
    return user.authority


@bp.get("/transfers")
def index() -> str:
    authority = _authority()
    return render_template(
        "transfers/index.html",
        authority=authority,
        incoming=transfers.incoming(authority),
        outgoing=transfers.outgoing(authority),
        active="transfers",
    )


def _render_new(child: Child, form: TransferForm, status: int = 200) -> ResponseReturnValue:
    return render_template("transfers/new.html", child=child, form=form), status


@bp.route("/children/<int:child_id>/move", methods=["GET", "POST"])
def new(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.TRANSFER_REQUEST)
    form = TransferForm()
    form.to_authority.choices = [SelectChoice("", _("Choose an authority"))] + [
        SelectChoice(str(a.id), a.name) for a in transfers.other_authorities(child.authority)
    ]
    if request.method == "GET":
        return _render_new(child, form)
    if not form.validate_on_submit():
        return _render_new(child, form, 400)
    chosen = form.to_authority.data or ""
    to = db.session.get(Authority, int(chosen)) if chosen.isdigit() else None
    try:
        transfer = transfers.request(
            child, to, form.planned_on.data, form.note.data or "", signed_in_actor()
        )
    except transfers.TransferError as exc:
        form.to_authority.errors = [i18n.problem_words(words_of(exc))]
        return _render_new(child, form, 400)
    flash(
        _(
            "Your request to move %(name)s has been sent to %(authority)s.",
            name=child.display_name,
            authority=transfer.to_authority.name,
        )
    )
    return redirect(url_for("transfers.show", transfer_id=transfer.id))


def _render_show(
    transfer: Transfer, decline_form: DeclineForm | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "transfers/show.html",
        transfer=transfer,
        trail=transfers.trail(transfer),
        decline_form=decline_form or DeclineForm(formdata=None),
        receiving=signed_in_actor().authority_id == transfer.to_authority_id,
        active="transfers",
    ), status


@bp.get("/transfers/<int:transfer_id>")
def show(transfer_id: int) -> ResponseReturnValue:
    transfer = load(Transfer, transfer_id, Action.TRANSFER_VIEW)
    audit.record(signed_in_actor(), Action.TRANSFER_VIEW.value, transfer)
    db.session.commit()
    return _render_show(transfer)


@bp.post("/transfers/<int:transfer_id>/accept")
def accept(transfer_id: int) -> ResponseReturnValue:
    transfer = load(Transfer, transfer_id, Action.TRANSFER_ACCEPT)
    if not ConfirmForm().validate_on_submit():
        return _render_show(transfer, status=400)
    try:
        transfers.accept(transfer, signed_in_actor())
    except transfers.TransferError as exc:
        flash(i18n.problem_words(words_of(exc)))
        return _render_show(transfer, status=409)
    flash(
        _(
            "%(name)s has moved to you. Please allocate a social worker and record a placement.",
            name=transfer.child.display_name,
        )
    )
    return redirect(url_for("manage.child", child_id=transfer.child_id))


@bp.post("/transfers/<int:transfer_id>/decline")
def decline(transfer_id: int) -> ResponseReturnValue:
    transfer = load(Transfer, transfer_id, Action.TRANSFER_DECLINE)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _render_show(transfer, form, 400)
    transfers.decline(transfer, signed_in_actor(), form.reason.data or "")
    flash(
        _(
            "You declined the move. %(authority)s has been told.",
            authority=transfer.from_authority.name,
        )
    )
    return redirect(url_for("transfers.show", transfer_id=transfer.id))


@bp.post("/transfers/<int:transfer_id>/withdraw")
def withdraw(transfer_id: int) -> Response:
    transfer = load(Transfer, transfer_id, Action.TRANSFER_WITHDRAW)
    if ConfirmForm().validate_on_submit():
        transfers.withdraw(transfer, signed_in_actor())
        flash(
            _(
                "You took back the request. %(name)s stays with you.",
                name=transfer.child.display_name,
            )
        )
    return redirect(url_for("transfers.show", transfer_id=transfer.id))
