"""Real-browser fixtures: the test app served over HTTP, and one headless Chromium per session.

The ``app`` fixture (tests/conftest.py) keeps an app context pushed in the test thread; the
server below answers in its own threads, each pushing its own app context and using its own
thread-local database session. Both sides share one database (SQLite file or PostgreSQL).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    expect,
)
from werkzeug.serving import make_server

from memorybox.accounts.models import User
from memorybox.db import db
from tests.factories import PASSWORD, TOTP_SECRET, World

CHROMIUM = os.environ.get("MEMORYBOX_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = "Chromium not installed (apt-get install chromium)"
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)  # a busy machine (CI on two cores) can be slow


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("MEMORYBOX_REQUIRE_BROWSER"):
            pytest.fail(
                f"Chromium is required here (MEMORYBOX_REQUIRE_BROWSER is set) but {CHROMIUM} "
                "does not exist: apt-get install chromium",
                pytrace=False,
            )
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole run: Debian's, never a downloaded one."""
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def portal(app: Flask) -> Iterator[str]:
    """Serve the test app on a free port from a background thread; yield its base URL."""
    server = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class Cast:
    """What the journeys need from the world, read once as plain values in the test thread."""

    young_person: Person
    child_id: int
    child_name: str
    carer: Person
    social_worker: Person
    manager: Person


@pytest.fixture
def cast(world: World) -> Cast:
    def person(user: User) -> Person:
        return Person(user.email, user.display_name)

    result = Cast(
        young_person=person(world.young_person),
        child_id=world.child.id,
        child_name=world.child.display_name,
        carer=person(world.carer),
        social_worker=person(world.social_worker),
        manager=person(world.manager),
    )
    db.session.commit()  # end the test thread's read transaction before the server writes
    return result


@dataclass
class Problems:
    """Script errors, CSP refusals and failed sub-resources (CSS, JS, images) seen by a page."""

    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def assert_none(self) -> None:
        assert not self.console, "browser console errors:\n" + "\n".join(self.console)
        assert not self.failed, "failed sub-resources:\n" + "\n".join(self.failed)


@pytest.fixture
def problems() -> Problems:
    return Problems()


def _watched_page(browser: Browser, portal: str, problems: Problems) -> tuple[BrowserContext, Page]:
    """A fresh browser context (no cookies) with its own tab, reporting into ``problems``."""
    context = browser.new_context(
        base_url=portal, viewport={"width": 1024, "height": 800}, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        # Pages answered with 4xx on purpose (a form error, the 404 page) are logged as
        # "Failed to load resource"; broken sub-resources are caught by on_response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.console.append(message.text)

    def on_page_error(error: Exception) -> None:
        problems.console.append(f"uncaught: {error}")

    def on_response(response: Response) -> None:
        kind = response.request.resource_type
        # Upload errors come back to the script as JSON and are shown to the person.
        if kind not in {"document", "xhr", "fetch"} and response.status >= 400:
            problems.failed.append(f"{response.status} {kind} {response.url}")

    tab.on("console", on_console)
    tab.on("pageerror", on_page_error)
    tab.on("response", on_response)
    return context, tab


@pytest.fixture
def page(browser: Browser, portal: str, problems: Problems) -> Iterator[Page]:
    """A fresh browser context (no cookies) with its own tab, watched for problems."""
    context, tab = _watched_page(browser, portal, problems)
    yield tab
    context.close()


@pytest.fixture
def another_page(browser: Browser, portal: str, problems: Problems) -> Iterator[Callable[[], Page]]:
    """Open more people's browsers (each its own context and cookies) beside ``page``."""
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context, tab = _watched_page(browser, portal, problems)
        contexts.append(context)
        return tab

    yield open_page
    for context in contexts:
        context.close()


# --- helpers shared by the journeys ----------------------------------------------------------

AXE = Axe()
SMALL_PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1024, "height": 800}


def assert_accessible(page: Page, what: str) -> None:
    """axe finds nothing wrong with the page as it is now; otherwise its report is printed."""
    results = AXE.run(page)
    assert results.violations_count == 0, (
        f"axe on {what} ({page.url}):\n{results.generate_report()}"
    )


def assert_no_sideways_scroll(page: Page, what: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what} scrolls sideways at {widths[1]}px: {widths[0]}px wide"


def on_small_phone(page: Page, what: str, width: int = SMALL_PHONE["width"]) -> None:
    page.set_viewport_size({"width": width, "height": SMALL_PHONE["height"]})
    try:
        assert_no_sideways_scroll(page, what)
    finally:
        page.set_viewport_size(LAPTOP)


def check(page: Page, what: str) -> None:
    """axe finds nothing on the page as it is now, and it does not scroll sideways."""
    assert_accessible(page, what)
    assert_no_sideways_scroll(page, what)


def on_phone(page: Page) -> Page:
    """The page, on a 360 x 740 phone."""
    page.set_viewport_size(SMALL_PHONE)
    return page


def heading(page: Page, text: str) -> Locator:
    return page.get_by_role("heading", level=1, name=text)


def nav(page: Page, name: str | re.Pattern[str]) -> Locator:
    """A link in the main menu. A young person's menu keeps most links under "More": it is
    opened first, as a person would."""
    main = page.get_by_role("navigation", name="Main")
    link = main.get_by_role("link", name=name, exact=isinstance(name, str))
    more = main.locator("details.child-nav__more")
    if (
        more.count()
        and more.get_by_role(
            "link", name=name, exact=isinstance(name, str), include_hidden=True
        ).count()
        and not more.evaluate("menu => menu.open")
    ):
        more.locator("summary").click()
    return link


def notice(page: Page) -> Locator:
    return page.get_by_role("status")


#: the code app of each staff member signed in here: email -> (secret, last time step used)
_CODE_APPS: dict[str, tuple[str, int]] = {}


def totp_code(email: str, secret: str | None = None) -> str:
    """A code for ``email``'s second factor that the server has not seen used: this step's,
    or the next one's (the server allows one step either side), or, when both are used,
    the next step's once the clock is close enough to it."""
    secret = secret or _CODE_APPS.get(email, (TOTP_SECRET, -1))[0]
    last = _CODE_APPS.get(email, (secret, -1))[1]
    while True:
        now = int(time.time() // 30)
        step = next((s for s in (now, now + 1) if s > last), None)
        if step is not None:
            break
        time.sleep(0.5)
    _CODE_APPS[email] = (secret, step)
    return pyotp.TOTP(secret).at(step * 30)


def second_step(page: Page, email: str) -> None:
    """The second factor after the password: set up (keeping the secret shown, as a phone
    would) or a code, as the page asks."""
    if page.url.endswith("/second-factor/set-up"):
        secret = (page.locator("[data-secret]").text_content() or "").replace(" ", "")
        page.get_by_label("The 6-digit code your app shows").fill(totp_code(email, secret))
        page.get_by_role("button", name="Check the code").click()
        page.get_by_role("link", name="I have saved them, carry on").click()
    elif page.url.endswith("/second-factor"):
        page.get_by_label("Code", exact=True).fill(totp_code(email))
        page.get_by_role("button", name="Carry on").click()
    expect(page).not_to_have_url(re.compile(r"/(login|second-factor(/set-up)?)$"))


def sign_in(page: Page, person: Person) -> None:
    page.goto("/login")
    page.get_by_label("Email address").press_sequentially(person.email)
    page.get_by_label("Password", exact=True).press_sequentially(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login$"))
    page.wait_for_load_state()
    second_step(page, person.email)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(notice(page)).to_contain_text("You have signed out")
