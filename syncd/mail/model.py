"""What a reminder is about, as plain values the executor fills from the store.

Validation happens here, at construction, rather than deep inside a template: a bad
address or a float amount found while rendering would surface as a confusing Jinja
traceback, and one found after the message was handed to SMTP would be far worse.
Errors are ``ValueError`` (a permanent problem with the data, never worth a retry).
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses

from babel import Locale, UnknownLocaleError, localedata

from syncd.config.models import EmailSettings

__all__ = [
    "Business",
    "InvoiceLine",
    "Recipient",
    "customer_locale",
    "locale_for_country",
    "parse_locale",
    "reachable_address",
]


def parse_locale(value: str) -> Locale:
    """Accept ``en_GB`` and ``en-GB`` alike: stores and providers use both spellings."""
    try:
        return Locale.parse(value.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {value!r}") from exc


def locale_for_country(country: str | None) -> str | None:
    """The likely locale of a country (CLDR likely subtags: US -> en_US, DE -> de_DE)."""
    if not country or len(country.strip()) != 2 or not country.strip().isalpha():
        return None
    try:
        return str(Locale.parse(f"und_{country.strip().upper()}"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def customer_locale(locale: str | None, country: str | None, default_locale: str) -> str:
    """Where the customer's language and country come from, as far as the provider knows them.

    The language is the customer's own if the provider has one, else the business's default
    (a country alone never switches the email's language: a Belgian customer of an English
    business still reads English). The country then picks the regional conventions, so a
    US customer of a British business sees "Sep 16, 2026" and "$1,984.50".
    """
    base = parse_locale(default_locale)
    own: Locale | None = None
    if locale and locale.strip():
        with contextlib.suppress(ValueError):
            own = parse_locale(locale)
    if own is not None and own.territory:
        return str(own)
    language = own.language if own is not None else base.language
    territory = (country or "").strip().upper()
    if len(territory) == 2 and territory.isalpha():
        regional = f"{language}_{territory}"
        if localedata.exists(regional):
            return regional
    if own is not None:
        return str(own)
    return str(base)


def _check_address(value: str, what: str) -> str:
    """A single bare ``local@domain``; CR/LF or a display name here would be header injection."""
    value = value.strip()
    if not value or any(c in value for c in '\r\n\0<>,;"') or value.count("@") != 1:
        raise ValueError(f"{what}: expected one email address, got {value!r}")
    local, _, domain = value.partition("@")
    if not local.isascii():
        # Python's email package cannot build such headers; EAI mailboxes are rare.
        raise ValueError(f"{what}: non-ASCII mailbox names are not supported: {value!r}")
    try:
        # IDNA keeps headers and the SMTP envelope 7-bit for internationalised domains.
        value = f"{local}@{domain.encode('idna').decode('ascii')}"
        parsed = Address(addr_spec=value)
    except (HeaderParseError, UnicodeError, ValueError, IndexError) as exc:
        raise ValueError(f"{what}: invalid email address {value!r}") from exc
    if not parsed.username or not parsed.domain:
        raise ValueError(f"{what}: invalid email address {value!r}")
    return value


#: One DNS label as hosts are named (RFC 1123: letters, digits, inner hyphens; IDNA-encoded).
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


@functools.lru_cache(maxsize=8192)
def reachable_address(value: str) -> bool:
    """Whether a customer's ``value`` is one address a reminder could reach.

    The mailer's own check first (what ``Recipient`` would refuse at send time), then the
    domain as mail on the internet needs it: two or more host labels under a non-numeric
    top-level one. "x@acme", "x@localhost" or "x@[10.0.0.1]" pass the syntax and reach nobody
    the business means; a customer's address like that is held for a human, not sent.
    Cached: the parse costs tens of microseconds, and a cycle reads the same fields again."""
    try:
        checked = _check_address(value, "customer email")
    except ValueError:
        return False
    labels = checked.rpartition("@")[2].split(".")
    return (
        len(labels) >= 2
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _check_name(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{what}: line breaks are not allowed in names")
    return " ".join(value.split())


@dataclass(frozen=True, slots=True)
class Business:
    """The sender. ``bcc`` copies go in the SMTP envelope only, never in a header."""

    name: str
    from_address: str
    reply_to: str | None = None
    bcc: tuple[str, ...] = ()
    default_locale: str = "en_GB"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _check_name(self.name, "business name"))
        object.__setattr__(self, "from_address", _check_address(self.from_address, "from"))
        if self.reply_to is not None:
            object.__setattr__(self, "reply_to", _check_address(self.reply_to, "reply-to"))
        object.__setattr__(self, "bcc", tuple(_check_address(b, "bcc") for b in self.bcc))
        parse_locale(self.default_locale)

    @property
    def domain(self) -> str:
        """The domain Message-IDs are minted under: the one the business sends as."""
        return self.from_address.rpartition("@")[2]

    @classmethod
    def from_settings(
        cls, settings: EmailSettings, *, name: str, default_locale: str = "en_GB"
    ) -> Business:
        """Accepts ``from_address = "Acme Ltd <ar@acme.example>"`` (its display name wins
        over ``name``) and a comma-separated ``bcc`` list, as people write them in TOML."""

        def addresses(value: str | None) -> list[tuple[str, str]]:
            return [(n, a) for n, a in getaddresses([value]) if a] if value else []

        sender = addresses(settings.from_address)
        if len(sender) != 1:
            raise ValueError(f"from: expected one address, got {settings.from_address!r}")
        reply_to = addresses(settings.reply_to)
        return cls(
            name=sender[0][0] or name,
            from_address=sender[0][1],
            reply_to=reply_to[0][1] if reply_to else None,
            bcc=tuple(a for _, a in addresses(settings.bcc)),
            default_locale=default_locale,
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    """The customer. ``locale`` None means: use the business's default locale.

    An empty or unknown locale (providers store free text) also becomes None: a reminder
    in the business's language beats no reminder. The address is strict.
    """

    name: str
    email: str
    locale: str | None = None
    #: Further addresses of the same customer (one provider field may hold several): each
    #: receives the email too, as the provider's own emails reach every one of them.
    also: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _check_name(self.name, "customer name"))
        object.__setattr__(self, "email", _check_address(self.email, "customer email"))
        also = tuple(_check_address(a, "customer email") for a in self.also)
        object.__setattr__(self, "also", also)
        locale: str | None = None
        if self.locale and self.locale.strip():
            with contextlib.suppress(ValueError):
                locale = str(parse_locale(self.locale))
        object.__setattr__(self, "locale", locale)

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every address the email goes to, the customer's first."""
        return (self.email, *self.also)

    @property
    def language(self) -> str | None:
        """The language part of the locale (``fr`` for ``fr_FR``): what picks the template."""
        return None if self.locale is None else parse_locale(self.locale).language


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One invoice as the customer sees it. Amounts are ``Decimal`` in ``currency``.

    ``days_overdue`` is negative before the due date (a heads-up) and zero on it.
    """

    number: str
    issue_date: date
    due_date: date
    currency: str
    total: Decimal
    balance: Decimal
    days_overdue: int
    pay_url: str | None = None
    #: Days a reminder about this invoice actually went out (done email actions), oldest
    #: first: templates claim earlier reminders only from these, never from the step number.
    reminders_sent: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        for field_name in ("total", "balance"):
            if not isinstance(getattr(self, field_name), Decimal):
                raise ValueError(f"invoice {self.number}: {field_name} must be a Decimal")
            if not getattr(self, field_name).is_finite():
                raise ValueError(f"invoice {self.number}: {field_name} must be finite")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(
                f"invoice {self.number}: expected an ISO 4217 code, got {self.currency!r}"
            )
        object.__setattr__(self, "number", _check_name(self.number, "invoice number"))
        if self.pay_url is not None:
            url = self.pay_url.strip()
            # Only web links: a javascript: or data: URL in an href is an attack, not a pay link.
            if not url.lower().startswith(("https://", "http://")) or any(c.isspace() for c in url):
                raise ValueError(f"invoice {self.number}: pay link must be an http(s) URL")
            object.__setattr__(self, "pay_url", url)
