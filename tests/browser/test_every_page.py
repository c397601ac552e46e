"""Every page of the app, as each kind of person sees it, in a real Chromium: axe finds
nothing on a 360 px phone and on a 1280 px laptop; nothing scrolls sideways at 320 px wide
or at 200 % zoom (a 1280 x 800 window zoomed to 200 % is a 640 x 400 CSS px viewport);
every control that takes focus shows it (an outline or a ring that is not cut off by a
scrolling box, and not hidden under the young person's menu bar); and, with
``prefers-reduced-motion: reduce``, nothing moves.

The pages come from the access matrix (tests/test_access_matrix.py), which
``test_matrix_covers_every_route`` keeps in step with ``app.url_map``: every GET route that
answers with a page, for each person allowed to open it, on the first target they may open
(and, for an item, on each state of item they may open: kept, suggested, in the bin, waiting
for approval...), built by the matrix's own scene builders. A new page is checked here
without anyone writing its address down. Only routes that answer with something other than
a page are left out (``NOT_PAGES``, each with its reason).

One browser context per person, signed in once. The whole module runs in about two minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page

from memorybox.db import db
from tests import factories
from tests.browser.conftest import (
    AXE,
    SMALL_PHONE,
    Person,
    Problems,
    _watched_page,
    sign_in,
    totp_code,
)
from tests.factories import World
from tests.test_access_matrix import (
    ACTORS,
    ALLOW,
    ANON,
    BUILDERS,
    ITEM_TARGETS,
    MATRIX,
    MISSING,
    NO_TARGET,
    TARGETS,
    Scene,
    _person,
    _url,
    expected,
)

pytestmark = pytest.mark.browser

#: the people whose pages are checked: actor states of the access matrix
PEOPLE = (
    "young_person",
    "carer_active",
    "sw_allocated",
    "manager_same",
    "contributor_active",
    ANON,
)

#: GET routes that answer with something other than a page, and what they answer with
NOT_PAGES: dict[str, str] = {
    "home.healthz": "JSON for the load balancer's health check",
    "items.status": "JSON the item page asks for while a file is being got ready",
    "items.file": "the item's web copy (a picture, a video, a sound)",
    "items.thumbnail": "a small picture",
    "items.download": "the original file, as a download",
    "items.poster": "a video's still picture",
    "items.play": "a video or sound stream",
    "items.preview": "a document's first page as a picture",
    "exports.status": "JSON the exports page asks for while an export is made",
    "exports.download": "the export itself (a ZIP, a PDF or JSON)",
    "story.words_status": "JSON the words page asks for while a voice note is written out",
}

PHONE = SMALL_PHONE  # 360 x 740
NARROWEST = {"width": 320, "height": 740}  # WCAG 1.4.10 reflow
ZOOMED = {"width": 640, "height": 400}  # 1280 x 800 at 200 % zoom
LAPTOP = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Visit:
    what: str  # "items.show on suggested"
    url: str
    status: int = 200


def _first_allowed(endpoint: str, actor: str) -> list[str]:
    """The targets of ``endpoint`` to open as ``actor``: the first they may open; for an item,
    one of each state of item they may open (the page differs: keep or send back, put back
    from the bin, waiting for approval)."""
    entry = MATRIX[endpoint]
    kind = entry["target"]
    if kind == "none":
        return [NO_TARGET] if expected(endpoint, "GET", actor, NO_TARGET) == ALLOW else []
    allowed = [t for t in TARGETS[kind] if expected(endpoint, "GET", actor, t) == ALLOW]
    if kind in ("item", "fetch"):
        states = [t for t in allowed if t in ITEM_TARGETS]
        return states or allowed[:1]
    return allowed[:1]


def pages_for(actor: str) -> dict[str, list[str]]:
    """endpoint -> targets, for every page ``actor`` may open."""
    chosen: dict[str, list[str]] = {}
    for endpoint in sorted(MATRIX):
        if "GET" not in MATRIX[endpoint] or endpoint in NOT_PAGES:
            continue
        targets = _first_allowed(endpoint, actor)
        if targets:
            chosen[endpoint] = targets
    return chosen


def _scenes(app: Flask, world: World, kinds: set[str]) -> dict[str, Scene]:
    """One scene per kind of target, all in the same world, made by the matrix's builders.
    An item page's targets are all among the fetch routes' (which add the shared states)."""
    scenes: dict[str, Scene] = {}
    for kind in sorted(kinds):
        builder_kind = "fetch" if kind == "item" else kind
        if builder_kind not in scenes:
            scene = Scene(app=app, world=world)
            BUILDERS[builder_kind](scene)
            scenes[builder_kind] = scene
        scenes[kind] = scenes[builder_kind]
    return scenes


def person_for(app: Flask, world: World, actor: str, scenes: list[Scene]) -> Any:
    """The account ``actor`` signs in with: a contributor is made by the first scene that
    needs one (their messages belong to them), so it is taken from that scene."""
    attribute = ACTORS[actor]
    for scene in scenes:
        if attribute and attribute in scene.extra:
            return _person(scene, actor)
    return _person(scenes[0] if scenes else Scene(app, world), actor)


def visits_for(app: Flask, world: World, actor: str) -> tuple[list[Visit], Any]:
    chosen = pages_for(actor)
    scenes = _scenes(app, world, {MATRIX[e]["target"] for e in chosen})
    visits: list[Visit] = []
    with app.test_request_context():
        for endpoint, targets in chosen.items():
            scene = scenes[MATRIX[endpoint]["target"]]
            for target in targets:
                visits.append(Visit(f"{endpoint} on {target}", _url(endpoint, target, scene)))
        if actor != ANON:
            # "Not found": the page anyone gets for something that is not there or not theirs.
            missing = _url("box.gallery", MISSING, scenes.get("child") or Scene(app, world))
            visits.append(Visit("the not-found page", missing, 404))
    person = person_for(app, world, actor, list(scenes.values()))
    db.session.commit()  # end the test thread's read transaction before the server reads
    return visits, person


# --- what is checked on each page ------------------------------------------------------------

CHECKS = Path(__file__).parent / "checks"


def _script(name: str) -> str:
    """A check run in the page: a JavaScript function in tests/browser/checks/."""
    return (CHECKS / name).read_text(encoding="utf-8")


#: the innermost elements, or words, that reach past the window's edge
WIDEST = _script("widest.js")

#: Focus each control in turn (after a key press, so that Chromium shows focus as it does for
#: the keyboard) and compare how it looks with how it looked before. A control passes if it,
#: or one of its three nearest ancestors (a card round a link), gains an outline or a ring,
#: that ring is not cut off by a scrolling or clipping box round it, and the control, once
#: scrolled to, is not hidden under the young person's menu bar (at least 44 px of it shows,
#: or all of it if it is smaller: WCAG 2.4.11 asks for some of it).
FOCUS_CHECK = _script("focus.js")

#: Everything that would move on the page (and a probe made to move): it must not.
MOTION = _script("motion.js")

AXE_RUN = "options => axe.run(document, options)"
AXE_OPTIONS = {"resultTypes": ["violations"]}


def axe_violations(page: Page) -> list[str]:
    """axe's violations on the page as it is now, one line each (rule: where)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.axe_script)
    results = page.evaluate(AXE_RUN, AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(map(str, n["target"])) for n in v["nodes"][:4])
        for v in results["violations"]
    ]


