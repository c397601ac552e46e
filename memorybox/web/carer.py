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
    sent = memories.sent_by(user, children, per_child=SENT_SHOWN)
    return render_template(
        "carer/home.html",
        children=[(child, *sent[child.id]) for child in children],
        sent_shown=SENT_SHOWN,
    )


#: how many of the things a carer sent each child their home page names (the newest)
SENT_SHOWN = 5
