"""Signing in and out, accepting an invitation, changing a password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response

from memorybox import i18n
from memorybox.accounts import services as accounts
from memorybox.accounts.passwords import Passwords
from memorybox.extensions import limiter
from memorybox.web.access import actor, signed_in_actor
from memorybox.web.forms import AcceptInvitationForm, ChangePasswordForm, LoginForm
from memorybox.words import words_of

bp = Blueprint("auth", __name__)

LOGIN_FAILED = _l("That email and password don't match. Please check them and try again.")


def _passwords() -> Passwords:
    return current_app.extensions["memorybox.passwords"]


#: Wrong passwords and wrong second-factor codes count together: the same limits, shared
#: (per account, whatever the address; and per address) by the sign-in and code pages.
ACCOUNT_SCOPE = "sign-in-account"
ADDRESS_SCOPE = "sign-in-address"


def account_key(email: str) -> str:
    return "login-account:" + accounts.normalise_email(email)[:254]


def _account_key() -> str:
    return account_key(request.form.get("email", ""))


def _failed(response: Response) -> bool:
    return response.status_code == 401


def account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(
    account_limit, scope=ACCOUNT_SCOPE, key_func=_account_key, methods=["POST"], deduct_when=_failed
)
@limiter.shared_limit(address_limit, scope=ADDRESS_SCOPE, methods=["POST"], deduct_when=_failed)
def login() -> Response | str | tuple[str, int]:
    from memorybox.web import second_factor

    if actor() is not None and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(_passwords(), form.email.data or "", form.password.data or "")
        if user is not None:
            second_factor.forget()
            login_user(user)
            return second_factor.after_password(user)
        form.password.errors = [LOGIN_FAILED]
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    from memorybox.web import second_factor

    second_factor.forget()
    logout_user()
    flash(_("You have signed out. See you soon."))
    return redirect(url_for("auth.login"))


@bp.route("/invite", methods=["GET", "POST"])
@limiter.limit(address_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def accept_invitation() -> Response | str | tuple[str, int]:
    """The link is ``/invite#<token>``: the fragment never reaches the server or its logs.
    A small script copies it into the form; without scripts the person pastes it."""
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(
                _passwords(), form.token.data or "", form.password.data or ""
            )
        except accounts.InvitationError as exc:
            form.token.errors = [i18n.problem_words(words_of(exc))]
            return render_template("auth/invite.html", form=form), 400
        from memorybox.web import second_factor

        second_factor.forget()
        login_user(user)
        flash(_("Welcome, %(name)s! Your account is ready.", name=user.display_name))
        return redirect(url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/invite.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str | tuple[str, int]:
    user = signed_in_actor()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not _passwords().verify(user.password_hash, form.current.data or ""):
            form.current.errors = [_("That isn't your password now. Please try again.")]
            return render_template("account/password.html", form=form), 400
        accounts.change_password(_passwords(), user, form.password.data or "")
        login_user(user)  # this session carries on; every other one has ended
        flash(_("Your password has changed. Anywhere else you were signed in has been signed out."))
        return redirect(url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/password.html", form=form), status
