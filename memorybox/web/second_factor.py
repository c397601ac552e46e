"""The second step of signing in for staff: set up a code app, then type its code (or a
recovery code) after the password; optionally remember this browser for 30 days.

Until the session is marked as having passed the second factor, a person who needs one
reaches only these pages and signing out (:func:`_second_factor_first`, run before every
request). Wrong codes count against the same limits as wrong passwords (the shared limits
of :mod:`memorybox.web.auth`) and each is audited.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from memorybox import clock, policy
from memorybox.accounts import second_factor as factor
from memorybox.accounts.models import User
from memorybox.accounts.passwords import Passwords
from memorybox.audit import service as audit
from memorybox.db import db
from memorybox.extensions import limiter
from memorybox.policy import Action
from memorybox.web import auth
from memorybox.web.access import actor, require, signed_in_actor, signed_in_only

bp = Blueprint("second_factor", __name__, url_prefix="/second-factor")
signed_in_only(bp)

#: what the session keeps: whose second factor (and which version of it) was passed, when
PASSED = "second_factor"
PASSED_AT = "second_factor_at"
#: the secret being set up, until a code from it is typed
PENDING = "second_factor_pending"
DEVICE_COOKIE = "memorybox_device"
#: pages a person who has only given their password may still reach
OPEN_ENDPOINTS = frozenset({"static", "auth.logout"})

TOO_LONG = _l("That is too long for a code. Please check it and try again.")
WRONG_CODE = _l("That code didn't work. Please check your app and try again.")


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Please type the code.")), Length(max=40, message=TOO_LONG)],
    )
    remember = BooleanField(_l("Remember this device for 30 days"))


class SetUpForm(FlaskForm):
    code = StringField(
        _l("The 6-digit code your app shows"),
        validators=[DataRequired(_l("Please type the code.")), Length(max=40, message=TOO_LONG)],
    )


def marker(user: User) -> str:
    return f"{user.id}:{user.mfa_version}"


def passed(user: User) -> bool:
    return session.get(PASSED) == marker(user)


def mark_passed(user: User) -> None:
    session[PASSED] = marker(user)
    session[PASSED_AT] = clock.now().isoformat()


def forget() -> None:
    """At signing in and out: nothing passed yet."""
    for key in (PASSED, PASSED_AT, PENDING):
        session.pop(key, None)


def needed(user: User | None) -> bool:
    """True when this signed-in person still has to pass their second factor."""
    return user is not None and policy.second_factor_required(user) and not passed(user)


def _passwords() -> Passwords:
    return current_app.extensions["memorybox.passwords"]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="memorybox.remembered-device")


def remembered(user: User) -> bool:
    """True when this browser carries a live "remember this device" for this person."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return False
    try:
        user_id, version, token = _serializer().loads(raw)
    except (BadSignature, ValueError, TypeError):
        return False
    if user_id != user.id or version != user.mfa_version or not isinstance(token, str):
        return False
    return factor.device_remembered(user, token)


def after_password(user: User) -> Response:
    """Where a person goes once their password is right: home, or the second step."""
    if not policy.second_factor_required(user):
        return redirect(url_for("home.index"))
    if user.totp_secret is not None and remembered(user):
        mark_passed(user)
        audit.record(user, "second-factor:remembered-device", user)
        db.session.commit()
        return redirect(url_for("home.index"))
    return redirect(url_for("second_factor.verify"))


def _remember(response: Response, user: User) -> None:
    token = factor.remember_device(user)
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps([user.id, user.mfa_version, token]),
        max_age=factor.REMEMBER_DAYS * 24 * 3600,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )


def _mine() -> User:
    user = signed_in_actor()
    require(Action.SECOND_FACTOR_USE, user)
    return user


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    user = actor()
    return auth.account_key(user.email if user is not None else "")


@bp.route("", methods=["GET", "POST"])
@limiter.shared_limit(
    auth.account_limit,
    scope=auth.ACCOUNT_SCOPE,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.shared_limit(
    auth.address_limit, scope=auth.ADDRESS_SCOPE, methods=["POST"], deduct_when=_failed
)
def verify() -> ResponseReturnValue:
    user = _mine()
    if passed(user):
        return redirect(url_for("home.index"))
    if user.totp_secret is None:
        return redirect(url_for("second_factor.setup"))
    form = CodeForm()
    if form.validate_on_submit():
        how = factor.check_code(_passwords(), user, form.code.data or "")
        if how is None:
            audit.record(user, "second-factor:verify", user, outcome="denied")
            db.session.commit()
            form.code.errors = [WRONG_CODE]
            return render_template("second_factor/verify.html", form=form), 401
        mark_passed(user)
        audit.record(user, f"second-factor:{how}", user)
        response = redirect(url_for("home.index"))
        if form.remember.data:
            _remember(response, user)
        db.session.commit()
        if how == "recovery":
            left = factor.recovery_codes_left(user)
            flash(
                ngettext(
                    "You used a recovery code. You have %(num)s left: ask a manager to "
                    "reset your second step before they run out.",
                    "You used a recovery code. You have %(num)s left: ask a manager to "
                    "reset your second step before they run out.",
                    left,
                )
            )
        return response
    status = 400 if request.method == "POST" else 200
    return render_template("second_factor/verify.html", form=form), status


@bp.route("/set-up", methods=["GET", "POST"])
@limiter.shared_limit(
    auth.account_limit,
    scope=auth.ACCOUNT_SCOPE,
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.shared_limit(
    auth.address_limit, scope=auth.ADDRESS_SCOPE, methods=["POST"], deduct_when=_failed
)
def setup() -> ResponseReturnValue:
    user = _mine()
    if user.totp_secret is not None:
        # Set up already: a new one only after a manager's reset.
        return redirect(url_for("second_factor.verify"))
    secret = session.get(PENDING)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = factor.new_secret()
        session[PENDING] = secret
    form = SetUpForm()
    status = 200
    if form.validate_on_submit():
        codes = factor.confirm_set_up(_passwords(), user, secret, form.code.data or "")
        if codes is not None:
            audit.record(user, "second-factor:set-up", user)
            db.session.commit()
            login_user(user)  # this session carries on; any other one has ended
            session.pop(PENDING, None)
            mark_passed(user)
            return render_template("second_factor/recovery_codes.html", codes=codes)
        audit.record(user, "second-factor:set-up", user, outcome="denied")
        db.session.commit()
        form.code.errors = [WRONG_CODE]
        status = 401
    elif request.method == "POST":
        status = 400
    uri = factor.provisioning_uri(user, secret)
    return render_template(
        "second_factor/setup.html",
        form=form,
        qr=factor.qr_svg(uri),
        secret=factor.grouped(secret),
    ), status


def _second_factor_first() -> Response | None:
    """Before every request: a person who has given only their password goes to the
    second step, whatever they asked for (but signing out)."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_ENDPOINTS or endpoint.startswith("second_factor."):
        return None
    user = actor()
    if not needed(user):
        return None
    return redirect(url_for("second_factor.verify"))


def init_app(app: Flask) -> None:
    app.before_request(_second_factor_first)
