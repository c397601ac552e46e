"""How views ask policy: load a row, check it, and answer 404 for missing and forbidden alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app
from flask_login import current_user, login_required

from memorybox import policy
from memorybox.accounts.models import User
from memorybox.audit import service as audit
from memorybox.db import db
from memorybox.policy import Action
from memorybox.storage import Storage

T = TypeVar("T")


def signed_in_only(blueprint: Blueprint) -> None:
    """Every page of ``blueprint`` needs someone signed in (who may still be refused)."""

    @blueprint.before_request
    @login_required
    def _signed_in() -> None:
        return None


def actor() -> User | None:
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, User) else None


def signed_in_actor() -> User:
    """The signed-in user; login_required has already run, so one is always there."""
    user = actor()
    if user is None:
        abort(404)
    return user


def can(action: Action | str, target: Any) -> bool:
    return bool(policy.can(actor(), action, target))


def require(action: Action, target: Any) -> None:
    """Abort with 404 (and record the denial) unless the current user may do this."""
    decision = policy.can(actor(), action, target)
    if not decision:
        audit.record_denial(actor(), action, target)
        abort(404)


def load(model: type[T], ident: int, action: Action, options: Sequence[Any] = ()) -> T:
    """Load ``model`` by id and check ``action`` on it: 404 when missing or not allowed.
    ``options``: loader options (what to read with it)."""
    obj = db.session.get(model, ident, options=options)
    if obj is None:
        abort(404)
    require(action, obj)
    return obj


def storage() -> Storage:
    return current_app.extensions["memorybox.storage"]
