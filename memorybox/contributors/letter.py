"""A contributor's words sent without a file become a one-page letter (a PDF), so that they
travel exactly like every other upload: checked, stored, processed, kept or not."""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MARGIN = 20.0


def letter_pdf(title: str, words: str) -> bytes:
    """A plain A4 page or more: the title, then the words as written. DejaVu (for Welsh,
    Arabic and every other script the app speaks) where installed; text is shaped so that
    right-to-left words join and read back as written."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if regular.is_file():
        family = "DejaVu"
        pdf.add_font(family, "", str(regular))
        pdf.add_font(family, "B", str(bold if bold.is_file() else regular))
        pdf.set_text_shaping(True)  # uharfbuzz, as the life-story book uses

        def safe(text: str) -> str:
            return text
    else:  # core fonts: Latin-1 only
        family = "Helvetica"

        def safe(text: str) -> str:
            return text.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(0, 9, safe(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, "", 12)
    pdf.multi_cell(0, 7, safe(words), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
