"""Leaving care and a young person's own account: their sign-in email (from 16), asking to
delete their account and changing their mind; a manager's "left care" and the people a
young person can share with by name (a personal adviser)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Email, Length

from memorybox import clock, i18n
from memorybox.accounts.models import Role, User
from memorybox.audit import service as audit
from memorybox.children import relationships
from memorybox.children import services as children
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.leaving import services as leaving
from memorybox.leaving.models import CHANGE_OF_MIND_DAYS, AccountDeletion
from memorybox.policy import Action
from memorybox.web.access import actor, can, load, require, signed_in_actor, signed_in_only
from memorybox.words import words_of

bp = Blueprint("leaving", __name__)

signed_in_only(bp)


# --- forms -------------------------------------------------------------------------------


class EmailForm(FlaskForm):
    email = EmailField(
        _l("Your own email address"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Please type your email address.")),
            Length(max=254, message=i18n.keep_under(254)),
            Email(_l("That doesn't look like an email address."), check_deliverability=False),
        ],
    )
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(_l("Please type your password."))]
    )


class DeleteForm(FlaskForm):
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(_l("Please type your password."))]
    )


class LeftCareForm(FlaskForm):
    left_on = DateField(
        _l("The day they left care"),
        validators=[DataRequired(_l("Please give the day, for example 31 8 2027."))],
    )


class NamedPersonForm(FlaskForm):
    person_id = SelectField(_l("Personal adviser or other worker"), choices=[])


def _passwords() -> Any:
    return current_app.extensions["memorybox.passwords"]


def _password_ok(user: User, password: str | None) -> bool:
    return bool(_passwords().verify(user.password_hash, password or ""))


# --- the young person --------------------------------------------------------------------


@bp.route("/children/<int:child_id>/account/email", methods=["GET", "POST"])
def email(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.ACCOUNT_EMAIL)
    user = signed_in_actor()
    form = EmailForm()
    if request.method == "GET":
        form.email.data = user.email
    if form.validate_on_submit():
        if not _password_ok(user, form.password.data):
            form.password.errors = [_("That isn't your password now. Please try again.")]
            return render_template("leaving/email.html", form=form, child=child), 400
        try:
            leaving.set_sign_in_email(user, form.email.data or "")
        except leaving.LeavingError as exc:
            form.email.errors = [i18n.problem_words(words_of(exc))]
            return render_template("leaving/email.html", form=form, child=child), 400
        audit.record(user, Action.ACCOUNT_EMAIL, child)
        db.session.commit()
        login_user(user)  # this session carries on; every other one has ended
        flash(_("Saved. From now on you sign in with %(email)s.", email=user.email))
        return redirect(url_for("notifications.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("leaving/email.html", form=form, child=child), status


@bp.route("/children/<int:child_id>/account/delete", methods=["GET", "POST"])
def delete(child_id: int) -> ResponseReturnValue:
    child = db.session.get(Child, child_id)
    if child is None:
        abort(404)
    waiting = leaving.deletion_waiting(child)
    if request.method == "GET" and waiting is not None and can(Action.ACCOUNT_DELETE_CANCEL, child):
        return render_template("leaving/waiting.html", child=child, deletion=waiting)
    require(Action.ACCOUNT_DELETE, child)
    user = signed_in_actor()
    form = DeleteForm()
    if form.validate_on_submit():
        if not _password_ok(user, form.password.data):
            form.password.errors = [_("That isn't your password now. Please try again.")]
            return _warning(child, form, 400)
        deletion = leaving.ask_to_delete(child)
        audit.record(user, Action.ACCOUNT_DELETE, child)
        db.session.commit()
        flash(
            _(
                "We will delete your account on %(day)s. You can change your mind until then.",
                day=i18n.day(leaving.delete_day(deletion)),
            )
        )
        return redirect(url_for("leaving.delete", child_id=child.id))
    return _warning(child, form, 400 if request.method == "POST" else 200)


def _warning(child: Child, form: DeleteForm, status: int) -> ResponseReturnValue:
    day = clock.today() + timedelta(days=CHANGE_OF_MIND_DAYS)
    return render_template(
        "leaving/delete.html",
        child=child,
        form=form,
        delete_day=day,
        years=child.authority.retention_years,
        days=CHANGE_OF_MIND_DAYS,
    ), status


@bp.post("/children/<int:child_id>/account/delete/cancel")
def cancel(child_id: int) -> Response:
    child = load(Child, child_id, Action.ACCOUNT_DELETE_CANCEL)
    deletion = leaving.deletion_waiting(child)
    assert deletion is not None  # policy allowed it
    leaving.cancel_deletion(deletion)
    audit.record(signed_in_actor(), Action.ACCOUNT_DELETE_CANCEL, child)
    db.session.commit()
    flash(_("You changed your mind. Your account stays, with all your things."))
    return redirect(url_for("home.index"))


# --- the manager -------------------------------------------------------------------------


@bp.route("/manage/children/<int:child_id>/left-care", methods=["GET", "POST"])
def left_care(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.CARE_LEAVE)
    form = LeftCareForm()
    if request.method == "GET":
        form.left_on.data = clock.today()
    if form.validate_on_submit():
        assert form.left_on.data is not None
        try:
            leaving.record_left_care(child, form.left_on.data, signed_in_actor())
        except leaving.LeavingError as exc:
            form.left_on.errors = [i18n.problem_words(words_of(exc))]
            return render_template("leaving/left_care.html", form=form, child=child), 400
        audit.record(signed_in_actor(), Action.CARE_LEAVE, child)
        db.session.commit()
        flash(
            _(
                "Saved: %(name)s left care on %(day)s. Their carers and social workers lose "
                "access from that day. Their box stays theirs.",
                name=child.display_name,
                day=i18n.day(form.left_on.data),
            )
        )
        return redirect(url_for("manage.child", child_id=child.id))
    status = 400 if request.method == "POST" else 200
    return render_template("leaving/left_care.html", form=form, child=child), status


def _named_person_form(child: Child) -> NamedPersonForm:
    form = NamedPersonForm(prefix="named")
    form.person_id.choices = [
        SelectChoice(str(u.id), f"{u.display_name} ({u.role.label})")
        for role in (Role.SOCIAL_WORKER, Role.CARER)
        for u in children.people_with_role(child.authority, role)
    ]
    return form


@bp.post("/manage/children/<int:child_id>/named-people")
def add_named_person(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.NAMED_PERSON_ADD)
    form = _named_person_form(child)
    if form.validate_on_submit():
        raw = form.person_id.data or ""
        person = db.session.get(User, int(raw)) if raw.isdigit() else None
        try:
            named = leaving.add_named_person(child, person, signed_in_actor())
        except leaving.LeavingError as exc:
            flash(i18n.problem_words(words_of(exc)))
            return redirect(url_for("manage.child", child_id=child.id, _anchor="named-people"))
        audit.record(signed_in_actor(), Action.NAMED_PERSON_ADD, child)
        db.session.commit()
        flash(
            _(
                "%(name)s can now be chosen when %(child)s shares something by name.",
                name=named.person.display_name,
                child=child.display_name,
            )
        )
        return redirect(url_for("manage.child", child_id=child.id, _anchor="named-people"))
    flash(_("Please choose someone from your authority."))
    return redirect(url_for("manage.child", child_id=child.id, _anchor="named-people")), 303


# --- what every page can ask ---------------------------------------------------------------


def _waiting_deletion() -> AccountDeletion | None:
    """The signed-in young person's asking to delete their account, while it waits."""
    user = actor()
    if user is None or user.role is not Role.YOUNG_PERSON:
        return None
    child = relationships.child_of_user(user.id)
    return leaving.deletion_waiting(child) if child is not None else None


def _manager_facts(child: Child) -> dict[str, Any]:
    return {
        "leaving": leaving.leaving_of(child),
        "deletion": leaving.deletion_of(child),
        "named": leaving.named_people(child),
        "form": _named_person_form(child),
    }


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {
        "waiting_deletion": _waiting_deletion,
        "leaving_facts": _manager_facts,
        "deletion_day": leaving.delete_day,
    }
