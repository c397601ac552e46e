"""Friendly answers for everything that goes wrong: what happened and what to do next."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError as LimitsStorageError
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from memorybox.db import db
from memorybox.extensions import login_manager

log = logging.getLogger(__name__)

MESSAGES: dict[int, tuple[LazyString, LazyString]] = {
    400: (_l("Something was not quite right"), _l("Please go back and try again.")),
    404: (
        _l("We can't find that page"),
        _l("It may have moved, or you may not have access to it. Go back to your home page."),
    ),
    405: (_l("That didn't work"), _l("Please go back and try again.")),
    413: (
        _l("That file is too big"),
        _l("Please choose a smaller file. Nothing has been saved yet, so you can try again."),
    ),
    429: (
        _l("Too many tries"),
        _l("Please wait a few minutes, then try again. This keeps your account safe."),
    ),
    500: (_l("Sorry, something went wrong on our side"), _l("Please try again in a minute.")),
    503: (_l("We can't save things right now"), _l("Please try again in a few minutes.")),
}


#: When a service the app needs is down: what people read (503, "please try again").
UNAVAILABLE: dict[str, tuple[LazyString, LazyString]] = {
    "database": (
        _l("Memory Box is having a short rest"),
        _l(
            "Something on our side stopped for a moment. Your things are safe. "
            "Please try again in a minute."
        ),
    ),
    "sign-in": (
        _l("We can't sign you in just now"),
        _l(
            "Something on our side stopped for a moment. Your account is safe. "
            "Please try again in a minute."
        ),
    ),
}


def _outage(error: BaseException | None) -> str | None:
    """Which part of ``UNAVAILABLE`` an error means, or None when it is not an outage."""
    if isinstance(error, LimitsStorageError):
        return "sign-in"
    if isinstance(error, OperationalError | PoolTimeout):
        return "database"
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return "database"
    return None


def render_unavailable(kind: str) -> ResponseReturnValue:
    """A 503 that needs nothing but the templates: no signed-in user is looked up (that
    would ask the database again) and the page does not extend the site's layout."""
    g._login_user = login_manager.anonymous_user()
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.warning("could not roll back after an outage")
    title, message = (str(words) for words in UNAVAILABLE[kind])
    if wants_json():
        response = jsonify(error=title, message=message)
    else:
        response = current_app.response_class(
            render_template("errors/unavailable.html", title=title, message=message)
        )
    response.status_code = 503
    response.headers["Retry-After"] = "60"
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def render_error(
    status: int, title: str | None = None, message: str | None = None
) -> ResponseReturnValue:
    default_title, default_message = MESSAGES.get(status, MESSAGES[400])
    title = title or str(default_title)
    message = message or str(default_message)
    if wants_json():
        return jsonify(error=title, message=message), status
    return render_template("errors/error.html", title=title, message=message, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            _("This page timed out"),
            _(
                "For your safety, forms expire after a while. Please go back, reload the page "
                "and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        # An outage met after the view (the sign-in limit counted in after_request) arrives
        # here as a 500 carrying the original error.
        kind = _outage(getattr(error, "original_exception", None))
        if kind is not None:
            log.warning("%s unavailable on %s %s", kind, request.method, request.path)
            return render_unavailable(kind)
        if status == 429:
            return render_error(429)
        return render_error(status if status in MESSAGES else 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        kind = _outage(error)
        if kind is not None:
            log.warning("%s unavailable on %s %s: %s", kind, request.method, request.path, error)
            return render_unavailable(kind)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
