"""The "Take it with me" ZIP's index.html in a real Chromium, opened from the unzipped folder
with the network switched off: axe finds nothing wrong on a small phone or a laptop, every
picture and link works from the folder, nothing is fetched, and a photo the child hid until
they're ready is not shown."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from memorybox.db import db
from memorybox.exports.models import Export, ExportState
from memorybox.memories import services as memories
from memorybox.story import services as story
from tests import factories
from tests.browser.conftest import (
    LAPTOP,
    SMALL_PHONE,
    TIMEOUT_MS,
    assert_accessible,
    assert_no_sideways_scroll,
)
from tests.factories import World, login_as

pytestmark = pytest.mark.browser


def _take_it_with_me(app: Flask, client: FlaskClient, world: World, folder: Path) -> Path:
    """Alex's box (a photo, a document, a photo hidden until they're ready, two story
    parts), exported as the ZIP and unzipped into ``folder``; the path of its index.html."""
    yp, child = world.young_person, world.child
    yp.theme = "green"
    beach = factories.item(app, child, yp, title="Beach day")
    beach.caption = "Me and Nan at the sea.\nIt was windy."
    hidden = factories.item(app, child, yp, title="Mum and me")
    hidden.caption = "A hard day at the hospital"
    db.session.commit()
    login_as(client, yp)
    response = client.post(
        f"/children/{child.id}/add",
        data={
            "file": (io.BytesIO(factories.pdf_bytes()), "report.pdf"),
            "title": "School report",
            "caption": "Mrs Patel said I work hard.",
            "memory_date": "2022-07-10",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    memories.choose(hidden, memories.Gentle.HIDE)
    about = story.add_own_section(child, "About me")
    story.save_version(about, "I like football\nand drawing dragons.", [], yp)
    worries = story.add_own_section(child, "Hidden worries")
    story.save_version(worries, "Something only I know.", [], yp)
    story.set_gentle(worries, "hide_until_ready", True)
    db.session.commit()

    assert client.post(f"/children/{child.id}/exports", data={"kind": "zip"}).status_code == 302
    export = db.session.scalars(select(Export).order_by(Export.id.desc())).first()
    assert export is not None
    db.session.refresh(export)
    assert export.state is ExportState.READY, export.error
    data = client.get(f"/exports/{export.id}/download").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)
    return folder / "index.html"


@pytest.fixture
def offline_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A tab with no network at all, and the address of everything it asks for."""
    context = browser.new_context(viewport=LAPTOP, locale="en-GB", offline=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    yield tab, asked
    context.close()


def test_the_offline_index_is_accessible_and_needs_no_internet(
    app: Flask,
    client: FlaskClient,
    world: World,
    tmp_path: Path,
    offline_page: tuple[Page, list[str]],
) -> None:
    index = _take_it_with_me(app, client, world, tmp_path / "box")
    source = index.read_text()
    assert "<script" not in source.lower()
    page, asked = offline_page
    page.goto(index.as_uri())

    expect(page.get_by_role("heading", level=1, name="Alex's memory box")).to_be_visible()
    expect(page.get_by_role("main")).to_have_count(1)
    for name in ("My story", "My things"):
        expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    for name in ("About me", "Hidden worries", "Beach day", "Mum and me", "School report"):
        expect(page.get_by_role("heading", level=3, name=name)).to_be_visible()
    expect(page.get_by_text("I like football")).to_be_visible()
    assert "Something only I know." not in source  # the hidden story part is only named

    # Every picture is drawn from the folder; the hidden photo is not shown at all.
    pictures = page.locator("img")
    expect(pictures).to_have_count(1)
    assert pictures.evaluate("img => img.complete && img.naturalWidth > 0")
    assert pictures.get_attribute("alt") == ""  # the heading above already names it
    thing = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="Mum and me"))
    expect(thing).to_contain_text("Hidden until you're ready.")
    expect(thing.get_by_role("link", name="Open photo")).to_be_visible()
    assert "A hard day at the hospital" not in source

    # Each link opens a file in the folder (described by the heading of its thing).
    links = page.get_by_role("link")
    expect(links).to_have_count(4)  # the story as text, and one for each thing
    for n in range(links.count()):
        url = urlparse(str(links.nth(n).evaluate("a => a.href")))
        assert url.scheme == "file", url
        assert Path(unquote(url.path)).is_file(), url
    expect(page.get_by_role("link", name="Open document")).to_have_accessible_description(
        "School report"
    )

    page.set_viewport_size(SMALL_PHONE)
    assert_no_sideways_scroll(page, "the offline index on a small phone")
    assert_accessible(page, "the offline index on a small phone")
    page.set_viewport_size(LAPTOP)
    assert_accessible(page, "the offline index on a laptop")

    assert asked and all(url.startswith("file://") for url in asked), asked
    folder = index.parent.resolve()
    for url in asked:
        assert Path(unquote(urlparse(url).path)).resolve().is_relative_to(folder), url
