"""(f) A big box: server time of the list pages for a 5,000-item box, on PostgreSQL.

Run: ``.venv/bin/python -m benchmarks.big_box`` (``--rounds``, ``--database``, and the seed's
size with ``--children``, ``--items-per-child``, ``--audit-rows``).

The authority comes from ``flask seed-scale`` in a PostgreSQL database of its own
(``memorybox_bench`` by default, shared with (g) and kept between runs; see
``benchmarks/_scale.py``); its first child's box holds 5,000 items. Four pages, each as the
person who reads it, signed in by session cookie (no password hashing in the timings):
the child's **gallery** and **timeline**, "**who looked**" (the audit trail of the box, for
the child) and the **caseload** of the child's social worker.

*Ours*: the page from the real app in this process through Flask's test client (the whole
WSGI request: session, sign-in, policy, queries, rendering), medians over ``--rounds``
after one warm-up. The queries each page runs are counted with a SQLAlchemy
``before_cursor_execute`` listener, and its HTML bytes are the response body's length.

*Baseline*: a bare Flask route in the same process, through its own test client, rendering
the very same template with the same context from memory: the same layout and card markup
and as many cards (``benchmarks/_replay.py`` says how, and the benchmark checks that the
HTML is identical). No database, no policy, no sign-in.

RATIO = our median / the baseline's median; target <= 2 for each page, and HTML <= 150 KB.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import _replay, _scale
from benchmarks._common import Result, main_for, median

TARGET_RATIO = 2.0
TARGET_BYTES = 150 * 1000


@dataclass
class Page:
    key: str
    title: str
    path: str
    reader: Any  # the User who reads it


@dataclass
class Measured:
    page: Page
    ours: list[float]
    baseline: list[float]
    queries: int
    html_bytes: int
    identical: bool
    cards: int


def run(args: argparse.Namespace) -> Result | list[Result]:
    seeded = _scale.ensure(
        args.database,
        seed_args=_scale.seed_option_args(args.children, args.items_per_child, args.audit_rows),
    )
    os.environ.update(seeded.env())
    from sqlalchemy import event, func, select

    from memorybox import create_app
    from memorybox.accounts.models import Authority
    from memorybox.children.models import Allocation, Child
    from memorybox.db import db
    from memorybox.memories.models import MemoryItem
    from memorybox.web import second_factor

    app = create_app()
    with app.app_context():
        authority = db.session.scalar(select(Authority).where(Authority.slug == _scale.SLUG))
        assert authority is not None
        child = db.session.scalar(
            select(Child).where(Child.authority_id == authority.id).order_by(Child.id)
        )
        assert child is not None and child.user is not None
        items = db.session.scalar(
            select(func.count()).select_from(MemoryItem).where(MemoryItem.child_id == child.id)
        )
        allocation = db.session.scalar(select(Allocation).where(Allocation.child_id == child.id))
        assert allocation is not None
        worker = allocation.social_worker
        readers = {"child": child.user, "worker": worker}
        for reader in readers.values():
            db.session.expunge(reader)
        child_id = child.id
    pages = [
        Page("gallery", "gallery", f"/children/{child_id}/box", readers["child"]),
        Page("timeline", "timeline", f"/children/{child_id}/timeline", readers["child"]),
        Page("caseload", "caseload (its social worker)", "/caseload", readers["worker"]),
        Page("seen", '"who looked"', f"/children/{child_id}/seen", readers["child"]),
    ]

    queries = 0

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        nonlocal queries
        queries += 1

    measured = []
    for page in pages:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = page.reader.get_id()
            session["_fresh"] = True
            # staff have given their second step too (as after the code form)
            session[second_factor.PASSED] = second_factor.marker(page.reader)
        first = client.get(page.path)
        if first.status_code != 200:
            raise SystemExit(f"{page.path}: HTTP {first.status_code}")
        recording = _replay.capture(app, lambda c=client, p=page.path: c.get(p))
        bare = _replay.bare_app(app, recording).test_client()
        expected = bare.get(page.path).get_data()
        before = queries
        real_html = client.get(page.path).get_data()
        count = queries - before
        before = queries
        ours: list[float] = []
        base: list[float] = []
        for n in range(args.rounds):
            pair: list[tuple[list[float], Callable[[], Any]]] = [
                (ours, lambda c=client, p=page.path: c.get(p)),
                (base, lambda b=bare, p=page.path: b.get(p)),
            ]
            for times, get in pair if n % 2 == 0 else pair[::-1]:
                started = time.perf_counter()
                response = get()
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
        assert queries - before == count * args.rounds, "the baseline must not query"
        measured.append(
            Measured(
                page,
                ours,
                base,
                count,
                len(real_html),
                _same_page(real_html, expected),
                real_html.count(b"<li") + real_html.count(b"<tr"),
            )
        )
        print(
            f"{page.key}: ours {median(ours) * 1000:.1f} ms, baseline "
            f"{median(base) * 1000:.1f} ms, {count} queries, {len(real_html):,} bytes",
            flush=True,
        )
    return [_result(m, items or 0, seeded, args) for m in measured]


_CSRF = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]*"')


def _same_page(ours: bytes, baseline: bytes) -> bool:
    """The same HTML, but for the CSRF token: it is signed with the time it was made, so the
    real page's (made again each time) and the recorded one differ by a second or two."""
    return _CSRF.sub(rb'\1"', ours) == _CSRF.sub(rb'\1"', baseline)


