"""The access matrix: every route, every method, every kind of person, every kind of target.

``MATRIX`` is the specification, written as data. For each endpoint it names the kind of
object in the URL (``target``, whose names are in ``TARGETS``) and, for each HTTP method,
what each actor state may do:

* an actor state that is not listed is denied: 404 when signed in, and a redirect to the
  sign-in page when anonymous;
* a set of target names: allowed on exactly those targets, denied on the others;
* ``ALLOW`` / ``LOGIN`` / ``DENY``: that outcome on every target.

Outcomes:

* ``ALLOW``: a 2xx, or a 3xx that does not send the person to /login;
* ``DENY``: exactly 404 for a signed-in person, with the same body as a missing id on the
  same route (so "not yours" and "not there" look alike), and nothing stored changes;
* ``LOGIN``: a 302 to /login (anonymous visitors of signed-in pages, and signing out).

A case is (endpoint, method, actor state, target). ``test_access`` runs one (endpoint,
method, actor state) group per test, on a fresh app and world, and tries every target with a
fresh client. Targets are distinct objects, so a POST that succeeds on one target cannot
change the answer for another (a fresh world per case would cost ~2 minutes on SQLite).
Failures list every wrong target in the group, not just the first.

``test_matrix_covers_every_route`` keeps the matrix and ``app.url_map`` in step: a new
route, a new method or a removed route fails it. The ``test_*_forged_*`` tests post fields a
form does not offer (a role, an owner, a child or a person from elsewhere).

Run with ``-s`` to see how many cases were checked.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from memorybox import clock
from memorybox.accounts import services as accounts
from memorybox.accounts.models import Invitation, Role, User
from memorybox.children.models import Allocation, Placement
from memorybox.db import Base, db
from memorybox.memories.models import ItemStatus, MemoryItem
from tests import factories
from tests.factories import World

# Password hashing is not what this file tests: keep it cheap, as ~500 worlds are built.
pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

# --- outcomes and actor states ----------------------------------------------------------

ALLOW = "allow"
DENY = "deny"
LOGIN = "login"

ANON = "anonymous"

#: actor state -> the World attribute that signs in (None: nobody signed in)
ACTORS: dict[str, str | None] = {
    ANON: None,
    "young_person": "young_person",  # owns world.child
    "other_young_person": "other_young_person",  # owns world.other_child, same authority
    "carer_active": "carer",  # active placement with child and young_child
    "carer_ended": "ended_carer",  # placement with child ended yesterday
    "carer_none": "unplaced_carer",
    "sw_allocated": "social_worker",  # allocated to child and young_child
    "sw_ended": "ended_social_worker",
    "sw_unallocated": "unallocated_social_worker",
    "manager_same": "manager",  # manager of world.authority
    "manager_other": "other_manager",  # manager of world.other_authority
}
SIGNED_IN = [name for name in ACTORS if name != ANON]
EVERYONE = dict.fromkeys(ACTORS, ALLOW)
EVERYONE_SIGNED_IN = dict.fromkeys(SIGNED_IN, ALLOW)

# --- targets: the object named in the URL ----------------------------------------------

MISSING = "missing"
MISSING_ID = 999_999
NO_TARGET = "-"

#: items of world.child
ITEM_TARGETS = (
    "kept",  # the child added it themselves
    "suggested",  # the active carer sent it, waiting for the child to decide
    "ended_carer",  # the ended carer sent it during their old placement; the child kept it
    "bin",  # the child's own item, now in the child's bin
    "carer_bin",  # the active carer sent it, the child moved it to the bin
    MISSING,
)
IN_BOX = {"kept", "suggested", "ended_carer"}
IN_BIN = {"bin", "carer_bin"}

CHILD_TARGETS = ("child", "other_child", "young_child", "other_authority_child", MISSING)
OWN_AUTHORITY_CHILDREN = {"child", "other_child", "young_child"}

USER_TARGETS = (
    "user_same",  # world.carer: an account in world.authority
    "user_self",  # world.manager: manager_same's own account
    "user_other",  # world.other_authority_young_person
    MISSING,
)
PLACEMENT_TARGETS = ("active_same", "ended_same", "active_other", MISSING)
ALLOCATION_TARGETS = ("active_same", "ended_same", "active_other", MISSING)
INVITATION_TARGETS = ("waiting_same", "revoked_same", "waiting_other", MISSING)

#: kind of target -> the targets every case of that kind is tried on
TARGETS: dict[str, tuple[str, ...]] = {
    "none": (NO_TARGET,),
    "item": ITEM_TARGETS,
    "child": CHILD_TARGETS,
    "user": USER_TARGETS,
    "placement": PLACEMENT_TARGETS,
    "allocation": ALLOCATION_TARGETS,
    "invitation": INVITATION_TARGETS,
}

#: URL argument for each kind of target
TARGET_ARG = {
    "item": "item_id",
    "child": "child_id",
    "user": "user_id",
    "placement": "placement_id",
    "allocation": "allocation_id",
    "invitation": "invitation_id",
}

# --- the matrix -------------------------------------------------------------------------

ITEM_VIEWERS = {"young_person": IN_BOX | IN_BIN, "carer_active": {"suggested"}}
BOX_OWNERS = {"young_person": {"child"}, "other_young_person": {"other_child"}}
MANAGERS = {"manager_same": ALLOW, "manager_other": ALLOW}
CHILD_MANAGERS = {
    "manager_same": OWN_AUTHORITY_CHILDREN,
    "manager_other": {"other_authority_child"},
}

MATRIX: dict[str, dict[str, Any]] = {
    # Signing in and out: open to everyone.
    "auth.login": {"target": "none", "GET": EVERYONE, "POST": EVERYONE},
    "auth.logout": {"target": "none", "POST": dict.fromkeys(ACTORS, LOGIN)},
    "auth.accept_invitation": {"target": "none", "GET": EVERYONE, "POST": EVERYONE},
    "auth.change_password": {
        "target": "none",
        "GET": EVERYONE_SIGNED_IN,
        "POST": EVERYONE_SIGNED_IN,
    },
    "home.index": {"target": "none", "GET": EVERYONE_SIGNED_IN},
    "home.healthz": {"target": "none", "GET": EVERYONE},
    # Own pages.
    "carer.home": {
        "target": "none",
        "GET": {"carer_active": ALLOW, "carer_ended": ALLOW, "carer_none": ALLOW},
    },
    "caseload.home": {
        "target": "none",
        "GET": {"sw_allocated": ALLOW, "sw_ended": ALLOW, "sw_unallocated": ALLOW},
    },
    # A child's box: only the child; a carer with an active placement may add.
    "box.gallery": {"target": "child", "GET": BOX_OWNERS},
    "box.timeline": {"target": "child", "GET": BOX_OWNERS},
    "box.suggested": {"target": "child", "GET": BOX_OWNERS},
    "box.bin": {"target": "child", "GET": BOX_OWNERS},
    "box.add": {
        "target": "child",
        "GET": {**BOX_OWNERS, "carer_active": {"child", "young_child"}},
        "POST": {**BOX_OWNERS, "carer_active": {"child", "young_child"}},
    },
    # One item: the child sees all of it; a carer only what they added, placement active,
    # not in the bin; only the child changes anything.
    "items.show": {"target": "item", "GET": ITEM_VIEWERS},
    "items.file": {"target": "item", "GET": ITEM_VIEWERS},
    "items.download": {"target": "item", "GET": ITEM_VIEWERS},
    "items.edit": {
        "target": "item",
        "GET": {"young_person": IN_BOX},
        "POST": {"young_person": IN_BOX},
    },
    "items.keep": {"target": "item", "POST": {"young_person": {"suggested"}}},
    "items.decline": {"target": "item", "POST": {"young_person": {"suggested"}}},
    "items.delete": {"target": "item", "POST": {"young_person": IN_BOX}},
    "items.restore": {"target": "item", "POST": {"young_person": IN_BIN}},
    "items.purge": {"target": "item", "POST": {"young_person": IN_BIN}},
    # Running an authority: each manager runs their own.
    "manage.overview": {"target": "none", "GET": MANAGERS},
    "manage.people": {"target": "none", "GET": MANAGERS},
    "manage.invite": {"target": "none", "GET": MANAGERS, "POST": MANAGERS},
    "manage.child_list": {"target": "none", "GET": MANAGERS},
    "manage.new_child": {"target": "none", "GET": MANAGERS, "POST": MANAGERS},
    "manage.person": {
        "target": "user",
        "GET": {"manager_same": {"user_same", "user_self"}, "manager_other": {"user_other"}},
    },
    "manage.disable": {
        "target": "user",
        "POST": {"manager_same": {"user_same"}, "manager_other": {"user_other"}},
    },
    "manage.enable": {
        "target": "user",
        "POST": {"manager_same": {"user_same"}, "manager_other": {"user_other"}},
    },
    "manage.child": {"target": "child", "GET": CHILD_MANAGERS},
    "manage.add_placement": {"target": "child", "POST": CHILD_MANAGERS},
    "manage.add_allocation": {"target": "child", "POST": CHILD_MANAGERS},
    "manage.end_placement": {
        "target": "placement",
        "POST": {"manager_same": {"active_same"}, "manager_other": {"active_other"}},
    },
    "manage.end_allocation": {
        "target": "allocation",
        "POST": {"manager_same": {"active_same"}, "manager_other": {"active_other"}},
    },
    "manage.revoke_invitation": {
        "target": "invitation",
        "POST": {"manager_same": {"waiting_same"}, "manager_other": {"waiting_other"}},
    },
}

HTTP_METHODS = ("GET", "POST")


def expected(endpoint: str, method: str, actor: str, target: str) -> str:
    """The matrix, read for one case."""
    rule = MATRIX[endpoint][method].get(actor)
    if rule is None:
        return LOGIN if actor == ANON else DENY
    if isinstance(rule, str):
        return rule
    return ALLOW if target in rule else DENY


def _kind_of(endpoint: str) -> str:
    return str(MATRIX[endpoint]["target"])


def _targets_of(endpoint: str) -> tuple[str, ...]:
    return TARGETS[_kind_of(endpoint)]


#: one test per (endpoint, method, actor state), each with a fresh app and world; inside it
#: every target is tried. Targets are distinct objects, so what an allowed POST changes on one
#: cannot change the answer for another, and each target gets a fresh client (no session,
#: no flashed message carried over).
GROUPS = [
    pytest.param(endpoint, method, actor, id=f"{endpoint}-{method}-{actor}")
    for endpoint, entry in MATRIX.items()
    for method in HTTP_METHODS
    if method in entry
    for actor in ACTORS
]
CASE_COUNT = len(ACTORS) * sum(
    len(TARGETS[entry["target"]])
    for entry in MATRIX.values()
    for method in HTTP_METHODS
    if method in entry
)


# --- the scene: a world plus the targets one case needs --------------------------------


@dataclass
class Scene:
    app: Flask
    world: World
    ids: dict[str, int] = field(default_factory=dict)  # target name -> id
    _other_people: dict[Role, User] = field(default_factory=dict)

    def other_authority_person(self, role: Role) -> User:
        """A carer or social worker in the other authority, made on first use."""
        if role not in self._other_people:
            self._other_people[role] = factories.user(self.app, self.world.other_authority, role)
        return self._other_people[role]


def _binned(it: MemoryItem) -> MemoryItem:
    it.deleted_at = clock.now() - timedelta(days=1)
    db.session.commit()
    return it


def _build_items(scene: Scene) -> None:
    app, w = scene.app, scene.world
    kept = factories.item(app, w.child, w.young_person, title="My bike")
    suggested = factories.item(
        app, w.child, w.carer, title="Sports day", status=ItemStatus.SUGGESTED
    )
    old = factories.item(app, w.child, w.ended_carer, title="Old garden")
    old.created_at = clock.now() - timedelta(days=200)  # during the ended placement
    db.session.commit()
    binned = _binned(factories.item(app, w.child, w.young_person, title="Blurry one"))
    carer_binned = _binned(
        factories.item(app, w.child, w.carer, title="Rainy walk", status=ItemStatus.SUGGESTED)
    )
    scene.ids.update(
        kept=kept.id,
        suggested=suggested.id,
        ended_carer=old.id,
        bin=binned.id,
        carer_bin=carer_binned.id,
    )


def _build_children(scene: Scene) -> None:
    w = scene.world
    scene.ids.update(
        child=w.child.id,
        other_child=w.other_child.id,
        young_child=w.young_child.id,
        other_authority_child=w.other_authority_child.id,
    )


def _build_users(scene: Scene) -> None:
    w = scene.world
    scene.ids.update(
        user_same=w.carer.id, user_self=w.manager.id, user_other=w.other_authority_young_person.id
    )


def _build_placements(scene: Scene) -> None:
    w = scene.world
    rows = db.session.scalars(select(Placement).where(Placement.child_id == w.child.id)).all()
    by_carer = {p.carer_id: p.id for p in rows}
    carer_b = scene.other_authority_person(Role.CARER)
    other = factories.placement(w.other_authority_child, carer_b)
    scene.ids.update(
        active_same=by_carer[w.carer.id],
        ended_same=by_carer[w.ended_carer.id],
        active_other=other.id,
    )


def _build_allocations(scene: Scene) -> None:
    w = scene.world
    rows = db.session.scalars(select(Allocation).where(Allocation.child_id == w.child.id)).all()
    by_sw = {a.social_worker_id: a.id for a in rows}
    sw_b = scene.other_authority_person(Role.SOCIAL_WORKER)
    other = factories.allocation(w.other_authority_child, sw_b)
    scene.ids.update(
        active_same=by_sw[w.social_worker.id],
        ended_same=by_sw[w.ended_social_worker.id],
        active_other=other.id,
    )


_invited = itertools.count(1)


def _invite(authority: Any, by: User) -> accounts.IssuedInvitation:
    n = next(_invited)
    return accounts.invite(
        authority=authority,
        email=f"invited{n}-{authority.id}@example.test",
        display_name=f"Invited {n}",
        role=Role.CARER,
        invited_by=by,
        days_valid=7,
    )


def _build_invitations(scene: Scene) -> None:
    w = scene.world
    waiting = _invite(w.authority, w.manager).invitation
    revoked = _invite(w.authority, w.manager).invitation
    accounts.revoke_invitation(revoked)
    other = _invite(w.other_authority, w.other_manager).invitation
    scene.ids.update(waiting_same=waiting.id, revoked_same=revoked.id, waiting_other=other.id)


BUILDERS: dict[str, Callable[[Scene], None]] = {
    "item": _build_items,
    "child": _build_children,
    "user": _build_users,
    "placement": _build_placements,
    "allocation": _build_allocations,
    "invitation": _build_invitations,
    "none": lambda scene: None,
}

# --- what each POST sends: valid data, so an allowed POST really does its work ----------


def _photo_upload(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {
        "title": "A new memory",
        "caption": "",
        "file": (io.BytesIO(factories.jpeg_bytes()), "photo.jpg"),
    }


def _relationship(prefix: str, role: Role) -> Callable[[Scene, User | None, str], dict]:
    def data(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
        w = scene.world
        if target == "other_authority_child":
            person = scene.other_authority_person(role)
        else:
            person = w.unplaced_carer if role is Role.CARER else w.unallocated_social_worker
        return {
            f"{prefix}-person_id": str(person.id),
            f"{prefix}-start_date": clock.today().isoformat(),
        }

    return data


def _login(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    who = actor or scene.world.young_person
    return {"email": who.email, "password": factories.PASSWORD}


def _accept(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    issued = _invite(scene.world.authority, scene.world.manager)
    return {
        "token": issued.token,
        "password": "a brand new password",
        "confirm": "a brand new password",
    }


def _new_password(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {
        "current": factories.PASSWORD,
        "password": "a brand new password",
        "confirm": "a brand new password",
    }


def _invitation(scene: Scene, actor: User | None, target: str) -> dict[str, Any]:
    return {"display_name": "Morgan", "email": "morgan@example.org", "role": "carer"}


POST_DATA: dict[str, Callable[[Scene, User | None, str], dict[str, Any]]] = {
    "auth.login": _login,
    "auth.accept_invitation": _accept,
    "auth.change_password": _new_password,
    "box.add": _photo_upload,
    "items.edit": lambda scene, actor, target: {"title": "A better title", "caption": "Sunny"},
    "manage.invite": _invitation,
    "manage.new_child": lambda scene, actor, target: {"display_name": "Robin"},
    "manage.add_placement": _relationship("placement", Role.CARER),
    "manage.add_allocation": _relationship("allocation", Role.SOCIAL_WORKER),
}

# --- helpers ---------------------------------------------------------------------------

_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]*(")')


def _normalised(body: bytes) -> bytes:
    """The body without the per-request CSRF token in the sign-out form."""
    return _CSRF_VALUE.sub(rb"\1\2", body)


def _is_login_redirect(response: Any) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code == 302 and urlsplit(location).path == "/login"


def _snapshot(app: Flask) -> dict[str, Any]:
    """Every stored row (but the audit log, where denials are recorded) and every file."""
    db.session.expire_all()
    tables = {}
    for table in Base.metadata.sorted_tables:
        if table.name == "audit_events":
            continue
        query = select(table).order_by(*table.primary_key.columns)
        tables[table.name] = [tuple(row) for row in db.session.execute(query)]
    root = Path(urlsplit(app.config["STORAGE_URL"]).path)
    files = sorted(str(p) for p in root.rglob("*")) if root.exists() else []
    return {"tables": tables, "files": files}


def _url(endpoint: str, target: str, scene: Scene) -> str:
    kind = _kind_of(endpoint)
    if kind == "none":
        return url_for(endpoint)
    ident = MISSING_ID if target == MISSING else scene.ids[target]
    return url_for(endpoint, **{TARGET_ARG[kind]: ident})


def _payload(endpoint: str, method: str, scene: Scene, actor: User | None, target: str) -> dict:
    """What the request sends: valid data for a POST, so only policy can stop it."""
    make = POST_DATA.get(endpoint)
    return make(scene, actor, target) if method == "POST" and make else {}


def _send(client: FlaskClient, method: str, url: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(url)
    return client.post(url, data=data, content_type="multipart/form-data")


# --- the tests -------------------------------------------------------------------------

_checked: dict[str, int] = {ALLOW: 0, DENY: 0, LOGIN: 0, "groups": 0}


@pytest.fixture(scope="module", autouse=True)
def _count_cases() -> Iterator[None]:
    yield
    if not _checked["groups"]:
        return
    total = _checked[ALLOW] + _checked[DENY] + _checked[LOGIN]
    print(
        f"\naccess matrix: {total} cases checked "
        f"({_checked[ALLOW]} allowed, {_checked[DENY]} denied with 404, "
        f"{_checked[LOGIN]} sent to sign in)"
    )
    assert total > 0


def test_matrix_covers_every_route(app: Flask) -> None:
    """Every rule (bar static) and every method it takes is in the matrix, and no more."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        routes.setdefault(rule.endpoint, set()).update(
            (rule.methods or set()) - {"HEAD", "OPTIONS"}
        )
    unlisted = sorted(set(routes) - set(MATRIX))
    gone = sorted(set(MATRIX) - set(routes))
    assert not unlisted, f"routes missing from the access matrix: {unlisted}"
    assert not gone, f"the access matrix lists routes that no longer exist: {gone}"
    for endpoint, methods in routes.items():
        listed = {m for m in HTTP_METHODS if m in MATRIX[endpoint]}
        assert listed == methods, (
            f"{endpoint}: takes {sorted(methods)}, matrix has {sorted(listed)}"
        )
        for method in listed:
            rules = MATRIX[endpoint][method]
            assert set(rules) <= set(ACTORS), f"{endpoint} {method}: unknown actor state"
            for actor, rule in rules.items():
                if isinstance(rule, str):
                    assert rule in {ALLOW, DENY, LOGIN}
                    continue
                assert rule <= set(_targets_of(endpoint)), f"{endpoint}: unknown target"
                assert MISSING not in rule, f"{endpoint}: a missing id can never be allowed"
                assert actor != ANON
    print(f"\naccess matrix: {CASE_COUNT} cases planned in {len(GROUPS)} groups")
    assert CASE_COUNT > 0


