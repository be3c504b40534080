"""Address countries as bookkeepers type them, to ISO 3166-1 alpha-2.

QuickBooks (``BillAddr.Country``) and Xero (``Addresses[].Country``) keep whatever the user
typed: "USA", "United States", "UK", "Deutschland", "Aotearoa", "CA" or nothing. Names are
matched against Babel's territory names in a few languages plus the common abbreviations;
anything unrecognised maps to ``None`` rather than to a guess, because the country decides
which statutory interest rules apply.
"""

from __future__ import annotations

import functools
import unicodedata

from babel import Locale

_ALIASES = {
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "aotearoa": "NZ",
}
#: Babel territories that are not countries (unknown region, EU, eurozone, UN, pseudo-locales).
_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})
_LANGUAGES = ("en", "fr", "de", "es", "it", "nl")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


@functools.cache
def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for language in _LANGUAGES:
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES:
                names.setdefault(_fold(name), code)
    for alias, code in _ALIASES.items():
        names[alias] = code
    return names


def to_alpha2(value: object) -> str | None:
    """ISO alpha-2 for a typed country, or ``None`` when blank or not recognisable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        if code == "UK":
            return "GB"
        known = code in Locale("en").territories and code not in _NOT_COUNTRIES
        return code if known else None
    if len(text) == 3 and text.isalpha() and text.upper() not in ("USA",):
        # Three-letter codes other than USA are rare in QBO; resolve via the alias table only.
        return _ALIASES.get(text.lower())
    return _names().get(_fold(text))