def sideways(page: Page) -> str | None:
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if scroll <= inner:
        return None
    culprits = page.evaluate(WIDEST)
    return f"{scroll}px wide in a {inner}px window: " + "; ".join(culprits)


def focus_problems(page: Page) -> tuple[int, list[str]]:
    page.keyboard.press("Shift")  # a key press: from now on focus shows as for the keyboard
    count, failures = page.evaluate(FOCUS_CHECK)
    return count, list(dict.fromkeys(failures))


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    pages: int = 0
    controls: int = 0

    def add(self, what: str, problems: list[str]) -> None:
        self.failures.extend(f"{what}: {problem}" for problem in problems)


def check_page(page: Page, visit: Visit, report: Report) -> None:
    """Every check on the page now open, at each size."""
    what = f"{visit.what} ({urlsplit(page.url).path})"
    report.pages += 1
    report.add(f"{what} at 360px", axe_violations(page))
    count, failures = focus_problems(page)
    report.controls += count
    report.add(f"{what} at 360px", failures)
    for size, label in ((NARROWEST, "320px"), (ZOOMED, "200% zoom")):
        page.set_viewport_size(size)
        wide = sideways(page)
        if wide:
            report.add(f"{what} at {label}", [f"scrolls sideways: {wide}"])
    page.set_viewport_size(LAPTOP)
    report.add(f"{what} at 1280px", axe_violations(page))
    page.set_viewport_size(PHONE)


@pytest.fixture
def person_page(
    browser: Browser, portal: str, problems: Problems
) -> Iterator[tuple[BrowserContext, Page]]:
    context, tab = _watched_page(browser, portal, problems)
    tab.set_viewport_size(PHONE)
    yield context, tab
    context.close()


