"""A social worker's caseload: the children allocated to them today."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from memorybox.children import relationships
from memorybox.policy import Action
from memorybox.web.access import require, signed_in_actor

bp = Blueprint("caseload", __name__, url_prefix="/caseload")


@bp.get("")
@login_required
def home() -> str:
    user = signed_in_actor()
    require(Action.CASELOAD_VIEW, user)
    return render_template(
        "caseload/home.html", children=relationships.children_allocated_to(user.id)
    )
