"""Find anything: the index follows every write that changes words, the child finds their
things and story by words, kind, year, album and tags, other people find only what is shared
with them (by its words, never the child's tags), and bad input gets a friendly 400 with the
form kept. Run on SQLite (FTS5) and PostgreSQL (full-text search) like the rest."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, text

from memorybox import clock
from memorybox.db import db
from memorybox.memories import services as memories
from memorybox.memories.models import ItemKind, MemoryItem
from memorybox.search import backends, index, tags
from memorybox.search.models import ItemTag, SearchDocument, Tag
from memorybox.search.text import document, highlight, terms
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from memorybox.story import services as story
from memorybox.story.models import StorySection, Transcript, TranscriptState
from tests import factories
from tests.factories import World, login_as

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)


def _item(
    app: Flask,
    world: World,
    title: str,
    caption: str = "",
    *,
    memory_date: date | None = None,
    child: object = None,
) -> MemoryItem:
    made = factories.item(
        app,
        child or world.child,  # type: ignore[arg-type]
        world.young_person if child is None else world.carer,
        title=title,
        memory_date=memory_date,
        process=False,
    )
    if caption:
        made.caption = caption
        db.session.commit()
    return made


def _ids_in(html: str, list_id: str, pattern: str) -> list[int]:
    match = re.search(rf'id="{list_id}".*?</ul>', html, re.S)
    return [int(i) for i in re.findall(pattern, match.group(0))] if match else []


def found(client: FlaskClient, url: str, **args: object) -> tuple[list[int], list[int]]:
    """The ids of the things and story parts a search page shows."""
    response = client.get(url, query_string=args or None)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    return (
        _ids_in(html, "found-things", r'href="/items/(\d+)"'),
        _ids_in(html, "found-story", r'data-section-id="(\d+)"'),
    )


def mine(world: World) -> str:
    return f"/children/{world.child.id}/search"


@pytest.fixture
def child_client(client: FlaskClient, world: World) -> FlaskClient:
    login_as(client, world.young_person)
    return client


# --- words ---------------------------------------------------------------------------------


def test_words_are_folded_the_same_way_for_the_index_and_the_search() -> None:
    assert document(["Café with NAN!", "Biscuit's walk"]) == "cafe with nan biscuit s walk"
    assert terms("  nan NAN  beach?? ") == ("nan", "beach")
    assert terms("!!!") == ()
    assert len(terms(" ".join(f"w{i}" for i in range(20)))) == 8
    assert highlight("A day at the beach with Nan", ("bea",)) == [
        ("A day at the ", False),
        ("beach", True),
        (" with Nan", False),
    ]


# --- the index follows what changes -----------------------------------------------------


def test_the_child_finds_things_by_title_and_caption_any_case_accent_or_start(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    beach = _item(app, world, "Beach day", "Ice cream at the Café with Nan")
    party = _item(app, world, "Birthday party")
    assert found(child_client, mine(world), q="beach")[0] == [beach.id]
    assert found(child_client, mine(world), q="CAFE")[0] == [beach.id]
    assert found(child_client, mine(world), q="bir")[0] == [party.id]
    assert found(child_client, mine(world), q="nan ice")[0] == [beach.id]
    assert found(child_client, mine(world), q="nan party")[0] == []


def test_changing_the_words_changes_what_finds_it(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    it = _item(app, world, "Beach day")
    response = child_client.post(
        f"/items/{it.id}/edit", data={"title": "Seaside", "caption": "Sandcastles"}
    )
    assert response.status_code == 302
    assert found(child_client, mine(world), q="beach")[0] == []
    assert found(child_client, mine(world), q="sandcastle")[0] == [it.id]
    assert found(child_client, mine(world), q="seaside")[0] == [it.id]


def test_the_bin_hides_a_thing_and_deleting_for_ever_takes_its_words_and_tags(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    it = _item(app, world, "Beach day")
    tags.add(it, "Nan")
    assert child_client.post(f"/items/{it.id}/delete").status_code == 302
    assert found(child_client, mine(world), q="beach")[0] == []
    assert child_client.post(f"/items/{it.id}/restore").status_code == 302
    assert found(child_client, mine(world), q="beach")[0] == [it.id]
    child_client.post(f"/items/{it.id}/delete")
    assert child_client.post(f"/items/{it.id}/purge").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SearchDocument)) == 0
    assert db.session.scalar(select(func.count()).select_from(ItemTag)) == 0


def test_story_parts_are_found_by_their_title_and_newest_words(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    about = next(s for s in story.sections_of(world.child) if s.title == "About me")
    empty = next(s for s in story.sections_of(world.child) if s.title == "Places I have lived")
    child_client.post(f"/story/{about.id}", data={"body": "I love my dog Biscuit."})
    assert found(child_client, mine(world), q="biscuit") == ([], [about.id])
    assert found(child_client, mine(world), q="about")[1] == [about.id]
    assert found(child_client, mine(world), q="places")[1] == []  # nothing written yet
    assert empty.id
    child_client.post(f"/story/{about.id}", data={"body": "I love my cat."})
    assert found(child_client, mine(world), q="biscuit") == ([], [])
    html = child_client.get(mine(world), query_string={"q": "cat"}).get_data(as_text=True)
    assert "<mark>cat</mark>" in html
    assert found(child_client, mine(world), kind="story")[1] == [about.id]


def test_words_the_child_kept_from_a_voice_note_find_the_voice_note(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    note = _item(app, world, "Me talking")
    section = next(s for s in story.sections_of(world.child) if s.title == "About me")
    version = story.save_version(section, "", [note], world.young_person, source="voice-note")
    assert version is not None
    transcript = Transcript(
        section_id=section.id,
        item_id=note.id,
        requested_by_id=world.young_person.id,
        state=TranscriptState.READY,
        text="I play footbal on Saturdays",
    )
    db.session.add(transcript)
    db.session.commit()
    assert found(child_client, mine(world), q="saturdays")[0] == []  # not checked yet
    from memorybox.story import voice

    voice.use(transcript, "I play football on Saturdays", world.young_person)
    assert found(child_client, mine(world), q="football") == ([note.id], [section.id])
    assert found(child_client, mine(world), q="footbal") == ([note.id], [section.id])
    db.session.refresh(transcript)
    assert transcript.text == "I play football on Saturdays"


def test_renaming_a_prompt_renames_what_finds_its_parts(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    about = next(s for s in story.sections_of(world.child) if s.title == "About me")
    child_client.post(f"/story/{about.id}", data={"body": "Hello."})
    assert about.prompt is not None
    story.rename_prompt(about.prompt, "All about me and my world", "")
    assert found(child_client, mine(world), q="world")[1] == [about.id]


# --- filters -------------------------------------------------------------------------------


def test_filters_by_kind_year_album_and_tags(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    old = _item(app, world, "Old day", memory_date=date(2019, 6, 1))
    new = _item(app, world, "New day", memory_date=date(2023, 6, 1))
    song = _item(app, world, "A day of singing", memory_date=date(2023, 7, 1))
    song.kind = ItemKind.AUDIO
    db.session.commit()
    album = sharing.create_collection(world.child, "Summer")
    sharing.add_to_collection(album, new)
    nan = tags.add(old, "Nan")
    tags.add(new, "nan")  # the same tag
    happy = tags.add(new, "Happy")
    assert [t.id for t in tags.tags_on(new)] == [happy.id, nan.id]
    assert found(child_client, mine(world), q="day")[0] == [song.id, new.id, old.id]
    assert found(child_client, mine(world), q="day", kind="audio")[0] == [song.id]
    assert found(child_client, mine(world), year="2019")[0] == [old.id]
    assert found(child_client, mine(world), album=album.id)[0] == [new.id]
    assert found(child_client, mine(world), tag=nan.id)[0] == [new.id, old.id]
    assert found(child_client, mine(world), tag=[nan.id, happy.id])[0] == [new.id]
    # the child's tags are words they can search by, too
    assert found(child_client, mine(world), q="happy")[0] == [new.id]
    # "Show more" keeps every tag asked for
    html = child_client.get(mine(world), query_string={"tag": [nan.id, happy.id]}).data
    assert f'value="{happy.id}" checked'.encode() in html


def test_many_results_come_a_page_at_a_time(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    from tests.test_list_queries import bulk_items

    bulk_items(world.child, world.young_person, 70)
    db.session.commit()
    assert index.fill_missing(db.session.connection()) == 70
    db.session.commit()
    response = child_client.get(mine(world), query_string={"q": "memory"})
    html = response.get_data(as_text=True)
    first = _ids_in(html, "found-things", r'href="/items/(\d+)"')
    assert len(first) == 60
    more = re.search(r'href="([^"]*after=[^"]*)"', html)
    assert more is not None and "q=memory" in more.group(1)
    rest, _ = found(child_client, more.group(1).replace("&amp;", "&"))
    assert len(rest) == 10 and not set(rest) & set(first)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"q": "x" * 101}, "q"),
        ({"q": "beach", "kind": "spaceship"}, "kind"),
        ({"q": "beach", "year": "1850"}, "year"),
        ({"q": "beach", "year": "nope"}, "year"),
        ({"q": "beach", "album": "999999"}, "album"),
        ({"q": "beach", "album": "x"}, "album"),
        ({"q": "beach", "tag": "999999"}, "tag"),
        ({"q": "beach", "tag": ["1"] * 30}, "tag"),
    ],
)
def test_bad_input_gets_a_friendly_400_with_the_form_kept(
    app: Flask, world: World, child_client: FlaskClient, args: dict[str, object], field: str
) -> None:
    _item(app, world, "Beach day", memory_date=date(2020, 1, 1))
    response = child_client.get(mine(world), query_string=args)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Please check your search" in html
    assert f'href="#search-{field}"' in html and f'id="search-{field}-error"' in html
    typed = str(args["q"])[:100]
    assert f'value="{typed}"' in html
    assert "found-things" not in html


def test_another_childs_album_or_tag_is_not_a_choice(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    theirs = _item(app, world, "Their day", child=world.young_child)
    album = sharing.create_collection(world.young_child, "Theirs")
    tag = tags.add(theirs, "Theirs")
    for args in ({"album": album.id}, {"tag": tag.id}):
        assert child_client.get(mine(world), query_string=args).status_code == 400


def test_no_words_to_look_for_finds_nothing_and_says_so_gently(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    _item(app, world, "Beach day")
    assert found(child_client, mine(world), q="!!!") == ([], [])
    html = child_client.get(mine(world), query_string={"q": "!!!"}).get_data(as_text=True)
    assert "We couldn't find anything for “!!!”" in html
    html = child_client.get(mine(world)).get_data(as_text=True)
    assert "What we found" not in html
    html = child_client.get(mine(world), query_string={"q": "zebra"}).get_data(as_text=True)
    assert "We couldn't find anything for “zebra”" in html


def _share(world: World, it: MemoryItem) -> None:
    sharing.grant(
        child=world.child,
        decided_by=world.young_person,
        on_behalf=False,
        audience=Audience.CARERS,
        item=it,
    )


# --- someone else --------------------------------------------------------------------------


def test_an_adult_finds_what_is_shared_with_them_by_its_words_not_the_childs_tags(
    app: Flask, world: World, client: FlaskClient
) -> None:
    shared = _item(app, world, "Beach day")
    private = _item(app, world, "Beach walk")
    tags.add(shared, "Sadness")
    _share(world, shared)
    login_as(client, world.carer)
    url = f"/shared/{world.child.id}/search"
    assert found(client, url, q="beach")[0] == [shared.id]
    assert private.id
    assert found(client, url, q="sadness")[0] == []
    html = client.get(url, query_string={"q": "beach"}).get_data(as_text=True)
    assert "Sadness" not in html
    tag_id = tags.tags_on(shared)[0].id
    assert client.get(url, query_string={"tag": tag_id}).status_code == 400


# --- tags on an item -----------------------------------------------------------------------


def test_the_child_adds_tags_by_typing_or_picking_and_takes_them_off(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    first = _item(app, world, "Beach day")
    second = _item(app, world, "Park")
    response = child_client.post(f"/items/{first.id}/tags", data={"name": "  Nan  "})
    assert response.status_code == 302 and response.headers["Location"].endswith("#tags")
    page = child_client.get(f"/items/{second.id}").get_data(as_text=True)
    assert 'id="tags"' in page and '<option value="Nan">' in page  # offered to pick
    child_client.post(f"/items/{second.id}/tags", data={"name": "NAN"})
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 1
    page = child_client.get(f"/items/{second.id}").get_data(as_text=True)
    assert 'Take off<span class="visually-hidden"> the tag Nan' in page
    nan = tags.tags_on(second)[0]
    child_client.post(f"/items/{second.id}/tags/remove", data={"tag": nan.id})
    assert tags.tags_on(second) == []
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 1  # still on first
    child_client.post(f"/items/{first.id}/tags/remove", data={"tag": nan.id})
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 0  # forgotten
    # taking off a tag that is not there changes nothing
    assert child_client.post(f"/items/{first.id}/tags/remove", data={"tag": "x"}).status_code == 302


@pytest.mark.parametrize(
    ("name", "message"),
    [("   ", "Please type a word"), ("!!!", "Please type a word"), ("x" * 41, "up to 40")],
)
def test_a_tag_that_cannot_be_added_says_why_and_keeps_what_was_typed(
    app: Flask, world: World, child_client: FlaskClient, name: str, message: str
) -> None:
    it = _item(app, world, "Beach day")
    response = child_client.post(f"/items/{it.id}/tags", data={"name": name})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert f'value="{name}"' in html
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 0


def test_adults_never_see_the_childs_tags_on_an_item(
    app: Flask, world: World, client: FlaskClient
) -> None:
    it = _item(app, world, "Beach day")
    tags.add(it, "Worried")
    _share(world, it)
    login_as(client, world.carer)
    page = client.get(f"/items/{it.id}").get_data(as_text=True)
    assert "Worried" not in page and 'id="tags"' not in page


# --- repairs -------------------------------------------------------------------------------


def test_reindex_writes_the_index_again(app: Flask, world: World) -> None:
    it = _item(app, world, "Beach day")
    db.session.execute(delete(SearchDocument))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reindex-search", "--missing"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 " in result.output
    result = runner.invoke(args=["reindex-search", "--child", str(world.child.id)])
    assert result.exit_code == 0, result.output
    gone = _item(app, world, "Gone")
    db.session.execute(delete(MemoryItem).where(MemoryItem.id == gone.id))  # past the index
    db.session.commit()
    result = runner.invoke(args=["reindex-search"])
    assert result.exit_code == 0 and "holds 1 " in result.output
    docs = db.session.scalars(select(SearchDocument)).all()
    assert [(d.item_id, d.words) for d in docs] == [(it.id, "beach day")]


def test_a_document_id_used_again_does_not_find_old_words(app: Flask, world: World) -> None:
    """SQLite hands out a deleted row's id again; an FTS5 row left from a bulk delete must not
    make the new document match the old words."""
    first = _item(app, world, "Zebra crossing")
    db.session.execute(delete(SearchDocument))  # bypassing the index (as a test's clean-up)
    db.session.commit()
    assert first.id
    second = _item(app, world, "Giraffe")
    finds = finder_ids(world, "zebra")
    assert second.id not in finds


def finder_ids(world: World, words: str) -> list[int]:
    from memorybox import policy
    from memorybox.search import finder

    page = finder.items_page(
        world.child,
        finder.Search(terms=terms(words)),
        policy.viewable_items(world.young_person),
        None,
        with_tags=True,
    )
    return [i.id for i in page]


@pytest.mark.skipif(not os.environ.get("MEMORYBOX_TEST_DATABASE_URL"), reason="PostgreSQL's plan")
def test_postgres_reads_the_words_from_its_gin_indexes(app: Flask, world: World) -> None:
    _item(app, world, "Beach day")
    for with_tags, name in (
        (False, "ix_search_documents_fts_words"),
        (True, "ix_search_documents_fts_all"),
    ):
        condition = backends.Postgres().matching(("beach",), with_tags=with_tags)
        query = select(SearchDocument.id).where(condition)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
        assert name in plan, plan
    db.session.rollback()


def test_every_write_through_the_session_keeps_one_document_per_thing(
    app: Flask, world: World
) -> None:
    it = _item(app, world, "Beach day")
    for title in ("One", "Two", "Three"):
        memories.update_details(it, memories.ItemDetails(title, "", None))
    section: StorySection = story.sections_of(world.child)[0]
    for body in ("a", "b"):
        story.save_version(section, body, [], world.young_person)
    docs = db.session.execute(
        select(SearchDocument.item_id, SearchDocument.section_id, SearchDocument.words)
    ).all()
    assert sorted(docs, key=str) == sorted(
        [(it.id, None, "three"), (None, section.id, "about me b")], key=str
    )
    assert clock.now()


def test_a_tag_belongs_to_the_items_child_whatever_the_form_says(
    app: Flask, world: World, child_client: FlaskClient
) -> None:
    it = _item(app, world, "Beach day")
    child_client.post(
        f"/items/{it.id}/tags",
        data={"name": "Nan", "child_id": world.other_child.id, "item_id": 999},
    )
    made = db.session.scalars(select(Tag)).all()
    assert [(t.child_id, t.name) for t in made] == [(world.child.id, "Nan")]
    assert [t.id for t in tags.tags_on(it)] == [made[0].id]


@pytest.mark.skipif(
    not os.environ.get("MEMORYBOX_TEST_DATABASE_URL"), reason="two writers at once: PostgreSQL"
)
def test_two_changes_to_one_thing_at_the_same_moment_both_succeed(app: Flask, world: World) -> None:
    """A new title and a new tag on one thing at the same moment: the second writer waits
    for the first, then writes the document from both changes (neither fails, neither is
    lost)."""
    import threading

    from sqlalchemy.orm import Session

    it = _item(app, world, "Beach day")
    nan = Tag(child_id=world.child.id, name="Nan", name_key="nan")
    db.session.add(nan)
    db.session.commit()
    first, second = Session(db.engine), Session(db.engine)
    try:
        mine_first = first.get(MemoryItem, it.id)
        assert mine_first is not None
        mine_first.title = "Seaside"
        first.flush()  # its document written, the item held until it commits
        errors: list[BaseException] = []

        def other_writer() -> None:
            try:
                second.add(ItemTag(item_id=it.id, tag_id=nan.id))
                second.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive(), "the second writer waits for the first"
        first.commit()
        writer.join(10)
        assert not writer.is_alive() and not errors, errors
    finally:
        first.close()
        second.close()
    db.session.expire_all()
    document = db.session.execute(
        select(SearchDocument.words, SearchDocument.tags).where(SearchDocument.item_id == it.id)
    ).one()
    assert tuple(document) == ("seaside", "nan")