def _check(
    app: Flask, scene: Scene, endpoint: str, method: str, actor: str, target: str
) -> str | None:
    """Run one case; the problem found, or None when the app did what the matrix says."""
    client = app.test_client()  # a fresh session for every case
    attr = ACTORS[actor]
    user = getattr(scene.world, attr) if attr else None
    if user is not None:
        factories.login_as(client, user)
    want = expected(endpoint, method, actor, target)
    url = _url(endpoint, target, scene)
    data = _payload(endpoint, method, scene, user, target)
    before = _snapshot(app) if want != ALLOW else None

    response = _send(client, method, url, data)
    got = f"{method} {url} [{target}] -> {response.status_code} {response.location or ''}".strip()

    if before is not None and _snapshot(app) != before:
        return f"a refused request changed something: {got}"
    if want == ALLOW:
        if not 200 <= response.status_code < 400:
            return f"should be allowed: {got}"
        if _is_login_redirect(response):
            return f"allowed, but sent to sign in: {got}"
    elif want == LOGIN:
        if not _is_login_redirect(response):
            return f"should send to sign in: {got}"
    else:
        if response.status_code != 404:
            return f"should be 404: {got}"
        if target in (MISSING, NO_TARGET):
            reference = client.get("/no-such-page")  # a page that simply is not there
        else:
            missing_url = _url(endpoint, MISSING, scene)
            data = _payload(endpoint, method, scene, user, MISSING)
            reference = _send(client, method, missing_url, data)
        if reference.status_code != 404:
            return f"the missing-id reference answered {reference.status_code}, not 404"
        if _normalised(response.data) != _normalised(reference.data):
            return f"forbidden and missing look different: {got}"
    _checked[want] += 1
    return None


