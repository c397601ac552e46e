"""Friendly answers for everything that goes wrong: what happened and what to do next."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from memorybox.db import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something was not quite right", "Please go back and try again."),
    404: (
        "We can't find that page",
        "It may have moved, or you may not have access to it. Go back to your home page.",
    ),
    405: ("That didn't work", "Please go back and try again."),
    413: (
        "That file is too big",
        "Please choose a smaller file. Nothing has been saved yet, so you can try again.",
    ),
    429: (
        "Too many tries",
        "Please wait a few minutes, then try again. This keeps your account safe.",
    ),
    500: ("Sorry, something went wrong on our side", "Please try again in a minute."),
    503: ("We can't save things right now", "Please try again in a few minutes."),
}


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def render_error(
    status: int, title: str | None = None, message: str | None = None
) -> ResponseReturnValue:
    default_title, default_message = MESSAGES.get(status, MESSAGES[400])
    title = title or default_title
    message = message or default_message
    if wants_json():
        return jsonify(error=title, message=message), status
    return render_template("errors/error.html", title=title, message=message, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            "This page timed out",
            "For your safety, forms expire after a while. Please go back, reload the page "
            "and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        if status == 429:
            return render_error(429)
        return render_error(status if status in MESSAGES else 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return render_error(500)
