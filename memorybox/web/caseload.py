"""A social worker's caseload: allocated children, what is new, approvals, decisions."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from memorybox.children import relationships
from memorybox.children.models import Child
from memorybox.memories import services as memories
from memorybox.policy import Action
from memorybox.sharing import services as sharing
from memorybox.web.access import load, require, signed_in_actor
from memorybox.web.shared import last_visit, shared_items

bp = Blueprint("caseload", __name__, url_prefix="/caseload")


@bp.get("")
@login_required
def home() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.CASELOAD_VIEW, user)
    rows = []
    for child in relationships.children_allocated_to(user.id):
        visit = last_visit(user.id, child.id)
        items = shared_items(child)
        new = [i for i, since in items if since and (visit is None or since > visit.last_seen_at)]
        rows.append((child, len(items), len(new), sharing.decides_for_self(child)))
    children = relationships.children_allocated_to(user.id)
    return render_template(
        "caseload/home.html",
        rows=rows,
        waiting=len(memories.awaiting_review(children)),
    )


@bp.get("/reviews")
@login_required
def reviews() -> ResponseReturnValue:
    user = signed_in_actor()
    require(Action.REVIEW_QUEUE, user)
    items = memories.awaiting_review(relationships.children_allocated_to(user.id))
    return render_template("caseload/reviews.html", items=items)


@bp.post("/children/<int:child_id>/decides-sharing")
@login_required
def decides_sharing(child_id: int) -> ResponseReturnValue:
    child = load(Child, child_id, Action.CAPACITY_RECORD)
    sharing.record_decides_for_self(child, signed_in_actor())
    flash(f"Recorded: {child.display_name} now decides who sees their things.")
    return redirect(url_for("shared.child", child_id=child.id))
