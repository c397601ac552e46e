"""One "I need help" or "I'd like to talk about this" request: for the child, what they sent
and who has seen it; for their social worker (and, for help, the managers who make sure
someone answers), the request and "I've seen this, I'll be in touch"."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from memorybox.children.models import Child
from memorybox.db import db
from memorybox.letters.models import Letter
from memorybox.memories.models import MemoryItem
from memorybox.notifications import help as helping
from memorybox.notifications import talk as talking
from memorybox.notifications.models import HelpRequest, TalkRequest
from memorybox.policy import Action
from memorybox.web import alerts
from memorybox.web.access import can, load, signed_in_actor, signed_in_only
from memorybox.web.people import describe

bp = Blueprint("help", __name__)

signed_in_only(bp)


def _thanks(child: Child) -> None:
    flash(_("Thank you. %(name)s has been told that you have seen it.", name=child.display_name))


@bp.get("/help/<int:request_id>")
def help_request(request_id: int) -> ResponseReturnValue:
    request = load(HelpRequest, request_id, Action.HELP_VIEW)
    return render_template(
        "help/request.html",
        request=request,
        child=request.child,
        mine=can(Action.HELP_ASK, request.child),
        describe=describe,
    )


@bp.post("/help/<int:request_id>/seen")
def acknowledge_help(request_id: int) -> ResponseReturnValue:
    request = load(HelpRequest, request_id, Action.HELP_ACKNOWLEDGE)
    helping.acknowledge(request, signed_in_actor(), alerts.sender())
    _thanks(request.child)
    return redirect(url_for("help.help_request", request_id=request.id))


@bp.get("/talk/<int:request_id>")
def talk_request(request_id: int) -> ResponseReturnValue:
    request = load(TalkRequest, request_id, Action.TALK_VIEW)
    item = db.session.get(MemoryItem, request.item_id) if request.item_id else None
    return render_template(
        "help/talk.html",
        request=request,
        child=request.child,
        item=item if item is not None and can(Action.ITEM_VIEW, item) else None,
        letter=_letter_of(request),
        can_share_for_child=item is not None and can(Action.ITEM_SHARE, item),
        mine=can(Action.BOX_VIEW, request.child),
        describe=describe,
    )


def _letter_of(request: TalkRequest) -> Letter | None:
    """The letter a request is about, as its reader may open it (the child's page of it, or
    the social worker's)."""
    letter = db.session.get(Letter, request.letter_id) if request.letter_id else None
    if letter is None:
        return None
    if can(Action.LETTER_SEE, letter) or can(Action.LETTER_READ, letter):
        return letter
    return None


@bp.post("/talk/<int:request_id>/seen")
def acknowledge_talk(request_id: int) -> ResponseReturnValue:
    request = load(TalkRequest, request_id, Action.TALK_ACKNOWLEDGE)
    talking.acknowledge(request, signed_in_actor(), alerts.sender())
    _thanks(request.child)
    return redirect(url_for("help.talk_request", request_id=request.id))
