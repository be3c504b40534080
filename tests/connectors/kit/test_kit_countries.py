"""Typed countries read from a table generated from Babel, not from Babel's locale data at
run time: the answers are Babel's (every name, every two-letter code), and reading them
loads no locale data (six locales' data cost a sync or a backfill about 10 MiB)."""

from __future__ import annotations

import functools
import itertools
import string
import subprocess
import sys
import unicodedata

import pytest
from babel import Locale

from connectors.kit import countries

_NOT_COUNTRIES = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}


def _babel_to_alpha2(value: object) -> str | None:
    """``to_alpha2`` as it was written against Babel at run time (the reference)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        if code == "UK":
            return "GB"
        known = code in Locale("en").territories and code not in _NOT_COUNTRIES
        return code if known else None
    if len(text) == 3 and text.isalpha() and text.upper() != "USA":
        return countries._ALIASES.get(text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return _babel_names().get(" ".join(folded.split()))


@functools.cache
def _babel_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for language in ("en", "fr", "de", "es", "it", "nl"):
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES:
                names.setdefault(countries._fold(name), code)
    names.update(countries._ALIASES)
    return names


def test_the_table_is_the_one_the_installed_babel_generates() -> None:
    with open(countries.country_table.__file__, encoding="utf-8") as f:
        assert f.read() == countries.render_table(), "regenerate: see connectors.kit.countries"


def _typed() -> list[object]:
    names = [
        name
        for language in ("en", "fr", "de", "es", "it", "nl", "pt", "ja")
        for name in Locale(language).territories.values()
    ]
    pairs = ["".join(p) for p in itertools.product(string.ascii_uppercase, repeat=2)]
    odd = [
        "",
        "  ",
        None,
        7,
        "usa",
        "U.S.A.",
        "Aotearoa",
        "  c\u00f4te d\u2019ivoire ",
        "DEU",
        "NZL",
    ]
    return [*names, *[n.upper() for n in names], *pairs, *[p.lower() for p in pairs], *odd]


def test_every_name_and_code_reads_as_babel_reads_it() -> None:
    typed = _typed()
    expected = [_babel_to_alpha2(value) for value in typed]
    assert [countries.to_alpha2(value) for value in typed] == expected
    assert expected.count(None) < len(expected) // 2  # the comparison covers real answers


@pytest.mark.parametrize(
    ("typed", "code"),
    [("United States", "US"), ("Deutschland", "DE"), ("uk", "GB"), ("Narnia", None)],
)
def test_examples(typed: str, code: str | None) -> None:
    assert countries.to_alpha2(typed) == code


def test_reading_countries_loads_no_babel_locale_data() -> None:
    probe = (
        "import sys\n"
        "from connectors.kit.countries import to_alpha2\n"
        "answers = [to_alpha2(v) for v in ('US', 'United States', 'Deutschland', 'UK', 'xx')]\n"
        "assert answers == ['US', 'US', 'DE', 'GB', None], answers\n"
        "cache = getattr(sys.modules.get('babel.localedata'), '_cache', {})\n"
        "print(sorted(cache))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
