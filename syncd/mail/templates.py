"""Finding and rendering reminder templates: package defaults, folder overrides, languages.

Layout (both in the package and in an override folder)::

    <template>/<lang>.subject.j2    one line; whitespace is collapsed
    <template>/<lang>.txt.j2        the text/plain part
    <template>/<lang>.html.j2       the text/html part (autoescaped)
    _layout/<lang>.txt.j2           shared frame the step templates extend
    _layout/<lang>.html.j2

Lookup is file by file (a Jinja ``ChoiceLoader``): an override folder that holds only
``reminder/en.subject.j2`` changes that subject and nothing else. The language is chosen
per template, not per file, so one email never mixes languages: the customer's language
when all three parts exist for it (in the folder or the package), English otherwise.

Amounts and dates are formatted for the customer's locale. When the template fell back
to English for, say, ``es_ES``, dates use English month names with Spanish number
conventions (Babel's ``en_ES``) rather than Spanish words inside English sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale, localedata
from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

__all__ = [
    "FALLBACK_LANGUAGE",
    "PARTS",
    "MailTemplateError",
    "RenderedParts",
    "TemplateSet",
    "formatting_locale",
]

FALLBACK_LANGUAGE = "en"
PARTS = ("subject", "txt", "html")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_LANG = re.compile(r"^[a-z]{2,3}$")


class MailTemplateError(Exception):
    """A template is missing or failed to render: a configuration problem, never transient."""


@dataclass(frozen=True, slots=True)
class RenderedParts:
    language: str
    subject: str
    text: str
    html: str


def formatting_locale(recipient_locale: Locale, language: str) -> Locale:
    """The locale for amounts and dates, given the language the template is written in."""
    if recipient_locale.language == language:
        return recipient_locale
    if recipient_locale.territory:
        regional = f"{language}_{recipient_locale.territory}"
        if localedata.exists(regional):
            return Locale.parse(regional)
    return Locale.parse(language)


def _locale(ctx: Context) -> Locale:
    value = ctx.get("babel_locale")
    if not isinstance(value, Locale):
        raise MailTemplateError("the money/date filters need the render context's babel_locale")
    return value


@pass_context
def _money(ctx: Context, amount: Decimal, currency: str) -> str:
    """Currency-aware: Babel applies the currency's minor units (JPY has none)."""
    if not isinstance(amount, Decimal):
        raise MailTemplateError(f"money filter expects a Decimal, got {type(amount).__name__}")
    return format_currency(amount, currency, locale=_locale(ctx))


@pass_context
def _date(ctx: Context, value: date | datetime, fmt: str = "medium") -> str:
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, format=fmt, locale=_locale(ctx))


@pass_context
def _plural(ctx: Context, n: int, one: str, other: str) -> str:
    """Two-form plural by the template language's CLDR rule (French 0 is singular)."""
    lang = ctx.get("language", FALLBACK_LANGUAGE)
    return one if Locale.parse(str(lang)).plural_form(abs(n)) == "one" else other


def _clean_subject(text: str) -> str:
    # Only ASCII whitespace: a French non-breaking space before a colon must survive.
    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip()


def _clean_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


class TemplateSet:
    """The templates available to the renderer; build once and share (it caches).

    ``override_dir`` is ``EmailSettings.templates_dir`` resolved by the caller (relative
    to the config file). It must exist: a typo there would otherwise silently send the
    built-in wording.
    """

    def __init__(self, override_dir: str | Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        self.override_dir: Path | None = None
        if override_dir is not None:
            path = Path(override_dir)
            if not path.is_dir():
                raise MailTemplateError(f"templates folder {str(path)!r} does not exist")
            self.override_dir = path
            loaders.append(FileSystemLoader(str(path)))
        loaders.append(PackageLoader("syncd.mail", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(
                enabled_extensions=("html.j2",), default_for_string=False, default=False
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["money"] = _money
        self.env.filters["date"] = _date
        self.env.filters["plural"] = _plural

    @staticmethod
    def _file(template: str, language: str, part: str) -> str:
        ext = "subject.j2" if part == "subject" else f"{part}.j2"
        return f"{template}/{language}.{ext}"

    def has(self, template: str, language: str) -> bool:
        """True when all three parts exist for the language (from any source)."""
        if not _NAME.match(template) or not _LANG.match(language):
            return False
        for part in PARTS:
            try:
                self.env.get_template(self._file(template, language, part))
            except TemplateNotFound:
                return False
            except TemplateError as exc:
                raise MailTemplateError(f"template {template}/{language}: {exc}") from exc
        return True

    def language_for(self, template: str, language: str | None) -> str:
        if not _NAME.match(template):
            raise MailTemplateError(f"invalid template name {template!r}")
        if language and self.has(template, language.lower()):
            return language.lower()
        if self.has(template, FALLBACK_LANGUAGE):
            return FALLBACK_LANGUAGE
        raise MailTemplateError(
            f"no template {template!r}: need {template}/{FALLBACK_LANGUAGE}.subject.j2, "
            f".txt.j2 and .html.j2 in the package or the templates folder"
        )

    def builtin_templates(self) -> dict[str, frozenset[str]]:
        """Template name -> languages shipped in the package (for checks and docs)."""
        root = Path(__file__).with_name("templates")
        found: dict[str, frozenset[str]] = {}
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            if folder.name.startswith("_"):
                continue
            langs = {p.name.split(".", 1)[0] for p in folder.glob("*.j2")}
            found[folder.name] = frozenset(lang for lang in langs if self.has(folder.name, lang))
        return found

    def render(
        self, template: str, language: str | None, context: Mapping[str, Any], *, locale: Locale
    ) -> RenderedParts:
        """Render subject, text and HTML in one language chosen by :meth:`language_for`."""
        lang = self.language_for(template, language)
        ctx = {
            **context,
            "language": lang,
            "babel_locale": formatting_locale(locale, lang),
            "template": template,
        }
        try:
            subject, text, html = (
                self.env.get_template(self._file(template, lang, part)).render(ctx)
                for part in PARTS
            )
        except TemplateError as exc:
            raise MailTemplateError(f"template {template}/{lang}: {exc}") from exc
        subject = _clean_subject(subject)
        if not subject:
            raise MailTemplateError(f"template {template}/{lang}: the subject rendered empty")
        return RenderedParts(lang, subject, _clean_text(text), html.strip() + "\n")
