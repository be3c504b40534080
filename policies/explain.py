"""Plain-words explanations: of a policy (``syncd policy explain``) and of why an
invoice does or does not get an action (``syncd plan`` reasons, support questions).

Explanations are generated from the same validated models and engine decisions that
drive dunning, so they cannot drift from what actually happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from policies.actions import PlannedAction
from policies.engine import InvoiceDecision, OrgContext, plan_cycle
from policies.kinds.registry import kind
from policies.schedule import describe_day
from policies.schema import (
    FeeKind,
    FeeRuleConfig,
    InterestRegime,
    PolicyConfig,
    PolicySettings,
    StepAction,
)
from policies.snapshot import DunningInput

_PERIOD_WORDS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months")}


def describe_fee(name: str, rule: FeeRuleConfig, start_days: int) -> str:
    start = describe_day(start_days + rule.grace_days)
    label = rule.label or name
    if rule.kind is FeeKind.FIXED:
        text = f"{label}: fixed fee of {rule.amount}"
    elif rule.kind is FeeKind.PERCENT:
        text = f"{label}: {rule.percent}% of the overdue balance, once"
    else:
        one, many = _PERIOD_WORDS[rule.period]
        every = f"every {one}" if rule.every == 1 else f"every {rule.every} {many}"
        how = "compounding" if rule.compounding else "simple"
        text = f"{label}: {rule.percent}% of the overdue balance {every} ({how}) from {start}"
        if rule.max_periods is not None:
            text += f", at most {rule.max_periods} times"
    if rule.grace_days and rule.kind is not FeeKind.PERCENT_PER_PERIOD:
        text += f", charged from {start} ({rule.grace_days} grace days)"
    if rule.min is not None:
        text += f", at least {rule.min}"
    if rule.max is not None:
        text += f", at most {rule.max} per charge"
    if rule.min_balance is not None:
        text += f", only on balances of {rule.min_balance} or more"
    return text


def describe_action(policy: PolicyConfig, action: StepAction, days: int) -> str:
    describe = kind(action.kind).describe
    return describe(policy, action, days) if describe is not None else str(action.kind)


def explain_policy(name: str, policy: PolicyConfig) -> str:
    lines = [f"Policy {name!r}" + (f": {policy.description}" if policy.description else "")]
    for step in policy.schedule():
        what = "; ".join(describe_action(policy, a, step.days) for a in step.actions)
        head = describe_day(step.days)
        head = head[0].upper() + head[1:]
        extra: list[str] = []
        if step.min_balance is not None:
            extra.append(f"only if at least {step.min_balance} is open")
        if step.customer_groups:
            extra.append("only for customers in " + ", ".join(step.customer_groups))
        suffix = f" ({'; '.join(extra)})" if extra else ""
        label = f" [{step.label}]" if step.label else ""
        lines.append(f"  {head}{label}: {what}{suffix}  (step id {step.id!r})")
    if policy.fee_cap is not None:
        caps: list[str] = []
        if policy.fee_cap.amount is not None:
            caps.append(str(policy.fee_cap.amount))
        if policy.fee_cap.percent_of_total is not None:
            caps.append(f"{policy.fee_cap.percent_of_total}% of the invoice total")
        lines.append("  Late fees per invoice are capped at " + " or ".join(caps) + ".")
    if policy.interest is not None:
        i = policy.interest
        if i.regime is InterestRegime.UK:
            text = (
                f"Statutory interest (UK Late Payment Act): Bank of England base rate on the "
                f"31 Dec / 30 Jun before the debt fell due + {i.margin_points} points, simple"
            )
            comp = "fixed compensation GBP 40 / 70 / 100 by size of debt"
        else:
            text = (
                f"Statutory interest (EU Late Payment Directive): ECB reference rate + "
                f"{i.margin_points} points, simple"
            )
            comp = "fixed compensation EUR 40"
        text += f", {i.day_basis}-day year"
        if i.compensation:
            text += f"; {comp}"
        lines.append(f"  {text}.")
    lines.append(
        "  Reminders due for one customer in one cycle are combined into one email."
        if policy.group_emails
        else "  Each invoice gets its own reminder email."
    )
    lines.append(
        "  If dunning was not running, only the latest due step is sent; days on hold "
        "(paused or disputed) do not count; nothing is planned on closed days, and an "
        "invoice gets at most one step a day."
    )
    lines.extend(f"  {line}" for line in describe_go_live(policy))
    return "\n".join(lines)


def describe_go_live(policy: PolicyConfig) -> list[str]:
    """How the policy treats the org's go-live date and downtime, in plain words."""
    ob = policy.onboarding
    delay = f"{ob.delay_days} day(s) after go-live" if ob.delay_days else "on go-live"
    out = [
        f"Go-live: invoices already overdue get one {ob.template!r} email {delay} listing "
        "every overdue invoice (no earlier reminder is claimed); later steps count from it; "
        f"invoices more than {ob.review_older_than_days} days overdue at go-live are held "
        "for review instead of automatic dunning."
    ]
    if policy.fees:
        out.append(
            "Fees dated before go-live are charged (backdate_fees = true: the riskier choice)."
            if policy.backdate_fees
            else "No fee period before go-live is charged."
        )
        out.append(
            f"After downtime one cycle charges the current fee period and at most "
            f"{policy.max_catch_up_periods} missed one(s); older missed periods are waived; "
            "no period is charged that began on a zero balance."
        )
    if policy.interest is not None:
        i = policy.interest
        out.append(
            "Interest and compensation before go-live are claimed (backdate_interest = true: "
            "the riskier choice)."
            if policy.backdate_interest
            else "No interest day or compensation dated before go-live is claimed."
        )
        who = {
            None: "customers of unknown type are held for review",
            True: "customers of unknown type are treated as businesses",
            False: "customers of unknown type are treated as consumers (no claim)",
        }[i.business_customers_default]
        out.append(
            f"Statutory interest only on {', '.join(i.applies_to())} debts of business "
            f"customers; {who}."
        )
    return out


