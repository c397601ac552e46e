"""The notification centre."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from memorybox.notifications import service as notifications
from memorybox.policy import Action
from memorybox.web.access import require, signed_in_actor

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.NOTIFICATIONS_VIEW, user)
    return render_template("notifications/index.html", notes=notifications.for_user(user))


@bp.post("/read")
@login_required
def read() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.NOTIFICATIONS_VIEW, user)
    notifications.mark_all_read(user)
    return redirect(url_for("notifications.index"))
