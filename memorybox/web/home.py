"""The front door: send each person to their own home page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from memorybox.children import relationships
from memorybox.policy import Action
from memorybox.web.access import actor, can

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    user = actor()
    if user is None:
        return redirect(url_for("auth.login"))
    child = relationships.child_of_user(user.id)
    if child is not None and can(Action.BOX_VIEW, child):
        return redirect(url_for("box.gallery", child_id=child.id))
    if can(Action.CARER_HOME, user):
        return redirect(url_for("carer.home"))
    if can(Action.CASELOAD_VIEW, user):
        return redirect(url_for("caseload.home"))
    if can(Action.AUTHORITY_MANAGE, user.authority):
        return redirect(url_for("manage.overview"))
    return render_template("home/unlinked.html")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200
