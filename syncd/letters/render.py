"""Letters as PDF: a Jinja2 HTML template (package default or an override folder, file by
file like the email templates) laid out by fpdf2.

The same rendered HTML gives ``syncd preview`` its text, so a preview reads exactly what
the PDF says.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from fpdf import FPDF
from fpdf.errors import FPDFException
from fpdf.fonts import TextStyle
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
)

LETTER_TEMPLATES = ("demand", "pre-action-ew", "statement")
#: Fonts with the glyphs of every currency symbol; the PDF core fonts cover Latin-1 only.
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts/dejavu"),
)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
#: A template starts a new page with this HTML comment (the annexes of a letter of claim).
PAGE_BREAK = "<!--pagebreak-->"
_ASCII = {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"'}


class LetterTemplateError(Exception):
    """A letter template is missing or failed to render: a configuration problem."""


class LetterRenderer:
    def __init__(
        self,
        templates_dir: str | Path | None = None,
        *,
        font_dir: str | Path | None = None,
        locale: str = "en_GB",
    ) -> None:
        loaders: list[BaseLoader] = []
        if templates_dir is not None:
            loaders.append(FileSystemLoader(str(templates_dir)))
        loaders.append(PackageLoader("syncd.letters", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.locale = Locale.parse(locale)
        self.env.filters["money"] = self._money
        self.env.filters["date"] = self._date
        self.font_dir = Path(font_dir) if font_dir else _find_fonts()

    def _money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.locale)

    def _date(self, value: date | datetime, fmt: str = "medium") -> str:
        return format_date(value, format=fmt, locale=self.locale)

    def html(self, template: str, context: Mapping[str, Any]) -> str:
        if template not in LETTER_TEMPLATES:
            raise LetterTemplateError(
                f"unknown letter {template!r}; expected one of {', '.join(LETTER_TEMPLATES)}"
            )
        try:
            return self.env.get_template(f"{template}/en.html.j2").render(**context)
        except TemplateError as exc:
            raise LetterTemplateError(f"letter template {template!r}: {exc}") from None

    def pdf(self, body: str, *, title: str, author: str, created: datetime) -> bytes:
        doc = FPDF(format="A4")
        doc.set_title(title)
        doc.set_author(author)
        doc.set_creation_date(created)
        doc.set_margins(20, 18, 20)
        doc.set_auto_page_break(True, margin=18)
        doc.add_page()
        family = "Helvetica"
        if self.font_dir is not None:
            family = "DejaVu"
            for style, name in FONT_FILES.items():
                doc.add_font(family, style, str(self.font_dir / name))
            doc.add_font(family, "BI", str(self.font_dir / FONT_FILES["B"]))
        else:
            body = latin1(body)
        doc.set_font(family, size=10)
        try:
            for number, part in enumerate(body.split(PAGE_BREAK)):
                if number:
                    doc.add_page()
                self._write(doc, part, family)
        except (FPDFException, ValueError) as exc:
            raise LetterTemplateError(f"cannot lay out the letter: {exc}") from None
        return bytes(doc.output())

    @staticmethod
    def _write(doc: FPDF, body: str, family: str) -> None:
        doc.write_html(
            body,
            font_family=family,
            li_prefix_color=(0, 0, 0),
            tag_styles={
                "h2": TextStyle(font_size_pt=16, color=(0, 0, 0), t_margin=4, b_margin=2),
                "h3": TextStyle(font_size_pt=12, color=(0, 0, 0), t_margin=3, b_margin=1),
            },
        )


def _find_fonts() -> Path | None:
    for folder in FONT_DIRS:
        if all((folder / name).is_file() for name in FONT_FILES.values()):
            return folder
    return None


def latin1(text: str) -> str:
    """What the PDF core fonts can show: typographic marks as ASCII, currency symbols
    outside Latin-1 (the euro) as their code."""
    text = "".join(_ASCII.get(ch, ch) for ch in text).replace("\u20ac", "EUR ")
    text = unicodedata.normalize("NFKC", text).replace("\xa0", " ")
    return text.encode("latin-1", "replace").decode("latin-1")


def html_to_text(body: str) -> str:
    """A plain reading of a letter's HTML for previews and the timeline."""
    text = re.sub(r"<br[^>]*>", "\n", body)
    text = re.sub(r"</(p|h[1-6]|tr|li|table|ul)>", "\n", text)
    text = re.sub(r"</t[dh]>", "  ", text)
    text = re.sub(r"<li>", "- ", text)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
