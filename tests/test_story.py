"""My Story: versions, drafts, sharing through consents, read receipts and prompts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from memorybox import clock, policy
from memorybox.children import services as children
from memorybox.db import db
from memorybox.exports.models import Export
from memorybox.policy import Action
from memorybox.sharing.models import Consent
from memorybox.story import services as story
from memorybox.story.models import BODY_MAX, ReadReceipt, SectionVersion, StoryPrompt, StorySection
from tests import factories
from tests.factories import login_as


def _section(world, title: str = "Things that worry me") -> StorySection:
    return next(s for s in story.sections_of(world.child) if s.title == title)


def _write(client, section, body, items=()):
    return client.post(
        f"/story/{section.id}", data={"body": body, "items": [str(i) for i in items]}
    )


def _share(client, section, audience, **extra):
    data = {"audience": audience, "person_id": "", "ends_on": "", "childs_wishes": ""}
    data.update(extra)
    return client.post(f"/story/{section.id}/share", data=data)


def _as(app, user):
    c = app.test_client()
    login_as(c, user)
    return c


@pytest.fixture
def child_client(client, world):
    login_as(client, world.young_person)
    return client


def test_story_page_has_the_warm_default_prompts_seeded_once(app, child_client, world):
    page = child_client.get(f"/children/{world.child.id}/story")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for title in (
        "About me",
        "People who matter to me",
        "Places I have lived",
        "School and what I am good at",
        "Health and what helps me",
        "Things that worry me",
        "What I want the adults in my life to know",
        "My hopes for the future",
    ):
        assert title in text
    assert "My story" in text  # the nav link
    child_client.get(f"/children/{world.child.id}/story")
    count = db.session.scalar(
        select(func.count())
        .select_from(StoryPrompt)
        .where(StoryPrompt.authority_id == world.authority.id)
    )
    assert count == 8


def test_every_save_is_a_version_and_restoring_makes_a_new_one(app, child_client, world):
    section = _section(world)
    assert _write(child_client, section, "Moving schools again.").status_code == 302
    assert _write(child_client, section, "Moving schools. And the dark.").status_code == 302
    db.session.expire_all()
    assert [v.number for v in section.versions] == [1, 2]
    first = section.versions[0]
    page = child_client.get(f"/story/{section.id}/versions").get_data(as_text=True)
    assert "Moving schools again." in page and "Go back to version 1" in page
    assert child_client.post(f"/story/{section.id}/versions/{first.id}/restore").status_code == 302
    db.session.expire_all()
    assert [v.number for v in section.versions] == [1, 2, 3]
    assert section.latest.body == "Moving schools again."
    assert section.latest.restored_from == 1
    assert section.versions[1].body == "Moving schools. And the dark."  # nothing rewritten
    # saving the same words again makes no new version
    _write(child_client, section, "Moving schools again.")
    db.session.expire_all()
    assert len(section.versions) == 3


def test_restore_of_another_sections_version_is_not_found(app, child_client, world):
    worries = _section(world)
    hopes = _section(world, "My hopes for the future")
    _write(child_client, worries, "worry")
    _write(child_client, hopes, "hope")
    db.session.expire_all()
    stray = hopes.latest
    assert child_client.post(f"/story/{worries.id}/versions/{stray.id}/restore").status_code == 404


def test_attach_only_kept_items_from_my_own_box(app, child_client, world):
    kept = factories.item(app, world.child, world.young_person, title="Nan's garden")
    binned = factories.item(app, world.child, world.young_person, title="Old photo")
    binned.deleted_at = clock.now()
    suggested = factories.item(
        app, world.child, world.carer, title="From Jo", status=factories.ItemStatus.SUGGESTED
    )
    theirs = factories.item(app, world.other_child, world.other_young_person, title="Not mine")
    db.session.commit()
    section = _section(world, "People who matter to me")
    page = child_client.get(f"/story/{section.id}").get_data(as_text=True)
    assert "Nan&#39;s garden" in page or "Nan's garden" in page
    assert "Old photo" not in page and "From Jo" not in page and "Not mine" not in page
    for forged in (binned, suggested, theirs):
        response = _write(child_client, section, "Nan", items=[forged.id])
        assert response.status_code == 400
        assert "Nan" in response.get_data(as_text=True)
    assert _write(child_client, section, "Nan", items=[kept.id]).status_code == 302
    db.session.expire_all()
    assert [i.id for i in section.latest.items] == [kept.id]


def test_drafts_autosave_apart_from_versions(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "Saved words")
    response = child_client.post(f"/story/{section.id}/draft", data={"body": "Half a thought"})
    assert response.status_code == 200
    assert response.json["saved"] is True and "Draft saved" in response.json["message"]
    db.session.expire_all()
    assert len(section.versions) == 1 and section.latest.body == "Saved words"
    page = child_client.get(f"/story/{section.id}").get_data(as_text=True)
    assert "Half a thought" in page and "We kept what you were writing" in page
    assert 'aria-live="polite"' in page and "data-autosave-url" in page
    _write(child_client, section, "Half a thought, finished")
    assert story.draft_of(section) is None
    too_long = child_client.post(f"/story/{section.id}/draft", data={"body": "x" * (BODY_MAX + 1)})
    assert too_long.status_code == 400 and too_long.json["saved"] is False


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_draft_needs_the_csrf_header(app, client, world):
    login_as(client, world.young_person)
    section = _section(world)
    assert client.post(f"/story/{section.id}/draft", data={"body": "x"}).status_code == 400
    page = client.get(f"/story/{section.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert token, "the form carries a token"
    ok = client.post(
        f"/story/{section.id}/draft", data={"body": "x"}, headers={"X-CSRFToken": token.group(1)}
    )
    assert ok.status_code == 200


def test_sharing_with_my_social_worker_not_carers_then_revoke(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "The dark, and moving again.")
    assert _share(child_client, section, "social_worker").status_code == 302
    consent = db.session.scalar(select(Consent).where(Consent.story_section_id == section.id))
    assert consent is not None and consent.item_id is None and consent.collection_id is None

    sw = _as(app, world.social_worker)
    listing = sw.get(f"/shared/{world.child.id}/story").get_data(as_text=True)
    assert "Things that worry me" in listing and "New" in listing
    assert "The dark, and moving again." in sw.get(f"/shared/story/{section.id}").get_data(
        as_text=True
    )
    assert "Things that worry me" in sw.get(f"/shared/{world.child.id}").get_data(
        as_text=True
    ) or f"/shared/{world.child.id}/story" in sw.get(f"/shared/{world.child.id}").get_data(
        as_text=True
    )

    for outsider in (
        world.carer,
        world.ended_social_worker,
        world.unallocated_social_worker,
        world.manager,
        world.other_manager,
        world.other_young_person,
    ):
        other = _as(app, outsider)
        assert other.get(f"/shared/story/{section.id}").status_code == 404, outsider.display_name
        page = other.get(f"/shared/{world.child.id}/story")
        assert page.status_code == 404 or "The dark" not in page.get_data(as_text=True)
        assert "Things that worry me" not in page.get_data(as_text=True)
        assert other.get(f"/story/{section.id}").status_code == 404

    stop = child_client.post(
        f"/consents/{consent.id}/stop", data={"next": f"/children/{world.child.id}/story"}
    )
    assert stop.status_code == 302
    assert sw.get(f"/shared/story/{section.id}").status_code == 404
    assert "Things that worry me" not in sw.get(f"/shared/{world.child.id}/story").get_data(
        as_text=True
    )


def test_unshared_and_unsaved_sections_stay_private(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "Private")
    assert not policy.can(world.social_worker, Action.SECTION_READ, section)
    assert not policy.can(world.carer, Action.SECTION_READ, section)
    empty = _section(world, "About me")
    assert _share(child_client, empty, "social_worker").status_code == 404


def test_read_receipts_are_shown_to_the_child_in_plain_words(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "Worries")
    _share(child_client, section, "social_worker")
    sw = _as(app, world.social_worker)
    sw.get(f"/shared/story/{section.id}")
    sw.get(f"/shared/story/{section.id}")
    receipts = list(db.session.scalars(select(ReadReceipt)))
    assert len(receipts) == 1
    assert receipts[0].reader_id == world.social_worker.id
    assert receipts[0].version_id == section.latest.id
    page = child_client.get(f"/children/{world.child.id}/story").get_data(as_text=True)
    when = story.read_on(receipts[0].read_at)
    expected = f"Sam, your social worker, read “Things that worry me” on {when}"
    assert expected in page


def test_a_new_social_worker_reads_it_on_their_first_day(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "Please don't make me say it again.")
    _share(child_client, section, "social_worker")
    for current in children.allocations_of(world.child):
        if current.is_active:
            children.end_now(current)
    assert not policy.can(world.social_worker, Action.SECTION_READ, section)
    factories.allocation(world.child, world.unallocated_social_worker, start=clock.today())
    newcomer = _as(app, world.unallocated_social_worker)
    listing = newcomer.get(f"/shared/{world.child.id}/story")
    assert listing.status_code == 200 and "Things that worry me" in listing.get_data(as_text=True)
    page = newcomer.get(f"/shared/story/{section.id}")
    assert page.status_code == 200
    assert "Please don&#39;t make me say it again." in page.get_data(as_text=True)
    caseload = newcomer.get("/caseload").get_data(as_text=True)
    assert f"/shared/{world.child.id}/story" in caseload


def test_professional_sees_what_changed_since_they_last_read(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "I worry about school and the dark.")
    _share(child_client, section, "social_worker")
    sw = _as(app, world.social_worker)
    first = sw.get(f"/shared/story/{section.id}").get_data(as_text=True)
    assert "What changed" not in first
    _write(child_client, section, "I worry about the dark and <b>my brother</b>.")
    listing = sw.get(f"/shared/{world.child.id}/story").get_data(as_text=True)
    assert "Changed since you last read it" in listing
    page = sw.get(f"/shared/story/{section.id}").get_data(as_text=True)
    assert "What changed since you last read it" in page
    assert "<del>school</del>" in page or "<del>school and</del>" in page or "<del>" in page
    assert "<ins>" in page and "brother" in page
    assert "<b>" not in page
    again = sw.get(f"/shared/story/{section.id}").get_data(as_text=True)
    assert "What changed" not in again


def test_html_and_script_are_stripped_and_text_kept(app, child_client, world):
    section = _section(world, "About me")
    hostile = (
        '<script>alert("x")</script><img src=x onerror=alert(1)>I <3 my nan & '
        "<b>football</b> &lt;script&gt;alert(2)&lt;/script&gt;"
    )
    assert _write(child_client, section, hostile).status_code == 302
    db.session.expire_all()
    body = section.latest.body
    assert body == "I <3 my nan & football"
    assert story.plain_text(body) == body
    _share(child_client, section, "social_worker")
    for page in (
        child_client.get(f"/children/{world.child.id}/story"),
        child_client.get(f"/story/{section.id}"),
        child_client.get(f"/story/{section.id}/versions"),
        _as(app, world.social_worker).get(f"/shared/story/{section.id}"),
    ):
        text = page.get_data(as_text=True)
        assert "<script>alert" not in text and "onerror" not in text and "<b>football" not in text
    own = child_client.post(
        f"/children/{world.child.id}/story/sections",
        data={"title": "<i>My</i> cat<script>1</script>"},
    )
    assert own.status_code == 302
    titles = [s.title for s in story.sections_of(world.child)]
    assert "My cat" in titles


def test_size_limits_answer_kindly_and_keep_the_words(app, child_client, world):
    section = _section(world)
    long_text = "a" * (BODY_MAX + 1)
    response = _write(child_client, section, long_text)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "up to 20,000 letters" in text and long_text in text
    # Windows-style new lines count as one letter each
    assert _write(child_client, section, "a\r\n" * (BODY_MAX // 2)).status_code == 302
    title = child_client.post(
        f"/children/{world.child.id}/story/sections", data={"title": "t" * 81}
    )
    assert title.status_code == 400
    assert "up to 80 letters" in title.get_data(as_text=True)
    assert "t" * 81 in title.get_data(as_text=True)


def test_the_child_adds_their_own_sections(app, child_client, world):
    response = child_client.post(
        f"/children/{world.child.id}/story/sections", data={"title": "My dog Biscuit"}
    )
    assert response.status_code == 302
    section = next(s for s in story.sections_of(world.child) if s.title == "My dog Biscuit")
    assert _write(child_client, section, "Woof").status_code == 302
    blank = child_client.post(f"/children/{world.child.id}/story/sections", data={"title": ""})
    assert blank.status_code == 400


def test_manager_edits_prompts_and_children_see_it(app, client, world):
    login_as(client, world.manager)
    assert client.get("/manage/story-prompts").status_code == 200
    prompts = story.prompts_of(world.authority)
    about, people = prompts[0], prompts[1]
    assert (
        client.post(
            f"/manage/story-prompts/{about.id}/rename",
            data={f"p{about.id}-title": "All about me", f"p{about.id}-hint": "Tell us!"},
        ).status_code
        == 302
    )
    assert (
        client.post(f"/manage/story-prompts/{people.id}/move", data={"direction": "up"}).status_code
        == 302
    )
    assert client.post(f"/manage/story-prompts/{prompts[2].id}/hide").status_code == 302
    assert (
        client.post("/manage/story-prompts", data={"title": "My pets", "hint": ""}).status_code
        == 302
    )
    assert client.post("/manage/story-prompts", data={"title": "", "hint": ""}).status_code == 400
    too_long = client.post(
        f"/manage/story-prompts/{about.id}/rename",
        data={f"p{about.id}-title": "x" * 81, f"p{about.id}-hint": ""},
    )
    assert too_long.status_code == 400 and "x" * 81 in too_long.get_data(as_text=True)
    titles = [s.title for s in story.sections_of(world.child)]
    assert titles[:2] == ["People who matter to me", "All about me"]
    assert "Places I have lived" not in titles
    assert titles[-1] == "My pets"


def test_a_hidden_prompt_keeps_what_the_child_wrote(app, child_client, world):
    section = _section(world, "Places I have lived")
    _write(child_client, section, "Leeds, then York.")
    story.set_prompt_hidden(section.prompt, True)
    assert "Places I have lived" in [s.title for s in story.sections_of(world.child)]


def test_another_authoritys_manager_cannot_touch_prompts(app, client, world):
    prompt = story.prompts_of(world.authority)[0]
    login_as(client, world.other_manager)
    for path, data in (
        (f"/manage/story-prompts/{prompt.id}/rename", {f"p{prompt.id}-title": "Hacked"}),
        (f"/manage/story-prompts/{prompt.id}/move", {"direction": "down"}),
        (f"/manage/story-prompts/{prompt.id}/hide", {}),
    ):
        assert client.post(path, data=data).status_code == 404
    db.session.expire_all()
    assert prompt.title == "About me" and not prompt.is_hidden and prompt.position == 0
    # their own page lists only their own prompts
    page = client.get("/manage/story-prompts").get_data(as_text=True)
    assert f"/manage/story-prompts/{prompt.id}/" not in page
    for person in (world.social_worker, world.young_person, world.carer):
        other = _as(app, person)
        assert other.get("/manage/story-prompts").status_code == 404
        assert other.post(f"/manage/story-prompts/{prompt.id}/hide").status_code == 404


def test_forged_child_and_section_ids_are_not_found(app, child_client, world):
    theirs = next(s for s in story.sections_of(world.other_child))
    mine = _section(world)
    _write(child_client, mine, "mine")
    for path in (
        f"/children/{world.other_child.id}/story",
        f"/children/{world.young_child.id}/story",
        "/children/999999/story",
        f"/story/{theirs.id}",
        f"/story/{theirs.id}/versions",
        f"/story/{theirs.id}/share",
        "/story/999999",
        f"/shared/story/{theirs.id}",
        "/shared/story/999999",
        f"/shared/{world.other_child.id}/story",
    ):
        assert child_client.get(path).status_code == 404, path
    for path in (
        f"/children/{world.other_child.id}/story/sections",
        f"/story/{theirs.id}",
        f"/story/{theirs.id}/draft",
        f"/story/{theirs.id}/share",
        f"/story/{theirs.id}/versions/{mine.latest.id}/restore",
    ):
        assert child_client.post(path, data={"body": "x", "title": "x"}).status_code == 404, path
    # a social worker can't write in the child's story, even with a consent to read it
    _share(child_client, mine, "social_worker")
    sw = _as(app, world.social_worker)
    assert sw.get(f"/story/{mine.id}").status_code == 404
    assert sw.post(f"/story/{mine.id}/draft", data={"body": "x"}).status_code == 404
    assert sw.get(f"/children/{world.child.id}/story").status_code == 404


def test_on_behalf_social_worker_shares_by_title_with_wishes(app, client, world):
    young = factories.user(app, world.authority, factories.Role.YOUNG_PERSON, "Finn")
    kid = factories.child(world.authority, young, "Finn", age=9)
    factories.allocation(kid, world.social_worker)
    me = _as(app, young)
    section = next(s for s in story.sections_of(kid) if s.title == "About me")
    me.post(f"/story/{section.id}", data={"body": "I like Lego."})
    assert me.get(f"/story/{section.id}/share").status_code == 404  # too young to decide
    sw = _as(app, world.social_worker)
    listing = sw.get(f"/shared/{kid.id}/story").get_data(as_text=True)
    assert "Share “About me”" in listing and "I like Lego" not in listing
    assert _share(sw, section, "carers").status_code == 400  # wishes are needed
    assert _share(sw, section, "social_worker", childs_wishes="Finn said yes").status_code == 302
    consent = db.session.scalar(select(Consent).where(Consent.story_section_id == section.id))
    assert consent.basis.value == "on_behalf" and consent.childs_wishes == "Finn said yes"
    assert "I like Lego." in sw.get(f"/shared/story/{section.id}").get_data(as_text=True)


def test_an_expired_consent_hides_the_section(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "words")
    tomorrow = clock.today() + timedelta(days=1)
    _share(child_client, section, "social_worker", ends_on=tomorrow.isoformat())
    assert policy.can(world.social_worker, Action.SECTION_READ, section)
    consent = db.session.scalar(select(Consent).where(Consent.story_section_id == section.id))
    consent.ends_on = clock.today()
    db.session.commit()
    assert not policy.can(world.social_worker, Action.SECTION_READ, section)


def test_versions_are_never_updated(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "one")
    _write(child_client, section, "two")
    bodies = [
        v.body for v in db.session.scalars(select(SectionVersion).order_by(SectionVersion.id))
    ]
    assert bodies == ["one", "two"]


def test_who_looked_lists_story_reads_and_copies_in_plain_words(app, child_client, world):
    section = _section(world)
    _write(child_client, section, "Please don't make me say it again.")
    _share(child_client, section, "social_worker")
    sw = _as(app, world.social_worker)
    assert sw.get(f"/shared/story/{section.id}").status_code == 200
    assert sw.get(f"/shared/story/{section.id}").status_code == 200  # twice: one line
    asked = sw.post(f"/children/{world.child.id}/exports", data={"kind": "json"})
    assert asked.status_code == 302
    export = db.session.scalar(
        select(Export).where(Export.requested_by_id == world.social_worker.id)
    )
    assert sw.get(f"/exports/{export.id}/download").status_code == 200
    page = " ".join(
        child_client.get(f"/children/{world.child.id}/seen").get_data(as_text=True).split()
    )
    weekday = clock.now().astimezone(clock.LOCAL_ZONE).strftime("%A")
    assert f"your social worker, read “Things that worry me” in your story on {weekday}" in page
    assert page.count("read “Things that worry me”") == 1
    assert "asked for a copy of what you share with them: Data file for case records (JSON)" in (
        page
    )
    assert "downloaded a copy of what you share with them: Data file for case records" in page
    assert "something you deleted" not in page
