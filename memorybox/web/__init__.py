"""The web layer: parse the request, ask policy, call a service, render."""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from pathlib import Path

from flask import Flask

from memorybox import clock
from memorybox.accounts import services as accounts
from memorybox.extensions import login_manager
from memorybox.web import access, errors, lists, security

BLUEPRINTS = (
    "auth",
    "box",
    "carer",
    "caseload",
    "exports",
    "help",
    "home",
    "items",
    "manage",
    "notifications",
    "shared",
    "sharing",
    "story",
    "uploads",
)


def init_app(app: Flask) -> None:
    for name in BLUEPRINTS:
        app.register_blueprint(import_module(f"memorybox.web.{name}").bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.session_protection = "basic"
    login_manager.user_loader(accounts.load_session_user)

    security.init_app(app)
    errors.init_app(app)

    app.jinja_env.globals["can"] = access.can
    app.jinja_env.globals["current_actor"] = access.actor
    app.jinja_env.globals["unread_notifications"] = _unread
    app.jinja_env.globals["my_child"] = _my_child
    app.jinja_env.globals["more_url"] = lists.more_url
    app.jinja_env.filters["local"] = _local_time
    vendor = Path(app.static_folder or "") / "vendor"
    app.jinja_env.globals["vendor_available"] = lambda name: (vendor / name).is_file()


def _local_time(moment: datetime, pattern: str = "%-d %B %Y at %H:%M") -> str:
    """A stored (UTC) moment as people in England read it."""
    return moment.astimezone(clock.LOCAL_ZONE).strftime(pattern)


def _my_child() -> object:
    """The signed-in young person's own child record, for the "I need help" button."""
    from memorybox.children import relationships

    user = access.actor()
    return relationships.child_of_user(user.id) if user is not None else None


def _unread() -> int:
    from memorybox.notifications import service

    user = access.actor()
    return service.unread_count(user) if user is not None else 0
