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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask_babel import gettext
from zipstream import ZIP_STORED, ZipStream

from memorybox import clock, i18n, policy
from memorybox.db import db
from memorybox.exports.content import Contents, LetterCopy, Section
from memorybox.exports.streams import reader
from memorybox.memories.models import ItemKind, MemoryItem
from memorybox.memories.services import download_name
from memorybox.policy import Action
from memorybox.storage import Storage
from memorybox.story.models import StorySection

if TYPE_CHECKING:
    from fpdf import FPDF

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
        "items": [_item_fields(item) for item in contents.items],
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
        "letters": [
            {
                "letter_id": c.letter.id,
                "title": c.letter.title,
                "from": c.letter.written_by.display_name,
                "opened_on": c.opened_on.isoformat() if c.opened_on else None,
                "content_note": c.letter.content_note,
                "text": c.version.body,
                "own_note": c.own_note,
                "attachments": [_item_fields(item) for item in c.attachments],
            }
            for c in contents.letters
        ],
    }


def _item_fields(item: MemoryItem) -> dict[str, Any]:
    """One file's fields, the same for a thing in the box and a letter's photo."""
    return {
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


def _checksums(contents: Contents, storage: Storage) -> None:
    """Items kept before checksums were recorded at processing have none: work each out
    from the stored original once, and keep it."""
    every = [*contents.items, *(item for c in contents.letters for item in c.attachments)]
    missing = [item for item in every if len(item.sha256) != 64]
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


# --- PDF: the life-story book --------------------------------------------------------------

Colour = tuple[int, int, int]

#: The colour themes a young person chooses (``users.theme``, THEMES in accounts/models.py),
#: as static/css/site.css draws them (``--brand``): the book's cover, headings, rules and page
#: numbers. Each is readable on white, and white is readable on each.
THEME_COLOURS: dict[str, Colour] = {
    "purple": (0x5A, 0x2D, 0x82),
    "blue": (0x1D, 0x4F, 0x91),
    "green": (0x1E, 0x6B, 0x34),
    "teal": (0x00, 0x69, 0x5C),
    "brown": (0x6D, 0x4C, 0x2F),
}
DEFAULT_THEME = "purple"
INK: Colour = (0x1B, 0x1B, 0x1F)
MUTED: Colour = (0x4A, 0x4A, 0x55)

#: What the book shows of each kind of item: a photo's large copy, a video's poster, a
#: document's first page. A sound has no picture.
PICTURES: dict[ItemKind, str] = {
    ItemKind.PHOTO: "large",
    ItemKind.VIDEO: "poster",
    ItemKind.DOCUMENT: "preview",
}

# The page, in millimetres (A4: 210 x 297).
MARGIN = 18.0
TOP = 22.0
BOTTOM = 20.0
PICTURE_MAX_H = 150.0  # leaves room for the longest heading, the date and a line of caption
PICTURE_PIXELS = 1600
PICTURE_MM_PER_PIXEL = 0.5  # drawn at most twice as big as on a screen (about 50 dots an inch)


def theme_of(contents: Contents) -> str:
    """The child's own colour theme (a young child without a login has the default)."""
    user = contents.child.user
    theme = user.theme if user is not None else DEFAULT_THEME
    return theme if theme in THEME_COLOURS else DEFAULT_THEME


def _picture_jpeg(item: MemoryItem, storage: Storage) -> tuple[bytes, int, int] | None:
    """What the book shows of ``item`` as JPEG (fpdf2 does not read WebP): a photo's "large"
    rendition, a video's poster or a document's first page; None for a sound, or when the
    rendition is missing or cannot be read."""
    from PIL import Image

    name = PICTURES.get(item.kind)
    rendition = item.rendition(name) if name is not None else None
    if rendition is None:
        return None
    try:
        with (
            storage.open(rendition.storage_key) as handle,
            Image.open(handle, formats=["WEBP", "JPEG", "PNG"]) as image,
        ):
            rgb = image.convert("RGB")
            rgb.thumbnail((PICTURE_PIXELS, PICTURE_PIXELS))
            out = io.BytesIO()
            rgb.save(out, "JPEG", quality=85)
            return out.getvalue(), rgb.width, rgb.height
    except (OSError, ValueError):
        log.warning("export: could not read the %s rendition of item %s", name, item.id)
        return None


def _childs_own(contents: Contents) -> bool:
    return contents.child.user_id is not None and contents.requester.id == contents.child.user_id


def gentle_reason(contents: Contents, item: MemoryItem) -> str | None:
    """Why what ``item`` shows is kept out of the child's own export, or None.

    The child asked to be careful with it (hidden until they are ready, opened only with
    someone they trust) or has a note to read before it: the same choices that keep its
    picture out of their lists. Their book prints its title and date and this reason, never
    its picture or caption. No adult sees these choices, so an adult's export is unchanged.
    """
    if not (item.waits_for_the_child or item.with_someone):
        return None
    if not policy.can(contents.requester, Action.ITEM_GENTLE, item):
        return None
    if item.hide_until_ready:
        return gettext("Hidden until you're ready.")
    if item.with_someone:
        return gettext("You wanted to open this with someone you trust.")
    return gettext("There is a note for you first")


def gentle_section_reason(contents: Contents, section: StorySection) -> str | None:
    """As :func:`gentle_reason`, for a part of the child's story."""
    if not _childs_own(contents):
        return None
    if section.hide_until_ready:
        return gettext("Hidden until you're ready.")
    if section.with_someone:
        return gettext("You wanted to open this with someone you trust.")
    return None


def gentle_letter_reason(copy: LetterCopy) -> str | None:
    """As :func:`gentle_reason`, for a letter (only the child ever has one in an export): a
    note they have not read yet, or their wish to open it with someone they trust."""
    if copy.letter.with_someone:
        return gettext("You wanted to open this with someone you trust.")
    if copy.letter.content_note and copy.letter.note_read_at is None:
        return gettext("There is a note for you first")
    return None


def _letter_heading(copy: LetterCopy) -> str:
    return gettext("From %(name)s", name=copy.letter.written_by.display_name)


def _letter_text(copy: LetterCopy) -> str:
    """A letter as a text file: the child's own copy, whole (as the originals are)."""
    lines = [copy.letter.title, _letter_heading(copy)]
    if copy.opened_on:
        lines.append(gettext("Opened on %(day)s", day=i18n.day(copy.opened_on)))
    if copy.letter.content_note:
        lines += ["", gettext("A note before you read it:"), copy.letter.content_note]
    lines += ["", copy.version.body]
    if copy.own_note:
        lines += ["", gettext("Your own words about it:"), copy.own_note]
    return "\n".join(lines) + "\n"


def _letter_paths(contents: Contents) -> list[tuple[LetterCopy, str]]:
    return [
        (copy, f"letters/{n:03d}-{_safe_name(copy.letter.title)}.txt")
        for n, copy in enumerate(contents.letters, start=1)
    ]


def _attachment_paths(copy: LetterCopy, letter_path: str) -> list[tuple[MemoryItem, str]]:
    """A letter's photos and documents, in a folder named like its text file."""
    folder = letter_path.removesuffix(".txt")
    return [
        (item, f"{folder}/{n:02d}-{download_name(item)}")
        for n, item in enumerate(copy.attachments, start=1)
    ]


def _safe_name(title: str) -> str:
    """A file name from a title: letters, digits and dashes, never a path."""
    cleaned = "".join(ch if ch.isalnum() else "-" for ch in title).strip("-")
    return "-".join(part for part in cleaned.split("-") if part)[:60] or "letter"


def _wrapped(pdf: FPDF, width: float, height: float, text: str) -> list[str]:
    """The lines ``text`` takes in a box ``width`` wide, in the current font."""
    lines = pdf.multi_cell(width, height, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return [str(line) for line in lines] or [""]


@dataclass
class _Entry:
    """A line of the contents page: a chapter (level 0) or a story part or memory (1)."""

    level: int
    title: str
    page: int = 0


def build_pdf(contents: Contents, storage: Storage, key: str, report: Report) -> int:
    """The life-story book: a cover in the child's colours, a contents page, their story,
    then each memory under its own heading with its picture, date and caption, oldest
    first. Page numbers on the contents page are the printed page numbers."""
    data = _LifeStoryBook(contents, storage, report).make()
    return storage.save(key, io.BytesIO(data), "application/pdf")


class _LifeStoryBook:
    """One book, laid out once: the contents page is measured first on scratch paper, kept
    free, and filled in at the end when every heading's page is known."""

    def __init__(self, contents: Contents, storage: Storage, report: Report) -> None:
        self.contents = contents
        self.storage = storage
        self.report = report
        self.colour = THEME_COLOURS[theme_of(contents)]
        self.items = list(reversed(contents.items))  # a book starts with the oldest memory
        self.entries: list[_Entry] = []
        self.story_entries: list[tuple[Section, _Entry]] = []
        self.item_entries: list[tuple[MemoryItem, _Entry]] = []
        if contents.sections:
            self.story_chapter = _Entry(0, gettext("My story"))
            self.entries.append(self.story_chapter)
            for part in contents.sections:
                entry = _Entry(1, part.section.title)
                self.entries.append(entry)
                self.story_entries.append((part, entry))
        self.letter_entries: list[tuple[LetterCopy, _Entry]] = []
        if contents.letters:
            self.letters_chapter = _Entry(0, gettext("My letters"))
            self.entries.append(self.letters_chapter)
            for copy in contents.letters:
                entry = _Entry(1, copy.letter.title)
                self.entries.append(entry)
                self.letter_entries.append((copy, entry))
        if self.items:
            self.things_chapter = _Entry(0, gettext("My things"))
            self.entries.append(self.things_chapter)
            for item in self.items:
                entry = _Entry(1, item.title)
                self.entries.append(entry)
                self.item_entries.append((item, entry))
        regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
        self.fonts = (regular, bold if bold.is_file() else regular) if regular.is_file() else None
        self.family = "DejaVu" if self.fonts else "Helvetica"
        # A right-to-left language (Arabic) reads from the right: its words are shaped (the
        # letters joined) and set against the right margin, the contents' numbers on the left.
        self.rtl = i18n.html_dir() == "rtl"
        self.align = "R" if self.rtl else "L"

    def safe(self, text: str) -> str:
        if self.fonts:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")  # core fonts: Latin-1 only

    def _new_pdf(self) -> FPDF:
        from fpdf import FPDF

        book = self

        class Pages(FPDF):
            def header(self) -> None:
                if self.page > 1:  # a rule in the child's colour above every page but the cover
                    self.set_draw_color(*book.colour)
                    self.set_line_width(0.8)
                    self.line(MARGIN, 12, self.w - MARGIN, 12)

            def footer(self) -> None:
                if self.page > 1:
                    self.set_y(-14)
                    self.set_font(book.family, "B", 10)
                    self.set_text_color(*book.colour)
                    self.cell(0, 6, str(self.page), align="C")

        pdf = Pages(format="A4")
        pdf.set_margins(MARGIN, TOP, MARGIN)
        pdf.set_auto_page_break(True, margin=BOTTOM)
        if self.fonts:
            pdf.add_font("DejaVu", "", str(self.fonts[0]))
            pdf.add_font("DejaVu", "B", str(self.fonts[1]))
            if self.rtl:
                pdf.set_text_shaping(use_shaping_engine=True, direction="rtl")
        return pdf

    # --- words on the page

    def lines(self, pdf: FPDF, text: str, size: float, style: str, width: float) -> int:
        pdf.set_font(self.family, style, size)
        return len(_wrapped(pdf, width, size * 0.5, self.safe(text)))

    def heading(self, pdf: FPDF, text: str, size: float, *, rule: bool = False) -> None:
        pdf.set_font(self.family, "B", size)
        pdf.set_text_color(*self.colour)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(
            0, size * 0.5, self.safe(text), align=self.align, new_x="LMARGIN", new_y="NEXT"
        )
        if rule:
            y = pdf.get_y() + 1.5
            pdf.set_draw_color(*self.colour)
            pdf.set_line_width(0.6)
            pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
            pdf.set_y(y + 4)
        else:
            pdf.ln(1.5)
        pdf.set_text_color(*INK)

    def paragraph(self, pdf: FPDF, text: str, size: float = 11, colour: Colour = INK) -> None:
        pdf.set_font(self.family, "", size)
        pdf.set_text_color(*colour)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(0, 6, self.safe(text), align=self.align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_text_color(*INK)

    # --- the parts of the book

    def make(self) -> bytes:
        pdf = self._new_pdf()
        title = gettext("%(name)s's life story", name=self.contents.child.display_name)
        pdf.set_title(title)
        pdf.set_lang(i18n.html_lang())
        pdf.set_creator("Memory Box")
        self.cover(pdf, title)
        fresh = False
        if self.entries:
            pdf.add_page()
            pages = self.contents_pages()
            pdf.insert_toc_placeholder(
                lambda doc, _outline: self.draw_contents(doc, links=True), pages=pages
            )
            fresh = True  # the placeholder leaves us at the top of a new page
        total = len(self.story_entries) + len(self.letter_entries) + len(self.item_entries) or 1
        done = 0
        if self.story_entries:
            self.chapter(pdf, self.story_chapter, fresh)
            fresh = False
            for part, entry in self.story_entries:
                self.story_part(pdf, part, entry)
                done += 1
                self.report(done * 90 // total)
        if self.letter_entries:
            self.chapter(pdf, self.letters_chapter, fresh)
            fresh = False
            for copy, entry in self.letter_entries:
                self.letter(pdf, copy, entry)
                done += 1
                self.report(done * 90 // total)
        if self.item_entries:
            self.chapter(pdf, self.things_chapter, fresh)
            for item, entry in self.item_entries:
                self.memory(pdf, item, entry)
                done += 1
                self.report(done * 90 // total)
        return bytes(pdf.output())

    def cover(self, pdf: FPDF, title: str) -> None:
        pdf.add_page()
        band_y, band_h = 50.0, 120.0
        pdf.set_fill_color(*self.colour)
        pdf.rect(MARGIN, band_y, pdf.epw, band_h, style="F", round_corners=True, corner_radius=6)
        inner = pdf.epw - 24
        size = 30.0
        lines = self.lines(pdf, title, size, "B", inner)
        made = gettext("Made on %(day)s", day=i18n.day(clock.today()))
        pdf.set_y(band_y + (band_h - lines * size * 0.5 - 14) / 2)
        pdf.set_x(MARGIN + 12)
        pdf.set_text_color(255, 255, 255)
        pdf.set_font(self.family, "B", size)
        pdf.multi_cell(inner, size * 0.5, self.safe(title), align="C", new_x="LMARGIN")
        pdf.ln(4)
        pdf.set_x(MARGIN + 12)
        pdf.set_font(self.family, "", 13)
        pdf.multi_cell(inner, 7, self.safe(made), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*INK)
        if not self.entries:
            pdf.set_y(band_y + band_h + 12)
            self.paragraph(pdf, gettext("There is nothing in your box yet."), 13)

    def contents_pages(self) -> int:
        """How many pages the contents take: laid out once on scratch paper (page numbers
        sit in a column of their own, so they do not change where a title wraps)."""
        scratch = self._new_pdf()
        scratch.add_page()
        scratch.add_page()
        first = scratch.page
        self.draw_contents(scratch, links=False)
        return int(scratch.page - first + 1)

    def draw_contents(self, pdf: FPDF, *, links: bool) -> None:
        self.heading(pdf, gettext("Contents"), 22, rule=True)
        number_w = 14.0
        for entry in self.entries:
            indent, size, style = (0.0, 13.0, "B") if entry.level == 0 else (7.0, 11.0, "")
            height = size * 0.55
            width = pdf.epw - indent - number_w - 4
            pdf.set_font(self.family, style, size)
            text = self.safe(entry.title)
            lines = _wrapped(pdf, width, height, text)
            gap = 3.0 if entry.level == 0 else 1.0
            if pdf.get_y() + gap + len(lines) * height > pdf.page_break_trigger:
                pdf.add_page()
            else:
                pdf.ln(gap)
            link = pdf.add_link(page=entry.page) if links else None
            pdf.set_text_color(*(self.colour if entry.level == 0 else INK))
            # left to right: title, dots, number; right to left, mirrored
            title_x = pdf.l_margin + (number_w + 4 if self.rtl else indent)
            number_x = pdf.l_margin if self.rtl else pdf.w - pdf.r_margin - number_w
            pdf.set_x(title_x)
            pdf.multi_cell(width, height, text, align=self.align, link=link, new_x="LMARGIN")
            last = pdf.get_y() - height
            last_line = pdf.get_string_width(lines[-1])
            if self.rtl:
                dots_from = number_x + number_w + 1
                dots_to = pdf.w - pdf.r_margin - indent - last_line - 3
            else:
                dots_from = title_x + last_line + 3
                dots_to = number_x - 1
            if dots_to - dots_from > 3:  # dotted leader, drawn (not text) so it reads cleanly
                pdf.set_draw_color(*MUTED)
                pdf.set_line_width(0.3)
                pdf.set_dash_pattern(dash=0.4, gap=1.2)
                pdf.line(dots_from, last + height * 0.75, dots_to, last + height * 0.75)
                pdf.set_dash_pattern()
            pdf.set_xy(number_x, last)
            pdf.cell(number_w, height, str(entry.page or 999), align=self.align, link=link or "")
            pdf.set_xy(pdf.l_margin, last + height)
        pdf.set_text_color(*INK)

    def chapter(self, pdf: FPDF, entry: _Entry, fresh: bool) -> None:
        if not fresh:
            pdf.add_page()
        entry.page = pdf.page
        pdf.start_section(self.safe(entry.title), level=0, strict=False)
        self.heading(pdf, entry.title, 24, rule=True)

    def story_part(self, pdf: FPDF, part: Section, entry: _Entry) -> None:
        size = 16.0
        needed = self.lines(pdf, part.section.title, size, "B", pdf.epw) * size * 0.5 + 20
        if pdf.get_y() + needed > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(2)
        entry.page = pdf.page
        pdf.start_section(self.safe(part.section.title), level=1, strict=False)
        self.heading(pdf, part.section.title, size)
        reason = gentle_section_reason(self.contents, part.section)
        if reason:
            self.paragraph(pdf, reason, colour=MUTED)
        else:
            self.paragraph(pdf, part.version.body or "")
        pdf.ln(4)

    def letter(self, pdf: FPDF, copy: LetterCopy, entry: _Entry) -> None:
        """A letter under its own heading: who wrote it and when it opened, then its words
        (or, if the child is being careful with it, why they are not printed). The child's
        private note about it stays out of the book (it is in their ZIP and JSON)."""
        size = 16.0
        needed = self.lines(pdf, copy.letter.title, size, "B", pdf.epw) * size * 0.5 + 20
        if pdf.get_y() + needed > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(2)
        entry.page = pdf.page
        pdf.start_section(self.safe(copy.letter.title), level=1, strict=False)
        self.heading(pdf, copy.letter.title, size)
        meta = _letter_heading(copy)
        if copy.opened_on:
            meta = f"{meta} · {gettext('Opened on %(day)s', day=i18n.day(copy.opened_on))}"
        self.paragraph(pdf, meta, 11, MUTED)
        reason = gentle_letter_reason(copy)
        if reason:
            self.paragraph(pdf, reason, colour=MUTED)
            self.paragraph(
                pdf, gettext("Its words are not in this book. You can open it when you want to.")
            )
        else:
            self.paragraph(pdf, copy.version.body, 12)
            for item in copy.attachments:
                self.letter_picture(pdf, item)
        pdf.ln(4)

    def letter_picture(self, pdf: FPDF, item: MemoryItem) -> None:
        """A letter's photo (or a document's first page, a video's frame) under its words,
        with its title and caption; a sound is named only."""
        picture = _picture_jpeg(item, self.storage)
        draw_w = draw_h = 0.0
        if picture is not None:
            _, w, h = picture
            draw_w = min(pdf.epw, w * PICTURE_MM_PER_PIXEL)
            draw_h = draw_w * h / w if w else draw_w
            if draw_h > PICTURE_MAX_H:
                draw_w, draw_h = draw_w * PICTURE_MAX_H / draw_h, PICTURE_MAX_H
        if pdf.get_y() + draw_h + 20 > pdf.page_break_trigger:
            pdf.add_page()
        if picture is not None:
            x, y = pdf.l_margin + (pdf.epw - draw_w) / 2, pdf.get_y() + 2
            pdf.image(io.BytesIO(picture[0]), x=x, y=y, w=draw_w, h=draw_h)
            if item.kind is ItemKind.DOCUMENT:
                pdf.set_draw_color(*MUTED)
                pdf.set_line_width(0.3)
                pdf.rect(x, y, draw_w, draw_h)
            pdf.set_y(y + draw_h + 2)
        self.paragraph(pdf, f"{item.title} · {item.kind.label}", 11, MUTED)
        if item.caption:
            self.paragraph(pdf, item.caption, 11)

    def memory(self, pdf: FPDF, item: MemoryItem, entry: _Entry) -> None:
        """The item's heading, then its picture, then its kind and date, then its caption:
        heading, picture and date always on one page."""
        reason = gentle_reason(self.contents, item)
        picture = None if reason else _picture_jpeg(item, self.storage)
        draw_w = draw_h = 0.0
        if picture is not None:
            _, w, h = picture
            draw_w = min(pdf.epw, w * PICTURE_MM_PER_PIXEL)  # a small picture is not blown up
            draw_h = draw_w * h / w if w else draw_w
            if draw_h > PICTURE_MAX_H:
                draw_w, draw_h = draw_w * PICTURE_MAX_H / draw_h, PICTURE_MAX_H
        size = 16.0
        heading_h = self.lines(pdf, item.title, size, "B", pdf.epw) * size * 0.5 + 1.5
        needed = heading_h + (draw_h + 4 if picture else 0) + 8 + 7
        if pdf.get_y() + needed > pdf.page_break_trigger:
            pdf.add_page()
        entry.page = pdf.page
        pdf.start_section(self.safe(item.title), level=1, strict=False)
        self.heading(pdf, item.title, size)
        if picture is not None:
            x, y = pdf.l_margin + (pdf.epw - draw_w) / 2, pdf.get_y() + 1
            pdf.image(io.BytesIO(picture[0]), x=x, y=y, w=draw_w, h=draw_h)
            if item.kind is ItemKind.DOCUMENT:  # a white page needs an edge on white paper
                pdf.set_draw_color(*MUTED)
                pdf.set_line_width(0.3)
                pdf.rect(x, y, draw_w, draw_h)
            pdf.set_y(y + draw_h + 3)
        meta = item.kind.label
        if item.memory_date:
            meta = f"{meta} · {i18n.day(item.memory_date)}"
        self.paragraph(pdf, meta, 11, MUTED)
        if reason:
            self.paragraph(pdf, reason)
            self.paragraph(
                pdf,
                gettext(
                    "Its picture is not in this book. You can open it in your box when you want to."
                ),
            )
        elif item.caption:
            self.paragraph(pdf, item.caption, 12)
        pdf.ln(6)


# --- ZIP: "Take it with me" ---------------------------------------------------------------

_INDEX_STYLE = (
    "body{font-family:sans-serif;max-width:50rem;margin:0 auto;padding:1rem;line-height:1.5;"
    "color:#1b1b1f;background:#fff;overflow-wrap:anywhere}"
    "h1,h2,h3{color:%(brand)s;line-height:1.25}h2{border-bottom:3px solid %(brand)s}"
    "a{color:%(brand)s;font-weight:bold}img{display:block;max-width:100%%;height:auto}"
    ".things{list-style:none;padding:0}.things>li{margin-bottom:2rem}"
    ".caption,.story{white-space:pre-wrap}.muted{color:#4a4a55}"
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
    """A plain page that works offline: relative links only, no scripts, nothing fetched.

    One heading for the box, one for the story and one for the things, and one for each
    story part and each thing under them. A picture sits under its thing's heading, with no
    words of its own (the heading says what it is). A memory the child is being careful
    with shows no picture, only why and a link to open it when they choose."""
    e = html.escape
    r, g, b = THEME_COLOURS[theme_of(contents)]
    style = _INDEX_STYLE % {"brand": f"#{r:02x}{g:02x}{b:02x}"}
    name = e(gettext("%(name)s's memory box", name=contents.child.display_name))
    # Outside the f-strings below, so that Babel's extraction finds them.
    words = {
        "story": gettext("My story"),
        "story_file": gettext("My story as a text file"),
        "things": gettext("My things"),
        "empty": gettext("There is nothing in your box yet."),
    }
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{e(i18n.html_lang())}" dir="{i18n.html_dir()}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{name}</title>",
        f"<style>{style}</style>",
        "</head><body><main>",
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
            f'<h2>{e(words["story"])}</h2><p><a href="story.txt">{e(words["story_file"])}</a></p>'
        )
        for s in contents.sections:
            out.append(f"<h3>{e(s.section.title)}</h3>")
            reason = gentle_section_reason(contents, s.section)
            if reason:
                out.append(f'<p class="muted">{e(reason)}</p>')
            else:
                out.append(f'<div class="story">{e(s.version.body)}</div>')
    if contents.letters:
        out.append(f"<h2>{e(gettext('My letters'))}</h2>")
        for copy, path in _letter_paths(contents):
            out.append(f"<h3>{e(copy.letter.title)}</h3>")
            meta = _letter_heading(copy)
            if copy.opened_on:
                meta += " · " + gettext("Opened on %(day)s", day=i18n.day(copy.opened_on))
            out.append(f'<p class="muted">{e(meta)}</p>')
            reason = gentle_letter_reason(copy)
            if reason:
                out.append(f'<p class="muted">{e(reason)}</p>')
            else:
                out.append(f'<div class="story">{e(copy.version.body)}</div>')
            opened = gettext("Open the letter as a text file")
            out.append(f'<p><a href="{e(quote(path))}">{e(opened)}</a></p>')
            for item, file_path in _attachment_paths(copy, path):
                href = e(quote(file_path))
                out.append(f"<h4>{e(item.title)}</h4>")
                if item.kind is ItemKind.PHOTO and not reason:
                    out.append(f'<img src="{href}" alt="">')
                if item.caption and not reason:
                    out.append(f'<p class="caption">{e(item.caption)}</p>')
                label = gettext("Open %(title)s", title=item.title)
                out.append(f'<p><a href="{href}">{e(label)}</a></p>')
    out.append(f"<h2>{e(words['things'])}</h2>")
    if not paths:
        out.append(f"<p>{e(words['empty'])}</p>")
    else:
        out.append('<ul class="things">')
        for n, (item, path) in enumerate(paths, start=1):
            href = e(quote(path))
            reason = gentle_reason(contents, item)
            entry = [f'<li><h3 id="thing-{n}">{e(item.title)}</h3>']
            if reason:
                entry.append(f'<p class="muted">{e(reason)}</p>')
            elif item.kind is ItemKind.PHOTO:
                entry.append(f'<img src="{href}" alt="">')
            opened = gettext("Open %(kind)s", kind=item.kind.label.lower())
            entry.append(f'<p><a href="{href}" aria-describedby="thing-{n}">{e(opened)}</a></p>')
            if item.memory_date:
                entry.append(f"<p>{e(i18n.day(item.memory_date))}</p>")
            if item.caption and not reason:
                entry.append(f'<p class="caption">{e(item.caption)}</p>')
            entry.append("</li>")
            out.append("".join(entry))
        out.append("</ul>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def zip_chunks(contents: Contents, storage: Storage, report: Report) -> Iterator[bytes]:
    """The ZIP as a stream of chunks. Originals are stored as they are (already compressed)."""
    paths = _item_paths(contents)
    letter_files = [
        pair
        for copy, letter_path in _letter_paths(contents)
        for pair in _attachment_paths(copy, letter_path)
    ]
    sizes = {item.id: storage.size(item.storage_key) for item, _ in [*paths, *letter_files]}
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
    for copy, path in _letter_paths(contents):
        archive.add(_letter_text(copy).encode(), path)
    for item, path in letter_files:
        archive.add(original(item), path, size=sizes[item.id])
    for item, path in paths:
        archive.add(original(item), path, size=sizes[item.id])
        archive.add(_caption_text(item).encode(), path.rsplit(".", 1)[0] + "-caption.txt")
    yield from archive


def build_zip(contents: Contents, storage: Storage, key: str, report: Report) -> int:
    return storage.save(key, reader(zip_chunks(contents, storage, report)), "application/zip")
