"""The child's tags on one of their things: add one (typed, or picked again), take one off."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from memorybox import i18n
from memorybox.children.models import Child
from memorybox.memories.models import MemoryItem
from memorybox.policy import Action
from memorybox.search import tags
from memorybox.search.models import TAG_MAX, Tag
from memorybox.web.access import load, signed_in_only
from memorybox.words import words_of

bp = Blueprint("tags", __name__, url_prefix="/items/<int:item_id>/tags")

signed_in_only(bp)


@bp.app_template_global("tags_on")
def _tags_on(item: MemoryItem) -> list[Tag]:
    return tags.tags_on(item)


@bp.app_template_global("tags_of")
def _tags_of(child: Child) -> list[Tag]:
    return tags.tags_of(child)


def _back(item: MemoryItem) -> str:
    return url_for("items.show", item_id=item.id) + "#tags"


@bp.post("")
def add(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_TAG)
    typed = request.form.get("name", "")
    try:
        tag = tags.add(item, typed)
    except tags.TagError as exc:
        return render_template(
            "items/tags.html",
            item=item,
            item_tags=tags.tags_on(item),
            child_tags=tags.tags_of(item.child),
            typed=typed[: TAG_MAX * 2],
            error=i18n.problem_words(words_of(exc)),
        ), 400
    flash(_("Added the tag “%(name)s”.", name=tag.name))
    return redirect(_back(item))


@bp.post("/remove")
def remove(item_id: int) -> ResponseReturnValue:
    item = load(MemoryItem, item_id, Action.ITEM_TAG)
    raw = request.form.get("tag", "")
    name = tags.remove(item, int(raw)) if raw.isdigit() and len(raw) < 12 else None
    if name is not None:
        flash(_("Took off the tag “%(name)s”.", name=name))
    return redirect(_back(item))