@pytest.mark.parametrize(("endpoint", "method", "actor"), GROUPS)
def test_access(app: Flask, world: World, endpoint: str, method: str, actor: str) -> None:
    _checked["groups"] += 1
    scene = Scene(app, world)
    BUILDERS[_kind_of(endpoint)](scene)
    problems = [
        problem
        for target in _targets_of(endpoint)
        if (problem := _check(app, scene, endpoint, method, actor, target)) is not None
    ]
    assert not problems, f"{endpoint} {method} as {actor}:\n  " + "\n  ".join(problems)


# --- forged form fields ----------------------------------------------------------------


def _invitations() -> list[Invitation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Invitation)))


def _field_error(body: bytes, field_id: str) -> str:
    match = re.search(
        rf'id="{re.escape(field_id)}-error"><span class="visually-hidden">Error: </span>([^<]*)<',
        body.decode(),
    )
    assert match, f"no error shown for {field_id}"
    return match.group(1).strip()


@pytest.mark.parametrize(
    ("role", "child_attr", "error_field"),
    [
        pytest.param("admin", None, "role", id="role-admin"),
        pytest.param("superuser", None, "role", id="role-superuser"),
        pytest.param("young_person", "other_authority_child", "child_id", id="yp-other-child"),
        pytest.param("carer", "other_authority_child", "child_id", id="carer-other-child"),
        pytest.param("young_person", "missing_child", "child_id", id="yp-missing-child"),
    ],
)
def test_invite_refuses_forged_role_or_child(
    client: FlaskClient, world: World, role: str, child_attr: str | None, error_field: str
) -> None:
    # A child in the other authority with no login yet: the only thing wrong is the authority.
    free_child = factories.child(world.other_authority, None, "Elliot")
    child_id = {None: "", "other_authority_child": str(free_child.id), "missing_child": "999999"}
    factories.login_as(client, world.manager)
    response = client.post(
        "/manage/people/invite",
        data={
            "display_name": "Mallory",
            "email": "mallory@example.org",
            "role": role,
            "child_id": child_id[child_attr],
        },
    )
    assert response.status_code == 400
    message = _field_error(response.data, error_field)
    if error_field == "child_id":
        assert message == "Please choose a child from your authority."
    else:
        assert message, "the person is told what to fix"  # WTForms: "Not a valid choice."
    assert "Traceback" not in response.text
    assert _invitations() == []


