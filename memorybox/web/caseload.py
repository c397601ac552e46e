"""A social worker's caseload: allocated children ordered by what needs attention (help
nobody has acknowledged first), approvals, and recording that a child decides for themselves."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from memorybox import pagination
from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.memories import services as memories
from memorybox.pagination import Page
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.web import attention, lists
from memorybox.web.access import load, require, signed_in_actor

bp = Blueprint("caseload", __name__, url_prefix="/caseload")


@bp.get("")
@login_required
def home() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.CASELOAD_VIEW, user)
    children = relationships.children_allocated_to(user.id)
    rows = attention.caseload(user, children)
    urgent = [need for _, needs in rows for need in needs.needs if need.urgent]
    urgent.sort(key=lambda n: n.when)
    page = lists.page(lambda after: pagination.slice_of(rows, after))
    return render_template(
        "caseload/home.html",
        rows=Page(
            [(child, needs, sharing.decides_for_self(child)) for child, needs in page.rows],
            page.more,
        ),
        urgent=urgent,
        waiting=sum(needs.counts["review"] for _, needs in rows),
    )


@bp.get("/reviews")
@login_required
def reviews() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.REVIEW_QUEUE, user)
    children = relationships.children_allocated_to(user.id)
    items = lists.page(lambda after: memories.awaiting_review_page(children, after))
    return render_template("caseload/reviews.html", items=items)


@bp.post("/children/<int:child_id>/decides-sharing")
@login_required
def decides_sharing(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.CAPACITY_RECORD)
    sharing.record_decides_for_self(child, signed_in_actor())
    flash(_("Recorded: %(name)s now decides who sees their things.", name=child.display_name))
    return redirect(url_for("shared.child", child_id=child.id))
