"""The engine on worked scenarios: steps, grouping, pauses, rules, refunds, policy edits,
state persistence, simulate and explain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from policies import (
    ActionKind,
    CustomerSnapshot,
    DunningInput,
    DunningState,
    EscalationLevel,
    HoldKind,
    InvoiceSnapshot,
    InvoiceStatus,
    OrgContext,
    Outcome,
    Payment,
    PlanResult,
    PolicyConfig,
    PolicySettings,
    StepOutcome,
    available_policies,
    dispute,
    explain_invoice,
    pause,
    plan_cycle,
    resolve_policies,
    resume,
    simulate,
    validate_settings,
    with_holds,
)

TZ = ZoneInfo("Europe/London")
ORG = OrgContext("acme", TZ, "standard")
POLICIES = available_policies({})
SETTINGS = PolicySettings()
DUE = date(2024, 5, 1)


def inv(
    iid: str = "i1",
    *,
    customer: str = "c1",
    balance: str = "1000",
    total: str | None = None,
    due: date = DUE,
    currency: str = "GBP",
    status: InvoiceStatus = InvoiceStatus.OPEN,
) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        invoice_id=iid,
        number=f"INV-{iid}",
        customer_id=customer,
        currency=currency,
        issue_date=date(2024, 4, 1),
        due_date=due,
        total=Decimal(total or balance),
        balance=Decimal(balance),
        status=status,
    )


def cust(cid: str = "c1", **kw: Any) -> CustomerSnapshot:
    return CustomerSnapshot(cid, f"Customer {cid}", **kw)


def day(n: int) -> datetime:
    """10:00 London on due date + n days."""
    d = date.fromordinal(DUE.toordinal() + n)
    return datetime.combine(d, time(10), tzinfo=TZ)


def plan(
    items: list[DunningInput],
    as_of: datetime,
    *,
    policies: dict[str, PolicyConfig] | None = None,
    settings: PolicySettings = SETTINGS,
    org: OrgContext = ORG,
) -> PlanResult:
    return plan_cycle(
        org=org, policies=policies or POLICIES, settings=settings, as_of=as_of, invoices=items
    )


class World:
    """The caller: keeps states and commits what the engine returns."""

    def __init__(self, invoices: list[InvoiceSnapshot], customers: list[CustomerSnapshot]) -> None:
        self.invoices = {i.invoice_id: i for i in invoices}
        self.customers = {c.customer_id: c for c in customers}
        self.states: dict[str, DunningState] = {}

    def run(self, as_of: datetime, **kw: Any) -> PlanResult:
        items = [
            DunningInput(
                i, self.customers[i.customer_id], self.states.get(i.invoice_id, DunningState())
            )
            for i in self.invoices.values()
        ]
        result = plan(items, as_of, **kw)
        self.states.update(result.states)
        return result


def fired(result: PlanResult) -> list[tuple[str, str]]:
    return sorted({(d.invoice_id, d.fired_step) for d in result.decisions if d.fired_step})


def test_each_step_fires_once_on_its_day() -> None:
    w = World([inv()], [cust()])
    seen: list[tuple[int, str]] = []
    for n in range(-5, 40):
        r = w.run(day(n))
        seen.extend((n, s) for _, s in fired(r))
        assert plan([DunningInput(w.invoices["i1"], cust(), w.states["i1"])], day(n)).actions == ()
    # day -3 is Sunday 28 Apr: nothing is planned on a closed day, so the heads-up goes
    # out on Monday (day -2)
    assert seen == [
        (-2, "heads-up"),
        (1, "reminder"),
        (7, "firm-reminder"),
        (14, "late-fee"),
        (30, "final-notice"),
    ]
    state = w.states["i1"]
    assert state.escalation is EscalationLevel.LETTER and state.stopped_on == day(30).date()
    assert state.next_action_on is None


def test_missed_steps_send_only_the_latest_never_a_burst() -> None:
    w = World([inv()], [cust()])
    w.run(day(-2))  # Monday: heads-up
    r = w.run(day(20))  # daemon down from day -2 to day 20
    assert fired(r) == [("i1", "late-fee")]
    emails = [a for a in r.actions if a.kind is ActionKind.EMAIL]
    assert [a.template for a in emails] == ["late-fee-notice"]
    outcomes = {s.step_id: s.outcome for s in w.states["i1"].steps}
    assert outcomes == {
        "heads-up": StepOutcome.FIRED,
        "reminder": StepOutcome.SUPERSEDED,
        "firm-reminder": StepOutcome.SUPERSEDED,
        "late-fee": StepOutcome.FIRED,
    }
    assert "'reminder', 'firm-reminder' were missed" in r.decisions[0].reasons[-1]
    # going back in time (clock jump) re-sends nothing
    assert w.run(day(2)).actions == ()


def test_plan_is_deterministic() -> None:
    items = [DunningInput(inv(f"i{k}", customer=f"c{k % 2}"), cust(f"c{k % 2}")) for k in range(6)]
    assert plan(items, day(14)) == plan(list(reversed(items)), day(14))


def test_one_email_per_customer_listing_every_overdue_invoice() -> None:
    invoices = [
        inv("a1", customer="a", due=DUE),  # day 7: firm reminder
        inv("a2", customer="a", due=date(2024, 5, 7)),  # day 1: reminder
        inv("a3", customer="a", due=date(2024, 5, 2)),  # day 6: overdue, nothing due today
        inv("b1", customer="b", due=date(2024, 5, 7)),
    ]
    w = World(invoices, [cust("a"), cust("b")])
    w.states["a1"] = plan([DunningInput(invoices[0], cust("a"))], day(1)).states["a1"]
    w.states["a3"] = plan([DunningInput(invoices[2], cust("a"))], day(2)).states["a3"]
    r = w.run(day(7))
    emails = [a for a in r.actions if a.kind is ActionKind.EMAIL]
    assert [(e.customer_id, [i.invoice_id for i in e.items]) for e in emails] == [
        ("a", ["a1", "a2"]),
        ("b", ["b1"]),
    ]
    grouped = emails[0]
    assert grouped.template == "firm-reminder"  # the most advanced step sets the tone
    assert grouped.also_overdue == ("a3",)
    assert grouped.invoice_id is None and str(grouped.key).startswith("acme:customer/a:email/")
    assert [str(i.key) for i in grouped.items] == [
        "acme:a1:firm-reminder/email:once",
        "acme:a2:reminder/email:once",
    ]
    assert str(emails[1].key) == "acme:b1:reminder/email:once"


def test_grouping_can_be_turned_off_per_policy() -> None:
    own = resolve_policies({"solo": {"extends": "standard", "group_emails": False}})
    items = [DunningInput(inv(f"i{k}"), cust()) for k in range(3)]
    r = plan(items, day(1), policies={**POLICIES, **own}, org=replace(ORG, default_policy="solo"))
    assert [len(a.items) for a in r.actions if a.kind is ActionKind.EMAIL] == [1, 1, 1]


@pytest.mark.parametrize(
    "status", [InvoiceStatus.PAID, InvoiceStatus.VOIDED, InvoiceStatus.DELETED, InvoiceStatus.DRAFT]
)
def test_closed_invoices_get_nothing(status: InvoiceStatus) -> None:
    r = plan([DunningInput(inv(status=status), cust())], day(14))
    assert r.actions == () and r.decisions[0].outcome is Outcome.CLOSED
    assert plan([DunningInput(inv(balance="0"), cust())], day(14)).actions == ()


def test_pause_skips_and_resumes_where_it_stood() -> None:
    w = World([inv()], [cust()])
    w.run(day(1))  # reminder
    state = w.states["i1"]
    w.states["i1"] = with_holds(
        state,
        pause(state.holds, on=day(2).date(), until=day(32).date(), by="ann", reason="PTP"),
        replan_on=day(2).date(),
    )
    for n in range(2, 32):
        r = w.run(day(n))
        assert r.actions == ()
        assert r.decisions[0].outcome is Outcome.ON_HOLD
    assert w.states["i1"].next_action_on == day(32).date()
    # 30 days on hold do not count: the firm reminder (day 7) comes 5 dunning days later
    for n in range(32, 37):
        assert w.run(day(n)).actions == ()
    r = w.run(day(37))
    assert fired(r) == [("i1", "firm-reminder")]
    assert "30 days on hold are not counted" in " ".join(r.decisions[0].reasons)


def test_dispute_blocks_until_resumed_and_customer_holds_apply_to_all_invoices() -> None:
    w = World([inv("i1"), inv("i2")], [cust()])
    w.run(day(1))
    holds = dispute((), on=day(3).date(), by="bob", reason="wrong quantity")
    w.customers["c1"] = cust(holds=holds)
    r = w.run(day(10))
    assert r.actions == () and {d.outcome for d in r.decisions} == {Outcome.ON_HOLD}
    assert (
        "disputed" in r.decisions[0].reasons[-1] and "wrong quantity" in r.decisions[0].reasons[-1]
    )
    w.customers["c1"] = cust(holds=resume(holds, on=day(20).date()))
    r = w.run(day(20))
    # dunning day = 20 - 17 held days = 3: nothing new is due (reminder on 1, firm on 7)
    assert r.actions == () and r.decisions[0].dunning_day == 3
    # firm reminder on dunning day 7 = day 24 (Saturday 25 May): sent on Monday (day 26)
    assert w.run(day(24)).actions == ()
    assert fired(w.run(day(26))) == [("i1", "firm-reminder"), ("i2", "firm-reminder")]


def test_partial_payment_keeps_the_stage_and_recomputes_amounts() -> None:
    w = World([inv()], [cust()])
    r = w.run(day(14))
    assert [a.amount.amount for a in r.actions if a.amount] == [Decimal("15.00")]  # 1.5% of 1000
    w.invoices["i1"] = replace(w.invoices["i1"], balance=Decimal("400"))
    r = w.run(day(15))
    assert r.actions == ()
    assert w.states["i1"].stage is not None and w.states["i1"].stage.step_id == "late-fee"
    # final notice at day 30 reports the new balance
    r = w.run(day(30))
    assert "400.00 GBP open" in r.decisions[0].reasons[-1]


def test_refund_reopens_and_continues_from_its_stage() -> None:
    w = World([inv()], [cust()])
    w.run(day(7))
    w.invoices["i1"] = replace(w.invoices["i1"], balance=Decimal(0), status=InvoiceStatus.PAID)
    r = w.run(day(9))
    assert r.actions == () and w.states["i1"].next_action_on is None
    assert w.states["i1"].stage is not None  # history is kept while paid
    w.invoices["i1"] = replace(w.invoices["i1"], balance=Decimal(200), status=InvoiceStatus.OPEN)
    r = w.run(day(11))
    assert r.actions == ()  # firm reminder already done; nothing repeats
    assert fired(w.run(day(14))) == [("i1", "late-fee")]


def test_policy_edit_never_resends_a_done_step() -> None:
    w = World([inv()], [cust()])
    w.run(day(7))  # firm-reminder done
    edited = resolve_policies(
        {
            "standard": {
                "extends": "standard",
                "steps": [
                    {"id": "firm-reminder", "days": 10},  # moved later: same id, stays done
                    {"id": "new-early", "days": 5, "actions": [{"kind": "email", "template": "x"}]},
                    {"id": "nudge", "days": 9, "actions": [{"kind": "email", "template": "nudge"}]},
                ],
            }
        }
    )
    policies = {**POLICIES, **edited}
    sent = [s for n in range(7, 13) for _, s in fired(w.run(day(n), policies=policies))]
    assert sent == ["nudge"]


def test_rules_choose_policy_or_exclude() -> None:
    settings = validate_settings(
        {
            "rules": [
                {"name": "internal", "customer_ids": ["staff"], "exclude": True},
                {"name": "vip", "groups": ["vip"], "policy": "gentle"},
                {"name": "big", "balance_min": {"GBP": "10000"}, "policy": "uk-statutory"},
                {"name": "dollars", "currencies": ["USD"], "policy": "firm"},
            ],
            "rates": {"boe_base": [{"since": "2023-08-03", "percent": "5.25"}]},
        },
        policies=POLICIES,
    )
    items = [
        DunningInput(inv("s", customer="staff"), cust("staff")),
        DunningInput(inv("v", customer="v", balance="50000"), cust("v", groups=frozenset({"vip"}))),
        DunningInput(inv("b", customer="b", balance="10000"), cust("b")),
        DunningInput(inv("u", customer="u", currency="USD"), cust("u")),
        DunningInput(inv("n", customer="n", balance="9999.99"), cust("n")),
    ]
    r = plan(items, day(6), settings=settings)
    got = {d.invoice_id: (d.outcome.value, d.policy) for d in r.decisions}
    assert got == {
        "s": ("excluded", None),
        "v": ("acted", "gentle"),
        "b": ("acted", "uk-statutory"),
        "u": ("acted", "firm"),
        "n": ("acted", "standard"),
    }
    assert r.decisions[[d.invoice_id for d in r.decisions].index("s")].reasons == (
        "excluded from dunning by rule 'internal'",
    )


def test_step_filters_min_balance_and_groups() -> None:
    own = resolve_policies(
        {
            "p": {
                "steps": [
                    {"id": "r", "days": 1, "actions": [{"kind": "email", "template": "r"}]},
                    {
                        "id": "call",
                        "days": 5,
                        "min_balance": {"GBP": "500"},
                        "customer_groups": ["key-accounts"],
                        "actions": [{"kind": "note", "text": "call $customer about $number"}],
                    },
                ]
            }
        }
    )
    org = replace(ORG, default_policy="p")
    small = plan(
        [DunningInput(inv(balance="100"), cust(groups=frozenset({"key-accounts"})))],
        day(5),
        policies=own,
        org=org,
    )
    assert small.actions and fired(small) == [("i1", "r")]
    assert any("below the step's minimum" in r for r in small.decisions[0].reasons)
    big = plan(
        [DunningInput(inv(), cust(groups=frozenset({"key-accounts"})))],
        day(5),
        policies=own,
        org=org,
    )
    (note,) = [a for a in big.actions if a.kind is ActionKind.NOTE]
    assert note.text == "call Customer c1 about INV-i1"


def test_state_round_trips_through_json() -> None:
    import json

    w = World([inv()], [cust()])
    w.run(day(14))
    state = w.states["i1"]
    state = with_holds(
        state,
        pause(state.holds, on=day(15).date(), until=day(20).date(), by="x"),
        replan_on=day(15).date(),
    )
    state = replace(state, compensation=Decimal("40.00"))
    again = DunningState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert again.holds[0].kind is HoldKind.PAUSE


def test_idempotency_keys_are_stable_and_escaped() -> None:
    org = OrgContext("Acme: UK", TZ, "standard")
    r1 = plan([DunningInput(inv("7:1"), cust())], day(14), org=org)
    r2 = plan([DunningInput(inv("7:1"), cust())], day(14), org=org)
    keys = sorted(str(a.key) for a in r1.actions)
    assert keys == sorted(str(a.key) for a in r2.actions)
    assert keys == ["Acme%3A%20UK:7%3A1:fee/monthly:0", "Acme%3A%20UK:7%3A1:late-fee/email:once"]
    assert all(len(a.key.digest) == 32 for a in r1.actions)


def test_plan_json_shape() -> None:
    r = plan([DunningInput(inv(), cust())], day(14))
    fee = next(a for a in r.actions if a.kind is ActionKind.LATE_FEE).to_dict()
    assert fee["invoice"] == {"provider_id": "i1", "number": "INV-i1"}
    assert (fee["org"], fee["customer"], fee["action"], fee["amount"], fee["currency"]) == (
        "acme",
        "c1",
        "late_fee",
        "15.00",
        "GBP",
    )
    assert fee["step"] == "late-fee" and fee["reason"] and fee["scheduled_for"].endswith("+00:00")


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan([], datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="given twice"):
        plan([DunningInput(inv(), cust()), DunningInput(inv(), cust())], day(1))
    r = plan([DunningInput(inv(), cust())], day(1), org=replace(ORG, default_policy="nope"))
    assert r.decisions[0].outcome is Outcome.NO_POLICY


def test_explain_invoice_says_why() -> None:
    text = explain_invoice(
        org=ORG,
        policies=POLICIES,
        settings=SETTINGS,
        as_of=day(20),
        item=DunningInput(inv(), cust()),
    )
    assert "step 'late-fee' (14 days overdue) is due" in text
    assert "'heads-up', 'reminder', 'firm-reminder' were missed" in text
    assert "late_fee 15.00 GBP" in text
    quiet = explain_invoice(
        org=ORG,
        policies=POLICIES,
        settings=SETTINGS,
        as_of=day(6),
        item=DunningInput(inv(), cust(), plan([DunningInput(inv(), cust())], day(1)).states["i1"]),
    )
    assert "no step due today (dunning day 6); next: 'firm-reminder' (7 days overdue)" in quiet
    assert "Next look: 2024-05-08" in quiet


def test_simulate_compares_policies_and_stops_on_payment() -> None:
    invoices = [
        DunningInput(inv("late", customer="a"), cust("a")),
        DunningInput(
            replace(
                inv("paid", customer="b", balance="0", total="500", status=InvoiceStatus.PAID),
                payments=(Payment(date(2024, 5, 10), Decimal(500)),),
            ),
            cust("b"),
        ),
    ]
    kw: dict[str, Any] = {
        "org": ORG,
        "policies": POLICIES,
        "settings": SETTINGS,
        "invoices": invoices,
        "start": date(2024, 4, 1),
        "end": date(2024, 7, 31),
    }
    standard = simulate(**kw)
    gentle = simulate(**kw, policy="gentle")
    assert standard.overall.to_dict() == {
        "emails": 8,  # a: 5 steps; b: heads-up, reminder, firm (paid on day 9)
        "invoices_reminded": 8,
        "provider_emails": 0,
        "notes": 3,  # a: reminder + final notice; b: reminder
        "escalations": 1,
        "stops": 0,
        "held_for_review": 0,
        "fee_periods_waived": 0,
        "fees": {"GBP": "15.00"},
        "interest": {},
        "compensation": {},
    }
    assert gentle.overall.fees == {} and gentle.overall.escalations == 0
    assert (
        gentle.overall.stops == 1 and gentle.overall.emails == 4 + 2
    )  # b: heads-up, day-3 reminder
    b_days = [e.day for e in standard.timeline if e.action.customer_id == "b"]
    assert max(b_days) < date(2024, 5, 10)
    assert standard.to_dict()["per_customer"]["a"]["fees"] == {"GBP": "15.00"}
    assert standard.timeline[0].action.scheduled_for == datetime(2024, 4, 29, 8, tzinfo=UTC)
