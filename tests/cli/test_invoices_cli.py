"""``syncd invoices --json`` prints what the store holds, with exact amounts and ISO dates."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from connectors.base import CustomerRecord, InvoiceRecord, InvoiceStatus, Page
from syncd.cli.app import app
from syncd.store import apply_page, ensure_org, open_store

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = """
[store]
url = "{url}"

[[orgs]]
name = "acme"
connector = "quickbooks"
policy = "standard"
[orgs.credentials]
client_id = "cid"
client_secret = "cs"
refresh_token = "rt"
realm_id = "123"
"""


def _inv(pid: str, balance: str, status: InvoiceStatus, currency: str = "USD") -> InvoiceRecord:
    return InvoiceRecord(
        provider_id=pid,
        number=f"10{pid}",
        customer_provider_id="C1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        currency=currency,
        total=Decimal("120.5"),
        balance=Decimal(balance),
        status=status,
        updated_at=T0,
    )


def test_invoices_json_lists_stored_invoices(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'syncd.db'}"
    config = tmp_path / "syncd.toml"
    config.write_text(CONFIG.format(url=url), encoding="utf-8")
    store = open_store(url)
    with store.sessions.begin() as s:
        org_id = ensure_org(s, "acme", "quickbooks", T0).id
        page = Page(
            customers=(CustomerRecord("C1", "Acme Ltd", "ap@acme.test", "USD", T0),),
            invoices=(
                _inv("1", "20.25", InvoiceStatus.OPEN),
                _inv("2", "0", InvoiceStatus.PAID),
                _inv("3", "7", InvoiceStatus.OPEN, "JPY"),
            ),
        )
        apply_page(s, org_id, page, now=T0)
    store.close()

    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(config), "invoices", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["provider_id"] for r in rows] == ["1", "2", "3"]
    first = rows[0]
    assert first == {
        "org": "acme",
        "provider_id": "1",
        "number": "101",
        "customer_id": "C1",
        "customer_name": "Acme Ltd",
        "customer_email": "ap@acme.test",
        "issue_date": "2026-01-01",
        "due_date": "2026-01-31",
        "currency": "USD",
        "total": "120.50",
        "balance": "20.25",
        "status": "open",
        "updated_at": "2026-03-01T12:00:00+00:00",
    }
    assert rows[2]["balance"] == "7" and rows[2]["total"] == "121"  # JPY: no minor unit, half up

    result = runner.invoke(app, ["--config", str(config), "invoices", "--json", "--open"])
    assert [r["provider_id"] for r in json.loads(result.stdout)] == ["1", "3"]

    result = runner.invoke(app, ["--config", str(config), "invoices", "--json", "--org", "nope"])
    assert result.exit_code == 2


def test_db_upgrade_reports_revision(tmp_path: Path) -> None:
    config = tmp_path / "syncd.toml"
    config.write_text(CONFIG.format(url=f"sqlite:///{tmp_path / 'x.db'}"), encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["--config", str(config), "db", "upgrade"])
    assert first.exit_code == 0 and "from empty to 0015" in first.output
    second = runner.invoke(app, ["--config", str(config), "db", "upgrade"])
    assert "up to date (revision 0015)" in second.output
