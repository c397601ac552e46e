"""Real-browser fixtures: the test app served over HTTP, and one headless Chromium per session.

The ``app`` fixture (tests/conftest.py) keeps an app context pushed in the test thread; the
server below answers in its own threads, each pushing its own app context and using its own
thread-local database session. Both sides share one database (SQLite file or PostgreSQL).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Response
from werkzeug.serving import make_server

from memorybox.accounts.models import User
from memorybox.db import db
from tests.factories import World

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


@pytest.fixture
def page(browser: Browser, portal: str, problems: Problems) -> Iterator[Page]:
    """A fresh browser context (no cookies) with its own tab, watched for problems."""
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
    yield tab
    context.close()
