"""A plan is the same whatever PYTHONHASHSEED: customer groups arrive as frozensets (built by
``customer_snapshot`` from the stored lists), and nothing about their iteration order may
reach the actions, the decisions' reasons or the states. Each seed runs in its own
interpreter, since the seed is fixed when the interpreter starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PLAN = """
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from policies import (
    DunningInput, DunningState, InvoiceSnapshot, OrgContext, PolicySettings, plan_cycle,
    resolve_policies,
)
from syncd.dunning.snapshots import _CustomerRow, customer_snapshot

GROUPS = ["wholesale", "retail", "vip", "north", "south", "east", "west", "b2b", "gov"]
policies = resolve_policies({
    "soft": {"group_emails": True, "steps": [
        {"id": "r1", "days": 1, "actions": [{"kind": "email", "template": "reminder"}]},
        {"id": "vip", "days": 5, "customer_groups": ["vip", "gov", "east"],
         "actions": [{"kind": "email", "template": "vip"}, {"kind": "note", "text": "n"}]},
        {"id": "r9", "days": 9, "customer_groups": ["retail", "west", "north", "b2b"],
         "actions": [{"kind": "email", "template": "firm"}]},
    ]},
    "hard": {"group_emails": True, "steps": [
        {"id": "h3", "days": 3, "actions": [{"kind": "email", "template": "hard"}]},
        {"id": "h8", "days": 8, "customer_groups": ["south", "wholesale", "vip"],
         "actions": [{"kind": "email", "template": "hard-2"}]},
    ]},
})
settings = PolicySettings.model_validate({
    "calendar": {"send_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
    "rules": [
        {"groups": ["gov"], "policy": "hard"},
        {"groups": ["north", "vip", "east"], "policy": "soft"},
    ],
})
customers = {
    f"C{c}": customer_snapshot(
        f"C{c}",
        _CustomerRow(f"Customer {c}", [GROUPS[(c + k) % 9] for k in (0, 3, 5)], None, "GB"),
        (), ["B2B", "Wholesale"],
    )
    for c in range(6)
}
today = date(2026, 3, 2)
inputs = [
    DunningInput(
        InvoiceSnapshot(
            f"I{n:02d}", f"N{(n * 37) % 50:02d}", f"C{n % 6}", "GBP", today - timedelta(days=40),
            today - timedelta(days=n % 12), Decimal(100 + n), Decimal(100 + n),
        ),
        customers[f"C{n % 6}"],
        DunningState(),
    )
    for n in range(30)
]
result = plan_cycle(
    org=OrgContext("org", ZoneInfo("Europe/London"), "soft"), policies=policies,
    settings=settings, as_of=datetime(2026, 3, 2, 9, tzinfo=UTC), invoices=inputs,
)
print(json.dumps({
    "actions": [a.to_dict() for a in result.actions],
    "decisions": [[d.invoice_id, d.policy, list(d.reasons)] for d in result.decisions],
    "states": {k: v.to_dict() for k, v in sorted(result.states.items())},
}, default=str, sort_keys=True))
"""


def _plan(seed: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", PLAN], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    out: dict[str, object] = json.loads(done.stdout)
    return out


def test_the_plan_does_not_depend_on_the_hash_seed() -> None:
    first = _plan("1")
    actions = first["actions"]
    assert isinstance(actions, list)
    # the world exercises what the seed could reorder: grouped emails of several invoices,
    # both policies chosen by group rules, and steps filtered by customer groups
    assert any(len(a["invoices"]) > 1 for a in actions if a["action"] == "email")
    assert {a["policy"] for a in actions} >= {"soft", "hard"}
    assert any("step's groups" in r for _, _, reasons in first["decisions"] for r in reasons)  # type: ignore[attr-defined]
    for seed in ("2", "12345"):
        assert _plan(seed) == first
