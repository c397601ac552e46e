"""Making each kind of export from :class:`~memorybox.exports.content.Contents`.

Each builder writes to storage under a key it is given and reports progress (0-100) through
``report``. The ZIP streams: originals go from storage through the ZIP into storage in
bounded chunks, so a box of many gigabytes never sits in memory.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask_babel import gettext
from zipstream import ZIP_STORED, ZipStream

from memorybox import clock, i18n
from memorybox.db import db
from memorybox.exports.content import Contents
from memorybox.exports.streams import reader
from memorybox.memories.models import ItemKind, MemoryItem
from memorybox.memories.services import download_name
from memorybox.storage import Storage

log = logging.getLogger(__name__)

Report = Callable[[int], None]

SCHEMA_VERSION = 1
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- JSON ----------------------------------------------------------------------------------


def json_document(contents: Contents) -> dict[str, Any]:
    """The JSON export (docs/export-schema.md, docs/export-schema.json)."""
    child = contents.child
    return {
        "schema": "memorybox-export",
        "schema_version": SCHEMA_VERSION,
        "exported_at": clock.now().isoformat(),
        "requested_by": {
            "id": contents.requester.id,
            "role": contents.requester.role.value,
        },
        "child": {
            "id": child.id,
            "display_name": child.display_name,
            "authority": child.authority.name,
        },
        "items": [
            {
                "id": item.id,
                "kind": item.kind.value,
                "title": item.title,
                "caption": item.caption,
                "memory_date": item.memory_date.isoformat() if item.memory_date else None,
                "added_at": item.created_at.isoformat(),
                "content_type": item.content_type,
                "size_bytes": item.size_bytes,
                "sha256": item.sha256,
            }
            for item in contents.items
        ],
        "story": [
            {
                "section_id": s.section.id,
                "title": s.section.title,
                "version": s.version.number,
                "saved_at": s.version.created_at.isoformat(),
                "text": s.version.body,
                "item_ids": list(s.item_ids),
            }
            for s in contents.sections
        ],
    }


def _checksums(contents: Contents, storage: Storage) -> None:
    """Items kept before checksums were recorded at processing have none: work each out
    from the stored original once, and keep it."""
    missing = [item for item in contents.items if len(item.sha256) != 64]
    for item in missing:
        digest = hashlib.sha256()
        for chunk in storage.iter_bytes(item.storage_key):
            digest.update(chunk)
        item.sha256 = digest.hexdigest()
    if missing:
        db.session.commit()


def build_json(contents: Contents, storage: Storage, key: str, report: Report) -> int:
    _checksums(contents, storage)
    report(10)
    data = json.dumps(json_document(contents), ensure_ascii=False, indent=2).encode()
    report(80)
    return storage.save(key, io.BytesIO(data), "application/json")


# --- PDF -----------------------------------------------------------------------------------


def _photo_jpeg(item: MemoryItem, storage: Storage) -> tuple[bytes, int, int] | None:
    """The "large" WebP rendition as JPEG (fpdf2 does not read WebP), or None."""
    from PIL import Image

    rendition = item.rendition("large")
    if item.kind is not ItemKind.PHOTO or rendition is None:
        return None
    try:
        with (
            storage.open(rendition.storage_key) as handle,
            Image.open(handle, formats=["WEBP"]) as image,
        ):
            rgb = image.convert("RGB")
            out = io.BytesIO()
            rgb.save(out, "JPEG", quality=85)
            return out.getvalue(), rgb.width, rgb.height
    except (OSError, ValueError):
        log.warning("export: could not read the large rendition of item %s", item.id)
        return None


def build_pdf(contents: Contents, storage: Storage, key: str, report: Report) -> int:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(gettext("%(name)s's life story", name=contents.child.display_name))
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if regular.is_file():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold if bold.is_file() else regular))
        family = "DejaVu"

        def safe(text: str) -> str:
            return text

    else:  # core fonts only know Latin-1
        family = "Helvetica"

        def safe(text: str) -> str:
            return text.encode("latin-1", "replace").decode("latin-1")

    def heading(text: str, size: int) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, size * 0.5, safe(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def paragraph(text: str, size: int = 11) -> None:
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, 6, safe(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    # Cover
    pdf.add_page()
    pdf.ln(70)
    heading(gettext("%(name)s's life story", name=contents.child.display_name), 28)
    paragraph(gettext("Made on %(day)s", day=i18n.day(clock.today())), 12)
    total = len(contents.sections) + len(contents.items) or 1
    done = 0

    if contents.sections:
        pdf.add_page()
        heading(gettext("My story"), 20)
        for part in contents.sections:
            heading(part.section.title, 15)
            paragraph(part.version.body or "")
            done += 1
            report(done * 90 // total)

    if contents.items:
        pdf.add_page()
        heading(gettext("My things"), 20)
        width = pdf.epw
        for item in contents.items:
            photo = _photo_jpeg(item, storage)
            if photo is not None:
                data, w, h = photo
                draw_w = min(width, 170.0)
                draw_h = draw_w * h / w if w else draw_w
                if draw_h > 170:
                    draw_w, draw_h = draw_w * 170 / draw_h, 170.0
                if pdf.get_y() + draw_h + 20 > pdf.h - pdf.b_margin:
                    pdf.add_page()
                pdf.image(io.BytesIO(data), w=draw_w, h=draw_h)
                pdf.ln(2)
            heading(item.title, 13)
            if item.caption:
                paragraph(item.caption)
            elif photo is None:
                paragraph(gettext("(%(kind)s)", kind=item.kind.label))
            done += 1
            report(done * 90 // total)

    data = bytes(pdf.output())
    return storage.save(key, io.BytesIO(data), "application/pdf")


# --- ZIP: "Take it with me" ---------------------------------------------------------------

_INDEX_STYLE = (
    "body{font-family:sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}img{max-width:100%;height:auto}"
    "li{margin-bottom:1.5rem}.caption{white-space:pre-wrap}.story{white-space:pre-wrap}"
)


def _item_paths(contents: Contents) -> list[tuple[MemoryItem, str]]:
    return [
        (item, f"memories/{n:03d}-{download_name(item)}")
        for n, item in enumerate(contents.items, start=1)
    ]


def _caption_text(item: MemoryItem) -> str:
    lines = [item.title]
    if item.memory_date:
        lines.append(i18n.day(item.memory_date))
    if item.caption:
        lines += ["", item.caption]
    return "\n".join(lines) + "\n"


def _story_text(contents: Contents) -> str:
    parts = [
        f"{s.section.title}\n{'=' * len(s.section.title)}\n\n{s.version.body}\n"
        for s in contents.sections
    ]
    return "\n".join(parts)


def index_html(contents: Contents, paths: list[tuple[MemoryItem, str]]) -> str:
    """A plain page that works offline: relative links only, no scripts, nothing fetched."""
    e = html.escape
    name = e(gettext("%(name)s's memory box", name=contents.child.display_name))
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{e(i18n.html_lang())}" dir="{i18n.html_dir()}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{name}</title>",
        f"<style>{_INDEX_STYLE}</style>",
        "</head><body>",
        f"<h1>{name}</h1>",
        "<p>"
        + e(
            gettext(
                "Saved on %(day)s. Everything here is on this computer: you don't need the "
                "internet to look at it.",
                day=i18n.day(clock.today()),
            )
        )
        + "</p>",
    ]
    if contents.sections:
        out.append(
            f"<h2>{e(gettext('My story'))}</h2>"
            f'<p><a href="story.txt">{e(gettext("My story as a text file"))}</a></p>'
        )
        for s in contents.sections:
            out.append(f"<h3>{e(s.section.title)}</h3>")
            out.append(f'<div class="story">{e(s.version.body)}</div>')
    out.append(f"<h2>{e(gettext('My things'))}</h2>")
    if not paths:
        out.append(f"<p>{e(gettext('There is nothing in your box yet.'))}</p>")
    else:
        out.append("<ul>")
        for item, path in paths:
            href = e(quote(path))
            title = e(item.title)
            entry = [f"<li><h3>{title}</h3>"]
            if item.kind is ItemKind.PHOTO:
                entry.append(f'<a href="{href}"><img src="{href}" alt="{title}"></a>')
            opened = gettext("Open %(kind)s", kind=item.kind.label.lower())
            entry.append(f'<p><a href="{href}">{e(opened)}</a></p>')
            if item.memory_date:
                entry.append(f"<p>{e(i18n.day(item.memory_date))}</p>")
            if item.caption:
                entry.append(f'<p class="caption">{e(item.caption)}</p>')
            entry.append("</li>")
            out.append("".join(entry))
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def zip_chunks(contents: Contents, storage: Storage, report: Report) -> Iterator[bytes]:
    """The ZIP as a stream of chunks. Originals are stored as they are (already compressed)."""
    paths = _item_paths(contents)
    sizes = {item.id: storage.size(item.storage_key) for item, _ in paths}
    total = sum(sizes.values()) or 1
    sent = 0

    def original(item: MemoryItem) -> Iterator[bytes]:
        nonlocal sent
        for chunk in storage.iter_bytes(item.storage_key, chunk_size=256 * 1024):
            sent += len(chunk)
            report(min(99, sent * 99 // total))
            yield chunk

    archive = ZipStream(compress_type=ZIP_STORED)
    archive.add(index_html(contents, paths).encode(), "index.html")
    if contents.sections:
        archive.add(_story_text(contents).encode(), "story.txt")
    for item, path in paths:
        archive.add(original(item), path, size=sizes[item.id])
        archive.add(_caption_text(item).encode(), path.rsplit(".", 1)[0] + "-caption.txt")
    yield from archive


def build_zip(contents: Contents, storage: Storage, key: str, report: Report) -> int:
    return storage.save(key, reader(zip_chunks(contents, storage, report)), "application/zip")
