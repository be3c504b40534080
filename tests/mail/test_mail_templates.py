"""Templates: coverage of every preset's template names, languages and fallback,
overrides from a folder, escaping, Babel formatting."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import format_currency

from syncd.mail import (
    Business,
    InvoiceLine,
    MailTemplateError,
    Recipient,
    TemplateSet,
    make_message_id,
    render_reminder,
)
from tests.mail.conftest import NOW

PRESETS = Path(__file__).resolve().parents[2] / "policies" / "presets"


def _preset_templates() -> set[str]:
    names: set[str] = set()
    for path in PRESETS.glob("*.toml"):
        for step in tomllib.loads(path.read_text())["steps"]:
            for action in step["actions"]:
                if action["kind"] == "email":
                    names.add(action["template"])
    return names


def _render(
    templates: TemplateSet,
    business: Business,
    recipient: Recipient,
    invoices: list[InvoiceLine],
    template: str = "reminder",
) -> EmailMessage:
    return render_reminder(
        template,
        business,
        recipient,
        invoices,
        message_id=make_message_id("feedface", business.domain),
        now=NOW,
        templates=templates,
    )


def _text_html(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_every_preset_template_ships_in_english_french_and_german(templates: TemplateSet) -> None:
    shipped = templates.builtin_templates()
    names = _preset_templates()
    assert {"heads-up", "reminder", "firm-reminder", "final-notice"} <= names
    for name in names:
        assert shipped.get(name, frozenset()) >= {"en", "fr", "de"}, name


@pytest.mark.parametrize("language", ["en", "fr", "de"])
@pytest.mark.parametrize("count", [1, 3])
def test_every_template_renders_and_lists_every_invoice(
    templates: TemplateSet,
    business: Business,
    three_invoices: list[InvoiceLine],
    language: str,
    count: int,
) -> None:
    locale = {"en": "en_GB", "fr": "fr_FR", "de": "de_DE"}[language]
    recipient = Recipient("Jane Doe", "jane@customer.example", locale)
    invoices = three_invoices[:count]
    for name in sorted(templates.builtin_templates()):
        msg = _render(templates, business, recipient, invoices, name)
        assert msg["Content-Language"] == language
        text, html = _text_html(msg)
        assert msg["Subject"] and "\n" not in msg["Subject"]
        for line in invoices:
            balance = format_currency(line.balance, line.currency, locale=locale)
            due = format_date(line.due_date, "medium", locale=locale)
            for part in (text, html):
                assert line.number in part, (name, language)
                assert balance in part, (name, language)
                assert due in part, (name, language)
        if count == 1:
            assert invoices[0].number in msg["Subject"]
        assert "Acme Widgets Ltd" in text


def test_html_is_escaped_and_text_is_not(
    templates: TemplateSet, business: Business, three_invoices: list[InvoiceLine]
) -> None:
    evil = Recipient('<script>alert("x")</script> & Co', "jane@customer.example", "en_US")
    msg = _render(templates, business, evil, three_invoices)
    text, html = _text_html(msg)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert '<script>alert("x")</script> & Co' in text
    assert msg["To"].addresses[0].display_name == '<script>alert("x")</script> & Co'


def test_language_falls_back_to_english_with_regional_numbers(
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    msg = _render(templates, business, recipient_factory("es_ES"), three_invoices)
    assert msg["Content-Language"] == "en"
    assert msg["Subject"].startswith("Payment reminder:")
    text, _ = _text_html(msg)
    # English words, Spanish number conventions (Babel's en_ES), not Spanish month names.
    assert format_currency(Decimal("1234.50"), "EUR", locale="en_ES") in text
    assert "1 May 2024" in text


def test_recipient_without_locale_or_name(
    templates: TemplateSet, three_invoices: list[InvoiceLine]
) -> None:
    business = Business("Acme SARL", "compta@acme.example", default_locale="fr_FR")
    msg = _render(templates, business, Recipient("", "jean@client.example"), three_invoices)
    assert msg["Content-Language"] == "fr"  # the business's default locale
    assert msg["To"] == "jean@client.example"
    text, html = _text_html(msg)
    assert text.startswith("Bonjour,\n") and "<p>Bonjour,</p>" in html


def test_plural_and_heads_up_wording(
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    not_yet_due = [
        InvoiceLine(
            "INV-9",
            NOW.date(),
            NOW.date().replace(day=24),
            "GBP",
            Decimal("10"),
            Decimal("10"),
            -3,
        )
    ]
    text, _ = _text_html(_render(templates, business, recipient_factory(), not_yet_due, "heads-up"))
    assert "due in 3 days" in text
    text, _ = _text_html(_render(templates, business, recipient_factory(), three_invoices[2:]))
    assert "1 day overdue" in text and "1 days" not in text
    fr = recipient_factory("fr_FR")
    text, _ = _text_html(_render(templates, business, fr, three_invoices[2:]))
    assert "en retard de 1 jour)" in text


def test_override_folder_replaces_one_file_and_falls_back_for_the_rest(
    tmp_path: Path,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    (tmp_path / "reminder").mkdir()
    (tmp_path / "reminder" / "en.subject.j2").write_text(
        "Custom: {{ count }} unpaid for {{ recipient.name }}\n"
    )
    templates = TemplateSet(tmp_path)
    msg = _render(templates, business, recipient_factory(), three_invoices)
    assert msg["Subject"] == "Custom: 3 unpaid for Jane Doe"
    text, html = _text_html(msg)
    assert "Our records show" in text and "INV-1001" in html  # package body kept
    other = _render(templates, business, recipient_factory(), three_invoices, "final-notice")
    assert other["Subject"].startswith("Final notice:")
    fr = _render(templates, business, recipient_factory("fr_FR"), three_invoices)
    assert fr["Subject"].startswith("Rappel de paiement")  # French untouched


def test_override_folder_can_add_a_language_and_a_template(
    tmp_path: Path,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    for lang, subject in [("es", "Recordatorio de pago"), ("en", "Thanks")]:
        folder = tmp_path / "thank-you"
        folder.mkdir(exist_ok=True)
        (folder / f"{lang}.subject.j2").write_text(subject)
        (folder / f"{lang}.txt.j2").write_text("{% for i in invoices %}{{ i.number }} {% endfor %}")
        (folder / f"{lang}.html.j2").write_text("<p>{{ recipient.name }}</p>")
    templates = TemplateSet(tmp_path)
    evil = recipient_factory("es_ES", name="<b>Ana</b>")
    msg = _render(templates, business, evil, three_invoices, "thank-you")
    assert msg["Subject"] == "Recordatorio de pago" and msg["Content-Language"] == "es"
    text, html = _text_html(msg)
    assert text.strip() == "INV-1001 INV-1002 INV-1003"
    assert html.strip() == "<p>&lt;b&gt;Ana&lt;/b&gt;</p>"  # override HTML is autoescaped too


def test_partial_language_in_override_falls_back_as_a_whole(
    tmp_path: Path,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    (tmp_path / "reminder").mkdir()
    (tmp_path / "reminder" / "es.subject.j2").write_text("Solo el asunto")
    msg = _render(TemplateSet(tmp_path), business, recipient_factory("es_ES"), three_invoices)
    assert msg["Content-Language"] == "en" and msg["Subject"].startswith("Payment reminder")


def test_template_errors_are_mail_template_errors(
    tmp_path: Path,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    with pytest.raises(MailTemplateError):
        TemplateSet(tmp_path / "missing")
    with pytest.raises(MailTemplateError):
        _render(TemplateSet(), business, recipient_factory(), three_invoices, "no-such-step")
    with pytest.raises(MailTemplateError):
        _render(TemplateSet(), business, recipient_factory(), three_invoices, "../reminder")
    (tmp_path / "reminder").mkdir()
    (tmp_path / "reminder" / "en.subject.j2").write_text("{{ customer_nmae }}")
    with pytest.raises(MailTemplateError, match="customer_nmae"):  # StrictUndefined
        _render(TemplateSet(tmp_path), business, recipient_factory(), three_invoices)
    (tmp_path / "reminder" / "en.subject.j2").write_text("   ")
    with pytest.raises(MailTemplateError, match="empty"):
        _render(TemplateSet(tmp_path), business, recipient_factory(), three_invoices)


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "expected"),
    [
        ("en_US", "USD", "1234.50", "$1,234.50"),
        ("en_GB", "GBP", "1234.5", "£1,234.50"),
        ("de_DE", "EUR", "1234.50", "1.234,50\u00a0€"),
        ("fr_FR", "EUR", "1234.50", "1\u202f234,50\u00a0€"),
        ("en_US", "JPY", "123456", "¥123,456"),
        ("de_DE", "JPY", "123456", "123.456\u00a0¥"),
    ],
)
def test_money_filter_uses_locale_and_minor_units(
    templates: TemplateSet, locale: str, currency: str, amount: str, expected: str
) -> None:
    from babel import Locale

    tpl = templates.env.from_string("{{ a|money(c) }}")
    out = tpl.render(a=Decimal(amount), c=currency, babel_locale=Locale.parse(locale))
    assert out == format_currency(Decimal(amount), currency, locale=locale)
    assert out == expected


def test_money_filter_refuses_floats(templates: TemplateSet) -> None:
    from babel import Locale

    tpl = templates.env.from_string("{{ a|money('USD') }}")
    with pytest.raises(MailTemplateError):
        tpl.render(a=1.1, babel_locale=Locale.parse("en_US"))
