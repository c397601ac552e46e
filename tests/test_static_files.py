"""Static files: versioned URLs, cached for a year only under their current hash."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, url_for
from flask.testing import FlaskClient

from memorybox.web.static_files import IMMUTABLE, StaticHashes


def test_static_urls_carry_the_files_hash(app: Flask, client: FlaskClient) -> None:
    with app.test_request_context():
        url = url_for("static", filename="css/site.css")
    path, _, version = url.partition("?v=")
    assert path == "/static/css/site.css" and len(version) == 12

    cached = client.get(url)
    assert cached.status_code == 200
    assert cached.headers["Cache-Control"] == IMMUTABLE

    for other in (path, f"{path}?v=000000000000"):
        fresh = client.get(other)
        assert fresh.status_code == 200
        assert fresh.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/no-such-file.css").status_code == 404


def test_pages_link_the_versioned_files(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "/static/css/site.css?v=" in page
    assert "/static/js/site.js?v=" in page


def test_a_changed_file_gets_a_new_hash(tmp_path: Path) -> None:
    (tmp_path / "a.css").write_text("body {}")
    hashes = StaticHashes(tmp_path)
    first = hashes.digest("a.css")
    (tmp_path / "a.css").write_text("body { color: red }")
    assert first is not None and hashes.digest("a.css") not in (None, first)
    assert hashes.digest("../outside.css") is None
    assert hashes.digest("missing.css") is None
