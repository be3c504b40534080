"""Issue 14, "first plan on a backlog": on a seeded company with an 18-month backlog, the first
``syncd plan --json`` after backfill charges nothing dated before go-live, escalates nothing,
writes each customer at most once, with the account summary, which claims no earlier reminder."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from tests.review.conftest import World

CHARGES = {"late_fee", "interest", "compensation"}
CLAIMS = ("Despite", "earlier reminder", "previous reminder", "wrote to you", "written to you")


def test_first_plan_on_a_backlog_is_one_polite_summary_per_customer(backlog: World) -> None:
    actions = json.loads(backlog.cli("plan", "--json").stdout)
    today = backlog.now().date()
    overdue = [
        i for a in actions for i in a["invoices"] if date.fromisoformat(i["due_date"]) < today
    ]
    assert len(overdue) >= 20, "the seeded backlog has many overdue invoices"
    assert max(i["days_overdue"] for i in overdue) > 180  # an 18-month backlog
    kinds = Counter(a["action"] for a in actions)
    assert not CHARGES & set(kinds), kinds  # go-live is today: nothing dated before it
    assert "escalate" not in kinds and "stop" not in kinds, kinds
    emails = [a for a in actions if a["action"] == "email"]
    assert emails
    per_customer = Counter(a["customer"] for a in emails)
    assert max(per_customer.values()) == 1, per_customer.most_common(3)
    for a in emails:  # an overdue invoice enters the ladder only through the summary
        late = [i for i in a["invoices"] if date.fromisoformat(i["due_date"]) < today]
        assert a["template"] == ("account-summary" if late else "heads-up"), a
    assert any(a["template"] == "account-summary" for a in emails)
    for a in [a for a in emails if a["template"] == "account-summary"][:5]:
        number = a["invoices"][0]["number"]
        text = backlog.cli("preview", "--invoice", number, "--format", "text").stdout
        assert number in text
        for claim in CLAIMS:
            assert claim.lower() not in text.lower(), (claim, text)
