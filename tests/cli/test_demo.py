"""``syncd demo`` end to end through the installed command, on fewer days and invoices: the
mail folder holds exactly the reminders the outbox marks done, none for an invoice after its
customer paid it, the summary counts what the store holds, and a re-run starts clean."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from syncd.mail import KEY_HEADER
from syncd.outbox.email import key_digest

SYNCD = [sys.executable, "-m", "syncd", "--log-level", "WARNING"]


def demo(cwd: Path, *options: str) -> dict[str, Any]:
    done = subprocess.run(
        [*SYNCD, "demo", "--json", *options], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _ids(payload: dict[str, Any], result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The invoices an email named as sent: the executor re-reads each invoice first and
    leaves out those paid since planning (``result["invoices"]``)."""
    items = list(payload.get("invoices") or [])
    if payload.get("invoice"):
        items.append(payload["invoice"])
    if result and "invoices" in result:
        kept = {str(i) for i in result["invoices"]}
        items = [i for i in items if str(i["provider_id"]) in kept]
    return items


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None
    return str(part.get_content())


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_demo_mail_matches_the_outbox_and_stops_at_payment(tmp_path: Path) -> None:
    summary = demo(tmp_path, "--days", "10", "--invoices", "60", "--seed", "3")
    folder = tmp_path / "syncd-demo"
    db = folder / "syncd.db"
    sent = {
        key_digest(key): (org, _ids(json.loads(payload), json.loads(result or "null")), to, at)
        for key, org, payload, result, to, at in _rows(
            db,
            "SELECT a.idempotency_key, o.name, a.payload, a.result, c.email, a.updated_at "
            "FROM outbox_actions a JOIN orgs o ON o.id = a.org_id "
            "LEFT JOIN customers c ON c.org_id = a.org_id "
            "AND c.provider_id = a.customer_provider_id "
            "WHERE a.kind = 'email' AND a.status = 'done'",
        )
    }
    files = sorted((folder / "mail").glob("*.eml"))
    assert files and len(files) == len(sent)
    seen = set()
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        digest = str(message[KEY_HEADER])
        assert digest in sent, f"{path.name}: no outbox row marked sent for it"
        seen.add(digest)
        _org, items, cust_email, _at = sent[digest]
        to = [a.addr_spec.lower() for a in message["To"].addresses]
        assert to and all(a in (cust_email or "").lower() for a in to), (to, cust_email)
        numbers = [str(i["number"]) for i in items]
        assert any(n in _body(message) for n in numbers), (path.name, numbers)
    assert seen == set(sent)

    # Payments as the sandboxes recorded them (synced into the store): the date each invoice
    # was paid in full; no reminder went out that day or later.
    paid_on: dict[tuple[str, str], date] = {}
    for org, invoice, paid in _rows(
        db,
        "SELECT o.name, i.provider_id, MAX(p.date) FROM invoices i "
        "JOIN orgs o ON o.id = i.org_id "
        "JOIN payment_allocations pa ON pa.invoice_provider_id = i.provider_id "
        "JOIN payments p ON p.id = pa.payment_id AND p.org_id = i.org_id "
        "WHERE i.balance = 0 GROUP BY o.name, i.provider_id",
    ):
        paid_on[(org, invoice)] = date.fromisoformat(paid)
    demo_paid = {(p["org"], p["invoice"]) for p in summary["payments"]}
    assert demo_paid, "some customers paid during the demo"
    for org, items, _cust, updated in sent.values():
        when = datetime.fromisoformat(updated).date()
        for item in items:
            paid = paid_on.get((org, str(item["provider_id"])))
            assert paid is None or when < paid, (org, item["number"], when, paid)
    assert summary["actions_after_payment"] == 0

    # The summary's counts are the store's.
    assert sum(o["emails"] for o in summary["orgs"]) == len(sent)
    by_kind = dict(
        _rows(db, "SELECT kind, COUNT(*) FROM outbox_actions WHERE status='done' GROUP BY kind")
    )
    assert sum(o["notes"] for o in summary["orgs"]) == by_kind.get("note", 0)
    fees = by_kind.get("late_fee", 0) + by_kind.get("interest", 0)
    assert sum(o["fees"] for o in summary["orgs"]) == fees
    statuses = dict(_rows(db, "SELECT status, COUNT(*) FROM outbox_actions GROUP BY status"))
    assert summary["statuses"] == statuses
    approved = _rows(db, "SELECT COUNT(*) FROM audit_log WHERE event = 'action.approved'")[0][0]
    assert summary["approved_in_review"] == approved > 0

    # A re-run replaces the store, the mail and the config.
    (folder / "mail" / "stale.eml").write_text("old", encoding="utf-8")
    old_config = (folder / "syncd.toml").read_text(encoding="utf-8")
    again = demo(tmp_path, "--days", "1", "--invoices", "20", "--seed", "3")
    assert not (folder / "mail" / "stale.eml").exists()
    assert len(list((folder / "mail").glob("*.eml"))) == sum(o["emails"] for o in again["orgs"])
    assert (
        dict(_rows(db, "SELECT status, COUNT(*) FROM outbox_actions GROUP BY status"))
        == (again["statuses"])
    )
    assert _rows(db, "SELECT COUNT(*) FROM invoices")[0][0] == 40
    assert (folder / "syncd.toml").read_text(encoding="utf-8") != old_config
