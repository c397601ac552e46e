"""Memory Box: a web portal for children in care, their carers and social workers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from memorybox import config as config_module
from memorybox import extensions, templating
from memorybox.accounts.passwords import Passwords

__all__ = ["create_app"]

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment, then ``test_config`` on top."""
    instance_path = (test_config or {}).get(
        "INSTANCE_PATH"
    ) or config_module.default_instance_path()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.jinja_environment = templating.Environment  # before app.jinja_env is first made
    app.config.update(config_module.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config_module.check_production(app.config)

    _configure_logging(app)
    extensions.db.init_app(app)
    extensions.csrf.init_app(app)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    extensions.limiter.init_app(app)
    extensions.login_manager.init_app(app)
    from memorybox import i18n

    i18n.init_app(app)
    app.extensions["memorybox.passwords"] = Passwords(
        app.config["ARGON2_TIME_COST"],
        app.config["ARGON2_MEMORY_KIB"],
        app.config["ARGON2_PARALLELISM"],
    )

    from memorybox.notifications.mail import make_mailer
    from memorybox.storage import get_storage

    app.extensions["memorybox.mailer"] = make_mailer(app.config["MAIL_URL"])

    app.extensions["memorybox.storage"] = get_storage(app.config["STORAGE_URL"])

    from memorybox.jobs.queue import huey

    huey.immediate = bool(app.config["QUEUE_IMMEDIATE"])

    from memorybox import cli, web

    web.init_app(app)
    from memorybox.web import static_files

    static_files.init_app(app)
    cli.init_app(app)
    return app


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
