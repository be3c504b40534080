"""The ``call`` kind, the registry's first new kind, on the pure side: a step's call is
validated, planned with its own key and instructions, explained and counted by simulate."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from policies import (
    CustomerSnapshot,
    DunningInput,
    InvoiceSnapshot,
    InvoiceStatus,
    OrgContext,
    PolicyConfigError,
    PolicySettings,
    available_policies,
    explain_policy,
    plan_cycle,
    resolve_policies,
    simulate,
)
from policies.kinds.registry import kind, kinds

TZ = ZoneInfo("Europe/London")
DUE = date(2024, 5, 1)
RAW = {
    "calls": {
        "steps": [
            {"id": "nudge", "days": 3, "actions": [{"kind": "email", "template": "r"}]},
            {
                "id": "ring",
                "days": 10,
                "actions": [
                    {"kind": "call", "instructions": "Ask when $number ($balance) will be paid"}
                ],
            },
        ]
    }
}
POLICIES = {**available_policies({}), **resolve_policies(RAW)}
ORG = OrgContext("acme", TZ, "calls")


def _item(balance: str = "120.50") -> DunningInput:
    invoice = InvoiceSnapshot(
        invoice_id="i1",
        number="INV-1",
        customer_id="c1",
        currency="GBP",
        issue_date=date(2024, 4, 1),
        due_date=DUE,
        total=Decimal(balance),
        balance=Decimal(balance),
        status=InvoiceStatus.OPEN,
    )
    return DunningInput(invoice, CustomerSnapshot("c1", "Customer c1"))


def _at(days: int) -> datetime:
    return datetime.combine(date.fromordinal(DUE.toordinal() + days), time(10), tzinfo=TZ)


def test_a_call_step_is_planned_with_its_key_and_instructions() -> None:
    result = plan_cycle(
        org=ORG, policies=POLICIES, settings=PolicySettings(), as_of=_at(13), invoices=[_item()]
    )
    (call,) = result.actions
    assert call.kind == "call"
    assert str(call.key) == "acme:i1:ring/call:once"
    assert call.to_dict()["data"] == {"instructions": "Ask when INV-1 (120.50 GBP) will be paid"}
    assert call.to_dict()["action"] == "call"
    assert "a call task is created" in call.reason


def test_a_call_is_explained_and_counted_by_simulate() -> None:
    text = explain_policy("calls", POLICIES["calls"])
    assert "call task for a person" in text and "Ask when $number" in text
    sim = simulate(
        org=ORG,
        policies=POLICIES,
        settings=PolicySettings(),
        invoices=[_item()],
        start=DUE,
        end=date.fromordinal(DUE.toordinal() + 20),
    )
    totals = sim.overall.to_dict()
    assert totals["calls"] == 1 and totals["emails"] == 1
    assert [e.action.kind for e in sim.timeline] == ["email", "call"]


def test_the_call_sorts_after_charges_and_emails_and_before_escalation() -> None:
    order = [s.name for s in kinds()]
    assert order.index("call") > order.index("email") > order.index("late_fee")
    assert order.index("call") < order.index("escalate")
    assert kind("call").config is not None


@pytest.mark.parametrize(
    ("action", "where", "what"),
    [
        ({"kind": "call", "phone": "+44 1"}, "actions[0].phone", "unknown key"),
        ({"kind": "cal"}, "actions[0]", "unknown kind 'cal'"),
    ],
)
def test_a_bad_call_step_is_refused_with_its_key(
    action: dict[str, str], where: str, what: str
) -> None:
    raw = {"p": {"steps": [{"id": "x", "days": 1, "actions": [action]}]}}
    with pytest.raises(PolicyConfigError) as err:
        resolve_policies(raw)
    text = str(err.value)
    assert f"policies.p.steps[0].{where}" in text and what in text
    assert "'call'" in text or what == "unknown key"


def test_a_paid_invoice_gets_no_call() -> None:
    paid = _item()
    paid = replace(
        paid, invoice=replace(paid.invoice, balance=Decimal(0), status=InvoiceStatus.PAID)
    )
    result = plan_cycle(
        org=ORG, policies=POLICIES, settings=PolicySettings(), as_of=_at(13), invoices=[paid]
    )
    assert result.actions == ()