def _result(m: Measured, items: int, seeded: _scale.Seeded, args: argparse.Namespace) -> Result:
    ours, base = median(m.ours), median(m.baseline)
    ratio = ours / base
    kb = m.html_bytes / 1000
    passed = ratio <= TARGET_RATIO and m.html_bytes <= TARGET_BYTES
    return Result(
        name=f"big_box_{m.page.key}",
        title=f"(f) Big box ({items:,} items): {m.page.title}",
        ours=f"{ours * 1000:.1f} ms server time, {m.queries} queries, {kb:.0f} KB HTML",
        baseline=f"{base * 1000:.1f} ms (bare Flask route: same template and context from "
        "memory, no database)",
        ratio=ratio,
        ratio_meaning="our server time / the bare route's",
        target=f"<= {TARGET_RATIO:g}, HTML <= {TARGET_BYTES // 1000} KB",
        passed=passed,
        notes=[
            f"{m.page.path} as the {'social worker' if m.page.key == 'caseload' else 'child'}; "
            f"{args.rounds} rounds interleaved, medians; ours "
            f"{[round(t * 1000, 1) for t in m.ours]} ms, baseline "
            f"{[round(t * 1000, 1) for t in m.baseline]} ms",
            f"{m.queries} SQL queries, {m.html_bytes:,} bytes of HTML, {m.cards:,} list items and "
            f"table rows (menus included); the baseline's HTML is "
            f"{'identical' if m.identical else 'NOT identical'} (but for the CSRF token's time)",
            f"database {args.database} (PostgreSQL), seeded by flask seed-scale "
            f"({seeded.seconds:.0f} s making sure of the seed this run)",
        ],
        details={
            "ours_ms": [t * 1000 for t in m.ours],
            "baseline_ms": [t * 1000 for t in m.baseline],
            "queries": m.queries,
            "html_bytes": m.html_bytes,
            "identical": m.identical,
        },
    )


if __name__ == "__main__":
    main_for(
        "big_box",
        run,
        rounds=(int, 7, "timed requests per page and side"),
        database=(str, _scale.DEFAULT_DATABASE, "PostgreSQL database (made and seeded)"),
        children=(int, 300, "flask seed-scale --children"),
        items_per_child=(int, 1000, "flask seed-scale --items-per-child"),
        audit_rows=(int, 2_000_000, "flask seed-scale --audit-rows"),
    )
