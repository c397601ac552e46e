"""The life-story book (PDF) looks like a book: a cover and page rules in the child's colour,
a contents page whose page numbers are right, each memory under its own heading with its
picture (a photo, a video's poster, a document's first page), then its date and caption, on
one page, and nothing cut off at the edge. Checked on the pages as pdfium draws them, made
from real uploads (Pillow pictures, an ffmpeg video, a Pillow PDF)."""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from memorybox import i18n
from memorybox.db import db
from memorybox.exports import builders
from memorybox.exports.models import Export, ExportState
from memorybox.memories import services as memories
from memorybox.memories.models import ItemKind, MemoryItem
from memorybox.sharing import services as sharing
from memorybox.sharing.models import Audience
from memorybox.story import services as story
from tests import factories
from tests.factories import World, login_as

SCALE = 2  # pages drawn at 144 dots per inch
MM = 72 / 25.4  # PDF points in a millimetre
TEAL = builders.THEME_COLOURS["teal"]

Box = tuple[float, float, float, float]  # left, bottom, right, top, in PDF points (y upwards)


# --- real media --------------------------------------------------------------------------------


def _jpeg(width: int, height: int, colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG", quality=95)
    return out.getvalue()


def _report_pdf() -> bytes:
    """A one-page A4 document: white, with a big green block in the middle."""
    page = Image.new("RGB", (595, 842), "white")
    ImageDraw.Draw(page).rectangle((100, 200, 495, 640), fill=(0, 160, 0))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=72)
    return out.getvalue()


