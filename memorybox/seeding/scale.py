"""``flask seed-scale``: a large authority for benchmarks, built in bulk and idempotently.

Every step first looks at what is there and adds only what is missing: people by email,
children by their place in the authority (the seed is the only thing that adds children to
its authority), items up to each box's size, and the rest (albums, story, requests,
notifications) for the children and people that have none yet. Audit rows are topped up to
the number asked for. Rows go in by COPY on PostgreSQL and by executemany elsewhere; each
child's items, files, renditions and item consents are written together and committed
together, files first, so a run stopped half-way is simply carried on by the next.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from memorybox import clock
from memorybox.accounts.models import Authority, Role, User
from memorybox.accounts.passwords import Passwords
from memorybox.audit.models import AuditEvent
from memorybox.children.models import Allocation, Child, Placement
from memorybox.db import db
from memorybox.memories.models import ItemKind, ItemStatus, MemoryItem, Rendition
from memorybox.notifications.models import HelpRequest, Notification, TalkRequest
from memorybox.search import index as search_index
from memorybox.seeding import media
from memorybox.seeding.bulk import BulkWriter, ObjectWriter, Row
from memorybox.sharing.models import Audience, Basis, Collection, CollectionItem, Consent
from memorybox.storage import Storage, new_key
from memorybox.story import services as story
from memorybox.story.models import ReadReceipt, SectionVersion, StorySection

DEFAULT_PASSWORD = "memorybox-scale"  # noqa: S105 - printed for benchmark accounts only
#: the code app secret of every seeded social worker and manager (benchmark accounts only:
#: printed, so a load test can work out their second-step codes with pyotp)
STAFF_TOTP_SECRET = "MEMORYBOXSCALESTAFFSECONDSTEPKEY"  # noqa: S105
DOMAIN = "example.org"
AUDIT_BATCH = 50_000

FIRST_NAMES = (
    "Alex", "Bea", "Cal", "Dani", "Eli", "Fern", "Gus", "Hana", "Ivo", "Jade", "Kit", "Lola",
    "Max", "Nia", "Oli", "Pip", "Remi", "Sam", "Tia", "Uma", "Vic", "Wren", "Xan", "Zac",
)  # fmt: skip
TITLES = (
    "Beach day", "Birthday cake", "School trip", "My drawing", "Football match", "Nan's garden",
    "Sports day", "First swim", "Christmas", "The zoo", "My room", "Bike ride", "Certificate",
    "Concert", "Camping", "Park with Jo",
)  # fmt: skip
SENTENCES = (
    "I like drawing and playing football with my friends.",
    "My favourite food is pasta, and I do not like mushrooms.",
    "When I feel worried it helps to talk to someone I trust.",
    "I am good at swimming and I want to try the climbing wall.",
    "I remember the house with the big tree and the red door.",
)


class SeedRefused(RuntimeError):
    """The seed will not run here (production)."""


@dataclass(frozen=True)
class ScaleOptions:
    slug: str = "scale"
    name: str = "Scale Test Borough Council"
    children: int = 300
    carers: int = 60
    social_workers: int = 30
    managers: int = 2
    items_per_child: int = 1000
    big_box: int = 0  # items in the first child's box instead of items_per_child (0: same)
    audit_rows: int = 2_000_000
    password: str = DEFAULT_PASSWORD
    seed: int = 2026

    def box_size(self, index: int) -> int:
        return self.big_box if index == 0 and self.big_box else self.items_per_child


@dataclass
class SeedReport:
    added: Counter[str] = field(default_factory=Counter)
    authority_id: int = 0

    def lines(self, options: ScaleOptions) -> list[str]:
        what = ", ".join(f"{n:,} {k}" for k, n in sorted(self.added.items()) if n) or "nothing"
        return [
            f"Scale authority {options.slug!r} ready (id {self.authority_id}). Added: {what}.",
            f"Every account's password: {options.password}",
            f"Social workers' and managers' code app key: {STAFF_TOTP_SECRET}",
            f"Young people: child0001@{options.slug}.{DOMAIN} ... "
            f"(every tenth child, the youngest, has no login)",
            f"Foster carers: carer001@{options.slug}.{DOMAIN} ...; social workers: "
            f"sw001@{options.slug}.{DOMAIN} ...; managers: manager1@{options.slug}.{DOMAIN}",
        ]


def email(options: ScaleOptions, role: Role, n: int) -> str:
    """The seeded account ``n`` (from 1) of a role, e.g. ``carer007@scale.example.org``."""
    local = {
        Role.YOUNG_PERSON: f"child{n:04d}",
        Role.CARER: f"carer{n:03d}",
        Role.SOCIAL_WORKER: f"sw{n:03d}",
        Role.MANAGER: f"manager{n}",
    }[role]
    return f"{local}@{options.slug}.{DOMAIN}"


def has_login(index: int) -> bool:
    """Every tenth child is young and has no login; their social worker shares for them."""
    return index % 10 != 9


@dataclass
class _Kid:
    index: int
    id: int
    user_id: int | None
    dob: date
    carer_id: int
    social_worker_id: int
    earlier_carer_id: int


@dataclass
class _Seeder:
    options: ScaleOptions
    connection: Connection
    objects: ObjectWriter
    password_hash: str
    say: Callable[[str], None]
    report: SeedReport = field(default_factory=SeedReport)

    def __post_init__(self) -> None:
        self.bulk = BulkWriter(self.connection)
        self.now = clock.now()
        self.today = clock.today()
        self.rng = random.Random(self.options.seed)
        self._pools: dict[str, list[int]] = {}

    # --- helpers -------------------------------------------------------------------------

    def _insert(self, model: Any, rows: list[Row]) -> None:
        self.report.added[model.__tablename__] += self.bulk.insert(model.__table__, rows)

    def _with_ids(self, model: Any, rows: list[Row]) -> list[Row]:
        for row, new_id in zip(rows, self.bulk.new_ids(model.__table__, len(rows)), strict=True):
            row["id"] = new_id
        return rows

    def _id(self, model: Any) -> int:
        """One fresh id, from ids taken from the table's sequence a thousand at a time."""
        pool = self._pools.setdefault(model.__tablename__, [])
        if not pool:
            pool.extend(reversed(self.bulk.new_ids(model.__table__, 1000)))
        return pool.pop()

    def _having(self, model: Any, kids: list[_Kid], *where: Any) -> set[int]:
        """The ids of those children that already have rows of ``model`` (matching ``where``)."""
        column = model.__table__.c.child_id
        query = select(column).where(column.in_([k.id for k in kids]), *where).distinct()
        return set(self.connection.scalars(query))

    def _commit(self) -> None:
        self.connection.commit()

    # --- people --------------------------------------------------------------------------

    def authority(self) -> int:
        table = Authority.__table__
        found = self.connection.scalar(select(table.c.id).where(table.c.slug == self.options.slug))
        if found is None:
            row = {"name": self.options.name, "slug": self.options.slug, "created_at": self.now}
            found = self._with_ids(Authority, [row])[0]["id"]
            row.update(
                self_sharing_age=12,
                moderation_required=False,
                duty_email=f"duty@{self.options.slug}.{DOMAIN}",
                help_escalation_hours=4,
            )
            self._insert(Authority, [row])
            self._commit()
        self.report.authority_id = found
        return int(found)

    def users(self, authority_id: int, role: Role, count: int, name: str) -> list[int]:
        """Ids of the role's seeded accounts 1..count, adding those missing."""
        wanted = [email(self.options, role, n) for n in range(1, count + 1)]
        table = User.__table__
        have = dict(
            self.connection.execute(
                select(table.c.email, table.c.id).where(table.c.email.in_(wanted))
            ).all()
        )
        missing = [
            {
                "authority_id": authority_id,
                "email": address,
                "display_name": f"{name} {n}",
                "role": role.value,
                "password_hash": self.password_hash,
                "session_version": 1,
                "created_at": self.now,
                "tell_me_reads": True,
                **(
                    {"totp_secret": STAFF_TOTP_SECRET, "mfa_set_up_at": self.now}
                    if role in (Role.SOCIAL_WORKER, Role.MANAGER)
                    else {}
                ),
            }
            for n, address in enumerate(wanted, start=1)
            if address not in have
        ]
        for row in self._with_ids(User, missing):
            have[row["email"]] = row["id"]
        self._insert(User, missing)
        if role in (Role.SOCIAL_WORKER, Role.MANAGER):  # staff seeded before they had one
            self.connection.execute(
                update(User)
                .where(User.email.in_(wanted), User.totp_secret.is_(None))
                .values(totp_secret=STAFF_TOTP_SECRET, mfa_set_up_at=self.now)
            )
        return [have[address] for address in wanted]

    def children(
        self, authority_id: int, logins: list[int], carers: list[int], workers: list[int]
    ) -> list[_Kid]:
        table = Child.__table__
        existing = list(
            self.connection.execute(
                select(table.c.id, table.c.user_id, table.c.date_of_birth)
                .where(table.c.authority_id == authority_id)
                .order_by(table.c.id)
            ).all()
        )
        rows: list[Row] = []
        login_iter = iter(logins)
        for index in range(self.options.children):
            user_id = next(login_iter) if has_login(index) else None
            if index < len(existing):
                continue
            age = 12 + index % 6 if user_id else 4 + index % 7
            dob = self.today.replace(year=self.today.year - age, day=1) - timedelta(days=index)
            rows.append(
                {
                    "authority_id": authority_id,
                    "display_name": f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {index + 1}",
                    "date_of_birth": dob,
                    "user_id": user_id,
                    "created_at": self.now,
                }
            )
        self._insert(Child, self._with_ids(Child, rows))
        every = [(r.id, r.user_id, r.date_of_birth) for r in existing] + [
            (r["id"], r["user_id"], r["date_of_birth"]) for r in rows
        ]
        return [
            _Kid(
                i,
                cid,
                uid,
                dob,
                carers[i % len(carers)],
                workers[i % len(workers)],
                carers[(i + 1) % len(carers)],
            )
            for i, (cid, uid, dob) in enumerate(every[: self.options.children])
        ]

    def relationships(self, kids: list[_Kid], manager_id: int) -> None:
        """A current carer and social worker for every child; every fourth child also had an
        earlier placement (with the next carer along), now ended. Afterwards each child's
        carer and worker are the ones recorded (an earlier run may have chosen others)."""
        ids = [k.id for k in kids]
        placed = self._having(Placement, kids)
        allocated = self._having(Allocation, kids)
        since = self.today - timedelta(days=365)
        placements: list[Row] = []
        allocations: list[Row] = []
        common = {"created_by_id": manager_id, "created_at": self.now}
        for kid in kids:
            if kid.id not in placed:
                if kid.index % 4 == 0:
                    placements.append(
                        {
                            "child_id": kid.id,
                            "carer_id": kid.earlier_carer_id,
                            "start_date": since - timedelta(days=400),
                            "end_date": since,
                            **common,
                        }
                    )
                placements.append(
                    {
                        "child_id": kid.id,
                        "carer_id": kid.carer_id,
                        "start_date": since,
                        "end_date": None,
                        **common,
                    }
                )
            if kid.id not in allocated:
                allocations.append(
                    {
                        "child_id": kid.id,
                        "social_worker_id": kid.social_worker_id,
                        "start_date": since,
                        "end_date": None,
                        **common,
                    }
                )
        self._insert(Placement, self._with_ids(Placement, placements))
        self._insert(Allocation, self._with_ids(Allocation, allocations))
        placement, allocation = Placement.__table__, Allocation.__table__
        carers = dict(
            self.connection.execute(
                select(placement.c.child_id, placement.c.carer_id)
                .where(placement.c.child_id.in_(ids), placement.c.end_date.is_(None))
                .order_by(placement.c.id)
            ).all()
        )
        workers = dict(
            self.connection.execute(
                select(allocation.c.child_id, allocation.c.social_worker_id)
                .where(allocation.c.child_id.in_(ids), allocation.c.end_date.is_(None))
                .order_by(allocation.c.id)
            ).all()
        )
        for kid in kids:
            kid.carer_id = carers.get(kid.id, kid.carer_id)
            kid.social_worker_id = workers.get(kid.id, kid.social_worker_id)

    # --- boxes ---------------------------------------------------------------------------

    def boxes(self, kids: list[_Kid]) -> None:
        table = MemoryItem.__table__
        counts: dict[int, int] = dict(
            self.connection.execute(
                select(table.c.child_id, func.count())
                .where(table.c.child_id.in_([k.id for k in kids]))
                .group_by(table.c.child_id)
            ).all()
        )
        total = sum(max(0, self.options.box_size(k.index) - counts.get(k.id, 0)) for k in kids)
        if total:
            self.say(f"Adding {total:,} items with their files...")
        done = 0
        for kid in kids:
            have, want = counts.get(kid.id, 0), self.options.box_size(kid.index)
            if have < want:
                self._box(kid, have, want)
                self._commit()
                done += want - have
                if done // 50_000 != (done - (want - have)) // 50_000:
                    self.say(f"  {done:,} of {total:,} items")

    def _box(self, kid: _Kid, start: int, size: int) -> None:
        items: list[Row] = []
        renditions: list[Row] = []
        consents: list[Row] = []
        files: list[tuple[str, bytes, str]] = []
        span = max(1, (self.today - kid.dob).days)
        first_added = self.now - timedelta(days=3 * 365)
        adder = kid.user_id or kid.social_worker_id
        for k in range(start, size):
            kind = _kind(k)
            blob = media.original(kind, k)
            status = ItemStatus.SUGGESTED if k % 50 == 49 else ItemStatus.KEPT
            created = first_added + timedelta(minutes=k * 3 * 365 * 24 * 60 // max(size, 1))
            key = new_key(blob.extension)
            files.append((key, blob.data, blob.content_type))
            items.append(
                {
                    "child_id": kid.id,
                    "added_by_id": kid.carer_id if status is ItemStatus.SUGGESTED else adder,
                    "kind": kind.value,
                    "status": status.value,
                    "title": f"{TITLES[k % len(TITLES)]} {k + 1}",
                    "caption": "A good day." if k % 3 == 0 else "",
                    "memory_date": None
                    if k % 7 == 3
                    else kid.dob + timedelta(days=k * span // max(size, 1)),
                    "content_type": blob.content_type,
                    "extension": blob.extension,
                    "size_bytes": len(blob.data),
                    "sha256": blob.sha256,
                    "storage_backend": self.objects.storage.backend_name,
                    "storage_key": key,
                    "original_name": "",
                    "created_at": created,
                    "updated_at": created,
                    "decided_at": created if status is ItemStatus.KEPT else None,
                    "deleted_at": self.now - timedelta(days=k % 20)
                    if k % 97 == 96 and status is ItemStatus.KEPT
                    else None,
                    "processing": "ready",
                    "processing_error": "",
                    "processing_attempts": 1,
                    "width": media.WIDTH if kind is ItemKind.PHOTO else None,
                    "height": media.HEIGHT if kind is ItemKind.PHOTO else None,
                }
            )
        self._with_ids(MemoryItem, items)
        for k, item in zip(range(start, size), items, strict=True):
            kind = ItemKind(item["kind"])
            for name in media.SHAPES[kind].renditions:
                blob = media.rendition(kind, name, k)
                key = new_key(blob.extension)
                files.append((key, blob.data, blob.content_type))
                image = blob.content_type.startswith("image/")
                renditions.append(
                    {
                        "item_id": item["id"],
                        "name": name,
                        "storage_key": key,
                        "content_type": blob.content_type,
                        "size_bytes": len(blob.data),
                        "width": media.WIDTH if image else None,
                        "height": media.HEIGHT if image else None,
                    }
                )
            if item["status"] == ItemStatus.KEPT.value and item["deleted_at"] is None:
                for audience in _item_audiences(k):
                    consents.append(self._consent(kid, audience, item_id=item["id"]))
        self.objects.write(files)
        self.report.added["stored objects"] += len(files)
        self._insert(MemoryItem, items)
        self._insert(Rendition, self._with_ids(Rendition, renditions))
        self._insert(Consent, self._with_ids(Consent, consents))

    def _consent(self, kid: _Kid, audience: Audience, **subject: int) -> Row:
        own = kid.user_id is not None
        return {
            "child_id": kid.id,
            "item_id": subject.get("item_id"),
            "collection_id": subject.get("collection_id"),
            "story_section_id": subject.get("story_section_id"),
            "audience": audience.value,
            "person_id": None,
            "ends_on": None,
            "decided_by_id": kid.user_id if own else kid.social_worker_id,
            "basis": (Basis.OWN_DECISION if own else Basis.ON_BEHALF).value,
            "childs_wishes": "" if own else "They were happy for this to be seen.",
            "created_at": self.now - timedelta(days=30),
            "revoked_at": None,
            "revoked_by_id": None,
        }

    def _kept_items(self, kid_ids: list[int]) -> dict[int, list[int]]:
        table = MemoryItem.__table__
        found: dict[int, list[int]] = {i: [] for i in kid_ids}
        rows = self.connection.execute(
            select(table.c.child_id, table.c.id)
            .where(
                table.c.child_id.in_(kid_ids),
                table.c.status == ItemStatus.KEPT.value,
                table.c.deleted_at.is_(None),
            )
            .order_by(table.c.id)
        )
        for child_id, item_id in rows:
            found[child_id].append(item_id)
        return found

    # --- albums --------------------------------------------------------------------------

    def albums(self, kids: list[_Kid]) -> None:
        have = self._having(Collection, kids)
        todo = [k for k in kids if k.id not in have]
        kept = self._kept_items([k.id for k in todo])
        albums: list[Row] = []
        entries: list[Row] = []
        consents: list[Row] = []
        for kid in todo:
            for n, name in enumerate(("Holidays", "School", "Family")):
                album_id = self._id(Collection)
                album = {"id": album_id, "child_id": kid.id, "name": name, "created_at": self.now}
                albums.append(album)
                for item_id in kept[kid.id][n::3][:40]:
                    entries.append(
                        {"collection_id": album_id, "item_id": item_id, "added_at": self.now}
                    )
                if n == 0:
                    consents.append(self._consent(kid, Audience.CARERS, collection_id=album_id))
        self._insert(Collection, albums)
        self._insert(CollectionItem, self._with_ids(CollectionItem, entries))
        self._insert(Consent, self._with_ids(Consent, consents))
        self._commit()

    # --- stories -------------------------------------------------------------------------

    def stories(self, authority_id: int, kids: list[_Kid]) -> None:
        """Every prompt becomes a section (as the story page would make them); children with a
        login have written the first four, in up to three versions. "About me" is shared with
        the carers and the social worker, "People who matter to me" with the social worker,
        and the carer has read the first version of "About me" (so it shows what changed)."""
        authority = db.session.get(Authority, authority_id)
        assert authority is not None
        prompts = [p.id for p in story.prompts_of(authority, include_hidden=False)]
        have = self._having(StorySection, kids)
        sections: list[Row] = []
        versions: list[Row] = []
        consents: list[Row] = []
        receipts: list[Row] = []
        for kid in kids:
            if kid.id in have:
                continue
            for n, prompt_id in enumerate(prompts):
                section_id = self._id(StorySection)
                sections.append(
                    {
                        "id": section_id,
                        "child_id": kid.id,
                        "prompt_id": prompt_id,
                        "own_title": "",
                        "created_at": self.now - timedelta(days=60),
                    }
                )
                if kid.user_id is None or n >= 4:
                    continue
                body = ""
                for number in range(1, 2 + (kid.index + n) % 3):
                    body = (body + " " + SENTENCES[(n + number) % len(SENTENCES)]).strip()
                    version = {
                        "id": self._id(SectionVersion),
                        "section_id": section_id,
                        "number": number,
                        "body": body,
                        "source": "typed",
                        "restored_from": None,
                        "created_by_id": kid.user_id,
                        "created_at": self.now - timedelta(days=40 - 10 * number),
                    }
                    versions.append(version)
                    if n == 0 and number == 1:
                        receipts.append(
                            {
                                "section_id": section_id,
                                "version_id": version["id"],
                                "reader_id": kid.carer_id,
                                "read_at": self.now - timedelta(days=25),
                            }
                        )
                audiences = {0: (Audience.CARERS, Audience.SOCIAL_WORKER)}.get(
                    n, (Audience.SOCIAL_WORKER,) if n == 1 else ()
                )
                for audience in audiences:
                    consents.append(self._consent(kid, audience, story_section_id=section_id))
        self._insert(StorySection, sections)
        self._insert(SectionVersion, versions)
        self._insert(Consent, self._with_ids(Consent, consents))
        self._insert(ReadReceipt, self._with_ids(ReadReceipt, receipts))
        self._commit()

    # --- requests and notifications ------------------------------------------------------

    def requests(self, kids: list[_Kid], names: dict[int, str]) -> None:
        """An "I need help" from every fifteenth child with a login (every other one already
        acknowledged), and an "I'd like to talk about this" from every twelfth."""
        helped = self._having(HelpRequest, kids)
        talked = self._having(TalkRequest, kids)
        wanting_talk = [k for k in kids if k.user_id and k.index % 12 == 0 and k.id not in talked]
        kept = self._kept_items([k.id for k in wanting_talk])
        helps: list[Row] = []
        talks: list[Row] = []
        notes: list[Row] = []
        for kid in kids:
            if kid.user_id is None:
                continue
            if kid.index % 15 == 0 and kid.id not in helped:
                seen = kid.index % 30 == 0
                made = self.now - timedelta(hours=30 if seen else 1)
                helps.append(
                    {
                        "id": self._id(HelpRequest),
                        "child_id": kid.id,
                        "requested_by_id": kid.user_id,
                        "created_at": made,
                        "sent_to": names[kid.social_worker_id],
                        "escalate_at": made + timedelta(days=2),
                        "escalated_at": None,
                        "escalated_to": "",
                        "acknowledged_at": made + timedelta(hours=1) if seen else None,
                        "acknowledged_by_id": kid.social_worker_id if seen else None,
                    }
                )
                notes.append(
                    self._note(
                        kid.social_worker_id, kid, "help", "help", helps[-1]["id"], urgent=True
                    )
                )
            if kid in wanting_talk and kept[kid.id]:
                talks.append(
                    {
                        "id": self._id(TalkRequest),
                        "child_id": kid.id,
                        "item_id": kept[kid.id][0],
                        "requested_by_id": kid.user_id,
                        "words": "Can we talk about this one?",
                        "shows_item": False,
                        "created_at": self.now - timedelta(hours=5),
                        "acknowledged_at": None,
                        "acknowledged_by_id": None,
                    }
                )
                notes.append(self._note(kid.social_worker_id, kid, "talk", "talk", talks[-1]["id"]))
        self._insert(HelpRequest, helps)
        self._insert(TalkRequest, talks)
        self._insert(Notification, self._with_ids(Notification, notes))
        self._commit()

    def _note(
        self,
        user_id: int,
        kid: _Kid,
        kind: str,
        target: str,
        target_id: int | None,
        *,
        urgent: bool = False,
        read: bool = False,
        age: timedelta = timedelta(hours=1),
    ) -> Row:
        name = f"{FIRST_NAMES[kid.index % len(FIRST_NAMES)]} {kid.index + 1}"
        message = {
            "help": f"{name} pressed “I need help”. Please get in touch with them today.",
            "talk": f"{name} would like to talk about something in their box.",
            "shared": f"{name} has shared something new with you.",
        }[kind]
        return {
            "user_id": user_id,
            "kind": kind,
            "message": message,
            "link": "",
            "target_type": target,
            "target_id": target_id,
            "urgent": urgent,
            "child_id": kid.id,
            "created_at": self.now - age,
            "read_at": self.now - age / 2 if read else None,
        }

    def shared_notes(self, kids: list[_Kid]) -> None:
        """ "Shared something new with you" for each child's carer and social worker, for their
        latest shared items: a few unread, most read."""
        have = self._having(Notification, kids, Notification.__table__.c.kind == "shared")
        todo = [k for k in kids if k.id not in have]
        consent = Consent.__table__
        shared: dict[int, list[int]] = {k.id: [] for k in todo}
        for child_id, item_id in self.connection.execute(
            select(consent.c.child_id, consent.c.item_id)
            .where(consent.c.child_id.in_([k.id for k in todo]), consent.c.item_id.is_not(None))
            .order_by(consent.c.item_id.desc())
        ):
            if len(shared[child_id]) < 6:
                shared[child_id].append(item_id)
        notes = [
            self._note(
                person,
                kid,
                "shared",
                "item",
                item_id,
                read=n >= 2,
                age=timedelta(days=n + 1),
            )
            for kid in todo
            for n, item_id in enumerate(shared[kid.id])
            for person in (kid.carer_id, kid.social_worker_id)
        ]
        self._insert(Notification, self._with_ids(Notification, notes))
        self._commit()

    # --- audit ---------------------------------------------------------------------------

    def audit(self, kids: list[_Kid]) -> None:
        """Looks by each child's carer and social worker at the child's things over the last
        year (a child with a bigger box is looked at more), and a few refusals."""
        table = AuditEvent.__table__
        ids = [k.id for k in kids]
        have = self.connection.scalar(
            select(func.count()).select_from(table).where(table.c.child_id.in_(ids))
        )
        missing = self.options.audit_rows - int(have or 0)
        if missing <= 0:
            return
        self.say(f"Adding {missing:,} audit rows...")
        kept = self._kept_items(ids)
        weighted = [k for k in kids if kept[k.id]]
        if not weighted:
            return
        weights = [len(kept[k.id]) for k in weighted]
        actions = ("item:view", "item:thumbnail", "item:thumbnail", "item:view-file")
        year = 365 * 24 * 3600
        for batch in _chunks(missing, AUDIT_BATCH):
            rows: list[Row] = []
            for kid in self.rng.choices(weighted, weights, k=batch):
                item_id = self.rng.choice(kept[kid.id])
                denied = self.rng.random() < 0.01
                rows.append(
                    {
                        "occurred_at": self.now - timedelta(seconds=self.rng.randrange(year)),
                        "actor_id": kid.social_worker_id
                        if denied or self.rng.random() < 0.4
                        else kid.carer_id,
                        "action": self.rng.choice(actions),
                        "outcome": "denied" if denied else "allowed",
                        "target_type": "item",
                        "target_id": item_id,
                        "child_id": kid.id,
                        "item_id": item_id,
                    }
                )
            self._insert(AuditEvent, self._with_ids(AuditEvent, rows))
            self._commit()


def _kind(k: int) -> ItemKind:
    slot = k % 20
    if slot < 17:
        return ItemKind.PHOTO
    return (ItemKind.DOCUMENT, ItemKind.AUDIO, ItemKind.VIDEO)[slot - 17]


def _item_audiences(k: int) -> tuple[Audience, ...]:
    """Which of a child's kept items are shared: a fifth with the carers, a tenth with the
    social worker (some with both)."""
    found: tuple[Audience, ...] = ()
    if k % 5 == 0:
        found += (Audience.CARERS,)
    if k % 10 in (0, 3):
        found += (Audience.SOCIAL_WORKER,)
    return found


def _chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def seed_scale(
    options: ScaleOptions,
    *,
    environment: str,
    passwords: Passwords,
    storage: Storage,
    say: Callable[[str], None] = lambda _line: None,
) -> SeedReport:
    """Build (or complete) the scale authority. Refuses in production."""
    if environment == "production":
        raise SeedRefused("The scale seed never runs in production.")
    if min(options.carers, options.social_workers, options.managers) < 1:
        raise ValueError("The seed needs at least one carer, social worker and manager.")
    password_hash = passwords.hash(options.password)  # once: every account shares it
    assert db.engine is not None
    with db.engine.connect() as connection:
        seeder = _Seeder(options, connection, ObjectWriter(storage), password_hash, say)
        authority_id = seeder.authority()
        managers = seeder.users(authority_id, Role.MANAGER, options.managers, "Manager")
        carers = seeder.users(authority_id, Role.CARER, options.carers, "Carer")
        workers = seeder.users(
            authority_id, Role.SOCIAL_WORKER, options.social_workers, "Social worker"
        )
        logins = seeder.users(
            authority_id,
            Role.YOUNG_PERSON,
            sum(has_login(i) for i in range(options.children)),
            "Young person",
        )
        seeder._commit()
        kids = seeder.children(authority_id, logins, carers, workers)
        seeder.relationships(kids, managers[0])
        seeder._commit()
        seeder.boxes(kids)
        seeder.albums(kids)
        seeder.stories(authority_id, kids)
        names = {w: f"Social worker {n}" for n, w in enumerate(workers, start=1)}
        seeder.requests(kids, names)
        seeder.shared_notes(kids)
        seeder.audit(kids)
        say("Indexing for search what has no entry yet...")
        seeder.report.added["search entries"] += search_index.fill_missing(
            connection, seeder._commit
        )
        if seeder.bulk.postgres:
            say("Updating the planner's statistics (ANALYZE)...")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
        return seeder.report
