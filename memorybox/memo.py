"""Facts read once per request: who is placed with or allocated to whom today, which consents
cover an item. Policy asks the same questions for every card on a page; each is answered from
the database once, then from here.

The memo lives on the database session, which lasts one request (the app context), and is
dropped whenever the session writes, commits or rolls back, so a decision is never made on a
fact older than the request's own last change. List pages can prime it for many rows at once
(one query for a page of items instead of one per item)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from memorybox.db import db

P = ParamSpec("P")
R = TypeVar("R")

_KEY = "memorybox.memo"


def facts() -> dict[Hashable, Any]:
    return db.session.info.setdefault(_KEY, {})


def forget(session: Session | None = None) -> None:
    (session or db.session()).info.pop(_KEY, None)


def remembered(fn: Callable[P, R]) -> Callable[P, R]:
    """Answer ``fn(*args)`` once per request. Arguments must be hashable and positional."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if kwargs:
            raise TypeError(f"{name}: pass arguments by position")
        memo = facts()
        key = (name, args)
        if key not in memo:
            memo[key] = fn(*args, **kwargs)
        return memo[key]

    wrapper.memo_name = name  # type: ignore[attr-defined]
    return wrapper


def prime(fn: Callable[..., R], args: tuple[Any, ...], value: R) -> None:
    """Store what ``fn(*args)`` would answer, read in bulk by the caller."""
    facts()[(fn.memo_name, args)] = value  # type: ignore[attr-defined]


def known(fn: Callable[..., Any], args: tuple[Any, ...]) -> bool:
    return (fn.memo_name, args) in facts()  # type: ignore[attr-defined]


def _drop(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, _drop)