def test_invite_ignores_a_forged_authority(client: FlaskClient, world: World) -> None:
    factories.login_as(client, world.manager)
    response = client.post(
        "/manage/people/invite",
        data={
            "display_name": "Mallory",
            "email": "mallory@example.org",
            "role": "carer",
            "authority_id": str(world.other_authority.id),
        },
    )
    assert response.status_code == 201
    (invitation,) = _invitations()
    assert invitation.authority_id == world.authority.id
    assert invitation.role is Role.CARER


def _relationship_counts() -> tuple[int, int]:
    db.session.expire_all()
    return (
        len(db.session.scalars(select(Placement)).all()),
        len(db.session.scalars(select(Allocation)).all()),
    )


@pytest.mark.parametrize(
    ("kind", "person"),
    [
        pytest.param("placement", "other_authority_carer", id="placement-other-authority-carer"),
        pytest.param("placement", "social_worker", id="placement-social-worker"),
        pytest.param("placement", "young_person", id="placement-young-person"),
        pytest.param("placement", "manager", id="placement-manager"),
        pytest.param("placement", "missing", id="placement-missing-person"),
        pytest.param("allocation", "other_authority_sw", id="allocation-other-authority-sw"),
        pytest.param("allocation", "carer", id="allocation-carer"),
    ],
)
def test_relationship_refuses_forged_person(
    app: Flask, client: FlaskClient, world: World, kind: str, person: str
) -> None:
    people = {
        "other_authority_carer": lambda: factories.user(app, world.other_authority, Role.CARER),
        "other_authority_sw": lambda: factories.user(
            app, world.other_authority, Role.SOCIAL_WORKER
        ),
        "social_worker": lambda: world.unallocated_social_worker,
        "young_person": lambda: world.other_young_person,
        "manager": lambda: world.manager,
        "carer": lambda: world.unplaced_carer,
    }
    person_id = people[person]().id if person in people else 999_999
    before = _relationship_counts()
    factories.login_as(client, world.manager)
    response = client.post(
        f"/manage/children/{world.child.id}/{kind}s",
        data={f"{kind}-person_id": str(person_id), f"{kind}-start_date": clock.today().isoformat()},
    )
    assert response.status_code == 400
    label = "foster carer" if kind == "placement" else "social worker"
    assert _field_error(response.data, f"{kind}-person_id") == (
        f"Please choose a {label} from your authority."
    )
    assert _relationship_counts() == before


