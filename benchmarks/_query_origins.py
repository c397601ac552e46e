"""Where a page's SQL queries come from, on the seeded authority of (f) and (g).

Run: ``.venv/bin/python -m benchmarks._query_origins [PATH ...] [--as EMAIL]``. Not a
benchmark (no ratio, not run by ``run_all``): a tool for finding the queries that grow
with a box. Each page is requested once to warm up, then again with every query counted
by the memorybox functions that led to it (the innermost three), with its time.
Without paths it walks the pages (g) browses, as a child, a carer and a social worker.
"""

from __future__ import annotations

import argparse
import os
import time
import traceback
from collections import Counter
from typing import Any

from benchmarks import _scale

DEFAULT_WALK = {
    "child0001": ["/children/1/box", "/children/1/story", "/items/5", "/items/5/thumbnail"],
    "carer001": ["/carer", "/shared/1", "/shared/1/story", "/items/1", "/items/1/thumbnail"],
    "sw001": ["/caseload", "/shared/1", "/shared/1/story", "/items/1"],
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._query_origins")
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--as", dest="who", default="child0001", help="seeded account name")
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--slowest", type=int, default=0, help="also show the N slowest queries")
    parser.add_argument("--database", default=_scale.DEFAULT_DATABASE)
    args = parser.parse_args()
    seeded = _scale.ensure(args.database)
    os.environ.update(seeded.env())
    from sqlalchemy import event, select

    from memorybox import create_app
    from memorybox.accounts.models import User
    from memorybox.db import db
    from memorybox.web import second_factor

    app = create_app()
    origins: Counter[str] = Counter()
    timings: list[tuple[float, str, str]] = []  # seconds, origin, statement
    counting = False

    @event.listens_for(db.engine, "before_cursor_execute")
    def _origin(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if counting:
            frames = [
                f
                for f in traceback.extract_stack()
                if "/memorybox/" in f.filename and not f.filename.endswith("/db.py")
            ]
            where = [f"{f.filename.split('memorybox/')[-1]}:{f.name}" for f in frames[-3:]]
            origin = " <- ".join(reversed(where)) or "(outside memorybox)"
            origins[origin] += 1
            conn.info["query_origin"] = (time.perf_counter(), origin)

    @event.listens_for(db.engine, "after_cursor_execute")
    def _took(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        started = conn.info.pop("query_origin", None)
        if counting and started:
            timings.append((time.perf_counter() - started[0], started[1], statement))

    walk = {args.who: args.paths} if args.paths else DEFAULT_WALK
    for who, paths in walk.items():
        with app.app_context():
            address = f"{who}@{_scale.SLUG}.example.org"
            user = db.session.scalar(select(User).where(User.email == address))
            if user is None:
                raise SystemExit(f"no seeded account {address}")
            session_id = user.get_id()
            passed = second_factor.marker(user)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
            session[second_factor.PASSED] = passed  # staff have given their second step
        for path in paths:
            client.get(path)
            origins.clear()
            timings.clear()
            counting = True
            started = time.perf_counter()
            response = client.get(path)
            took = time.perf_counter() - started
            counting = False
            print(
                f"== {who} {path}: HTTP {response.status_code}, {took * 1000:.0f} ms, "
                f"{origins.total()} queries, {len(response.data):,} bytes"
            )
            for where, count in origins.most_common(args.top):
                print(f"   {count:6d}  {where}")
            for seconds, where, statement in sorted(timings, reverse=True)[: args.slowest]:
                print(f"   {seconds * 1000:7.1f} ms  {where}")
                print(f"             {' '.join(statement.split())[:400]}")


if __name__ == "__main__":
    main()
