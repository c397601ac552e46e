"""The front door: send each person to their own home page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from memorybox import clock
from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.contributors import services as contributors
from memorybox.letters import services as letters
from memorybox.memories import services as memories
from memorybox.policy import Action
from memorybox.web import alerts
from memorybox.web.access import actor, can

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    user = actor()
    if user is None:
        return redirect(url_for("auth.login"))
    child = relationships.child_of_user(user.id)
    if child is not None and can(Action.BOX_VIEW, child):
        return _child_home(child)
    if can(Action.CARER_HOME, user):
        return redirect(url_for("carer.home"))
    if can(Action.CASELOAD_VIEW, user):
        return redirect(url_for("caseload.home"))
    if can(Action.AUTHORITY_MANAGE, user.authority):
        return redirect(url_for("manage.overview"))
    link = contributors.of_user(user.id)
    if link is not None and can(Action.CONTRIBUTOR_HOME, link):
        return redirect(url_for("contributors.send"))
    return render_template("home/unlinked.html")


#: how many memories each part of a young person's home page shows
SHOWN = 6


def _child_home(child: Child) -> ResponseReturnValue:
    """A young person's own front page: their name, what is waiting for them, their newest
    memories and the ones from this day in earlier years."""
    today = clock.today()
    letters.announce_due(child, alerts.sender())  # a letter that opened today: a message
    return render_template(
        "home/child.html",
        child=child,
        first_name=child.display_name.split()[0] if child.display_name else "",
        suggestions=memories.suggestion_count(child),
        newest=memories.newest_added(child, SHOWN),
        this_day=memories.on_this_day(child, today, SHOWN),
        today=today,
        active="home",
    )


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200
