"""Journeys through real pages in a real Chromium: signing in, adding a photo, a carer's
suggestion being kept, staff pages, and the keyboard. Every page visited is checked by axe."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.browser.conftest import (
    Cast,
    Problems,
    assert_accessible,
    heading,
    nav,
    notice,
    on_small_phone,
    sign_in,
    sign_out,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


# --- helpers -------------------------------------------------------------------------------


def assert_image_loaded(page: Page, image: Locator) -> None:
    """The <img> really decoded a picture (not a broken-image icon)."""
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    width = image.evaluate("img => img.naturalWidth")
    assert width > 0, f"image did not load: {image.get_attribute('src')}"


def write_jpeg(path: Path, colour: str, size: tuple[int, int] = (640, 480)) -> Path:
    Image.new("RGB", size, colour).save(path, "JPEG", quality=85)
    return path


WATCH_PROGRESS = """() => {
  const box = document.querySelector('[data-upload-progress]');
  sessionStorage.removeItem('progress-shown');
  new MutationObserver(() => {
    if (!box.hidden) sessionStorage.setItem('progress-shown', 'yes');
  }).observe(box, {attributes: true, attributeFilter: ['hidden']});
}"""


def submit_upload(page: Page) -> None:
    """Press "Add it" and check the upload went by the script, with its progress bar."""
    page.evaluate(WATCH_PROGRESS)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/add")) as sent:
        page.get_by_role("button", name="Add it").click()
    assert sent.value.resource_type == "xhr", "the upload should go by the progress script"
    assert sent.value.headers.get("accept") == "application/json"
    expect(page).not_to_have_url(re.compile(r"/add$"))
    page.wait_for_load_state()
    shown = page.evaluate("() => sessionStorage.getItem('progress-shown')")
    assert shown == "yes", "the progress bar was never shown"


# --- journeys ------------------------------------------------------------------------------


def test_young_person_adds_a_photo_and_finds_it_in_their_box(
    page: Page, cast: Cast, problems: Problems, tmp_path: Path
) -> None:
    box = f"/children/{cast.child_id}"
    photo = write_jpeg(tmp_path / "IMG_2024.jpg", "teal")

    page.goto("/login")
    expect(heading(page, "Sign in")).to_be_visible()
    assert_accessible(page, "the login page")
    sign_in(page, cast.young_person)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(heading(page, f"Hello, {cast.child_name}")).to_be_visible()
    expect(page.get_by_text("Nothing new right now.")).to_be_visible()
    assert_accessible(page, "the young person's home page")
    nav(page, "My box").click()
    expect(page).to_have_url(re.compile(rf"{box}/box$"))
    expect(heading(page, "My box")).to_be_visible()
    expect(page.get_by_text("Your box is empty for now")).to_be_visible()
    assert_accessible(page, "the empty gallery")

    page.get_by_role("link", name="Add something").click()
    expect(heading(page, "Add something to your box")).to_be_visible()
    assert_accessible(page, "the add form")
    on_small_phone(page, "the add form")

    # Nothing chosen: the script steps aside and the server explains.
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_text("Please choose a file to add.")).to_be_visible()
    expect(page.get_by_text("Please give it a title.")).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "the add form showing errors")

    # A file that is not what it says: the script shows the server's answer and keeps
    # everything typed so far.
    fake = tmp_path / "holiday.jpg"
    fake.write_text("this is not a photo")
    page.get_by_label("Choose a file").set_input_files(fake)
    page.get_by_label("Title", exact=True).press_sequentially("Beach day")
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_role("alert")).to_contain_text("We can't keep that kind of file.")
    expect(page.locator("[data-upload-progress]")).to_be_hidden()
    expect(page.get_by_role("button", name="Add it")).to_be_enabled()
    expect(page.get_by_label("Title", exact=True)).to_have_value("Beach day")
    expect(page).to_have_url(re.compile(rf"{box}/add$"))

    page.get_by_label("Choose a file").set_input_files(photo)
    page.get_by_label("What is this memory about?").press_sequentially("Building a sandcastle.")
    page.get_by_label("When is this memory from?").fill("2024-03-27")
    submit_upload(page)

    expect(page).to_have_url(re.compile(r"/items/\d+$"))
    expect(notice(page)).to_contain_text("“Beach day” is in your box now.")
    expect(heading(page, "Beach day")).to_be_visible()
    expect(page.get_by_text("Building a sandcastle.")).to_be_visible()
    expect(page.get_by_text("27 March 2024")).to_be_visible()
    assert_image_loaded(page, page.get_by_role("img", name="Beach day"))
    assert_accessible(page, "the item page")

    nav(page, "My box").click()
    expect(heading(page, "My box")).to_be_visible()
    card = page.get_by_role("list", name="Your memories").get_by_role("listitem")
    expect(card).to_have_count(1)
    expect(card.get_by_role("link", name="Beach day")).to_be_visible()
    assert_image_loaded(page, card.locator("img"))
    assert_accessible(page, "the gallery")
    on_small_phone(page, "the gallery")

    nav(page, "Timeline").click()
    expect(heading(page, "My timeline")).to_be_visible()
    expect(page.get_by_role("heading", name="2024")).to_be_visible()
    expect(page.get_by_role("link", name="Beach day")).to_be_visible()
    assert_accessible(page, "the timeline")

    nav(page, "Suggested").click()
    expect(heading(page, "Suggested for you")).to_be_visible()
    expect(page.get_by_text("There is nothing waiting for you right now.")).to_be_visible()
    assert_accessible(page, "the empty suggested page")

    # Into the bin and back again.
    nav(page, "My box").click()
    page.get_by_role("link", name="Beach day").click()
    page.get_by_role("button", name="Move to bin").click()
    expect(notice(page)).to_contain_text("“Beach day” is in your bin.")
    nav(page, "Bin").click()
    expect(heading(page, "Bin")).to_be_visible()
    expect(page.get_by_role("heading", name="Beach day")).to_be_visible()
    assert_accessible(page, "the bin")
    # "Delete for ever" asks first; saying no keeps it.
    questions: list[str] = []

    def say_no(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", say_no)
    page.get_by_role("button", name="Delete for ever").click()
    expect(page.get_by_role("heading", name="Beach day")).to_be_visible()
    assert questions == ["Delete this for ever? You can't get it back."]
    page.get_by_role("button", name="Put it back").click()
    expect(notice(page)).to_contain_text("“Beach day” is back in your box.")
    expect(page.get_by_text("Your bin is empty.")).to_be_visible()
    assert_accessible(page, "the empty bin")

    nav(page, "Password").click()
    expect(heading(page, "Change your password")).to_be_visible()
    assert_accessible(page, "the change password page")

    response = page.goto(f"/children/{cast.child_id + 1000}/box")
    assert response is not None and response.status == 404
    expect(heading(page, "We can't find that page")).to_be_visible()
    assert_accessible(page, "the 404 page")

    problems.assert_none()


def test_carer_sends_a_photo_and_the_young_person_keeps_it(
    page: Page, cast: Cast, problems: Problems, tmp_path: Path
) -> None:
    photo = write_jpeg(tmp_path / "sports-day.jpg", "orange", (800, 600))
    title = "Sports day"
    child = cast.child_name

    sign_in(page, cast.carer)
    expect(page).to_have_url(re.compile(r"/carer$"))
    expect(heading(page, "Children you look after")).to_be_visible()
    assert_accessible(page, "the carer's home page")

    page.get_by_role("link", name=f"Send {child} a photo or keepsake").click()
    expect(heading(page, f"Send something to {child}")).to_be_visible()
    assert_accessible(page, "the carer's add form")
    page.get_by_label("Choose a file").set_input_files(photo)
    page.get_by_label("Title", exact=True).press_sequentially(title)
    page.get_by_label("What is this memory about?").press_sequentially("You won the egg race!")
    submit_upload(page)

    expect(page).to_have_url(re.compile(r"/carer$"))
    expect(notice(page)).to_contain_text(f"“{title}” has been sent to {child}")
    sent = page.get_by_role("region", name=child).get_by_role("listitem")
    expect(sent).to_contain_text(f"waiting for {child} to choose")
    assert_accessible(page, "the carer's home page with a suggestion")
    sign_out(page)

    sign_in(page, cast.young_person)
    expect(heading(page, f"Hello, {cast.child_name}")).to_be_visible()
    waiting = page.get_by_role("region", name="Waiting for you")
    expect(waiting.get_by_role("link", name="1 new thing for you to look at")).to_be_visible()
    assert_accessible(page, "the home page with something waiting")
    nav(page, "Suggested").click()
    expect(heading(page, "Suggested for you")).to_be_visible()
    suggestion = page.get_by_role("listitem").filter(has_text=title)
    expect(suggestion).to_contain_text("You won the egg race!")
    assert_image_loaded(page, suggestion.get_by_role("img", name=title))
    assert_accessible(page, "the suggested page")

    suggestion.get_by_role("button", name="Keep it").click()
    expect(notice(page)).to_contain_text(f"“{title}” is in your box now.")
    expect(page.get_by_text("There is nothing waiting for you right now.")).to_be_visible()

    nav(page, "My box").click()
    card = page.get_by_role("list", name="Your memories").get_by_role("listitem")
    expect(card.get_by_role("link", name=title)).to_be_visible()
    assert_image_loaded(page, card.locator("img"))
    expect(page.get_by_text("new thing for you to look at")).to_have_count(0)

    problems.assert_none()


def test_staff_pages(page: Page, cast: Cast, problems: Problems) -> None:
    sign_in(page, cast.social_worker)
    expect(page).to_have_url(re.compile(r"/caseload$"))
    expect(heading(page, "Your caseload")).to_be_visible()
    expect(page.get_by_role("heading", name=cast.child_name)).to_be_visible()
    assert_accessible(page, "the social worker's caseload")
    sign_out(page)

    sign_in(page, cast.manager)
    expect(page).to_have_url(re.compile(r"/manage$"))
    assert_accessible(page, "the manager's overview")

    expect(nav(page, "Overview")).to_have_attribute("aria-current", "page")
    nav(page, "People").click()
    expect(heading(page, "People")).to_be_visible()
    expect(nav(page, "People")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name=cast.carer.name)).to_be_visible()
    assert_accessible(page, "the people page")

    nav(page, "Children").click()
    expect(heading(page, "Children")).to_be_visible()
    assert_accessible(page, "the children page")
    page.get_by_role("main").get_by_role("link", name=cast.child_name, exact=True).click()
    expect(heading(page, cast.child_name)).to_be_visible()
    expect(page.get_by_role("table", name="Placements (foster carers)")).to_contain_text(
        cast.carer.name
    )
    assert_accessible(page, "a child's page")
    # WCAG reflow: even at 320px only the tables scroll sideways, never the page.
    on_small_phone(page, "a child's page", width=320)

    nav(page, "People").click()
    page.get_by_role("main").get_by_role("link", name="Invite someone").click()
    expect(heading(page, "Invite someone")).to_be_visible()
    assert_accessible(page, "the invite form")
    page.get_by_role("button", name="Create invite link").click()
    expect(page.get_by_text("Please type their email address.")).to_be_visible()
    assert_accessible(page, "the invite form showing errors")

    page.get_by_label("Their name").press_sequentially("Zara")
    page.get_by_label("Their email address").press_sequentially("zara@example.org")
    page.get_by_label("What they do").select_option(label="Foster carer")
    page.get_by_role("button", name="Create invite link").click()
    expect(heading(page, "Invite link for Zara")).to_be_visible()
    assert_accessible(page, "the invite link page")
    link = page.get_by_label("Invite link").input_value()
    token = link.partition("#")[2]
    assert token, link
    sign_out(page)

    # The code rides in the fragment; the page copies it into the form, then hides it.
    page.goto(f"/invite#{token}")
    expect(heading(page, "Set up your account")).to_be_visible()
    expect(page.get_by_label("Your invite code")).to_have_value(token)
    assert "#" not in page.url
    assert_accessible(page, "the set-up-your-account page")
    page.get_by_label("Choose a password").press_sequentially("sunny rooftop garden")
    page.get_by_label("Type it again").press_sequentially("sunny rooftop garden")
    page.get_by_role("button", name="Create my account").click()
    expect(notice(page)).to_contain_text("Welcome, Zara! Your account is ready.")

    problems.assert_none()


@pytest.mark.app_config(MAX_UPLOAD_BYTES=100 * 1024, MAX_RESUMABLE_BYTES=100 * 1024)
def test_a_file_too_big_is_refused_before_it_is_sent(
    page: Page, cast: Cast, problems: Problems, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * 200 * 1024)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    sign_in(page, cast.young_person)
    posts.clear()
    page.get_by_role("link", name="Add something").click()
    page.get_by_label("Choose a file").set_input_files(big)
    page.get_by_label("Title", exact=True).press_sequentially("Too big")
    page.get_by_role("button", name="Add it").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That file is too big. The biggest file you can add is 100 KB."
    )
    assert posts == [], "nothing should be sent"
    expect(page.get_by_role("button", name="Add it")).to_be_enabled()
    assert_accessible(page, "the add form refusing a big file")

    problems.assert_none()


def test_login_works_from_the_keyboard(page: Page, cast: Cast, problems: Problems) -> None:
    describe = """() => {
      const el = document.activeElement;
      const name = el.getAttribute('name') || el.textContent.trim();
      return `${el.tagName.toLowerCase()}:${name}`;
    }"""
    page.goto("/login")

    page.keyboard.press("Tab")
    assert page.evaluate(describe) == "a:Skip to main content"
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_in_viewport()
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate(describe) == "input:email", "after the skip link, Tab goes to the form"

    page.reload()
    stops = []
    for _ in range(5):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(describe))
        if stops[-1] == "input:email":
            page.keyboard.type(cast.young_person.email)
        elif stops[-1] == "input:password":
            page.keyboard.type(PASSWORD)
    assert stops == [
        "a:Skip to main content",
        "a:Memory Box",
        "input:email",
        "input:password",
        "button:Sign in",
    ]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(heading(page, f"Hello, {cast.child_name}")).to_be_visible()

    problems.assert_none()
