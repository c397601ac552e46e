"""Lists that do not grow with the box: every list page runs the same number of SQL queries
with 10 rows behind it as with 1,000, and shows one page at a time.

Each scene fills one list (items in a box, shares, story parts, looks, messages, people,
children) with ``n`` rows made in bulk, then counts the statements one request for the page
runs. Run on SQLite and PostgreSQL like the rest of the suite."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import delete, event, insert, select, true, update

from memorybox import clock
from memorybox.accounts.models import Role, User
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem, Processing, Rendition
from memorybox.notifications.models import HelpRequest, Notification
from memorybox.search import index as search_index
from memorybox.search.models import ItemTag, SearchDocument, Tag
from memorybox.sharing.models import Audience, Basis, Collection, CollectionItem, Consent
from memorybox.storage import new_key
from memorybox.story.models import SectionVersion, StorySection, version_items
from tests import factories
from tests.factories import World

pytestmark = pytest.mark.app_config(ARGON2_MEMORY_KIB=64)

SIZES = (10, 1000)
_keys = itertools.count(1)


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    assert engine is not None
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def bulk_items(
    child: Child,
    adder: User,
    n: int,
    *,
    status: ItemStatus = ItemStatus.KEPT,
    deleted: bool = False,
    kind: ItemKind = ItemKind.PHOTO,
    storage: Any = None,
) -> list[int]:
    """``n`` ready items, each with a thumbnail rendition, a day apart. Rows only (list pages
    never read the files) unless ``storage`` is given, when each thumbnail is stored too.
    Returns their ids, oldest first."""
    now = clock.now()
    rows = []
    for i in range(n):
        key = next(_keys)
        rows.append(
            {
                "child_id": child.id,
                "added_by_id": adder.id,
                "kind": kind,
                "status": status,
                "title": f"Memory {i}",
                "caption": "",
                "memory_date": (now - timedelta(days=n - i)).date(),
                "content_type": "image/jpeg",
                "extension": "jpg",
                "size_bytes": 100,
                "sha256": "0" * 64,
                "storage_backend": "local",
                "storage_key": new_key("jpg"),
                "original_name": "",
                "created_at": now - timedelta(minutes=n - i),
                "updated_at": now,
                "deleted_at": now - timedelta(minutes=n - i) if deleted else None,
                "processing": Processing.READY,
            }
        )
    db.session.execute(insert(MemoryItem), rows)
    db.session.flush()
    ids = sorted(
        db.session.scalars(
            select(MemoryItem.id).where(
                MemoryItem.storage_key.in_([r["storage_key"] for r in rows])
            )
        )
    )
    thumbs = {item_id: new_key("webp") for item_id in ids}
    if storage is not None:
        picture = _tiny_webp()
        for key in thumbs.values():
            storage.save(key, io.BytesIO(picture), "image/webp")
    db.session.execute(
        insert(Rendition),
        [
            {
                "item_id": item_id,
                "name": "thumb",
                "storage_key": thumbs[item_id],
                "content_type": "image/webp",
                "size_bytes": 10,
                "width": 4,
                "height": 3,
            }
            for item_id in ids
        ],
    )
    db.session.commit()
    return ids


def _tiny_webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "teal").save(out, "WEBP")
    return out.getvalue()


def consent_rows(
    child: Child, by: User, audience: Audience, person: User | None = None, **subjects: list[int]
) -> None:
    ((column, ids),) = subjects.items()
    now = clock.now()
    db.session.execute(
        insert(Consent),
        [
            {
                "child_id": child.id,
                column: subject_id,
                "audience": audience,
                "person_id": person.id if person is not None else None,
                "decided_by_id": by.id,
                "basis": Basis.OWN_DECISION,
                "childs_wishes": "",
                "created_at": now - timedelta(seconds=i),
            }
            for i, subject_id in enumerate(ids)
        ],
    )
    db.session.commit()


def bulk_sections(child: Child, n: int) -> list[int]:
    db.session.execute(
        insert(StorySection),
        [{"child_id": child.id, "own_title": f"Part {i}"} for i in range(n)],
    )
    db.session.flush()
    ids = sorted(
        db.session.scalars(select(StorySection.id).where(StorySection.child_id == child.id))
    )
    db.session.execute(
        insert(SectionVersion),
        [
            {
                "section_id": section_id,
                "number": 1,
                "body": "Words I wrote.",
                "created_by_id": child.user_id,
                "created_at": clock.now(),
            }
            for section_id in ids
        ],
    )
    db.session.commit()
    return ids


def bulk_users(world: World, role: Role, n: int) -> list[int]:
    db.session.execute(
        insert(User),
        [
            {
                "authority_id": world.authority.id,
                "email": f"bulk{next(_keys)}@example.test",
                "display_name": f"Person {i}",
                "role": role,
                "password_hash": "x",
            }
            for i in range(n)
        ],
    )
    db.session.commit()
    return list(
        db.session.scalars(select(User.id).where(User.email.like("bulk%"), User.role == role))
    )


def bulk_children(world: World, n: int) -> list[int]:
    db.session.execute(
        insert(Child),
        [
            {"authority_id": world.authority.id, "display_name": f"Child {next(_keys)}"}
            for _ in range(n)
        ],
    )
    db.session.commit()
    return list(db.session.scalars(select(Child.id).where(Child.display_name.like("Child %"))))


# --- the scenes: fill one list with n rows; who looks, and where ----------------------------


@dataclass(frozen=True)
class Look:
    who: User
    url: str


Scene = Callable[[Flask, World, int], Look]


def gallery(app: Flask, w: World, n: int) -> Look:
    bulk_items(w.child, w.young_person, n)
    return Look(w.young_person, f"/children/{w.child.id}/box")


def child_home(app: Flask, w: World, n: int) -> Look:
    ids = bulk_items(w.child, w.young_person, n)
    # One of them from this day last year, so "on this day" has something at every size.
    today = clock.today()
    leap_day = (today.month, today.day) == (2, 29)
    last_year = today - timedelta(days=366) if leap_day else today.replace(year=today.year - 1)
    db.session.execute(
        update(MemoryItem)
        .where(MemoryItem.id == ids[0])
        .values(memory_date=last_year, sort_date=last_year)
    )
    db.session.commit()
    bulk_items(w.child, w.carer, n, status=ItemStatus.SUGGESTED)
    return Look(w.young_person, "/")


def timeline(app: Flask, w: World, n: int) -> Look:
    bulk_items(w.child, w.young_person, n)
    return Look(w.young_person, f"/children/{w.child.id}/timeline")


def suggested(app: Flask, w: World, n: int) -> Look:
    bulk_items(w.child, w.carer, n, status=ItemStatus.SUGGESTED)
    return Look(w.young_person, f"/children/{w.child.id}/suggested")


def bin_page(app: Flask, w: World, n: int) -> Look:
    bulk_items(w.child, w.young_person, n, deleted=True)
    return Look(w.young_person, f"/children/{w.child.id}/bin")


def _album(w: World, n: int) -> Collection:
    ids = bulk_items(w.child, w.young_person, n)
    album = Collection(child_id=w.child.id, name="Holidays")
    db.session.add(album)
    db.session.flush()
    db.session.execute(
        insert(CollectionItem), [{"collection_id": album.id, "item_id": i} for i in ids]
    )
    db.session.commit()
    return album


def album_own(app: Flask, w: World, n: int) -> Look:
    return Look(w.young_person, f"/albums/{_album(w, n).id}")


def album_shared(app: Flask, w: World, n: int) -> Look:
    album = _album(w, n)
    consent_rows(w.child, w.young_person, Audience.SOCIAL_WORKER, collection_id=[album.id])
    return Look(w.social_worker, f"/albums/{album.id}")


def _shared_with_worker(w: World, n: int) -> None:
    ids = bulk_items(w.child, w.young_person, n)
    consent_rows(w.child, w.young_person, Audience.SOCIAL_WORKER, item_id=ids)


def single_view(app: Flask, w: World, n: int) -> Look:
    _shared_with_worker(w, n)
    db.session.execute(
        insert(Collection), [{"child_id": w.child.id, "name": f"Album {i}"} for i in range(n)]
    )
    db.session.commit()
    return Look(w.social_worker, f"/shared/{w.child.id}")


def single_view_carer(app: Flask, w: World, n: int) -> Look:
    ids = bulk_items(w.child, w.young_person, n)
    consent_rows(w.child, w.young_person, Audience.CARERS, item_id=ids)
    bulk_items(w.child, w.carer, n, status=ItemStatus.SUGGESTED)
    return Look(w.carer, f"/shared/{w.child.id}")


def caseload_items(app: Flask, w: World, n: int) -> Look:
    _shared_with_worker(w, n)
    return Look(w.social_worker, "/caseload")


def caseload_children(app: Flask, w: World, n: int) -> Look:
    today = clock.today()
    db.session.execute(
        insert(Allocation),
        [
            {"child_id": c, "social_worker_id": w.social_worker.id, "start_date": today}
            for c in bulk_children(w, n)
        ],
    )
    db.session.commit()
    return Look(w.social_worker, "/caseload")


def carer_home(app: Flask, w: World, n: int) -> Look:
    bulk_items(w.child, w.carer, n, status=ItemStatus.SUGGESTED)
    return Look(w.carer, "/carer")


def story_reader(app: Flask, w: World, n: int) -> Look:
    ids = bulk_sections(w.child, n)
    consent_rows(w.child, w.young_person, Audience.SOCIAL_WORKER, story_section_id=ids)
    return Look(w.social_worker, f"/shared/{w.child.id}/story")


def story_home(app: Flask, w: World, n: int) -> Look:
    bulk_sections(w.child, n)
    return Look(w.young_person, f"/children/{w.child.id}/story")


def who_looked(app: Flask, w: World, n: int) -> Look:
    ids = bulk_items(w.child, w.young_person, n)
    now = clock.now()
    db.session.execute(
        insert(AuditEvent),
        [
            {
                "occurred_at": now - timedelta(days=i),
                "actor_id": (w.social_worker if i % 2 else w.carer).id,
                "action": "item:view",
                "outcome": "allowed",
                "target_type": "memoryitem",
                "target_id": item_id,
                "child_id": w.child.id,
                "item_id": item_id,
            }
            for i, item_id in enumerate(ids)
        ],
    )
    db.session.commit()
    return Look(w.young_person, f"/children/{w.child.id}/seen")


def who_can_see(app: Flask, w: World, n: int) -> Look:
    ids = bulk_items(w.child, w.young_person, n)
    consent_rows(w.child, w.young_person, Audience.PERSON, w.ended_carer, item_id=ids)
    return Look(w.young_person, f"/children/{w.child.id}/sharing")


def messages(app: Flask, w: World, n: int) -> Look:
    now = clock.now()
    db.session.execute(
        insert(Notification),
        [
            {
                "user_id": w.social_worker.id,
                "kind": "shared",
                "message": "Alex has shared something new with you.",
                "link": "",
                "target_type": "item",
                "target_id": 1,
                "urgent": i % 50 == 0,
                "child_id": w.child.id,
                "created_at": now - timedelta(minutes=i),
            }
            for i in range(n)
        ],
    )
    db.session.commit()
    return Look(w.social_worker, "/notifications")


def review_queue(app: Flask, w: World, n: int) -> Look:
    w.authority.moderation_required = True
    bulk_items(w.child, w.carer, n, status=ItemStatus.AWAITING_APPROVAL)
    return Look(w.social_worker, "/caseload/reviews")


def manage_people(app: Flask, w: World, n: int) -> Look:
    bulk_users(w, Role.CARER, n)
    return Look(w.manager, "/manage/people")


def manage_children(app: Flask, w: World, n: int) -> Look:
    today = clock.today()
    ids = bulk_children(w, n)
    db.session.execute(
        insert(Placement),
        [{"child_id": c, "carer_id": w.carer.id, "start_date": today} for c in ids],
    )
    db.session.commit()
    return Look(w.manager, "/manage/children")


def manage_caseloads(app: Flask, w: World, n: int) -> Look:
    today = clock.today()
    workers = bulk_users(w, Role.SOCIAL_WORKER, n)
    children = bulk_children(w, n)
    db.session.execute(
        insert(Allocation),
        [
            {"child_id": c, "social_worker_id": sw, "start_date": today}
            for c, sw in zip(children, workers, strict=True)
        ],
    )
    db.session.execute(
        insert(HelpRequest),
        [
            {"child_id": c, "requested_by_id": w.young_person.id, "created_at": clock.now()}
            for c in children[:: max(1, n // 10)]
        ],
    )
    db.session.commit()
    return Look(w.manager, "/manage/caseloads")


def story_versions(app: Flask, w: World, n: int) -> Look:
    section = StorySection(child_id=w.child.id, own_title="About me")
    db.session.add(section)
    db.session.flush()
    photo = bulk_items(w.child, w.young_person, 1)[0]
    db.session.execute(
        insert(SectionVersion),
        [
            {
                "section_id": section.id,
                "number": i + 1,
                "body": f"Version {i}",
                "created_by_id": w.young_person.id,
                "created_at": clock.now(),
            }
            for i in range(n)
        ],
    )
    versions = db.session.scalars(
        select(SectionVersion.id).where(SectionVersion.section_id == section.id)
    ).all()
    db.session.execute(
        insert(version_items), [{"version_id": v, "item_id": photo} for v in versions]
    )
    db.session.commit()
    return Look(w.young_person, f"/story/{section.id}/versions")


def albums(app: Flask, w: World, n: int) -> Look:
    db.session.execute(
        insert(Collection), [{"child_id": w.child.id, "name": f"Album {i}"} for i in range(n)]
    )
    db.session.commit()
    return Look(w.young_person, f"/children/{w.child.id}/albums")


def _indexed() -> None:
    """Bulk rows bypass the session: index them as ``flask reindex-search --missing`` does."""
    search_index.fill_missing(db.session.connection())
    db.session.commit()


def search_own(app: Flask, w: World, n: int) -> Look:
    ids = bulk_items(w.child, w.young_person, n)
    tag = Tag(child_id=w.child.id, name="Nan", name_key="nan")
    db.session.add(tag)
    db.session.flush()
    db.session.execute(insert(ItemTag), [{"item_id": i, "tag_id": tag.id} for i in ids])
    _indexed()
    return Look(w.young_person, f"/children/{w.child.id}/search?q=memory+nan&tag={tag.id}")


def search_story(app: Flask, w: World, n: int) -> Look:
    bulk_sections(w.child, n)
    _indexed()
    return Look(w.young_person, f"/children/{w.child.id}/search?q=wrote")


def search_shared(app: Flask, w: World, n: int) -> Look:
    _shared_with_worker(w, n)
    _indexed()
    return Look(w.social_worker, f"/shared/{w.child.id}/search?q=memory")


SCENES: dict[str, Scene] = {
    "gallery": gallery,
    "a young person's home page": child_home,
    "timeline": timeline,
    "suggested": suggested,
    "bin": bin_page,
    "album (the child's own)": album_own,
    "album (shared with the social worker)": album_shared,
    "single view of a child (social worker)": single_view,
    "a child's page (carer)": single_view_carer,
    "caseload (items shared)": caseload_items,
    "caseload (children)": caseload_children,
    "carer's home (what they sent)": carer_home,
    "story reader": story_reader,
    "my story": story_home,
    "who looked": who_looked,
    "who can see": who_can_see,
    "messages": messages,
    "review queue": review_queue,
    "manager's people": manage_people,
    "manager's children": manage_children,
    "manager's caseloads": manage_caseloads,
    "versions of a story part": story_versions,
    "albums": albums,
    "search (the child's own box)": search_own,
    "search (the child's own story)": search_story,
    "search (what is shared with the social worker)": search_shared,
}


def _queries_for(app: Flask, client: FlaskClient, world: World, scene: Scene, n: int) -> int:
    look = scene(app, world, n)
    factories.login_as(client, look.who)
    client.get(look.url)  # once to warm anything cached per process (not per request)
    with counted(app) as statements:
        response = client.get(look.url)
    assert response.status_code == 200, f"{look.url} answered {response.status_code}"
    return len(statements)


@pytest.mark.parametrize("name", list(SCENES))
def test_a_list_page_runs_the_same_queries_for_10_rows_as_for_1000(
    app: Flask, world: World, name: str
) -> None:
    scene = SCENES[name]
    counts = []
    for n in SIZES:
        client = app.test_client()
        counts.append(_queries_for(app, client, world, scene, n))
        # The next size starts from an empty list again.
        _clear(world)
    assert counts[0] == counts[1], f"{name}: {counts[0]} queries for 10 rows, {counts[1]} for 1000"


def _clear(world: World) -> None:
    db.session.execute(delete(version_items))
    for model in (
        AuditEvent,
        Notification,
        HelpRequest,
        Consent,
        CollectionItem,
        Collection,
        SearchDocument,
        ItemTag,
        Tag,
        SectionVersion,
        StorySection,
        Rendition,
        MemoryItem,
        Allocation,
        Placement,
    ):
        db.session.execute(delete(model).where(_bulk_only(model, world)))
    db.session.execute(delete(Child).where(Child.display_name.like("Child %")))
    db.session.execute(delete(User).where(User.email.like("bulk%")))
    db.session.commit()


def _bulk_only(model: Any, world: World) -> Any:
    """What a scene made (the world's own placements and allocations stay)."""
    if model is Allocation:
        return Allocation.child_id.in_(select(Child.id).where(Child.display_name.like("Child %")))
    if model is Placement:
        return Placement.child_id.in_(select(Child.id).where(Child.display_name.like("Child %")))
    return true()