def explain_decision(decision: InvoiceDecision, actions: tuple[PlannedAction, ...] = ()) -> str:
    """The decision's reasons (go-live, waived fee periods, review holds included) and
    the actions that concern the invoice."""
    lines = [f"Invoice {decision.number} ({decision.invoice_id}): {decision.outcome.value}"]
    lines.extend(f"  - {r}" for r in decision.reasons)
    if decision.waived:
        lines.append(f"  Fee periods waived this cycle: {len(decision.waived)}")
    mine = [
        a
        for a in actions
        if decision.invoice_id in a.invoice_ids()
        or decision.invoice_id in {i.invoice_id for i in a.coming_up}
    ]
    for a in mine:
        what = str(a.kind)
        planned = kind(a.kind).describe_planned
        if planned is not None:
            what += planned(a)
        if a.amount is not None:
            what += f" {a.amount}"
        lines.append(f"  -> {what} at {a.scheduled_for.isoformat()}  [{a.key}]")
        if a.review is not None:
            lines.append(f"     held for review: {a.review}")
        elif a.review_mode is not None:
            lines.append(f"     review {a.review_mode} (the step's setting)")
    if decision.next_action_on is not None:
        lines.append(f"  Next look: {decision.next_action_on.isoformat()}")
    return "\n".join(lines)


def explain_invoice(
    *,
    org: OrgContext,
    policies: Mapping[str, PolicyConfig],
    settings: PolicySettings,
    as_of: datetime,
    item: DunningInput,
) -> str:
    """Why this invoice gets (or does not get) an action in a cycle at ``as_of``."""
    result = plan_cycle(org=org, policies=policies, settings=settings, as_of=as_of, invoices=[item])
    return explain_decision(result.decisions[0], result.actions)
