"""What an email says: the customer's locale, the business's name, reminder history that
really happened, the onboarding account summary, "coming up" invoices and HTML escaping.

Expectations are written by hand (the exact "$1,984.50"), never computed by the code
under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from email.message import EmailMessage

import pytest

from syncd.mail import Business, InvoiceLine, Recipient, TemplateSet, render_reminder
from syncd.mail.model import customer_locale, locale_for_country

NOW = dt.datetime(2026, 9, 30, 9, 0, tzinfo=dt.UTC)
MID = "<syncd.5f2b9c0d1e3a4b6c7d8e9f0a1b2c3d4e@acme.example>"
BUSINESS = Business(name="Acme Widgets Ltd", from_address="ar@acme.example")


def line(number: str, due: dt.date, balance: str, *sent: dt.date, cur: str = "USD") -> InvoiceLine:
    return InvoiceLine(
        number=number,
        issue_date=due - dt.timedelta(days=30),
        due_date=due,
        currency=cur,
        total=Decimal(balance),
        balance=Decimal(balance),
        days_overdue=(NOW.date() - due).days,
        reminders_sent=tuple(sent),
    )


def render(
    template: str,
    invoices: list[InvoiceLine],
    *,
    locale: str | None = "en_US",
    name: str = "Jane Doe",
    business: Business = BUSINESS,
    coming_up: list[InvoiceLine] | None = None,
) -> tuple[EmailMessage, str, str]:
    msg = render_reminder(
        template,
        business,
        Recipient(name=name, email="jane@customer.example", locale=locale),
        invoices,
        message_id=MID,
        now=NOW,
        templates=TemplateSet(),
        coming_up=coming_up or (),
    )
    text_part, html_part = msg.iter_parts()
    assert isinstance(text_part, EmailMessage) and isinstance(html_part, EmailMessage)
    return msg, str(text_part.get_content()), str(html_part.get_content())


def test_a_us_customer_sees_us_dates_and_dollars() -> None:
    # A British business (default en_GB) and a customer whose provider record says "US".
    assert customer_locale(None, "US", "en_GB") == "en_US"
    _, text, html = render("reminder", [line("1001", dt.date(2026, 9, 16), "1984.50")])
    for part in (text, html):
        assert "Sep 16, 2026" in part
        assert "$1,984.50" in part
        assert "US$" not in part
    # The same invoice for a British customer: British conventions.
    _, text, _ = render("reminder", [line("1001", dt.date(2026, 9, 16), "1984.50")], locale="en_GB")
    assert "16 Sept 2026" in text and "US$1,984.50" in text


def test_locale_comes_from_the_customer_else_the_org() -> None:
    assert customer_locale("fr", "BE", "en_GB") == "fr_BE"
    assert customer_locale("de-CH", None, "en_GB") == "de_CH"
    # A country never switches the language, only the regional conventions.
    assert customer_locale(None, "DE", "en_GB") == "en_DE"
    assert customer_locale(None, None, "en_US") == "en_US"
    assert customer_locale("klingon", "ZZ", "en_GB") == "en_GB"
    assert locale_for_country("US") == "en_US" and locale_for_country("FR") == "fr_FR"
    assert locale_for_country(None) is None and locale_for_country("nowhere") is None
    _, text, _ = render(
        "reminder", [line("7", dt.date(2026, 9, 16), "1984.50", cur="EUR")], locale="fr_BE"
    )
    assert "16 sept. 2026" in text and "1\u202f984,50\u00a0€" in text


def test_business_name_signs_and_sends() -> None:
    msg, text, html = render("reminder", [line("1001", dt.date(2026, 9, 16), "10.00")])
    assert msg["From"] == "Acme Widgets Ltd <ar@acme.example>"
    assert text.rstrip().endswith("Kind regards,\nAcme Widgets Ltd")
    assert "Acme Widgets Ltd</p>" in html and "Accounts" not in text


@pytest.mark.parametrize(
    ("language", "claims"),
    [
        ("en", ("Despite", "previous reminders", "earlier reminder", "wrote to you")),
        ("fr", ("Malgré", "précédent", "déjà écrit", "récemment écrit")),
        ("de", ("Trotz", "bisherigen", "bereits geschrieben", "kürzlich")),
    ],
)
def test_no_template_claims_a_reminder_that_was_not_sent(
    language: str, claims: tuple[str, ...]
) -> None:
    invoices = [line("A-1", dt.date(2026, 6, 1), "100.00"), line("A-2", dt.date(2026, 7, 1), "5")]
    for template in ("reminder", "reminder-2", "firm-reminder", "final-notice", "account-summary"):
        msg, text, html = render(template, invoices, locale=language)
        for claim in claims:
            for part in (str(msg["Subject"]), text, html):
                assert claim not in part, (template, claim)


def test_firm_and_final_wording_follows_the_reminders_actually_sent() -> None:
    once = dt.date(2026, 9, 2)
    twice = (dt.date(2026, 9, 2), dt.date(2026, 9, 16))
    _, text, html = render("firm-reminder", [line("A-1", dt.date(2026, 8, 1), "10", once)])
    assert "Despite our earlier reminder, the invoice below is still unpaid" in text
    assert "Reminded on: Sep 2, 2026" in text and "reminded on Sep 2, 2026" in html

    _, text, _ = render(
        "final-notice",
        [
            line("A-1", dt.date(2026, 8, 1), "10", *twice),
            line("A-2", dt.date(2026, 8, 5), "5", *twice),
        ],
    )
    assert text.startswith("Dear Jane Doe,\n\nDespite our previous reminders, the invoices below")
    assert "Reminded on: Sep 2, 2026, Sep 16, 2026" in text

    # One invoice was reminded, one never: no blanket claim, a true partial one.
    _, text, _ = render(
        "final-notice",
        [line("A-1", dt.date(2026, 8, 1), "10", once), line("A-2", dt.date(2026, 8, 5), "5")],
    )
    assert "Despite" not in text
    assert "We have written to you before about some of the invoices below." in text

    _, text, _ = render(
        "final-notice", [line("A-1", dt.date(2026, 8, 1), "10", once)], locale="fr_FR"
    )
    assert "Malgré notre précédent rappel, la facture ci-dessous reste impayée." in text
    _, text, _ = render("firm-reminder", [line("A-1", dt.date(2026, 8, 1), "10")], locale="de_DE")
    assert "Die unten aufgeführte Rechnung ist weiterhin unbezahlt und überfällig." in text


@pytest.mark.parametrize(
    ("locale", "subject", "opening"),
    [
        (
            "en_US",
            "Account summary from Acme Widgets Ltd: 2 overdue invoices",
            "We are writing with a summary of your account with us.",
        ),
        (
            "fr_FR",
            "Relevé de compte de Acme Widgets Ltd\u00a0: 2 factures échues",
            "Nous vous adressons un relevé de votre compte.",
        ),
        (
            "de_DE",
            "Kontoübersicht von Acme Widgets Ltd: 2 überfällige Rechnungen",
            "Wir senden Ihnen eine Übersicht über Ihr Konto bei uns.",
        ),
    ],
)
def test_account_summary_lists_every_overdue_invoice(
    locale: str, subject: str, opening: str
) -> None:
    invoices = [
        line("B-7", dt.date(2025, 12, 1), "1984.50"),
        line("B-3", dt.date(2026, 3, 1), "15.50"),
    ]
    msg, text, html = render("account-summary", invoices, locale=locale)
    assert msg["Subject"] == subject
    assert opening in text
    for part in (text, html):
        assert "B-7" in part and "B-3" in part
    assert text.index("B-7") < text.index("B-3")  # by due date
    if locale == "en_US":
        assert "Total outstanding: $2,000.00" in text


def test_coming_up_is_listed_apart_and_never_demanded() -> None:
    overdue = [line("C-1", dt.date(2026, 9, 1), "1984.50")]
    soon = [line("C-9", dt.date(2026, 10, 15), "500.00")]
    _, text, html = render("reminder", overdue, coming_up=soon)
    assert "Total outstanding: $1,984.50" in text
    head = text.index("Coming up (not yet due; not included in the total above):")
    assert text.index("Total outstanding") < head
    assert "  Invoice C-9: $500.00, due Oct 15, 2026" in text[head:]
    assert "C-9" not in text[:head]
    assert html.index("Coming up") < html.index("C-9")
    assert "$2,484.50" not in text + html
    _, text, _ = render("reminder", overdue)
    assert "Coming up" not in text


def test_names_are_escaped_in_html_and_kept_in_text() -> None:
    evil = 'Zoë <script>alert("x")</script> & Søn'
    business = Business(name="Smith & Jones <Ltd>", from_address="ar@acme.example")
    msg, text, html = render(
        "firm-reminder",
        [line("<b>9</b>", dt.date(2026, 9, 1), "10")],
        name=evil,
        business=business,
    )
    assert f"Dear {evil}," in text
    assert "<script>" not in html and "<b>9</b>" not in html and "<Ltd>" not in html
    assert "Zoë &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Søn" in html
    assert "Smith &amp; Jones &lt;Ltd&gt;" in html and "&lt;b&gt;9&lt;/b&gt;" in html
    assert "Zoë" in str(msg["To"])