@pytest.mark.parametrize("actor", PEOPLE)
def test_every_page_is_accessible_reflows_and_shows_focus(
    app: Flask,
    world: World,
    actor: str,
    person_page: tuple[BrowserContext, Page],
    problems: Problems,
) -> None:
    visits, person = visits_for(app, world, actor)
    signed_in = Person(person.email, person.display_name) if person is not None else None
    db.session.commit()
    _, page = person_page
    if signed_in is not None:
        sign_in(page, signed_in)
    report = Report()
    seen: set[str] = set()
    for visit in visits:
        page.set_viewport_size(PHONE)
        response = page.goto(visit.url)
        assert response is not None, visit
        path = urlsplit(page.url).path
        if response.status != visit.status:
            report.add(visit.what, [f"answered {response.status}, not {visit.status}"])
            continue
        kind = response.headers.get("content-type", "")
        if not kind.startswith("text/html"):
            report.add(visit.what, [f"is not a page ({kind}): add it to NOT_PAGES with why"])
            continue
        if path in seen and response.status == 200:
            continue  # a redirect to a page already checked (/login when signed in, for one)
        seen.add(path)
        check_page(page, visit, report)
    print(f"\n{actor}: {report.pages} pages, {report.controls} focusable controls checked")
    assert not report.failures, f"{len(report.failures)} problems:\n" + "\n".join(report.failures)
    problems.assert_none()


def test_the_second_step_pages(
    app: Flask, world: World, person_page: tuple[BrowserContext, Page], problems: Problems
) -> None:
    """The pages a social worker sees between their password and the rest (the matrix's
    sessions are past them): setting up a code app, the recovery codes (the answer to a
    form, so opened by sending it), and the code asked for at the next sign-in."""
    worker = world.unallocated_social_worker
    worker.totp_secret = None
    email = worker.email
    db.session.commit()
    _, page = person_page
    report = Report()

    def password() -> None:
        page.goto("/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()

    password()
    page.wait_for_url("**/second-factor/set-up")
    check_page(page, Visit("second_factor.setup", page.url), report)
    secret = (page.locator("[data-secret]").text_content() or "").replace(" ", "")
    page.get_by_label("The 6-digit code your app shows").fill(totp_code(email, secret))
    page.get_by_role("button", name="Check the code").click()
    page.locator("[data-recovery-codes]").wait_for()
    check_page(page, Visit("the recovery codes (second_factor.setup, sent)", page.url), report)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    password()
    page.wait_for_url("**/second-factor")
    check_page(page, Visit("second_factor.verify", page.url), report)
    assert report.pages == 3
    assert not report.failures, f"{len(report.failures)} problems:\n" + "\n".join(report.failures)
    problems.assert_none()


def test_the_pages_list_is_the_apps_routes(app: Flask) -> None:
    """Every GET route is in the matrix (so it is visited above) or answers with no page."""
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and rule.endpoint != "static"
    }
    in_matrix = {endpoint for endpoint, entry in MATRIX.items() if "GET" in entry}
    assert routes == in_matrix
    assert set(NOT_PAGES) <= routes, set(NOT_PAGES) - routes
    visited = {endpoint for actor in PEOPLE for endpoint in pages_for(actor)}
    assert visited | set(NOT_PAGES) == routes, routes - visited - set(NOT_PAGES)


# --- reduced motion --------------------------------------------------------------------------


def _still(page: Page, selector: str) -> bool:
    """Two pictures of ``selector`` a moment apart are the same."""
    target = page.locator(selector)
    first = target.screenshot(animations="allow")
    page.wait_for_timeout(300)
    return first == target.screenshot(animations="allow")


def test_reduced_motion_stops_everything_that_moves(
    app: Flask, world: World, person_page: tuple[BrowserContext, Page], problems: Problems
) -> None:
    young = Person(world.young_person.email, world.young_person.display_name)
    child_id = world.child.id
    waiting = factories.item(app, world.child, world.young_person, title="Not ready", process=False)
    paths = (
        "/",
        f"/children/{child_id}/box",
        f"/children/{child_id}/timeline",
        f"/children/{child_id}/story",
        f"/items/{waiting.id}",  # "Getting it ready": a bar that moves to and fro
    )
    db.session.commit()
    _, page = person_page
    sign_in(page, young)

    # Without the wish, the probe moves and so does the bar: the checks can see motion.
    page.goto(paths[-1])
    assert page.evaluate(MOTION)["moving"], "the motion check sees nothing move"
    assert not _still(page, ".processing__bar"), "the waiting bar does not move at all"

    page.emulate_media(reduced_motion="reduce")
    for path in paths:
        page.goto(path)
        more = page.locator("details.child-nav__more")
        if more.count():
            more.evaluate("menu => { menu.open = true; }")
        found: dict[str, Any] = page.evaluate(MOTION)
        assert found["moving"] == [], f"{path} moves with reduced motion: {found['moving']}"
        assert found["scroll"] != "smooth", f"{path} scrolls smoothly with reduced motion"
        assert found["running"] == 0, f"{path} runs {found['running']} animations"
    assert _still(page, ".processing__bar"), "the waiting bar moves with reduced motion"
    problems.assert_none()