def _upload(
    client: FlaskClient,
    child_id: int,
    content: bytes,
    name: str,
    title: str,
    caption: str = "",
    day: date | None = None,
) -> MemoryItem:
    response = client.post(
        f"/children/{child_id}/add",
        data={
            "file": (io.BytesIO(content), name),
            "title": title,
            "caption": caption,
            "memory_date": day.isoformat() if day else "",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.status_code
    item = db.session.scalar(select(MemoryItem).where(MemoryItem.title == title))
    assert item is not None and item.is_ready, item and item.processing_error
    return item


# --- reading the book --------------------------------------------------------------------------


@dataclass
class Page:
    number: int  # as printed: the first page (the cover) is 1
    text: str
    picture: Image.Image  # the page as drawn
    width: float
    height: float
    images: list[Box]
    _textpage: pdfium.PdfTextPage

    def find(self, words: str, whole: bool = False) -> Box | None:
        """Where ``words`` are on the page (the first time), or None."""
        return next(iter(self.find_all(words, whole)), None)

    def find_all(self, words: str, whole: bool = False) -> list[Box]:
        """Everywhere ``words`` are on the page, top first."""
        searcher = self._textpage.search(words, match_case=True, match_whole_word=whole)
        found = []
        while (hit := searcher.get_next()) is not None:
            index, count = hit
            boxes = [self._textpage.get_charbox(i) for i in range(index, index + count)]
            found.append(
                (
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                )
            )
        return sorted(found, key=lambda box: -box[3])

    def printed_number(self) -> int | None:
        """The page number printed at the foot of the page."""
        words = re.findall(r"\d+", self.text)
        if not words:
            return None
        footer = [box for box in self.find_all(words[-1]) if box[3] < 20 * MM]
        return int(words[-1]) if footer else None

    def colour_at(self, x: float, y: float) -> tuple[int, int, int]:
        """The colour drawn at (x, y) in PDF points."""
        pixel = self.picture.getpixel((round(x * SCALE), round((self.height - y) * SCALE)))
        assert isinstance(pixel, tuple)
        return pixel[0], pixel[1], pixel[2]

    def count_colour(self, colour: tuple[int, int, int], tolerance: int = 12) -> int:
        r, g, b = (self.picture.getchannel(c) for c in "RGB")
        masks = [
            channel.point(lambda v, want=want: 255 if abs(v - want) <= tolerance else 0)
            for channel, want in zip((r, g, b), colour, strict=True)
        ]
        both = Image.new("L", self.picture.size, 0)
        both.paste(masks[0], mask=masks[1])
        all_three = Image.new("L", self.picture.size, 0)
        all_three.paste(both, mask=masks[2])
        return sum(1 for v in all_three.get_flattened_data() if v)


def _pages(document: pdfium.PdfDocument) -> Iterator[Page]:
    for n, page in enumerate(document, start=1):
        textpage = page.get_textpage()
        images = [
            obj.get_bounds()
            for obj in page.get_objects()
            if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE
        ]
        picture = page.render(scale=SCALE).to_pil().convert("RGB")
        width, height = page.get_size()
        yield Page(n, textpage.get_text_range(), picture, width, height, images, textpage)


@pytest.fixture
def book(client: FlaskClient) -> Iterator[Callable[[int], list[Page]]]:
    """Ask for the signed-in person's PDF of a child's box, download it and read its pages."""
    opened: list[pdfium.PdfDocument] = []

    def make(child_id: int) -> list[Page]:
        response = client.post(f"/children/{child_id}/exports", data={"kind": "pdf"})
        assert response.status_code == 302
        export = db.session.scalars(select(Export).order_by(Export.id.desc())).first()
        assert export is not None
        db.session.refresh(export)
        assert export.state is ExportState.READY, export.error
        download = client.get(f"/exports/{export.id}/download")
        assert download.status_code == 200
        data = download.get_data()
        assert data.startswith(b"%PDF")
        opened.append(pdfium.PdfDocument(data))
        if os.environ.get("BOOK_DUMP"):  # look at the pages: BOOK_DUMP=/tmp/book pytest ...
            folder = Path(os.environ["BOOK_DUMP"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{len(opened)}.pdf").write_bytes(data)
            for n, page in enumerate(opened[-1], start=1):
                page.render(scale=1).to_pil().save(folder / f"{len(opened)}-{n:02d}.png")
        return list(_pages(opened[-1]))

    yield make
    for document in opened:
        document.close()


def _contents(pages: list[Page]) -> tuple[list[Page], dict[str, int]]:
    """The contents pages (from the one headed "Contents" to the page before the first
    chapter it names), and the page number each line gives."""
    start = next(p for p in pages if p.find("Contents"))

    def lines(page: Page) -> list[tuple[str, int]]:
        body = page.text.split("Contents", 1)[-1]
        # The page's own number, at its foot, may come first in the text (drawn first).
        body = re.sub(rf"^\s*{page.number}\s*\n", "", body)
        return [
            (re.sub(r"\s+", " ", title).strip(), int(number))
            for title, number in re.findall(r"(?s)(.+?)\s*(\d+)\s*(?:\r?\n|$)", body)
        ]

    first_chapter = lines(start)[0][1]
    found = pages[start.number - 1 : first_chapter - 1]
    numbers = dict(line for page in found for line in lines(page))
    return found, numbers


def _below(upper: Box, lower: Box) -> bool:
    """``lower`` starts under where ``upper`` ends (PDF y grows upwards)."""
    return lower[3] <= upper[1] + 0.5


def _close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def _is_white(page: Page, box: tuple[int, int, int, int]) -> bool:
    strip = page.picture.crop(box)
    low, _high = zip(*strip.getextrema(), strict=True)
    return min(low) >= 250


def _assert_nothing_at_the_edges(page: Page) -> None:
    """An 8 mm border all round is left white, and every picture is inside the page."""
    w, h = page.picture.size
    edge = round(8 * MM * SCALE)
    for name, box in {
        "top": (0, 0, w, edge),
        "bottom": (0, h - edge, w, h),
        "left": (0, 0, edge, h),
        "right": (w - edge, 0, w, h),
    }.items():
        assert _is_white(page, box), f"page {page.number}: something at the {name} edge"
    for left, bottom, right, top in page.images:
        assert 0 <= left < right <= page.width and 0 <= bottom < top <= page.height


# --- the tests ---------------------------------------------------------------------------------


@pytest.fixture
def alex_box(app: Flask, client: FlaskClient, world: World) -> dict[str, MemoryItem]:
    """Alex chose the sea-green theme and has a photo, a tall photo, a video, a school
    report, a voice recording, a photo hidden until they are ready and two story parts, one
    hidden."""
    world.young_person.theme = "teal"
    db.session.commit()
    login_as(client, world.young_person)
    cid = world.child.id
    made = {
        "beach": _upload(
            client,
            cid,
            _jpeg(1200, 800, "orange"),
            "beach.jpg",
            "Beach day",
            "Me and Nan at the sea",
            date(2019, 7, 14),
        ),
        "bike": _upload(
            client,
            cid,
            _jpeg(600, 900, "royalblue"),
            "bike.jpg",
            "My first bike",
            "It was red and very fast.",
            date(2020, 5, 2),
        ),
        "video": _upload(
            client,
            cid,
            factories.mp4_bytes(),
            "sports.mp4",
            "Sports day",
            "I came second in the sack race.",
            date(2021, 6, 20),
        ),
        "report": _upload(
            client,
            cid,
            _report_pdf(),
            "report.pdf",
            "School report",
            "Mrs Patel said I work hard.",
            date(2022, 7, 10),
        ),
        "voice": _upload(
            client,
            cid,
            factories.wav_bytes(),
            "voice.wav",
            "My voice",
            "Me singing.",
            date(2023, 1, 5),
        ),
        "hidden": _upload(
            client,
            cid,
            _jpeg(800, 800, "red"),
            "mum.jpg",
            "Mum and me",
            "A hard day at the hospital",
            date(2018, 3, 1),
        ),
    }
    memories.choose(made["hidden"], memories.Gentle.HIDE)
    about = story.add_own_section(world.child, "About me")
    story.save_version(about, "I like football and drawing dragons.", [], world.young_person)
    worries = story.add_own_section(world.child, "Hidden worries")
    story.save_version(worries, "Something only I know.", [], world.young_person)
    story.set_gentle(worries, "hide_until_ready", True)
    db.session.commit()
    assert made["video"].kind is ItemKind.VIDEO and made["report"].kind is ItemKind.DOCUMENT
    return made


def test_the_book_has_a_cover_contents_and_each_memory_under_its_heading(
    app: Flask,
    client: FlaskClient,
    world: World,
    alex_box: dict[str, MemoryItem],
    book: Callable[[int], list[Page]],
) -> None:
    pages = book(world.child.id)

    cover = pages[0]
    assert "Alex's life story" in cover.text and "Made on" in cover.text
    assert cover.count_colour(TEAL) > 50_000  # the cover is in Alex's colour
    assert not cover.images

    contents, numbers = _contents(pages)
    assert contents[0].number == 2
    titles = [
        "My story",
        "About me",
        "Hidden worries",
        "My things",
        "Mum and me",  # oldest first
        "Beach day",
        "My first bike",
        "Sports day",
        "School report",
        "My voice",
    ]
    assert list(numbers) == titles, numbers
    body = pages[contents[-1].number :]
    for title, number in numbers.items():
        page = pages[number - 1]
        heading = page.find(title)
        assert heading is not None, f"{title!r} is not on page {number}"
        assert heading[1] > page.height / 2 or title not in ("My story", "My things")
        assert page.printed_number() == number
        # and not before it: the contents point to the first page the heading is on
        assert all(not p.find(title) for p in body if p.number < number)

    with app.test_request_context():
        days = {key: i18n.day(item.memory_date) for key, item in alex_box.items()}

    pictures = {
        "beach": (255, 165, 0),  # orange
        "bike": (65, 105, 225),  # royal blue
        "report": (0, 160, 0),  # the green block in the middle of its first page
        "video": None,  # ffmpeg's test pattern: checked as not blank
    }
    for key, colour in pictures.items():
        item = alex_box[key]
        page = pages[numbers[item.title] - 1]
        heading = page.find(item.title)
        assert heading is not None
        under = [image for image in page.images if _below(heading, image)]
        assert under, f"{item.title}: no picture under its heading on page {page.number}"
        picture = max(under, key=lambda box: box[3])  # the first one below the heading
        middle = page.colour_at((picture[0] + picture[2]) / 2, (picture[1] + picture[3]) / 2)
        if colour is None:
            assert not _close(middle, (255, 255, 255), 10), "the poster is blank"
        else:
            assert _close(middle, colour), f"{item.title}: {middle} is not {colour}"
        when = page.find(days[key])
        assert when is not None and _below(picture, when), f"{item.title}: date not under it"
        caption = page.find(item.caption)
        assert caption is not None and _below(when, caption), f"{item.title}: caption"

    # A sound has no picture; it still has its heading, kind, date and caption.
    voice = pages[numbers["My voice"] - 1]
    heading = voice.find("My voice")
    assert heading is not None
    assert voice.find("Sound") and voice.find("Me singing.") and voice.find(days["voice"])

    # Exactly one picture each for the photos, the poster and the report: none for the
    # photo Alex hid until they're ready.
    assert sum(len(page.images) for page in pages) == 4
    hidden = pages[numbers["Mum and me"] - 1]
    assert hidden.find("Hidden until you're ready.")
    assert hidden.find("Its picture is not in this book.")
    assert hidden.find(days["hidden"])
    everything = "\n".join(page.text for page in pages)
    assert "A hard day at the hospital" not in everything
    # The hidden story part is named, and not printed.
    assert "I like football and drawing dragons." in everything
    assert "Something only I know." not in everything
    worries = pages[numbers["Hidden worries"] - 1]
    assert worries.find("Hidden worries") and worries.find("Hidden until you're ready.")

    for page in pages:
        _assert_nothing_at_the_edges(page)
        if page.number > 1:  # the rule above and the page number below are in Alex's colour
            assert page.count_colour(TEAL) > 500, f"page {page.number} has no theme colour"


def test_an_adults_book_is_not_changed_by_the_childs_gentle_choices(
    app: Flask,
    client: FlaskClient,
    world: World,
    alex_box: dict[str, MemoryItem],
    book: Callable[[int], list[Page]],
) -> None:
    for key in ("hidden", "beach"):
        sharing.grant(
            child=world.child,
            decided_by=world.young_person,
            on_behalf=False,
            audience=Audience.SOCIAL_WORKER,
            item=alex_box[key],
        )
    db.session.commit()
    login_as(client, world.social_worker)
    pages = book(world.child.id)
    _, numbers = _contents(pages)
    assert list(numbers) == ["My things", "Mum and me", "Beach day"]
    everything = "\n".join(page.text for page in pages)
    assert "A hard day at the hospital" in everything
    assert "Hidden until you're ready." not in everything
    assert "Its picture is not in this book." not in everything
    assert sum(len(page.images) for page in pages) == 2
    # The social worker's book is still in Alex's colours: it is Alex's book.
    assert pages[0].count_colour(TEAL) > 50_000


def test_a_long_box_has_contents_over_several_pages_with_the_right_numbers(
    app: Flask, client: FlaskClient, world: World, book: Callable[[int], list[Page]]
) -> None:
    long_title = "The day we all went to the big park by the river and had a picnic " * 2
    titles = []
    for n in range(45):
        title = f"{n}: {long_title}"[:115] if n % 7 == 0 else f"Memory number {n}"
        if n == 44:  # one long word must wrap too, not run off the page
            title = f"{n}: " + "Supercalifragilisticexpialidocious" * 3
        factories.item(app, world.child, world.young_person, title=title).memory_date = date(
            2010 + n // 12, n % 12 + 1, 1
        )
        titles.append(title)
    db.session.commit()
    login_as(client, world.young_person)
    pages = book(world.child.id)
    contents, numbers = _contents(pages)
    assert len(contents) >= 2, "45 memories should need more than one contents page"

    def squeezed(words: list[str]) -> list[str]:  # a long word wraps anywhere
        return [re.sub(r"\s", "", w) for w in words]

    assert squeezed(list(numbers)) == squeezed(["My things", *titles])
    for title, number in numbers.items():
        # A long heading wraps after some words, a long word anywhere.
        start = " ".join(itertools.takewhile(lambda word: len(word) < 30, title.split()[:4]))
        assert pages[number - 1].find(start, whole=True), f"{title!r} is not on page {number}"
        earlier = pages[contents[-1].number : number - 1]
        assert not any(p.find(start, whole=True) for p in earlier), title
    for page in pages:
        _assert_nothing_at_the_edges(page)


def test_every_theme_has_its_colour_in_the_book(app: Flask) -> None:
    """The book's colours are the ones site.css gives each theme a young person can choose."""
    from memorybox.accounts.models import THEMES

    css = (Path(app.root_path).parent / "static/css/site.css").read_text()
    assert set(builders.THEME_COLOURS) == set(THEMES)
    for name, (r, g, b) in builders.THEME_COLOURS.items():
        hex_colour = f"#{r:02x}{g:02x}{b:02x}"
        if name == builders.DEFAULT_THEME:
            assert re.search(rf"--brand:\s*{hex_colour};", css), name
        else:
            assert re.search(rf"\.theme-{name}\s*\{{\s*--brand:\s*{hex_colour};", css), name


def test_an_empty_box_makes_a_cover_that_says_so(
    client: FlaskClient, world: World, book: Callable[[int], list[Page]]
) -> None:
    login_as(client, world.other_young_person)
    [cover] = book(world.other_child.id)
    assert "Blake's life story" in cover.text
    assert "There is nothing in your box yet." in cover.text
    assert cover.count_colour(builders.THEME_COLOURS[builders.DEFAULT_THEME]) > 50_000
    _assert_nothing_at_the_edges(cover)


def test_an_arabic_book_reads_right_to_left_with_its_letters_joined(
    client: FlaskClient, world: World, book: Callable[[int], list[Page]]
) -> None:
    """A young person who reads Arabic gets their book in Arabic: the words are shaped (each
    letter in its joined form, through HarfBuzz) and in reading order, so they come back out
    of the page as they were written; headings sit against the right margin, and on the
    contents page the numbers are on the left."""
    world.young_person.language = "ar"
    db.session.commit()
    login_as(client, world.young_person)
    cid = world.child.id
    _upload(
        client, cid, _jpeg(800, 600, "orange"), "sea.jpg", "البحر", "أنا وجدتي", date(2019, 7, 14)
    )
    about = story.add_own_section(world.child, "عني")
    story.save_version(about, "أحب كرة القدم والرسم.", [], world.young_person)
    db.session.commit()
    pages = book(cid)
    cover, contents = pages[0], pages[1]
    # pdfium reads the words back through the font's map from each joined glyph to its
    # letters: unshaped, reversed letters would not read back as the words
    assert "قصة حياة Alex" in cover.text, cover.text
    title = contents.find("المحتويات")
    assert title is not None, contents.text
    # against the right margin: the heading ends near the right edge, far from the left
    assert contents.width - title[2] < 30 * MM and title[0] > contents.width / 2
    sea = next(p for p in pages[2:] if p.find("البحر"))
    heading = sea.find("البحر")
    assert heading is not None and sea.width - heading[2] < 30 * MM
    # a page number on the contents page stands on the left
    numbers = [
        box
        for n in range(2, len(pages) + 1)
        for box in contents.find_all(str(n), whole=True)
        if box[3] > 20 * MM  # not the page's own number at its foot
    ]
    assert numbers and all(box[0] < contents.width / 3 for box in numbers), numbers
    for page in pages:
        _assert_nothing_at_the_edges(page)
