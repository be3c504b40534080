"""The executor's mailer on a real store and a real SMTP server: the business's name from
the provider, the customer's locale, reminder history from the outbox, "coming up"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from connectors.base import CompanyInfo, CustomerRecord, InvoiceRecord, InvoiceStatus, Page
from syncd.company import save_company
from syncd.config.models import EmailSettings
from syncd.outbox.email import ReminderMailer
from syncd.store import Store, apply_page, ensure_org
from syncd.store.models import OutboxAction, OutboxStatus
from tests.support.smtp import smtp_server

NOW = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)


def _invoice(pid: str, due: date, balance: str) -> InvoiceRecord:
    return InvoiceRecord(
        provider_id=pid,
        number=f"N-{pid}",
        customer_provider_id="C1",
        issue_date=due - timedelta(days=30),
        due_date=due,
        currency="USD",
        total=Decimal(balance),
        balance=Decimal(balance),
        status=InvoiceStatus.OPEN,
        updated_at=NOW - timedelta(days=1),
        raw={},
    )


def _row(org_id: int, key: str, status: str, invoices: list[str], **extra: Any) -> OutboxAction:
    payload: dict[str, Any] = {
        "template": "final-notice",
        "invoices": [{"provider_id": i} for i in invoices],
        "coming_up": extra.pop("coming_up", []),
    }
    return OutboxAction(
        org_id=org_id,
        idempotency_key=key,
        kind="email",
        customer_provider_id="C1",
        payload=payload,
        status=status,
        attempts=0,
        scheduled_for=NOW,
        created_at=extra.get("at", NOW),
        updated_at=extra.get("at", NOW),
        result=extra.get("result"),
    )


def _body(raw: bytes) -> str:
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(msg["From"]) + "\n" + str(part.get_content())


def test_mailer_speaks_for_the_business_and_tells_the_truth(store: Store) -> None:
    with store.sessions.begin() as session:
        org_id = ensure_org(session, "acme", "quickbooks", NOW).id
        customer = CustomerRecord(
            provider_id="C1",
            name="Jane Doe",
            email="jane@customer.example",
            currency="USD",
            updated_at=NOW - timedelta(days=1),
            country="US",
        )
        invoices = (
            _invoice("1", date(2026, 9, 16), "1984.50"),
            _invoice("2", date(2026, 9, 20), "10.00"),
            _invoice("3", date(2026, 10, 20), "300.00"),
        )
        apply_page(session, org_id, Page(customers=(customer,), invoices=invoices), now=NOW)
        # Invoice 1 was reminded on 23 Sep (done); a failed attempt on 2 never reached anyone.
        session.add(
            _row(
                org_id,
                "k-old",
                OutboxStatus.DONE.value,
                ["1"],
                at=NOW - timedelta(days=7),
                result={"invoices": ["1"]},
            )
        )
        session.add(
            _row(org_id, "k-failed", OutboxStatus.FAILED.value, ["2"], at=NOW - timedelta(days=3))
        )
        row = _row(
            org_id,
            "k-now",
            OutboxStatus.IN_FLIGHT.value,
            ["1", "2"],
            coming_up=[{"provider_id": "3"}],
        )
        session.add(row)
        session.flush()
        row_id = row.id
    with smtp_server() as (inbox, port):
        settings = EmailSettings(
            host="127.0.0.1",
            port=port,
            security="none",
            from_address="Accounts <ar@acme.example>",
        )
        mailer = ReminderMailer(
            store, org_id, settings, org_name="acme", timezone="America/New_York", now=lambda: NOW
        )
        with store.sessions() as session:
            live = session.get(OutboxAction, row_id)
            assert live is not None
        fresh = {i.provider_id: i for i in invoices[:2]}
        handed: list[str] = []
        # Before the provider has named the business: the config's display name.
        _message, business, _ = mailer.build(live, fresh)
        assert business.name == "Accounts"
        with store.sessions.begin() as session:
            save_company(session, org_id, CompanyInfo(name="Acme Widgets Inc", country="US"), NOW)
        mailer(live, fresh, handed.append)
    assert len(inbox.messages) == 1 and handed
    text = _body(inbox.messages[0].message.as_bytes())
    assert text.startswith("Acme Widgets Inc <ar@acme.example>\n")
    assert text.rstrip().endswith("Kind regards,\nAcme Widgets Inc")
    assert "Accounts" not in text
    # One of the two invoices was reminded: no "Despite our previous reminders".
    assert "Despite" not in text
    assert "We have written to you before about some of the invoices below." in text
    assert "Reminded on: Sep 23, 2026" in text
    assert "Balance due: $1,984.50" in text and "Sep 16, 2026" in text
    assert "Total outstanding: $1,994.50" in text
    assert "  Invoice N-3: $300.00, due Oct 20, 2026" in text
