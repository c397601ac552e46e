"""Reading "Show more" from the address: which page of a list to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, make_response, request, url_for
from flask_babel import gettext as _

from memorybox.pagination import BadCursor, Page
from memorybox.web.errors import render_error

T = TypeVar("T")


def cursor(name: str = "after") -> str | None:
    return request.args.get(name) or None


def page(read: Callable[[str | None], Page[T]], name: str = "after") -> Page[T]:
    """Read one page; a "Show more" link this app did not make gets a friendly 400."""
    try:
        return read(cursor(name))
    except BadCursor:
        abort(make_response(out_of_date()))


def out_of_date() -> Any:
    return render_error(
        400,
        _("That link is out of date"),
        _("Please go back to the start of the list and choose “Show more” again."),
    )


def year(name: str = "from") -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        abort(
            make_response(
                render_error(
                    400, _("We can't find that year"), _("Please choose a year from the list.")
                )
            )
        )
    return int(raw)


def more_url(**changes: Any) -> str:
    """This page's address with some of its query changed (``None`` removes one). A name
    given more than once (a search's tags) keeps every value."""
    args: dict[str, Any] = {
        key: values[0] if len(values) == 1 else values
        for key, values in request.args.to_dict(flat=False).items()
    }
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    args.update(request.view_args or {})
    return url_for(request.endpoint or "home.index", **args)
