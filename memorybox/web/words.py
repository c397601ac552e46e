"""Words templates put together from stored facts: states, who was told, who saw it."""

from __future__ import annotations

import json

from flask import Flask
from flask_babel import gettext as _

from memorybox.notifications.help import DUTY_TEAM, NOBODY_ESCALATED
from memorybox.notifications.models import HelpRequest
from memorybox.sharing.models import Consent


def state_words(state: str) -> str:
    """A placement's, an allocation's or an invitation's state, in the page's language."""
    return {
        "starts later": _("starts later"),
        "ended": _("ended"),
        "active": _("active"),
        "accepted": _("accepted"),
        "cancelled": _("cancelled"),
        "expired": _("expired"),
        "waiting": _("waiting"),
        "stopped": _("stopped"),
    }.get(state, state)


def saw_it_name(who: str) -> str:
    """ "Jo, your foster carer, saw it": a description with a comma is closed by one."""
    return who + "," if "," in who else who


def told(request: HelpRequest) -> str:
    """Who an "I need help" went to: people's names, or the duty team."""
    return _("the duty team") if request.sent_to == DUTY_TEAM else request.sent_to


def escalated(request: HelpRequest) -> str:
    """Who an unanswered "I need help" was sent on to (names, and the duty inbox)."""
    if request.escalated_to == NOBODY_ESCALATED:
        return _("nobody (no manager or duty inbox is set up)")
    parts = []
    for part in request.escalated_to.split(", "):
        if part.startswith("the duty inbox (") and part.endswith(")"):
            part = _("the duty inbox (%(email)s)", email=part[len("the duty inbox (") : -1])
        parts.append(part)
    return ", ".join(parts)


def audience_words(consent: Consent) -> str:
    from memorybox.web.sharing import describe_audience

    return describe_audience(consent, capital=False)


def init_app(app: Flask) -> None:
    for function in (state_words, saw_it_name, told, escalated, audience_words):
        app.jinja_env.filters[function.__name__] = function
    app.jinja_env.globals["duty_team"] = DUTY_TEAM
    app.jinja_env.globals["script_words"] = script_words


def script_words() -> str:
    """What static/js/site.js says, in the page's language (``%(name)s`` are filled in there),
    as JSON: the page carries it in a meta element, so the script holds no words of its own
    (and the page no inline script)."""
    return json.dumps(_script_words(), ensure_ascii=False)


def _script_words() -> dict[str, str]:
    return {
        "loading": _("Loading…"),
        "sent": _("%(percent)s%% sent (%(sent)s of %(total)s)"),
        "nearlyDone": _("Nearly done…"),
        "didNotWork": _("That didn't work. Please try again."),
        "dropped": _("The connection dropped. Please check your internet and try again."),
        "droppedResume": _(
            "The connection dropped. Choose the same file again and it will carry on from "
            "where it stopped."
        ),
        "carryingOn": _("Carrying on from where it stopped…"),
        "tooBig": _("That file is too big. The biggest file you can add is %(size)s."),
        "starting": _("Starting…"),
        "recorded": _("Recorded. Give it a title, then press “Add it”."),
        "recordingVideo": _("Recording a video… press Stop when you are done."),
        "recording": _("Recording… press Stop when you are done."),
        "noMicrophone": _(
            "We couldn't use the microphone or camera. You can allow it in your browser "
            "settings, or choose a file instead."
        ),
        "noDraft": _(
            "We couldn't keep a draft just now. Your words are still here: press Save when "
            "you're ready."
        ),
        "ready": _("Ready."),
        "couldNotMake": _("We couldn't make this."),
        "beingMade": _("Being made: %(percent)s%%."),
        "readAloud": _("Read this to me"),
        "stopReading": _("Stop reading"),
        "bytes": _("%(num)s bytes"),
        "kb": _("%(num)s KB"),
        "mb": _("%(num)s MB"),
        "gb": _("%(num)s GB"),
    }
