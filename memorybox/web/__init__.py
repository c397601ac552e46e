"""The web layer: parse the request, ask policy, call a service, render."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from memorybox import memo
from memorybox.accounts import services as accounts
from memorybox.accounts.models import User
from memorybox.children.models import Child
from memorybox.db import db
from memorybox.extensions import login_manager
from memorybox.web import access, errors, lists, second_factor, security, words

BLUEPRINTS = (
    "auth",
    "box",
    "carer",
    "caseload",
    "contributors",
    "exports",
    "help",
    "home",
    "items",
    "leaving",
    "letters",
    "manage",
    "notifications",
    "search",
    "second_factor",
    "shared",
    "sharing",
    "story",
    "tags",
    "transfers",
    "uploads",
)


def init_app(app: Flask) -> None:
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"memorybox.web.{name}").bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)

    security.init_app(app)
    second_factor.init_app(app)
    words.init_app(app)
    errors.init_app(app)

    app.jinja_env.globals["can"] = access.can
    app.jinja_env.globals["current_actor"] = access.actor
    app.jinja_env.globals["unread_notifications"] = _unread
    app.jinja_env.globals["my_child"] = _my_child
    app.jinja_env.globals["more_url"] = lists.more_url
    vendor = Path(app.static_folder or "") / "vendor"
    app.jinja_env.globals["vendor_available"] = lambda name: (vendor / name).is_file()


def _load_user(session_id: str) -> User | None:
    """Flask-Login's loader. One query brings the person, their own child record (a young
    person's) and how many messages are unread, which every page's menu shows."""
    from memorybox.children import relationships
    from memorybox.notifications import service

    parsed = accounts.parse_session_id(session_id)
    if parsed is None:
        return None
    unread = service.unread_query(User.id).correlate(User).scalar_subquery()
    row = db.session.execute(
        select(User, Child, unread)
        .outerjoin(Child, Child.user_id == User.id)
        .where(User.id == parsed[0])
    ).first()
    if row is None or not accounts.session_still_valid(row[0], parsed[1]):
        return None
    user, child, count = row
    memo.prime(relationships.child_of_user, (user.id,), child)
    service.prime_unread(user.id, count)
    return user


def _my_child() -> object:
    """The signed-in young person's own child record, for the "I need help" button."""
    from memorybox.children import relationships

    user = access.actor()
    return relationships.child_of_user(user.id) if user is not None else None


def _unread() -> int:
    from memorybox.notifications import service

    user = access.actor()
    return service.unread_count(user) if user is not None else 0
