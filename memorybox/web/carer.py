"""A foster carer's home: the children placed with them now, and what they have added."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from memorybox.children import relationships
from memorybox.memories import services as memories
from memorybox.policy import Action
from memorybox.web.access import require, signed_in_actor

bp = Blueprint("carer", __name__, url_prefix="/carer")


@bp.get("")
@login_required
def home() -> str:
    user = signed_in_actor()
    require(Action.CARER_HOME, user)
    children = relationships.children_placed_with(user.id)
    return render_template(
        "carer/home.html",
        children=[(child, memories.added_by(user, child)) for child in children],
    )
