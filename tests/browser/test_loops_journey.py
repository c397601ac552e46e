"""Closing the loops in a real Chromium: a child asks to talk about a memory nobody can see yet
and lets their social worker see that one thing; the worker follows the message to the
request, sees the memory and says they have seen it; the child is told who saw it and when.
"I need help" sits on top of the worker's caseload, marked urgent, until acknowledged, and the
manager sees the counts. A message about something no longer shared opens to nothing of it.
Every page is checked by axe."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from memorybox.db import db
from tests import factories
from tests.browser.conftest import (
    Cast,
    Problems,
    assert_accessible,
    heading,
    nav,
    notice,
    on_small_phone,
    sign_in,
)
from tests.factories import World

pytestmark = pytest.mark.browser

TITLE = "My old school"


@dataclass(frozen=True)
class Memory:
    item_id: int

    @property
    def url(self) -> str:
        return f"/items/{self.item_id}"


@pytest.fixture
def memory(app: Flask, world: World, cast: Cast) -> Memory:
    made = factories.item(app, world.child, world.young_person, title=TITLE)
    result = Memory(made.id)
    db.session.commit()  # end the test thread's read transaction before the server writes
    return result


def test_a_child_asks_to_talk_about_a_private_memory_and_is_told_who_saw_it(
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    memory: Memory,
    problems: Problems,
) -> None:
    child, sw = cast.child_name, cast.social_worker.name

    # The child asks, from the memory's page, and is asked plainly about seeing it.
    sign_in(page, cast.young_person)
    page.goto(memory.url)
    page.get_by_role("link", name="I'd like to talk about this").click()
    expect(heading(page, f"Talk about “{TITLE}”")).to_be_visible()
    question = page.get_by_role("group", name=f"Can {sw} see “{TITLE}”, so you can talk about it?")
    expect(question).to_be_visible()
    expect(page.get_by_text("It is fine to say no.")).to_be_visible()
    assert_accessible(page, "the talk form")
    on_small_phone(page, "the talk form")

    page.get_by_role("button", name="Tell my social worker").click()
    expect(page.get_by_text("Please choose yes or no.")).to_be_visible()
    assert_accessible(page, "the talk form showing an error")

    page.get_by_label("Do you want to say anything?").press_sequentially("It makes me sad.")
    question.get_by_role("radio", name="Yes, they can see it").check()
    page.get_by_role("button", name="Tell my social worker").click()
    expect(heading(page, "You asked to talk")).to_be_visible()
    expect(notice(page)).to_contain_text(f"We have told {sw} that you'd like to talk.")
    expect(notice(page)).to_contain_text(f"{sw} can see “{TITLE}” now.")
    expect(
        page.get_by_text("Your social worker has not said they have seen it yet.")
    ).to_be_visible()
    assert_accessible(page, "the child's talk request")

    # The worker follows the message to the request, and can open the memory.
    worker = another_page()
    sign_in(worker, cast.social_worker)
    row = worker.get_by_role("list", name="Children allocated to you").get_by_role("listitem")
    expect(row.filter(has_text=child).first).to_contain_text("1 request to talk")
    nav(worker, "Messages 1 new").click()
    worker.get_by_role(
        "link", name=f"{child} would like to talk with you about one of their memories."
    ).click()
    expect(heading(worker, f"{child} would like to talk")).to_be_visible()
    expect(worker.get_by_text("It makes me sad.")).to_be_visible()
    expect(nav(worker, "Messages")).to_be_visible()  # opening the message marked it read
    assert_accessible(worker, "the talk request, for the social worker")

    worker.get_by_role("link", name=f"Open “{TITLE}”").click()
    expect(heading(worker, TITLE)).to_be_visible()
    worker.go_back()
    worker.get_by_role("button", name="I've seen this, I'll be in touch").click()
    expect(notice(worker)).to_contain_text(f"{child} has been told that you have seen it.")
    expect(worker.get_by_text(re.compile(rf"^Seen by {sw} on"))).to_be_visible()
    assert_accessible(worker, "the talk request after saying it was seen")

    # The child is told who saw it, and can stop the share that said yes made.
    page.reload()
    nav(page, "Messages 1 new").click()
    assert_accessible(page, "the child's messages")
    page.get_by_role("link", name=f"{sw} has seen that you'd like to talk.").click()
    expect(heading(page, "You asked to talk")).to_be_visible()
    expect(page.get_by_text(re.compile(rf"{sw}, your social worker, saw it"))).to_be_visible()
    page.get_by_role("link", name="its page").click()
    who = page.get_by_role("region", name="Who can see this")
    expect(who).to_contain_text(sw)

    problems.assert_none()


def test_help_is_urgent_until_the_worker_says_they_have_seen_it(
    page: Page, another_page: Callable[[], Page], cast: Cast, problems: Problems
) -> None:
    child, sw = cast.child_name, cast.social_worker.name
    sign_in(page, cast.young_person)
    page.get_by_role("navigation", name="Help").get_by_role("link", name="I need help").click()
    page.get_by_role("button", name="Tell my social worker I need help").click()
    expect(notice(page)).to_contain_text(f"We have told {sw}.")

    # The manager sees how much waits for each worker, never what.
    manager = another_page()
    sign_in(manager, cast.manager)
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Caseloads").click()
    expect(heading(manager, "Caseloads")).to_be_visible()
    table = manager.get_by_role("table", name="Waiting for each social worker")
    expect(table.get_by_role("row").filter(has_text=sw)).to_contain_text("1 urgent")
    expect(table).not_to_contain_text(child)
    assert_accessible(manager, "the manager's caseloads")

    # The worker: on top of the caseload, urgent, until acknowledged.
    worker = another_page()
    sign_in(worker, cast.social_worker)
    urgent = worker.get_by_role("region", name="Urgent: help nobody has said they have seen")
    expect(urgent).to_contain_text(f"{child} pressed “I need help”")
    assert_accessible(worker, "the caseload with urgent help")
    urgent.get_by_role("link").first.click()
    expect(heading(worker, f"{child} asked for help")).to_be_visible()
    expect(worker.get_by_text("Memory Box is not an emergency service.")).to_be_visible()
    assert_accessible(worker, "the help request, for the social worker")
    worker.get_by_role("button", name="I've seen this, I'll be in touch").click()
    expect(notice(worker)).to_contain_text(f"{child} has been told that you have seen it.")
    nav(worker, "Your caseload").click()
    expect(heading(worker, "Your caseload")).to_be_visible()
    expect(
        worker.get_by_role("region", name="Urgent: help nobody has said they have seen")
    ).to_have_count(0)

    # The child sees who saw it and when, with the emergency numbers still there.
    page.reload()
    nav(page, "Messages 1 new").click()
    page.get_by_role("link", name=f"{sw} has seen that you need help.").click()
    expect(heading(page, "You asked for help")).to_be_visible()
    expect(page.get_by_text(re.compile(rf"{sw}, your social worker, saw it"))).to_be_visible()
    expect(page.get_by_text("call 999")).to_be_visible()
    assert_accessible(page, "the child's help request, seen")
    on_small_phone(page, "the child's help request")

    problems.assert_none()


def test_a_message_about_something_no_longer_shared_opens_to_nothing_of_it(
    page: Page,
    another_page: Callable[[], Page],
    cast: Cast,
    memory: Memory,
    problems: Problems,
) -> None:
    sign_in(page, cast.young_person)
    page.goto(memory.url)
    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_role("radio", name="My social worker (whoever it is now)").check()
    page.get_by_role("button", name="Share", exact=True).click()
    expect(notice(page)).to_contain_text("is shared")

    worker = another_page()
    sign_in(worker, cast.social_worker)

    # The child stops sharing before the worker opens the message.
    page.goto(memory.url)
    page.get_by_role("button", name="Stop sharing").first.click()
    expect(notice(page)).to_contain_text("any more")

    nav(worker, "Messages 1 new").click()
    worker.get_by_role("link", name=f"{cast.child_name} has shared something new with you.").click()
    expect(heading(worker, "You can't open this any more")).to_be_visible()
    expect(worker.get_by_role("main")).not_to_contain_text(TITLE)
    expect(nav(worker, "Messages")).to_be_visible()
    assert_accessible(worker, "a message about something no longer shared")

    # Message settings: emails say only that there is a message.
    nav(page, "Messages").click()
    page.get_by_role("main").get_by_role("link", name="Settings").click()
    expect(heading(page, "Settings")).to_be_visible()
    reads = page.get_by_label("Tell me when someone reads part of my story for the first time")
    expect(reads).to_be_checked()
    reads.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(notice(page)).to_contain_text("Saved.")
    expect(reads).not_to_be_checked()
    assert_accessible(page, "the child's message settings")
    on_small_phone(page, "the child's message settings")

    problems.assert_none()
