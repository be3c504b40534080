"""Go-live rules (issue 14), worked by hand: onboarding entry and later steps, review of
old debts, no backdating, fee catch-up and balance history, closed days, one email per
invoice per morning, coming-up invoices, review overrides and the warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from policies import (
    ActionKind,
    CustomerSnapshot,
    Deferral,
    DunningInput,
    DunningState,
    FeeCharge,
    InvoiceSnapshot,
    OrgContext,
    Payment,
    PlannedAction,
    PlanResult,
    PolicyConfig,
    PolicySettings,
    StepOutcome,
    StepRecord,
    available_policies,
    explain_invoice,
    plan_cycle,
    resolve_policies,
    validate_settings,
)

TZ = ZoneInfo("Europe/London")
GO_LIVE = date(2026, 12, 1)  # a Tuesday
ORG = OrgContext("acme", TZ, "standard", go_live=GO_LIVE)
POLICIES = available_policies({})
SETTINGS = PolicySettings()


def inv(
    iid: str,
    due: date,
    *,
    balance: str = "1000",
    total: str | None = None,
    customer: str = "c1",
    currency: str = "GBP",
    payments: tuple[Payment, ...] = (),
) -> InvoiceSnapshot:
    return InvoiceSnapshot(
        invoice_id=iid,
        number=f"INV-{iid}",
        customer_id=customer,
        currency=currency,
        issue_date=due - timedelta(days=30),
        due_date=due,
        total=Decimal(total or balance),
        balance=Decimal(balance),
        payments=payments,
    )


def at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=TZ)


class World:
    """The caller: keeps states and commits what the engine returns."""

    def __init__(
        self,
        invoices: list[InvoiceSnapshot],
        customers: list[CustomerSnapshot] | None = None,
        *,
        org: OrgContext = ORG,
        policies: dict[str, PolicyConfig] | None = None,
        settings: PolicySettings = SETTINGS,
    ) -> None:
        self.invoices = {i.invoice_id: i for i in invoices}
        customers = customers or [CustomerSnapshot(i.customer_id) for i in invoices]
        self.customers = {c.customer_id: c for c in customers}
        self.states: dict[str, DunningState] = {}
        self.org, self.settings = org, settings
        self.policies = policies or POLICIES

    def run(self, d: date) -> PlanResult:
        items = [
            DunningInput(
                i, self.customers[i.customer_id], self.states.get(i.invoice_id, DunningState())
            )
            for i in self.invoices.values()
        ]
        result = plan_cycle(
            org=self.org,
            policies=self.policies,
            settings=self.settings,
            as_of=at(d),
            invoices=items,
        )
        self.states.update(result.states)
        return result

    def run_days(self, first: date, last: date) -> dict[date, PlanResult]:
        out = {}
        d = first
        while d <= last:
            out[d] = self.run(d)
            d += timedelta(days=1)
        return out


def emails(result: PlanResult) -> list[PlannedAction]:
    return [a for a in result.actions if a.kind is ActionKind.EMAIL]


# ---------------------------------------------------------------------------
# onboarding


def test_overdue_at_go_live_enter_with_one_summary_then_steps_count_from_the_entry() -> None:
    w = World(
        [
            inv("a", date(2026, 10, 2)),  # 60 days overdue at go-live
            inv("b", date(2026, 11, 21), balance="400"),  # 10 days overdue at go-live
            inv("c", date(2026, 12, 10), balance="250"),  # not yet due
        ]
    )
    first = w.run(GO_LIVE)
    # one polite email for the customer, listing both overdue invoices; nothing else: no
    # fee, no escalation (standard's final notice at day 30 would otherwise be due for a)
    assert [a.kind for a in first.actions] == [ActionKind.EMAIL]
    (entry,) = first.actions
    assert entry.template == "account-summary" and entry.step_id == "onboarding"
    assert [i.invoice_id for i in entry.items] == ["a", "b"]
    assert [str(i.key) for i in entry.items] == [
        "acme:a:onboarding/email:once",
        "acme:b:onboarding/email:once",
    ]
    assert entry.review is None and entry.coming_up == ()
    assert "go-live 2026-12-01: the invoice was 60 day(s) overdue" in first.decisions[0].reasons[1]
    # the entry stands for the first overdue step (day 1): a is shifted by 60 - 1 = 59 days,
    # b by 10 - 1 = 9; the firm reminder (day 7) comes 6 days after the entry
    assert (w.states["a"].clock_shift, w.states["b"].clock_shift) == (59, 9)
    assert w.states["a"].onboarded_on == GO_LIVE
    assert w.states["a"].next_action_on == date(2026, 12, 7)
    quiet = w.run_days(date(2026, 12, 2), date(2026, 12, 6))
    assert all(r.actions == () for r in quiet.values())
    # 7 Dec: firm reminder for a and b, never several steps at once; c's heads-up (3 days
    # before its due date) rides along as "coming up", not in the amount demanded
    r = w.run(date(2026, 12, 7))
    (email,) = emails(r)
    assert email.template == "firm-reminder"
    assert [(i.invoice_id, i.step_id) for i in email.items] == [
        ("a", "firm-reminder"),
        ("b", "firm-reminder"),
    ]
    assert [(i.invoice_id, i.step_id) for i in email.coming_up] == [("c", "heads-up")]
    assert sum(i.balance.amount for i in email.items) == Decimal("1400.00")
    assert email.to_dict()["coming_up"][0]["number"] == "INV-c"
    assert {d.invoice_id: d.superseded for d in r.decisions if d.fired_step} == {
        "a": (),
        "b": (),
        "c": (),
    }
    w.run_days(date(2026, 12, 8), date(2026, 12, 13))
    # 14 Dec: late-fee step (effective day 14); period 0 of the monthly fee starts today:
    # 1.5% of 1,000 = 15.00 and 1.5% of 400 = 6.00, nothing for the weeks before
    r = w.run(date(2026, 12, 14))
    fees = {a.invoice_id: a.amount for a in r.actions if a.kind is ActionKind.LATE_FEE}
    assert {k: v.amount for k, v in fees.items() if v} == {
        "a": Decimal("15.00"),
        "b": Decimal("6.00"),
    }
    assert not any(a.kind is ActionKind.ESCALATE for a in r.actions)


def test_entry_delay_and_old_debts_held_for_review() -> None:
    delayed = resolve_policies({"slow": {"extends": "standard", "onboarding": {"delay_days": 3}}})
    w = World(
        [
            inv("old", date(2026, 5, 1)),  # 214 days overdue at go-live (> 180)
            inv("new", date(2026, 10, 2)),  # 60 days
        ],
        org=replace(ORG, default_policy="slow"),
        policies={**POLICIES, **delayed},
    )
    early = w.run_days(GO_LIVE, date(2026, 12, 3))
    assert all(r.actions == () for r in early.values())
    assert w.states["old"].next_action_on == date(2026, 12, 4)
    r = w.run(date(2026, 12, 4))
    (entry,) = r.actions
    assert entry.template == "account-summary"
    assert entry.review == (
        "INV-old: overdue 214 days at go-live (2026-12-01, more than 180): review before "
        "any automatic dunning"
    )
    old = next(d for d in r.decisions if d.invoice_id == "old")
    assert old.review is not None and "held for review" in " ".join(old.reasons)
    # the next step for the old debt is held too; the 60-day one is not
    w.run_days(date(2026, 12, 5), date(2026, 12, 9))
    r = w.run(date(2026, 12, 10))  # entry + 6 days: firm reminders
    (email,) = emails(r)
    assert email.template == "firm-reminder" and email.review is not None
    text = explain_invoice(
        org=w.org,
        policies=w.policies,
        settings=SETTINGS,
        as_of=at(date(2026, 12, 4)),
        item=DunningInput(w.invoices["old"], CustomerSnapshot("c1")),
    )
    assert "held for review: INV-old: overdue 214 days at go-live" in text


def test_invoices_dunned_before_go_live_rules_carry_on_and_fees_are_not_backdated() -> None:
    # dunned since before go-live: reminder and firm reminder already sent
    due = date(2026, 9, 1)
    state = DunningState(
        policy="standard",
        steps=(
            StepRecord("reminder", 1, "standard", StepOutcome.FIRED, date(2026, 9, 2)),
            StepRecord("firm-reminder", 7, "standard", StepOutcome.FIRED, date(2026, 9, 8)),
        ),
    )
    item = DunningInput(inv("a", due), CustomerSnapshot("c1"), state)
    # 1 Dec is day 91: monthly fee periods from day 14 (15 Sep) began 15 Sep, 15 Oct,
    # 15 Nov: all before go-live, so none is charged
    r = plan_cycle(
        org=ORG, policies=POLICIES, settings=SETTINGS, as_of=at(GO_LIVE), invoices=[item]
    )
    assert [a for a in r.actions if a.kind is ActionKind.LATE_FEE] == []
    (decision,) = r.decisions
    assert len(decision.waived) == 3
    assert "started on 2026-09-15, before go-live (2026-12-01)" in decision.waived[0]
    # the riskier opt-in charges them, but one cycle still charges only the current period
    # and one missed one: 1.5% of 1,000 = 15.00 twice; period 0 is waived as missed
    risky = resolve_policies({"standard": {"extends": "standard", "backdate_fees": True}})
    r = plan_cycle(
        org=ORG,
        policies={**POLICIES, **risky},
        settings=SETTINGS,
        as_of=at(GO_LIVE),
        invoices=[item],
    )
    fees = [(a.key.period, a.amount) for a in r.actions if a.kind is ActionKind.LATE_FEE]
    assert [(k, m.amount if m else None) for k, m in fees] == [
        ("1", Decimal("15.00")),
        ("2", Decimal("15.00")),
    ]
    assert "missed while syncd was not running" in r.decisions[0].waived[0]


def test_without_go_live_nothing_changes_for_old_invoices() -> None:
    r = plan_cycle(
        org=replace(ORG, go_live=None),
        policies=POLICIES,
        settings=SETTINGS,
        as_of=at(GO_LIVE),
        invoices=[DunningInput(inv("a", date(2026, 10, 2)), CustomerSnapshot("c1"))],
    )
    assert r.decisions[0].fired_step == "final-notice"


# ---------------------------------------------------------------------------
# fees: balance history and catch-up

FEE_ONLY = resolve_policies(
    {
        "fee": {
            "steps": [{"id": "fee", "days": 14, "actions": [{"kind": "late_fee", "fee": "m"}]}],
            "fees": {"m": {"kind": "percent_per_period", "percent": "1.5", "period": "month"}},
            "max_catch_up_periods": 5,
        }
    }
)


def test_refund_reopen_charges_no_period_that_began_on_a_zero_balance() -> None:
    # due 31 Jan 2024; fee periods start 14 Feb (day 14), 14 Mar, 14 Apr, 14 May.
    # Paid in full on 1 Mar, refunded on 22 Apr: the balance was zero on 14 Mar and 14 Apr.
    due = date(2024, 1, 31)
    history = (Payment(date(2024, 3, 1), Decimal(1000)), Payment(date(2024, 4, 22), Decimal(-1000)))
    invoice = inv("r", due, payments=history)
    charged_feb = DunningState(
        policy="fee",
        steps=(StepRecord("fee", 14, "fee", StepOutcome.FIRED, date(2024, 2, 14)),),
        fees=(FeeCharge("m", 0, Decimal("15.00"), "GBP", date(2024, 2, 14)),),
    )
    org = OrgContext("acme", TZ, "fee")
    reopened = plan_cycle(
        org=org,
        policies=FEE_ONLY,
        settings=SETTINGS,
        as_of=at(date(2024, 4, 22)),
        invoices=[DunningInput(invoice, CustomerSnapshot("c1"), charged_feb)],
    )
    assert reopened.actions == ()
    waived = reopened.decisions[0].waived
    assert len(waived) == 2
    assert "the balance was zero on 2024-03-14" in waived[0]
    assert "the balance was zero on 2024-04-14" in waived[1]
    assert reopened.states["r"].next_action_on == date(2024, 5, 14)
    may = plan_cycle(
        org=org,
        policies=FEE_ONLY,
        settings=SETTINGS,
        as_of=at(date(2024, 5, 14)),
        invoices=[DunningInput(invoice, CustomerSnapshot("c1"), reopened.states["r"])],
    )
    # 14 May: the balance is open again: period 3, 1.5% of 1,000 = 15.00
    assert [(a.kind, a.key.period) for a in may.actions] == [(ActionKind.LATE_FEE, "3")]
    assert [a.amount.amount for a in may.actions if a.amount] == [Decimal("15.00")]


def test_catch_up_cap_through_the_engine() -> None:
    # standard: fee from day 14 (14 Feb 2024); periods 1-3 on 14 Mar, 14 Apr, 14 May were
    # missed while the daemon was down until Wed 15 May. Charged: period 3 (current) and
    # period 2 (max_catch_up_periods = 1), 15.00 each; period 1 waived.
    due = date(2024, 1, 31)
    state = DunningState(
        policy="standard",
        steps=(StepRecord("late-fee", 14, "standard", StepOutcome.FIRED, date(2024, 2, 14)),),
        fees=(FeeCharge("monthly", 0, Decimal("15.00"), "GBP", date(2024, 2, 14)),),
    )
    with_final = replace(
        state,
        steps=(
            *state.steps,
            StepRecord("final-notice", 30, "standard", StepOutcome.SUPERSEDED, date(2024, 3, 1)),
        ),
    )
    r = plan_cycle(
        org=OrgContext("acme", TZ, "standard"),
        policies=POLICIES,
        settings=SETTINGS,
        as_of=at(date(2024, 5, 15)),
        invoices=[DunningInput(inv("x", due), CustomerSnapshot("c1"), with_final)],
    )
    fees = {a.key.period: a.amount.amount for a in r.actions if a.amount}
    assert fees == {"2": Decimal("15.00"), "3": Decimal("15.00")}
    (waived,) = r.decisions[0].waived
    assert waived.startswith("monthly late fee period 1 waived: missed while syncd was not running")
    assert [c.period for c in r.states["x"].fees] == [0, 1, 2, 3]  # settled: never again


# ---------------------------------------------------------------------------
# closed days and one email a morning


def test_after_a_closure_each_customer_gets_one_email_with_the_latest_step() -> None:
    closed = [date(2026, 12, 21) + timedelta(days=n) for n in range(12)]  # 21 Dec - 1 Jan
    settings = validate_settings({"calendar": {"closed_dates": [d.isoformat() for d in closed]}})
    w = World(
        [inv("x", date(2026, 12, 14)), inv("y", date(2026, 12, 18), balance="500")],
        org=replace(ORG, go_live=None),
        settings=settings,
    )
    w.run_days(date(2026, 12, 15), date(2026, 12, 18))  # x: reminder on 15 Dec
    during = w.run_days(date(2026, 12, 19), date(2027, 1, 3))
    assert all(r.actions == () for r in during.values())
    assert "configured closed date" in during[date(2026, 12, 25)].decisions[0].reasons[-1]
    # Mon 4 Jan: x is on day 21, y on day 17: both at the late-fee step (day 14); the
    # steps missed during the closure are superseded, never sent
    r = w.run(date(2027, 1, 4))
    (email,) = emails(r)
    assert email.template == "late-fee-notice"
    assert [(i.invoice_id, i.step_id) for i in email.items] == [
        ("x", "late-fee"),
        ("y", "late-fee"),
    ]
    assert email.scheduled_for == datetime(2027, 1, 4, 10, tzinfo=UTC)  # the cycle, window open
    assert {d.invoice_id: set(d.superseded) for d in r.decisions} == {
        "x": {"firm-reminder"},
        "y": {"reminder", "firm-reminder"},
    }


def test_a_step_after_the_window_waits_for_the_next_morning() -> None:
    item = DunningInput(inv("a", date(2024, 5, 1)), CustomerSnapshot("c1"))
    org = OrgContext("acme", TZ, "standard")
    evening = plan_cycle(
        org=org,
        policies=POLICIES,
        settings=SETTINGS,
        as_of=datetime(2024, 5, 2, 18, tzinfo=TZ),
        invoices=[item],
    )
    assert evening.actions == () and evening.decisions[0].next_action_on == date(2024, 5, 3)
    closed = "today's send window (09:00-17:00 Europe/London) has closed"
    assert closed in evening.decisions[0].reasons[-1]
    # The whole cycle says so once, for the person who ran it after hours.
    assert evening.deferral == Deferral(date(2024, 5, 2), date(2024, 5, 3), closed, 1)


def test_a_cycle_inside_the_window_or_before_it_opens_is_not_deferred() -> None:
    item = DunningInput(inv("a", date(2024, 5, 1)), CustomerSnapshot("c1"))
    org = OrgContext("acme", TZ, "standard")
    for hour in (7, 12):  # before 09:00 the cycle's slot is this morning's opening
        result = plan_cycle(
            org=org,
            policies=POLICIES,
            settings=SETTINGS,
            as_of=datetime(2024, 5, 2, hour, tzinfo=TZ),
            invoices=[item],
        )
        assert result.actions and result.deferral is None


def test_a_cycle_on_a_closed_day_names_the_day_and_the_next_open_one() -> None:
    items = [DunningInput(inv(i, date(2024, 5, 1)), CustomerSnapshot("c1")) for i in ("a", "b")]
    saturday = plan_cycle(
        org=OrgContext("acme", TZ, "standard"),
        policies=POLICIES,
        settings=SETTINGS,
        as_of=datetime(2024, 5, 4, 10, tzinfo=TZ),
        invoices=items,
    )
    assert saturday.actions == ()
    # Monday 6 May 2024 is the Early May bank holiday only where holidays are configured.
    assert saturday.deferral == Deferral(
        date(2024, 5, 4), date(2024, 5, 6), "Saturday is not a send day", 2
    )


def test_an_invoice_never_gets_two_emails_the_same_morning() -> None:
    both = resolve_policies(
        {
            "p": {
                "steps": [
                    {
                        "id": "r",
                        "days": 1,
                        "actions": [
                            {"kind": "email", "template": "reminder"},
                            {"kind": "provider_email"},
                        ],
                    },
                    {"id": "s", "days": 2, "actions": [{"kind": "email", "template": "again"}]},
                ]
            }
        }
    )
    org = OrgContext("acme", TZ, "p")
    item = DunningInput(inv("a", date(2024, 5, 1)), CustomerSnapshot("c1"))
    r = plan_cycle(
        org=org, policies=both, settings=SETTINGS, as_of=at(date(2024, 5, 2)), invoices=[item]
    )
    assert [a.kind for a in r.actions] == [ActionKind.EMAIL]
    assert "invoice copy from the accounting system is not sent" in " ".join(r.decisions[0].reasons)


def test_a_second_step_the_same_day_waits_for_tomorrow() -> None:
    one = resolve_policies(
        {"p": {"steps": [{"id": "r", "days": 1, "actions": [{"kind": "email", "template": "r"}]}]}}
    )
    org = OrgContext("acme", TZ, "p")
    invoice = inv("a", date(2024, 5, 6))  # a Monday
    first = plan_cycle(
        org=org,
        policies=one,
        settings=SETTINGS,
        as_of=at(date(2024, 5, 8)),
        invoices=[DunningInput(invoice, CustomerSnapshot("c1"))],
    )
    assert [d.fired_step for d in first.decisions] == ["r"]
    # the policy is edited the same morning: a new step on day 2 is due, but the invoice
    # already had its email today
    two = resolve_policies(
        {
            "p": {
                "steps": [
                    {"id": "r", "days": 1, "actions": [{"kind": "email", "template": "r"}]},
                    {"id": "s", "days": 2, "actions": [{"kind": "email", "template": "s"}]},
                ]
            }
        }
    )
    state = first.states["a"]
    again = plan_cycle(
        org=org,
        policies=two,
        settings=SETTINGS,
        as_of=at(date(2024, 5, 8), 11),
        invoices=[DunningInput(invoice, CustomerSnapshot("c1"), state)],
    )
    assert again.actions == ()
    assert "waits for tomorrow" in " ".join(again.decisions[0].reasons)
    assert again.states["a"].next_action_on == date(2024, 5, 9)
    tomorrow = plan_cycle(
        org=org,
        policies=two,
        settings=SETTINGS,
        as_of=at(date(2024, 5, 9)),
        invoices=[DunningInput(invoice, CustomerSnapshot("c1"), again.states["a"])],
    )
    assert [d.fired_step for d in tomorrow.decisions] == ["s"]


def test_entry_before_the_first_overdue_step_never_brings_later_steps_forward() -> None:
    # gentle: heads-up -3, reminder 3, second reminder 14. Due 30 Nov, 1 day overdue at
    # go-live: the entry stands for the day-3 reminder (no heads-up for an overdue
    # invoice) and the clock is not shifted forwards: the second reminder stays on day 14
    w = World([inv("a", date(2026, 11, 30))], org=replace(ORG, default_policy="gentle"))
    (entry,) = w.run(GO_LIVE).actions
    assert entry.template == "account-summary"
    assert w.states["a"].clock_shift == 0
    assert w.states["a"].next_action_on == date(2026, 12, 14)
