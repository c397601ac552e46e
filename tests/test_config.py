"""Configuration from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import pytest

from memorybox import create_app
from memorybox.config import DEV_SECRET_KEY, ConfigError

GOOD_SECRET = "a" * 16 + "Z" * 16 + "0123456789"


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MEMORYBOX_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("MEMORYBOX_BASE_URL", "https://memorybox.example.org")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    monkeypatch.setenv("STORAGE_URL", f"file://{tmp_path / 'store'}")
    monkeypatch.setenv("MEMORYBOX_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)


def test_production_starts_with_safe_settings(production_env):
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("SECRET_KEY", None, "SECRET_KEY"),
        ("SECRET_KEY", DEV_SECRET_KEY, "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("SESSION_COOKIE_SECURE", "false", "SESSION_COOKIE_SECURE"),
        ("RATELIMIT_STORAGE_URI", None, "RATELIMIT_STORAGE_URI"),
        ("MEMORYBOX_BASE_URL", "http://memorybox.example.org", "https"),
    ],
)
def test_production_refuses_to_start_on_unsafe_settings(
    production_env, monkeypatch, name, value, complaint
):
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=complaint):
        create_app()


def test_development_has_working_defaults(monkeypatch, tmp_path):
    for name in ("MEMORYBOX_ENV", "SECRET_KEY", "DATABASE_URL", "STORAGE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEMORYBOX_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'memorybox.sqlite3'}"
    assert app.config["STORAGE_URL"] == f"file://{tmp_path / 'storage'}"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("STORAGE_URL", f"file://{tmp_path / 'objects'}")
    monkeypatch.setenv("MEMORYBOX_MAX_UPLOAD_MB", "7")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DATABASE_URL"].endswith("x.sqlite3")
    assert app.config["MAX_UPLOAD_BYTES"] == 7 * 1024 * 1024


def test_a_bad_number_in_the_environment_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MEMORYBOX_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ConfigError, match="MEMORYBOX_MAX_UPLOAD_MB must be a whole number"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_the_demo_is_never_seeded_in_production(production_env):
    app = create_app()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "never created in production" in result.output


def test_postgresql_sessions_run_no_parallel_query_unless_asked(app, monkeypatch):
    """The app's short queries are not split across parallel workers (which doubled a
    caseload query's time on a busy small machine); a deployment can turn it back on."""
    from sqlalchemy import text

    from memorybox.db import db, make_engine

    url = app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no parallel query")
    assert db.session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
    monkeypatch.setenv("MEMORYBOX_DB_PARALLEL_WORKERS", "2")
    # options already in the address (here a search_path) are kept alongside
    separator = "&" if "?" in url else "?"
    engine = make_engine(f"{url}{separator}options=-csearch_path%3Delsewhere", pool_size=1)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "2"
            assert connection.execute(text("SHOW search_path")).scalar() == "elsewhere"
    finally:
        engine.dispose()