@pytest.mark.parametrize("adder", ["carer", "young_person"])
def test_add_item_ignores_forged_child_and_adder(
    client: FlaskClient, world: World, adder: str
) -> None:
    user = getattr(world, adder)
    factories.login_as(client, user)
    response = client.post(
        f"/children/{world.child.id}/add",
        data={
            "title": "Forged",
            "file": (io.BytesIO(factories.jpeg_bytes()), "photo.jpg"),
            "child_id": str(world.other_child.id),
            "added_by_id": str(world.other_young_person.id),
            "status": "kept" if adder == "carer" else "suggested",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    (item,) = db.session.scalars(select(MemoryItem)).all()
    assert item.child_id == world.child.id
    assert item.added_by_id == user.id
    assert item.status is (ItemStatus.SUGGESTED if adder == "carer" else ItemStatus.KEPT)


def test_edit_item_ignores_forged_child_adder_and_status(
    app: Flask, client: FlaskClient, world: World
) -> None:
    it = factories.item(app, world.child, world.carer, status=ItemStatus.SUGGESTED)
    factories.login_as(client, world.young_person)
    response = client.post(
        f"/items/{it.id}/edit",
        data={
            "title": "Renamed",
            "child_id": str(world.other_child.id),
            "added_by_id": str(world.young_person.id),
            "status": "kept",
            "deleted_at": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(MemoryItem, it.id)
    assert item is not None
    assert item.title == "Renamed"
    assert item.child_id == world.child.id
    assert item.added_by_id == world.carer.id
    assert item.status is ItemStatus.SUGGESTED
