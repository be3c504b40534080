"""Property tests for the engine's promises (issue #6, "Semantics").

A hypothesis-generated world (random policy, invoices with payments and refunds,
pauses and disputes, a random sequence of cycles including clock jumps backwards,
repeated cycles and crashed cycles whose results are never committed, and a policy
edit part-way) is driven through ``plan_cycle`` by a caller that commits what the
engine returns, exactly as the daemon will. Every cycle and the whole history are then
checked against the semantics.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import (
    ActionKind,
    CustomerSnapshot,
    DunningInput,
    DunningState,
    Hold,
    HoldKind,
    InvoiceSnapshot,
    InvoiceStatus,
    OrgContext,
    Payment,
    PlanResult,
    PolicyConfig,
    PolicySettings,
    plan_cycle,
    resolve_policies,
)
from policies.fees import fee_cap, period_start_day
from policies.interest import statutory_interest
from policies.onboarding import ONBOARDING_STEP
from policies.pauses import active_hold, date_of_dunning_day

TZ = ZoneInfo("Europe/Berlin")
BASE = date(2024, 1, 15)
SETTINGS = PolicySettings.model_validate(
    {"rates": {"boe_base": [{"since": "2000-01-01", "percent": "5"}]}}
)
EVERY_DAY = PolicySettings.model_validate(
    {
        "rates": {"boe_base": [{"since": "2000-01-01", "percent": "5"}]},
        "calendar": {"send_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
    }
)
"""Open every day, so that a downtime of any length ends on a send day."""
PROFILE = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------
# strategies


@st.composite
def fee_rules(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["fixed", "percent", "percent_per_period"]))
    rule: dict[str, Any] = {"kind": kind}
    if kind == "fixed":
        rule["amount"] = str(draw(st.integers(1, 80)))
    else:
        rule["percent"] = str(draw(st.decimals("0.5", "12", places=2)))
    if kind == "percent_per_period":
        rule["period"] = draw(st.sampled_from(["day", "week", "month"]))
        rule["every"] = draw(st.integers(1, 3))
        rule["compounding"] = draw(st.booleans())
        if draw(st.booleans()):
            rule["max_periods"] = draw(st.integers(1, 6))
    rule["grace_days"] = draw(st.integers(0, 10))
    if draw(st.booleans()):
        rule["min_balance"] = str(draw(st.integers(10, 800)))
    if draw(st.booleans()):
        rule["min"] = str(draw(st.integers(1, 10)))
    if draw(st.booleans()):
        rule["max"] = str(draw(st.integers(10, 60)))
    return rule


def step_actions(
    draw: st.DrawFn, sid: str, fees: dict[str, Any], last: bool
) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    if draw(st.integers(0, 4)) > 0 or not fees:
        actions.append({"kind": "email", "template": f"t-{sid}"})
    if draw(st.booleans()) or not actions:
        actions.append({"kind": "note", "text": "n $number $days_overdue"})
    if draw(st.integers(0, 3)) == 0:
        actions.append({"kind": "provider_email"})
    if draw(st.booleans()):
        fees[f"fee-{sid}"] = draw(fee_rules())
        actions.append({"kind": "late_fee", "fee": f"fee-{sid}"})
    if draw(st.integers(0, 4)) == 0:
        actions.append({"kind": "interest"})
    if last and draw(st.booleans()):
        actions.append(
            draw(st.sampled_from([{"kind": "stop"}, {"kind": "escalate", "level": "letter"}]))
        )
    return actions


@st.composite
def raw_policies(draw: st.DrawFn) -> dict[str, Any]:
    days = sorted(draw(st.sets(st.integers(-5, 45), min_size=1, max_size=5)))
    fees: dict[str, Any] = {}
    steps: list[dict[str, Any]] = [
        {"id": f"s{d}", "days": d, "actions": step_actions(draw, f"s{d}", fees, i == len(days) - 1)}
        for i, d in enumerate(days)
    ]
    raw: dict[str, Any] = {"steps": steps, "fees": fees, "group_emails": draw(st.booleans())}
    if draw(st.booleans()):
        cap: dict[str, Any] = {}
        if draw(st.booleans()):
            cap["amount"] = str(draw(st.integers(5, 100)))
        if draw(st.booleans()) or not cap:
            cap["percent_of_total"] = str(draw(st.integers(1, 20)))
        raw["fee_cap"] = cap
    if any(a["kind"] == "interest" for s in steps for a in s["actions"]):
        raw["interest"] = {"regime": "uk"}
    return raw


@st.composite
def edited(draw: st.DrawFn, raw: dict[str, Any]) -> dict[str, Any]:
    """A plausible edit of ``raw``: steps moved (same id), dropped or added, fees changed."""
    used: set[int] = set()
    steps: list[dict[str, Any]] = []
    fees: dict[str, Any] = {}
    for s in raw["steps"]:
        choice = draw(st.sampled_from(["keep", "move", "drop"]))
        if choice == "drop":
            continue
        d = s["days"] + (draw(st.integers(-10, 20)) if choice == "move" else 0)
        if d in used or not -5 <= d <= 60:
            continue
        used.add(d)
        new_actions = []
        for a in s["actions"]:
            if a["kind"] == "late_fee":
                fees[a["fee"]] = draw(fee_rules()) if draw(st.booleans()) else raw["fees"][a["fee"]]
            new_actions.append(a)
        steps.append({**s, "days": d, "actions": new_actions})
    for extra in draw(st.lists(st.integers(-5, 60), max_size=3)):
        if extra in used:
            continue
        used.add(extra)
        sid = f"new{extra}"
        steps.append({"id": sid, "days": extra, "actions": step_actions(draw, sid, fees, False)})
    if not steps:
        steps = [{"id": "only", "days": 3, "actions": [{"kind": "email", "template": "x"}]}]
    out: dict[str, Any] = {"steps": steps, "fees": fees, "group_emails": raw["group_emails"]}
    if "fee_cap" in raw and draw(st.booleans()):
        out["fee_cap"] = raw["fee_cap"]
    if any(a["kind"] == "interest" for s in steps for a in s["actions"]):
        out["interest"] = {"regime": "uk"}
    return out


@dataclass(frozen=True)
class Inv:
    snapshot: InvoiceSnapshot
    closed_from: int | None  # voided/deleted from this day offset on
    closed_status: InvoiceStatus


@st.composite
def invoices(draw: st.DrawFn, n: int) -> list[Inv]:
    out = []
    for k in range(n):
        total = Decimal(draw(st.integers(20, 6000))) + Decimal(draw(st.integers(0, 99))) / 100
        payments = tuple(
            Payment(BASE + timedelta(days=d), Decimal(a))
            for d, a in draw(
                st.lists(st.tuples(st.integers(-5, 80), st.integers(-300, 3000)), max_size=3)
            )
        )
        snap = InvoiceSnapshot(
            invoice_id=f"i{k}",
            number=f"N{k}",
            customer_id=f"c{draw(st.integers(0, 1))}",
            currency="GBP",
            issue_date=BASE - timedelta(days=40),
            due_date=BASE + timedelta(days=draw(st.integers(-10, 10))),
            total=total,
            balance=total - sum((p.amount for p in payments), Decimal(0)),
            payments=payments,
        )
        closed = draw(st.one_of(st.none(), st.integers(-5, 80)))
        status = draw(st.sampled_from([InvoiceStatus.VOIDED, InvoiceStatus.DELETED]))
        out.append(Inv(snap, closed, status))
    return out


@st.composite
def holds(draw: st.DrawFn) -> tuple[Hold, ...]:
    out = []
    for _ in range(draw(st.integers(0, 1))):
        start = draw(st.integers(-5, 60))
        length = draw(st.one_of(st.none(), st.integers(1, 30)))
        kind = draw(st.sampled_from(list(HoldKind)))
        out.append(
            Hold(
                kind,
                BASE + timedelta(days=start),
                None if length is None else BASE + timedelta(days=start + length),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Run:
    offset: int
    hour: int
    crash: bool


runs = st.lists(
    st.builds(
        Run, st.integers(-8, 90), st.integers(0, 23), st.integers(0, 5).map(lambda x: x == 0)
    ),
    min_size=1,
    max_size=14,
)


# ---------------------------------------------------------------------------
# the caller


def snapshot_on(inv: Inv, day: date) -> InvoiceSnapshot:
    s = inv.snapshot
    paid = sum((p.amount for p in s.payments if p.on <= day), Decimal(0))
    balance = max(s.total - paid, Decimal(0))
    status = InvoiceStatus.OPEN if balance > 0 else InvoiceStatus.PAID
    if inv.closed_from is not None and day >= BASE + timedelta(days=inv.closed_from):
        status = inv.closed_status
    return InvoiceSnapshot(
        s.invoice_id, s.number, s.customer_id, s.currency, s.issue_date, s.due_date,
        s.total, balance, status, tuple(p for p in s.payments if p.on <= day),
    )  # fmt: skip


@dataclass
class History:
    keys: Counter[str] = field(default_factory=Counter)
    fired: Counter[tuple[str, str]] = field(default_factory=Counter)
    fees: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    stopped: set[str] = field(default_factory=set)
    emails_on: Counter[tuple[str, date]] = field(default_factory=Counter)
    """Emails (syncd's and the provider's) per (invoice, local send date)."""


def per_invoice_keys(result: PlanResult) -> list[str]:
    out: list[str] = []
    for a in result.actions:
        if a.kind is ActionKind.EMAIL:
            out.extend(str(i.key) for i in a.items)
        else:
            out.append(str(a.key))
    return out


def check_go_live(
    result: PlanResult,
    items: list[DunningInput],
    policy: PolicyConfig,
    today: date,
    go_live: date,
) -> None:
    """With go-live set, nothing charged is dated before it."""
    by_id = {i.invoice.invoice_id: i for i in items}
    for a in result.actions:
        if a.invoice_id is None or a.amount is None:
            continue
        item = by_id[a.invoice_id]
        inv, state = item.invoice, item.state
        holds = (*state.holds, *item.customer.holds)
        if a.kind is ActionKind.LATE_FEE:
            rule_name = a.key.step.removeprefix("fee/")
            rule = policy.fees[rule_name]
            start_step = next(
                s for s in policy.steps for x in s.actions if getattr(x, "fee", None) == rule_name
            )
            anchor = start_step.days + rule.grace_days
            k = int(a.key.period)
            start = period_start_day(rule, anchor, inv.due_date + timedelta(days=anchor), k)
            shift = result.states.get(a.invoice_id, state).clock_shift
            assert date_of_dunning_day(inv.due_date, holds, start + shift, today) >= go_live
        elif a.kind is ActionKind.COMPENSATION:
            assert inv.due_date + timedelta(days=1) >= go_live
        elif a.kind is ActionKind.INTEREST:
            assert policy.interest is not None
            after = max(state.interest_through or inv.due_date, go_live - timedelta(days=1))
            expected = statutory_interest(policy.interest, SETTINGS.rates, inv, after, today)
            assert a.amount.amount == expected.amount


def check_cycle(
    result: PlanResult,
    items: list[DunningInput],
    policy: PolicyConfig,
    today: date,
    history: History,
) -> None:
    by_id = {i.invoice.invoice_id: i for i in items}
    decisions = {d.invoice_id: d for d in result.decisions}
    acted: defaultdict[str, list[Any]] = defaultdict(list)
    for a in result.actions:
        for iid in a.invoice_ids():
            acted[iid].append(a)
    for iid, actions in acted.items():
        item = by_id[iid]
        inv, state = item.invoice, item.state
        # closed, held and stopped invoices get no action
        assert inv.status is InvoiceStatus.OPEN and inv.balance > 0
        assert active_hold((*state.holds, *item.customer.holds), today) is None
        assert not state.stopped and iid not in history.stopped
        # at most one step per invoice per cycle: never a burst
        step_ids: set[str | None] = set()
        for a in actions:
            if a.kind is ActionKind.EMAIL:
                step_ids |= {i.step_id for i in a.items if i.invoice_id == iid}
            elif a.kind is not ActionKind.LATE_FEE:
                step_ids.add(a.step_id)
        reminders = [
            i for a in actions if a.kind is ActionKind.EMAIL for i in a.items if i.invoice_id == iid
        ]
        assert len(reminders) <= 1
        assert len(step_ids) <= 1, step_ids
        decision = decisions[iid]
        day = decision.dunning_day
        assert day is not None
        if decision.fired_step == ONBOARDING_STEP:
            # the entry: once, for an invoice never dunned before, and nothing else fires
            assert state.onboarded_on is None and not state.steps
            assert step_ids == {ONBOARDING_STEP}
        elif decision.fired_step is not None:
            fired = policy.step(decision.fired_step)
            assert fired is not None and fired.days <= day
            # dunning never goes back: nothing at or before the stage fires, whatever the
            # policy edit added there
            stage = state.stage_day
            assert stage is None or fired.days > stage
            # the latest due step: none later is due yet
            later_due = [
                s for s in policy.steps
                if fired.days < s.days <= day and not state.has_step(s.id)
                and (stage is None or s.days > stage)
            ]  # fmt: skip
            assert later_due == []
        # fees: only accrued periods, never beyond the cap or the per-fee max
        fee_sum = Decimal(0)
        for a in actions:
            if a.kind is not ActionKind.LATE_FEE:
                continue
            rule_name = a.key.step.removeprefix("fee/")
            period = int(a.key.period)
            rule = policy.fees[rule_name]
            start_step = next(
                s for s in policy.steps for x in s.actions if getattr(x, "fee", None) == rule_name
            )
            anchor = start_step.days + rule.grace_days
            start = period_start_day(rule, anchor, inv.due_date + timedelta(days=anchor), period)
            assert start <= day
            assert not state.fee_charged(rule_name, period)
            assert a.amount is not None and a.amount.amount > 0
            if rule.max is not None:
                high = rule.max.for_currency("GBP")
                assert high is not None and a.amount.amount <= high
            fee_sum += a.amount.amount
        cap = fee_cap(policy, inv)
        if fee_sum and cap is not None:
            assert state.fees_total() + fee_sum <= cap
    # states only grow: the stage is never lost (partial payments, refunds, edits)
    for iid, new in result.states.items():
        old = by_id[iid].state
        assert new.steps[: len(old.steps)] == old.steps
        assert new.fees[: len(old.fees)] == old.fees
        assert new.interest[: len(old.interest)] == old.interest
        assert old.compensation is None or new.compensation == old.compensation
        assert old.stopped_on is None or new.stopped_on == old.stopped_on


def commit(result: PlanResult, states: dict[str, DunningState], history: History) -> None:
    for key in per_invoice_keys(result):
        history.keys[key] += 1
    for d in result.decisions:
        if d.fired_step is not None:
            history.fired[(d.invoice_id, d.fired_step)] += 1
    for a in result.actions:
        if a.kind is ActionKind.LATE_FEE and a.invoice_id and a.amount:
            history.fees[a.invoice_id] += a.amount.amount
        on = a.scheduled_for.astimezone(TZ).date()
        if a.kind is ActionKind.EMAIL:
            for i in (*a.items, *a.coming_up):
                history.emails_on[(i.invoice_id, on)] += 1
        elif a.kind is ActionKind.PROVIDER_EMAIL and a.invoice_id:
            history.emails_on[(a.invoice_id, on)] += 1
    for iid, s in result.states.items():
        states[iid] = s
        if s.stopped:
            history.stopped.add(iid)


@PROFILE
@given(data=st.data())
def test_semantics_hold_over_any_sequence_of_cycles(data: st.DataObject) -> None:
    raw_a = data.draw(raw_policies(), label="policy")
    raw_b = data.draw(edited(raw_a), label="edited policy")
    policy_a = resolve_policies({"p": raw_a})["p"]
    policy_b = resolve_policies({"p": raw_b})["p"]
    invs = data.draw(invoices(data.draw(st.integers(1, 4))), label="invoices")
    customer_holds = {c: data.draw(holds(), label=f"holds {c}") for c in ("c0", "c1")}
    states = {
        i.snapshot.invoice_id: DunningState(holds=data.draw(holds(), label="invoice holds"))
        for i in invs
    }
    schedule = data.draw(runs, label="cycles")
    switch = data.draw(st.integers(0, len(schedule)), label="edit before cycle")
    go_live = data.draw(
        st.one_of(st.none(), st.integers(-10, 40).map(lambda n: BASE + timedelta(days=n))),
        label="go-live",
    )
    org = OrgContext("org", TZ, "p", go_live=go_live)
    history = History()

    for n, run in enumerate(schedule):
        policy = policy_a if n < switch else policy_b
        as_of = datetime.combine(BASE + timedelta(days=run.offset), time(run.hour), tzinfo=TZ)
        today = as_of.date()
        items = [
            DunningInput(
                snapshot_on(i, today),
                CustomerSnapshot(
                    i.snapshot.customer_id, holds=customer_holds[i.snapshot.customer_id]
                ),
                states[i.snapshot.invoice_id],
            )
            for i in invs
        ]
        kwargs: dict[str, Any] = {
            "org": org,
            "policies": {"p": policy},
            "settings": SETTINGS,
            "as_of": as_of,
        }
        result = plan_cycle(invoices=items, **kwargs)
        # deterministic, whatever the input order
        assert plan_cycle(invoices=list(reversed(items)), **kwargs) == result
        check_cycle(result, items, policy, today, history)
        if go_live is not None:
            check_go_live(result, items, policy, today, go_live)
        if not run.crash:
            commit(result, states, history)

    # each (invoice, step) fired at most once, each action key committed at most once
    assert all(count == 1 for count in history.fired.values()), history.fired
    assert all(count == 1 for count in history.keys.values()), history.keys
    # an invoice never gets two emails on the same morning
    assert all(count == 1 for count in history.emails_on.values()), history.emails_on


@PROFILE
@given(raw=raw_policies(), offsets=st.lists(st.integers(-8, 70), min_size=2, max_size=8))
def test_replaying_a_committed_cycle_plans_nothing_new(
    raw: dict[str, Any], offsets: list[int]
) -> None:
    """A restart that re-runs a cycle already committed does nothing (idempotent)."""
    policy = resolve_policies({"p": raw})["p"]
    inv = InvoiceSnapshot("i", "N", "c", "GBP", BASE, BASE, Decimal(1000), Decimal(1000))
    state = DunningState()
    org = OrgContext("org", TZ, "p")
    for off in sorted(offsets):
        as_of = datetime.combine(BASE + timedelta(days=off), time(12), tzinfo=TZ)
        kwargs: dict[str, Any] = {
            "org": org,
            "policies": {"p": policy},
            "settings": SETTINGS,
            "as_of": as_of,
        }
        first = plan_cycle(invoices=[DunningInput(inv, CustomerSnapshot("c"), state)], **kwargs)
        state = first.states.get("i", state)
        again = plan_cycle(invoices=[DunningInput(inv, CustomerSnapshot("c"), state)], **kwargs)
        assert again.actions == ()
        assert again.states == {}


@PROFILE
@given(raw=raw_policies(), gap=st.integers(0, 70))
def test_downtime_sends_only_the_latest_due_step(raw: dict[str, Any], gap: int) -> None:
    policy = resolve_policies({"p": raw})["p"]
    inv = InvoiceSnapshot("i", "N", "c", "GBP", BASE, BASE, Decimal(500), Decimal(500))
    as_of = datetime.combine(BASE + timedelta(days=gap), time(12), tzinfo=TZ)
    result = plan_cycle(
        org=OrgContext("org", TZ, "p"),
        policies={"p": policy},
        settings=EVERY_DAY,
        as_of=as_of,
        invoices=[DunningInput(inv, CustomerSnapshot("c"))],
    )
    due = [s for s in policy.schedule() if s.days <= gap]
    decision = result.decisions[0]
    assert decision.fired_step == (due[-1].id if due else None)
    assert set(decision.superseded) == {s.id for s in due[:-1]}
    emails = [a for a in result.actions if a.kind is ActionKind.EMAIL]
    assert len(emails) <= 1


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_next_action_on_never_misses_anything(data: st.DataObject) -> None:
    """Planning only invoices whose ``next_action_on`` has come (or whose snapshot
    changed), as the store will and as ``simulate`` does, gives exactly the same
    actions as planning every invoice every day."""
    from policies import simulate
    from policies.simulate import invoice_on

    policy = resolve_policies({"p": data.draw(raw_policies(), label="policy")})["p"]
    invs = [i.snapshot for i in data.draw(invoices(data.draw(st.integers(1, 4))), label="invoices")]
    invs = [
        InvoiceSnapshot(
            i.invoice_id, i.number, i.customer_id, i.currency, i.issue_date, i.due_date,
            i.total, max(i.balance, Decimal(0)),
            InvoiceStatus.OPEN if i.balance > 0 else InvoiceStatus.PAID, i.payments,
        )
        for i in invs
    ]  # fmt: skip
    customers = {c: CustomerSnapshot(c, holds=data.draw(holds(), label=c)) for c in ("c0", "c1")}
    states = {i.invoice_id: DunningState(holds=data.draw(holds(), label="h")) for i in invs}
    org = OrgContext("org", TZ, "p")
    start, end = BASE - timedelta(days=8), BASE + timedelta(days=75)
    items = [DunningInput(i, customers[i.customer_id], states[i.invoice_id]) for i in invs]
    smart = simulate(
        org=org, policies={"p": policy}, settings=SETTINGS, invoices=items, start=start, end=end
    )

    brute: list[tuple[date, str]] = []
    day = start
    while day <= end:
        batch = [
            DunningInput(invoice_on(i, day), customers[i.customer_id], states[i.invoice_id])
            for i in invs
        ]
        result = plan_cycle(
            org=org,
            policies={"p": policy},
            settings=SETTINGS,
            as_of=datetime.combine(day, time(9), tzinfo=TZ),
            invoices=batch,
        )
        states.update(result.states)
        brute.extend((day, repr(a)) for a in result.actions)
        day += timedelta(days=1)
    assert sorted((e.day, repr(e.action)) for e in smart.timeline) == sorted(brute)


@PROFILE
@given(
    preset=st.sampled_from(["gentle", "standard", "firm", "uk-statutory"]),
    backlog=st.lists(
        st.tuples(st.integers(-20, 540), st.integers(0, 3), st.integers(50, 9000)),
        min_size=1,
        max_size=25,
    ),
)
def test_first_plan_on_a_backlog_is_one_polite_email_per_customer(
    preset: str, backlog: list[tuple[int, int, int]]
) -> None:
    """Issue 14's "first plan on a backlog": whatever the backlog, the first cycle on the
    go-live date charges nothing, escalates nothing, sends at most one email per
    customer, and every email about overdue invoices is the account summary."""
    go_live = date(2026, 12, 1)  # a Tuesday
    items = [
        DunningInput(
            InvoiceSnapshot(
                f"i{k}", f"N{k}", f"c{c}", "GBP", go_live - timedelta(days=age + 30),
                go_live - timedelta(days=age), Decimal(amount), Decimal(amount),
            ),
            CustomerSnapshot(f"c{c}", is_business=True),
        )
        for k, (age, c, amount) in enumerate(backlog)
    ]  # fmt: skip
    from policies import available_policies

    result = plan_cycle(
        org=OrgContext("org", TZ, preset, go_live=go_live),
        policies=available_policies({}),
        settings=SETTINGS,
        as_of=datetime.combine(go_live, time(10), tzinfo=TZ),
        invoices=items,
    )
    assert {a.kind for a in result.actions} <= {ActionKind.EMAIL}
    per_customer = Counter(a.customer_id for a in result.actions)
    assert all(n == 1 for n in per_customer.values())
    for email in result.actions:
        if any(i.days_overdue > 0 for i in email.items):
            assert email.template == "account-summary"
            assert all(i.days_overdue > 0 for i in email.items)
        old = [i for i in email.items if i.days_overdue > 180]
        assert (email.review is not None) == bool(old)
