"""Lists a page at a time, as people use them: 60 cards, "Show more" to the next 60 with
nothing missed or shown twice (even when something is added meanwhile), "jump to a year" on
the timeline, urgent messages first on every page, and a friendly 400 for a link made by
hand."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from memorybox.db import db
from memorybox.memories.models import MemoryItem
from memorybox.sharing.models import Audience
from tests import factories
from tests.factories import World, login_as
from tests.test_list_queries import bulk_items, consent_rows, messages

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

MORE = re.compile(r'href="([^"]*)" data-show-more="([^"]*)"')


def _titles(html: str, list_id: str) -> list[str]:
    """The link texts of one list on a page, in order."""
    start = html.index(f'id="{list_id}"')
    tag = html[html.rindex("<", 0, start) + 1 : start].split()[0]
    block = html[start : html.index(f"</{tag}>", start)]
    cards = re.findall(r'<span class="(?:card|timeline)__title">([^<]*)</span>', block)
    if cards:
        return cards
    if tag in {"ul", "ol"} and "<a " not in block:
        return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", block)]
    return re.findall(r"<a [^>]*>([^<]*)</a>", block)


def _more(html: str) -> str | None:
    found = MORE.search(html)
    return found.group(1).replace("&amp;", "&") if found else None


def _every_page(client: FlaskClient, url: str, list_id: str) -> list[list[str]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.data.decode()
        pages.append(_titles(html, list_id))
        url = _more(html) or ""
        assert len(pages) < 50
    return pages


def test_the_gallery_shows_60_at_a_time_newest_first_and_misses_nothing(
    app: Flask, client: FlaskClient, world: World
) -> None:
    bulk_items(world.child, world.young_person, 130)
    login_as(client, world.young_person)
    pages = _every_page(client, f"/children/{world.child.id}/box", "memories")
    assert [len(p) for p in pages] == [60, 60, 10]
    everything = [title for page in pages for title in page]
    assert everything == [f"Memory {i}" for i in range(129, -1, -1)], "newest memory first"


def test_something_added_between_pages_is_not_shown_twice_and_nothing_is_skipped(
    app: Flask, client: FlaskClient, world: World
) -> None:
    bulk_items(world.child, world.young_person, 70)
    login_as(client, world.young_person)
    first = client.get(f"/children/{world.child.id}/box").data.decode()
    factories.item(app, world.child, world.young_person, title="Brand new", process=False)
    second = client.get(_more(first) or "").data.decode()
    shown = _titles(first, "memories") + _titles(second, "memories")
    assert len(shown) == len(set(shown)) == 70
    assert "Brand new" in _titles(
        client.get(f"/children/{world.child.id}/box").data.decode(), "memories"
    )


def test_the_timeline_jumps_to_a_year_and_carries_on_into_later_years(
    app: Flask, client: FlaskClient, world: World
) -> None:
    ids = bulk_items(world.child, world.young_person, 100)
    # Fifty memories from 2019, fifty from 2021.
    for i, item_id in enumerate(ids):
        day = (
            date(2019, 1, 1) + timedelta(days=i) if i < 50 else date(2021, 3, 1) + timedelta(days=i)
        )
        db.session.execute(
            update(MemoryItem)
            .where(MemoryItem.id == item_id)
            .values(memory_date=day, sort_date=day)
        )
    db.session.commit()
    login_as(client, world.young_person)
    page = client.get(f"/children/{world.child.id}/timeline").data.decode()
    jump = page[: page.index('id="timeline"')]
    assert ">2019<" in jump and ">2021<" in jump
    assert "(50 memories)" in jump
    from_2021 = client.get(f"/children/{world.child.id}/timeline?from=2021").data.decode()
    titles = _titles(from_2021, "timeline")
    assert titles[0] == "Memory 50" and len(titles) == 50 and _more(from_2021) is None
    assert "<h2>2019</h2>" not in from_2021 and "<h2>2021</h2>" in from_2021
    # From the start: 60 (a year's heading once), then the rest without repeating 2021's.
    first = client.get(f"/children/{world.child.id}/timeline").data.decode()
    second = client.get(_more(first) or "").data.decode()
    assert first.count("<h2>2019</h2>") == 1 and first.count("<h2>2021</h2>") == 1
    assert "<h2>2021</h2>" not in second
    assert len(_titles(first, "timeline")) + len(_titles(second, "timeline")) == 100


@pytest.mark.parametrize(
    "query", ["after=not-a-cursor", "after=WyJ4Il0", "after=" + "A" * 500, "from=nineteen"]
)
def test_a_show_more_link_made_by_hand_gets_a_friendly_400(
    client: FlaskClient, world: World, query: str
) -> None:
    login_as(client, world.young_person)
    response = client.get(f"/children/{world.child.id}/timeline?{query}")
    assert response.status_code == 400
    assert b"Traceback" not in response.data
    assert b"That link is out of date" in response.data or b"find that year" in response.data


def test_urgent_messages_stay_on_top_and_every_message_is_on_some_page(
    app: Flask, client: FlaskClient, world: World
) -> None:
    look = messages(app, world, 130)  # every 50th is urgent
    login_as(client, look.who)
    pages = _every_page(client, look.url, "messages")
    assert [len(p) for p in pages] == [60, 60, 10]
    html = client.get(look.url).data.decode()
    assert html.count("message__urgent") == 3, "the three urgent ones come first"


def test_the_social_worker_pages_through_only_what_is_shared_and_hears_what_is_new(
    app: Flask, client: FlaskClient, world: World
) -> None:
    shared = bulk_items(world.child, world.young_person, 90)
    bulk_items(world.child, world.young_person, 40)  # private
    consent_rows(world.child, world.young_person, Audience.SOCIAL_WORKER, item_id=shared)
    login_as(client, world.social_worker)
    first = client.get(f"/shared/{world.child.id}").data.decode()
    assert "shared 90 things with you" in first
    assert "and 70 more things shared with you" in first, "20 named, the rest counted"
    pages = _every_page(client, f"/shared/{world.child.id}", "shared-items")
    titles = [t for page in pages for t in page]
    assert len(titles) == 90 and set(titles) == {f"Memory {i}" for i in range(90)}
    again = client.get(f"/shared/{world.child.id}").data.decode()
    assert "was shared with you" not in again, "seen on the last visit"


def test_who_looked_pages_through_every_look(app: Flask, client: FlaskClient, world: World) -> None:
    from tests.test_list_queries import who_looked

    look = who_looked(app, world, 450)
    login_as(client, look.who)
    pages = _every_page(client, look.url, "looks")
    assert [len(p) for p in pages] == [200, 200, 50] or sum(len(p) for p in pages) == 450
