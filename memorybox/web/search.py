"""Finding things: the child in their box and story, and anyone else in what a child shares
with them. Reads what was asked from the address, checks every choice against what this
person was offered, asks policy what they may see, and lets the finder do the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from memorybox import policy
from memorybox.children.models import Child
from memorybox.memories.models import ItemKind, MemoryItem
from memorybox.pagination import Page
from memorybox.policy import Action
from memorybox.search import finder, tags
from memorybox.search.text import highlight, terms
from memorybox.sharing import services as sharing
from memorybox.story.models import StorySection
from memorybox.web import lists
from memorybox.web.access import load, signed_in_actor, signed_in_only

bp = Blueprint("search", __name__)

signed_in_only(bp)

#: what "Show me" offers: a kind of thing, or the story only
KINDS: dict[str, LazyString] = {
    "photo": _l("Photos"),
    "video": _l("Videos"),
    "audio": _l("Sounds"),
    "document": _l("Documents"),
    "story": _l("Story"),
}
#: the most tags one search may ask for (more can't all be on one thing)
MAX_TAGS = tags.PER_ITEM


@dataclass
class Asked:
    """What the address asks for, as typed (so the form shows it again), and what is wrong
    with it, by field."""

    text: str = ""
    kind: str = ""
    year: str = ""
    album: str = ""
    tags: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _read(years: list[int], album_ids: set[int], tag_ids: set[int]) -> tuple[Asked, finder.Search]:
    args = request.args
    asked = Asked(
        text=args.get("q", ""),
        kind=args.get("kind", ""),
        year=args.get("year", ""),
        album=args.get("album", ""),
        tags=args.getlist("tag"),
    )
    if len(asked.text) > finder.QUERY_MAX:
        asked.errors["q"] = _(
            "That is too long to look for. Please use %(num)s letters or fewer.",
            num=finder.QUERY_MAX,
        )
        asked.text = asked.text[: finder.QUERY_MAX]
    if asked.kind and asked.kind not in KINDS:
        asked.errors["kind"] = _("Please choose what to show from the list.")
        asked.kind = ""
    if asked.year and asked.year not in {str(y) for y in years}:
        asked.errors["year"] = _("Please choose a year from the list.")
        asked.year = ""
    if asked.album and asked.album not in {str(a) for a in album_ids}:
        asked.errors["album"] = _("Please choose an album from the list.")
        asked.album = ""
    offered = {str(t) for t in tag_ids}
    if len(asked.tags) > MAX_TAGS or any(t not in offered for t in asked.tags):
        asked.errors["tag"] = _("Please choose tags from the list.")
        asked.tags = [t for t in asked.tags if t in offered][:MAX_TAGS]
    search = finder.Search(
        terms=terms(asked.text),
        kind=ItemKind(asked.kind) if asked.kind and asked.kind != "story" else None,
        story_only=asked.kind == "story",
        year=int(asked.year) if asked.year else None,
        album_id=int(asked.album) if asked.album else None,
        tag_ids=tuple(sorted({int(t) for t in asked.tags})),
    )
    return asked, search


@bp.get("/children/<int:child_id>/search")
def box(child_id: int) -> ResponseReturnValue:
    """The child looks through their own box and story."""
    child = load(Child, child_id, Action.BOX_VIEW)
    return _search(child, own=True)


@bp.get("/shared/<int:child_id>/search")
def shared(child_id: int) -> ResponseReturnValue:
    """Someone in the child's life looks through what the child shares with them."""
    child = load(Child, child_id, Action.SHARED_VIEW)
    return _search(child, own=False)


def _search(child: Child, *, own: bool) -> ResponseReturnValue:
    viewer = signed_in_actor()
    visible = policy.viewable_items(viewer, child.id)
    if own:
        visible = visible & finder.in_box()
        albums = sharing.collections_of(child)
        offered_tags = tags.tags_of(child)
    else:
        every_album = sharing.collections_of(child)
        sharing.prime_collection_consents(a.id for a in every_album)
        albums = [a for a in every_album if policy.can(viewer, Action.COLLECTION_VIEW, a)]
        offered_tags = []  # a child's tags are their own
    years = finder.years(child, visible)
    asked, search = _read(years, {a.id for a in albums}, {t.id for t in offered_tags})
    items: Page[MemoryItem] = Page([])
    sections: Page[StorySection] = Page([])
    if not asked.errors:
        items = lists.page(
            lambda after: finder.items_page(child, search, visible, after, with_tags=own)
        )
        sections = lists.page(
            lambda after: finder.sections_page(
                child, search, policy.readable_sections(viewer), after
            ),
            "story_after",
        )
    page = render_template(
        "search/find.html",
        child=child,
        own=own,
        asked=asked,
        searched=(search.asks or bool(asked.text.strip())) and not asked.errors,
        kinds=KINDS,
        years=years,
        albums=albums,
        tags=offered_tags,
        items=items,
        sections=sections,
        snippet=lambda text: highlight(text, search.terms),
        action=request.path,
    )
    return page, 400 if asked.errors else 200
