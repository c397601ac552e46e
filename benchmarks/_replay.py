"""The baseline for page benchmarks: the same page rendered by a bare Flask route, from
memory, with no database and no policy.

One untimed request to the real page is *captured*: the template Flask renders and its
context, and every answer the template's own helpers gave (``can``, ``current_actor``,
``unread_notifications``, ``csrf_token``... in the order they were asked). The objects in
the context are taken out of the database session right after rendering, loaded as the
template left them, so nothing can reach the database again.

A bare Flask app in the same process then renders that same template file with that same
context, its helpers answering from the recording. It has the real app's URL rules (so
``url_for`` builds the same links, with the same URL defaults), filters and Jinja options,
and none of its hooks, extensions or database. Its HTML is the real page's, byte for byte
but for the time inside the CSRF token (checked): the same layout and the same card markup,
as many cards as the page shows; the difference in time is everything the real page does
besides turning a list in memory into HTML: signing in, loading, policy, queries, ORM.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from flask import Flask, before_render_template, render_template, request, template_rendered
from jinja2 import Template
from werkzeug.local import LocalProxy

from memorybox import i18n
from memorybox.db import db

# Jinja's and Flask's own helpers: pure, or working the same in the bare app.
PURE = {
    "url_for",
    "get_flashed_messages",
    "range",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
}
FROM_FLASK = {"request", "session", "g", "config"}
FUNCTIONS = (FunctionType, MethodType, BuiltinFunctionType)


class Recording:
    def __init__(self) -> None:
        self.answers: dict[str, deque[Any]] = defaultdict(deque)
        self.template: str | None = None
        self.context: dict[str, Any] = {}
        self.endpoint = ""

    def replay(self, name: str) -> Callable[..., Any]:
        answers = self.answers[name]
        given = list(answers)

        def answer(*_args: Any, **_kwargs: Any) -> Any:
            if not answers:  # a second render: start the recording again
                answers.extend(given)
            return answers.popleft()

        return answer


def capture(app: Flask, get: Callable[[], Any]) -> Recording:
    """Make the request with ``get()`` and record what its page was rendered from."""
    recording = Recording()
    originals = dict(app.jinja_env.globals)
    for name, value in originals.items():
        # A helper that jinja hands its context (such as the i18n extension's ``_``, which
        # looks ``gettext`` up in it) is left as it is: what it calls is recorded.
        passes_context = not isinstance(value, LocalProxy) and hasattr(value, "jinja_pass_arg")
        if (
            callable(value)
            and name not in PURE
            and not isinstance(value, type)
            and not passes_context
        ):
            app.jinja_env.globals[name] = _recorder(name, value, recording)

    def rendering(_sender: Flask, template: Template, context: dict[str, Any], **_: Any) -> None:
        # Helpers handed to the template in its context (by the view or a context
        # processor, e.g. Flask-WTF's csrf_token) are recorded like the globals.
        for name, value in context.items():
            if isinstance(value, FUNCTIONS) and name not in PURE:
                context[name] = _recorder(name, value, recording)

    def rendered(_sender: Flask, template: Template, context: dict[str, Any], **_: Any) -> None:
        if recording.template is not None:
            raise RuntimeError("the page rendered more than one template")
        recording.template = template.name
        recording.endpoint = request.endpoint or ""
        recording.context = {
            k: (v._get_current_object() if isinstance(v, LocalProxy) else v)
            for k, v in context.items()
            if k not in FROM_FLASK
        }
        db.session.expunge_all()  # keep them as rendered: a later commit must not expire them

    try:
        with (
            before_render_template.connected_to(rendering, app),
            template_rendered.connected_to(rendered, app),
        ):
            response = get()
    finally:
        app.jinja_env.globals.clear()
        app.jinja_env.globals.update(originals)
    if recording.template is None:
        raise RuntimeError(f"the page rendered no template (status {response.status_code})")
    return recording


def _recorder(name: str, fn: Callable[..., Any], recording: Recording) -> Callable[..., Any]:
    def record(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        recording.answers[name].append(result)
        return result

    return record


def bare_app(app: Flask, recording: Recording) -> Flask:
    """A bare Flask app whose one view renders the recorded page from memory, at the real
    page's URL (so links built from the request, such as "Show more", come out the same)."""
    bare = Flask("memorybox_baseline", template_folder=app.template_folder, static_folder=None)
    bare.jinja_environment = type(app.jinja_env)  # the real app's (memorybox.templating)
    bare.jinja_options = dict(app.jinja_options)
    bare.config.update(app.config)
    # Words and dates are translated and formatted in the baseline too, as the real page's
    # language (English), from the same catalogues, and looked up as the real app does
    # (its catalogue found once per request: memorybox.i18n.translations).
    bare.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(app.root_path) / "translations")
    i18n.RequestBabel(bare, locale_selector=lambda: app.config["BABEL_DEFAULT_LOCALE"])
    i18n.install_template_gettext(bare)
    bare.jinja_env.policies["ext.i18n.trimmed"] = True
    for rule in app.url_map.iter_rules():
        bare.url_map.add(rule.empty())
    bare.url_default_functions = app.url_default_functions
    bare.jinja_env.filters.update(app.jinja_env.filters)
    bare.jinja_env.tests.update(app.jinja_env.tests)
    for name, value in app.jinja_env.globals.items():
        if name in recording.answers:
            bare.jinja_env.globals[name] = recording.replay(name)
        elif name not in bare.jinja_env.globals:
            bare.jinja_env.globals[name] = value
    template = recording.template
    context = dict(recording.context)
    for name in context:
        if name in recording.answers:
            context[name] = recording.replay(name)

    def page(**_view_args: Any) -> str:
        assert template is not None
        return render_template(template, **context)

    bare.view_functions[recording.endpoint] = page
    return bare
