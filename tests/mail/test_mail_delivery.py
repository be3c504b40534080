"""End to end against aiosmtpd on 127.0.0.1: a grouped reminder arrives once and intact,
the exactly-once hook runs at the right moment, errors are classified."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from babel.numbers import format_currency

from syncd.config.models import EmailSettings
from syncd.mail import (
    KEY_HEADER,
    Business,
    InvoiceLine,
    MailError,
    MailOutcomeUnknownError,
    MailPermanentError,
    MailTransientError,
    Recipient,
    SmtpSender,
    TemplateSet,
    envelope_recipients,
    make_message_id,
    render_reminder,
)
from syncd.mail.transaction import dot_stuff
from tests.mail.conftest import NOW, Server, ServerFactory, free_port

DIGEST = "0123456789abcdef0123456789abcdef"


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
        message_id=make_message_id(DIGEST, business.domain),
        now=NOW,
        templates=templates,
    )


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


@pytest.fixture
def plain_server(smtp_server: ServerFactory) -> Server:
    return smtp_server()


def test_grouped_reminder_arrives_once_with_headers_and_amounts(
    plain_server: Server,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    recipient = recipient_factory("en_US")
    message = _render(templates, business, recipient, three_invoices)
    sender = SmtpSender(plain_server.settings(), local_hostname="client.test")

    result = sender.send(message, envelope_to=envelope_recipients(business, recipient))

    assert result.code == 250
    assert result.accepted == ("jane@customer.example", "archive@acme.example")
    assert result.message_id == f"<syncd.{DIGEST}@acme.example>"
    [received] = plain_server.recorder.messages
    assert received.mail_from == "accounts@acme.example"
    assert received.rcpt_tos == ["jane@customer.example", "archive@acme.example"]

    msg = _parse(received.content)
    assert msg["From"].addresses[0].addr_spec == "accounts@acme.example"
    assert msg["From"].addresses[0].display_name == "Acme Widgets Ltd"
    assert msg["To"].addresses[0].addr_spec == "jane@customer.example"
    assert msg["Reply-To"].addresses[0].addr_spec == "ar@acme.example"
    assert msg["Message-ID"] == f"<syncd.{DIGEST}@acme.example>"
    assert msg[KEY_HEADER] == DIGEST
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert msg["Bcc"] is None and b"archive@acme.example" not in received.content
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Subject"] == "Payment reminder: 3 invoices from Acme Widgets Ltd"

    text, html = _parts(msg)
    for part in (text, html):
        for number in ("INV-1001", "INV-1002", "INV-1003"):
            assert number in part
        assert "$1,234.50" in part  # USD, en_US
        assert "€1,234.50" in part  # EUR, en_US
        assert "$99.99" in part
        assert "$1,334.49" in part  # USD total: never summed across currencies
        assert "May 1, 2024" in part
        assert "20 days overdue" in part and "1 day overdue" in part
    assert "https://pay.example/i/1001?token=a&b=c" in text
    assert 'href="https://pay.example/i/1001?token=a&amp;b=c"' in html
    assert html.count("<a href=") == 1  # only INV-1001 has a pay link


def test_french_amounts_and_yen_without_decimals(
    plain_server: Server,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
    yen_invoice: InvoiceLine,
) -> None:
    recipient = recipient_factory("fr_FR")
    message = _render(templates, business, recipient, [*three_invoices, yen_invoice])
    SmtpSender(plain_server.settings()).send(message, envelope_to=[recipient.email])

    [received] = plain_server.recorder.messages
    msg = _parse(received.content)
    assert msg["Content-Language"] == "fr"
    assert msg["Subject"].startswith("Rappel de paiement\u00a0: 4 factures")
    text, html = _parts(msg)
    expected_eur = format_currency(1234.5, "EUR", locale="fr_FR")
    assert expected_eur == "1\u202f234,50\u00a0€"  # Babel's narrow no-break space grouping
    yen = format_currency(123456, "JPY", locale="fr_FR")
    assert "," not in yen and "123\u202f456" in yen
    for part in (text, html):
        assert expected_eur in part
        assert yen in part
        assert "en retard de 20 jours" in part
        assert "1 mai 2024" in part


def test_no_pay_link_section_without_links(
    plain_server: Server,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    yen_invoice: InvoiceLine,
) -> None:
    recipient = recipient_factory("en_US")
    message = _render(templates, business, recipient, [yen_invoice])
    SmtpSender(plain_server.settings()).send(message, envelope_to=[recipient.email])
    text, html = _parts(_parse(plain_server.recorder.messages[0].content))
    assert "¥123,456" in text and "¥123,456.00" not in text
    assert "Pay online" not in text and "<a " not in html and "Pay now" not in html


def test_before_data_end_runs_after_rcpt_and_before_the_body(
    plain_server: Server,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    recipient = recipient_factory()
    message = _render(templates, business, recipient, three_invoices)
    seen: list[tuple[list[str], int]] = []

    def hook() -> None:
        seen.append((list(plain_server.recorder.events), len(plain_server.recorder.messages)))

    SmtpSender(plain_server.settings()).send(
        message, envelope_to=envelope_recipients(business, recipient), before_data_end=hook
    )

    [(events_at_hook, messages_at_hook)] = seen
    assert messages_at_hook == 0
    assert events_at_hook == [
        "EHLO",
        "MAIL accounts@acme.example",
        "RCPT jane@customer.example",
        "RCPT archive@acme.example",
        "DATA",
    ]
    assert len(plain_server.recorder.messages) == 1
    assert plain_server.recorder.events.count("END-OF-DATA") == 1


def test_hook_failure_sends_nothing_and_propagates(
    plain_server: Server,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    recipient = recipient_factory()
    message = _render(templates, business, recipient, three_invoices)

    class StoreDown(Exception):
        pass

    def hook() -> None:
        raise StoreDown("database is locked")

    with pytest.raises(StoreDown):
        SmtpSender(plain_server.settings()).send(
            message, envelope_to=[recipient.email], before_data_end=hook
        )
    plain_server.recorder.wait_for("CLOSED")  # the server saw the session end mid-DATA
    assert plain_server.recorder.messages == []
    assert "END-OF-DATA" not in plain_server.recorder.events
    assert "DATA" in plain_server.recorder.events


def test_4xx_on_mail_from_is_transient_and_skips_the_hook(
    smtp_server: ServerFactory,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    server = smtp_server()
    server.recorder.mail_reply = "451 4.3.0 Mailbox temporarily unavailable"
    recipient = recipient_factory()
    hook_calls: list[int] = []
    with pytest.raises(MailTransientError) as err:
        SmtpSender(server.settings()).send(
            _render(templates, business, recipient, three_invoices),
            envelope_to=[recipient.email],
            before_data_end=lambda: hook_calls.append(1),
        )
    assert err.value.code == 451
    assert hook_calls == []
    assert server.recorder.messages == []


def test_5xx_recipient_refused_is_permanent_and_nothing_is_sent(
    smtp_server: ServerFactory,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    server = smtp_server()
    server.recorder.rcpt_replies["jane@customer.example"] = "550 5.1.1 No such user"
    recipient = recipient_factory()
    hook_calls: list[int] = []
    with pytest.raises(MailPermanentError) as err:
        SmtpSender(server.settings()).send(
            _render(templates, business, recipient, three_invoices),
            envelope_to=envelope_recipients(business, recipient),
            before_data_end=lambda: hook_calls.append(1),
        )
    assert err.value.code == 550
    assert set(err.value.refused) == {"jane@customer.example"}
    # The BCC copy alone must not go out: the customer would never have been reminded.
    assert hook_calls == [] and server.recorder.messages == []
    assert "DATA" not in server.recorder.events


def test_4xx_recipient_is_transient(
    smtp_server: ServerFactory,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    server = smtp_server()
    server.recorder.rcpt_replies["jane@customer.example"] = "450 4.2.1 Greylisted, try later"
    recipient = recipient_factory()
    with pytest.raises(MailTransientError) as err:
        SmtpSender(server.settings()).send(
            _render(templates, business, recipient, three_invoices), envelope_to=[recipient.email]
        )
    assert err.value.code == 450 and err.value.phase == "RCPT TO"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("554 5.7.1 Message rejected as spam", MailPermanentError),
        ("452 4.3.1 Insufficient system storage", MailTransientError),
    ],
)
def test_rejection_after_the_body_is_classified_and_not_retried(
    smtp_server: ServerFactory,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
    reply: str,
    error: type[Exception],
) -> None:
    server = smtp_server()
    server.recorder.data_reply = reply
    recipient = recipient_factory()
    hook_calls: list[int] = []
    with pytest.raises(error) as err:
        SmtpSender(server.settings()).send(
            _render(templates, business, recipient, three_invoices),
            envelope_to=[recipient.email],
            before_data_end=lambda: hook_calls.append(1),
        )
    assert isinstance(err.value, MailError) and err.value.code == int(reply[:3])
    assert hook_calls == [1]
    assert server.recorder.events.count("END-OF-DATA") == 1  # transmitted exactly once
    assert server.recorder.events.count("MAIL accounts@acme.example") == 1


def test_lost_final_reply_is_outcome_unknown_not_transient(
    smtp_server: ServerFactory,
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    server = smtp_server()
    server.recorder.drop_after_data = True
    recipient = recipient_factory()
    with pytest.raises(MailOutcomeUnknownError) as err:
        SmtpSender(server.settings()).send(
            _render(templates, business, recipient, three_invoices), envelope_to=[recipient.email]
        )
    assert not isinstance(err.value, MailTransientError | MailPermanentError)
    assert len(server.recorder.messages) == 1  # the server did get it: a retry would duplicate
    assert server.recorder.events.count("END-OF-DATA") == 1


def test_connection_refused_is_transient(
    templates: TemplateSet,
    business: Business,
    recipient_factory: Callable[..., Recipient],
    three_invoices: list[InvoiceLine],
) -> None:
    settings = EmailSettings(host="127.0.0.1", port=free_port(), security="none")
    recipient = recipient_factory()
    with pytest.raises(MailTransientError) as err:
        SmtpSender(settings).send(
            _render(templates, business, recipient, three_invoices), envelope_to=[recipient.email]
        )
    assert err.value.phase == "connect"


def test_dot_stuffing_keeps_leading_dots_and_cannot_end_early(plain_server: Server) -> None:
    msg = EmailMessage()
    msg["From"] = "accounts@acme.example"
    msg["To"] = "jane@customer.example"
    msg["Subject"] = "dots"
    msg.set_content(".hidden line\n.\nafter a lone dot\n", cte="7bit")
    SmtpSender(plain_server.settings()).send(msg, envelope_to=["jane@customer.example"])
    [received] = plain_server.recorder.messages
    body = _parse(received.content).get_content().replace("\r\n", "\n")
    assert body == ".hidden line\n.\nafter a lone dot\n"

    assert dot_stuff(b"a\n.\nb") == b"a\r\n..\r\nb\r\n.\r\n"
    assert dot_stuff(b"x\r.y\r\n") == b"x\r\n..y\r\n.\r\n"


def test_idn_domain_is_punycoded_and_duplicates_collapse(
    plain_server: Server,
    templates: TemplateSet,
    business: Business,
    three_invoices: list[InvoiceLine],
) -> None:
    recipient = Recipient("Jörg Müller", "joerg@bücher.example", "de_DE")
    assert recipient.email == "joerg@xn--bcher-kva.example"
    message = _render(templates, business, recipient, three_invoices)
    result = SmtpSender(plain_server.settings()).send(
        message, envelope_to=[recipient.email, recipient.email.upper(), "archive@acme.example"]
    )
    assert result.accepted == ("joerg@xn--bcher-kva.example", "archive@acme.example")
    [received] = plain_server.recorder.messages
    assert received.rcpt_tos == ["joerg@xn--bcher-kva.example", "archive@acme.example"]
    msg = _parse(received.content)
    assert msg["To"].addresses[0].display_name == "Jörg Müller"
    assert msg["Subject"].startswith("Zahlungserinnerung: 3 Rechnungen")


def test_non_ascii_envelope_uses_smtputf8(plain_server: Server) -> None:
    msg = EmailMessage(policy=email.policy.SMTPUTF8)
    msg["From"] = "accounts@acme.example"
    msg["To"] = "jörg@kunde.example"
    msg["Subject"] = "Grüße"
    msg.set_content("hallo\n")
    SmtpSender(plain_server.settings()).send(msg, envelope_to=["jörg@kunde.example"])
    [received] = plain_server.recorder.messages
    assert received.smtp_utf8 and received.rcpt_tos == ["jörg@kunde.example"]
