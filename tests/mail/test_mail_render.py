"""The message itself (headers, structure, determinism), the Message-ID, and the input
models' validation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from email.headerregistry import HeaderRegistry
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncd.config.models import EmailSettings
from syncd.mail import (
    KEY_HEADER,
    Business,
    InvoiceLine,
    Recipient,
    TemplateSet,
    digest_from_message_id,
    envelope_recipients,
    make_message_id,
    render_reminder,
)
from tests.mail.conftest import NOW

DIGEST = "5f2b9c0d1e3a4b6c7d8e9f0a1b2c3d4e"


def test_headers_structure_and_no_bcc_header(
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    paris = dt.datetime(2024, 5, 21, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    msg = render_reminder(
        "firm-reminder",
        business,
        recipient_factory(),
        three_invoices,
        message_id=make_message_id(DIGEST, "acme.example"),
        now=paris,
        templates=templates,
    )
    assert msg["Date"] == "Tue, 21 May 2024 11:30:00 +0200"
    assert parsedate_to_datetime(msg["Date"]) == paris
    assert msg["Message-ID"] == f"<syncd.{DIGEST}@acme.example>"
    assert msg[KEY_HEADER] == DIGEST
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "Bcc" not in msg and "archive@acme.example" not in msg.as_string()
    assert msg.is_multipart() and msg.get_content_type() == "multipart/alternative"
    for part in msg.iter_parts():
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part.get_content_charset() == "utf-8"
    assert msg.as_bytes().isascii()  # 7-bit clean: no 8BITMIME needed anywhere


def test_rendering_is_deterministic(
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    def once(invoices: list[InvoiceLine]) -> bytes:
        msg = render_reminder(
            "reminder",
            business,
            recipient_factory("de_DE"),
            invoices,
            message_id=make_message_id(DIGEST, "acme.example"),
            now=NOW,
            templates=templates,
        )
        msg.set_boundary("fixed")
        return msg.as_bytes()

    assert once(three_invoices) == once(list(reversed(three_invoices)))  # sorted by due date


def test_explicit_key_digest_and_rejections(
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    def render(**kw: object) -> object:
        args: dict[str, object] = {
            "message_id": "<other-id@acme.example>",
            "now": NOW,
            "templates": templates,
        }
        args.update(kw)
        return render_reminder(
            "reminder",
            business,
            recipient_factory(),
            three_invoices,
            **args,  # type: ignore[arg-type]
        )

    msg = render(key_digest="abc123")
    assert msg[KEY_HEADER] == "abc123"  # type: ignore[index]
    with pytest.raises(ValueError, match="digest"):
        render()  # foreign Message-ID and no digest
    with pytest.raises(ValueError, match="aware"):
        render(key_digest="abc", now=dt.datetime(2024, 5, 21, 9))
    with pytest.raises(ValueError, match="Message-ID"):
        render(key_digest="abc", message_id="no-brackets@x")
    with pytest.raises(ValueError, match="at least one"):
        render_reminder(
            "reminder",
            business,
            recipient_factory(),
            [],
            message_id=make_message_id("a", "x.example"),
            now=NOW,
            templates=templates,
        )


def test_message_id_is_deterministic_and_valid() -> None:
    a = make_message_id(DIGEST, "acme.example")
    assert a == make_message_id(DIGEST, "ACME.example.")
    assert a != make_message_id(DIGEST[::-1], "acme.example")
    header = HeaderRegistry()("Message-ID", a)
    assert str(header) == a and not header.defects
    assert digest_from_message_id(a) == DIGEST
    assert digest_from_message_id("<random@elsewhere>") is None
    assert make_message_id("ab", "bücher.example") == "<syncd.ab@xn--bcher-kva.example>"
    for bad_digest in ("", "a b", "a@b", "<x>", "a\r\nb"):
        with pytest.raises(ValueError):
            make_message_id(bad_digest, "acme.example")
    for bad_domain in ("", "a..b", "-x.example", "a b.example", "x" * 64 + ".example"):
        with pytest.raises(ValueError):
            make_message_id("ab", bad_domain)


@given(st.text(alphabet="0123456789abcdef", min_size=1, max_size=64))
def test_message_id_round_trips(digest: str) -> None:
    mid = make_message_id(digest, "acme.example")
    assert digest_from_message_id(mid) == digest
    assert not HeaderRegistry()("Message-ID", mid).defects


def test_business_from_settings_and_envelope() -> None:
    settings = EmailSettings(
        from_address="accounts@acme.example",
        reply_to="Accounts <ar@acme.example>",
        bcc="archive@acme.example, Boss <boss@acme.example>",
    )
    business = Business.from_settings(settings, name="Acme", default_locale="en_GB")
    assert business.name == "Acme" and business.reply_to == "ar@acme.example"
    named = EmailSettings(from_address="Acme Billing <billing@acme.example>")
    assert Business.from_settings(named, name="Acme").name == "Acme Billing"
    assert Business.from_settings(named, name="Acme").from_address == "billing@acme.example"
    assert business.bcc == ("archive@acme.example", "boss@acme.example")
    assert business.domain == "acme.example"
    recipient = Recipient("Jane", "jane@customer.example", "fr-FR")
    assert recipient.locale == "fr_FR" and recipient.language == "fr"
    assert envelope_recipients(business, recipient) == [
        "jane@customer.example",
        "archive@acme.example",
        "boss@acme.example",
    ]
    same = Recipient("Archive", "ARCHIVE@acme.example")
    assert envelope_recipients(business, same) == ["ARCHIVE@acme.example", "boss@acme.example"]


@pytest.mark.parametrize(
    "email",
    [
        "",
        "jane",
        "jane@customer.example\r\nBcc: x@y",
        "a@b@c",
        "Jane <jane@x.example>",
        "a@b, c@d",
        "jörg@kunde.example",
    ],
)
def test_recipient_rejects_bad_addresses(email: str) -> None:
    with pytest.raises(ValueError):
        Recipient("Jane", email, "en_GB")


def test_models_reject_bad_values() -> None:
    with pytest.raises(ValueError):
        Recipient("Jane\r\nBcc: x@y", "jane@x.example")
    assert Recipient("Jane", "jane@x.example", "xx_YY_ZZ").locale is None  # free text: default
    assert Recipient("Jane", "jane@x.example", " ").language is None
    with pytest.raises(ValueError, match="locale"):
        Business("Acme", "a@acme.example", default_locale="xx_YY_ZZ")  # config: strict
    base = {
        "number": "INV-1",
        "issue_date": dt.date(2024, 4, 1),
        "due_date": dt.date(2024, 5, 1),
        "currency": "USD",
        "total": Decimal("10"),
        "balance": Decimal("10"),
        "days_overdue": 3,
    }
    InvoiceLine(**base)  # type: ignore[arg-type]
    for bad in (
        {"balance": 10.0},
        {"total": Decimal("NaN")},
        {"currency": "usd"},
        {"pay_url": "javascript:alert(1)"},
        {"pay_url": "https://pay.example/a b"},
    ):
        with pytest.raises(ValueError):
            InvoiceLine(**{**base, **bad})  # type: ignore[arg-type]
