"""The actions of the step that fires for an invoice, and the claims it states.

Per invoice and cycle, one step at most fires (the latest due; earlier missed ones are
superseded). Its email joins the customer's grouped email; its other actions become
planned actions. Three rules keep an invoice to one email a morning and every stated claim
current and real:

* a step with both an ``email`` and a ``provider_email`` sends the email only (the
  provider's copy would be a second email to the same customer the same morning);
* once statutory interest has been claimed for an invoice, every later step that
  emails the customer (any kind with ``states_claims``) also claims the interest accrued
  since, so what the email states is up to date;
* a step that claims statutory interest holds its email for review when the claim waits
  for a person or cannot be made for the invoice, so no customer reads a claim nobody made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

from policies.actions import ActionKind, PlannedAction, compensation_key, interest_key
from policies.claims import ClaimOutcome, claim
from policies.grouping import PendingEmail
from policies.kinds.base import StepPlan
from policies.kinds.registry import kind
from policies.money import Money
from policies.schedule import StepDecision, describe_day
from policies.schema import StepConfig
from policies.snapshot import DunningState, InterestClaim, StepOutcome, StepRecord

if TYPE_CHECKING:
    from policies.evaluate import Ctx


@dataclass(slots=True)
class Built:
    state: DunningState
    actions: list[PlannedAction] = field(default_factory=list)
    emails: list[PendingEmail] = field(default_factory=list)
    wake_on: list[date] = field(default_factory=list)
    """Days a kind's ``plan_source`` wants the invoice looked at again."""


def _why(ctx: Ctx, fire: StepConfig, decision: StepDecision, calendar_days: int) -> str:
    inv = ctx.inv
    balance = Money.of(inv.balance, inv.currency)
    why = (
        f"{ctx.name}: step {fire.id!r} ({describe_day(fire.days)}) is due: invoice "
        f"{inv.number} due {inv.due_date.isoformat()}, "
        f"{describe_day(calendar_days)}, {balance} open"
    )
    if decision.superseded:
        missed = ", ".join(repr(s.id) for s in decision.superseded)
        why += f"; earlier step(s) {missed} were missed and are not sent"
    return why


def step_actions(
    ctx: Ctx, st: DunningState, decision: StepDecision, day: int, calendar_days: int
) -> Built:
    fire = decision.fire
    if fire is None:
        nxt = decision.next_step
        if nxt is not None:
            when = describe_day(nxt.days)
            ctx.reasons.append(f"no step due today (dunning day {day}); next: {nxt.id!r} ({when})")
        else:
            ctx.reasons.append(f"no step due today (dunning day {day}) and no further steps")
        return Built(st)
    today, name = ctx.today, ctx.name
    records = [
        StepRecord(s.id, s.days, name, StepOutcome.SUPERSEDED, today) for s in decision.superseded
    ]
    records.append(StepRecord(fire.id, fire.days, name, StepOutcome.FIRED, today))
    built = Built(replace(st, steps=(*st.steps, *records)))
    why = _why(ctx, fire, decision, calendar_days)
    ctx.reasons.append(why)
    kinds = set(fire.kinds())
    for action in fire.actions:
        plan = kind(action.kind).plan_step
        if plan is not None:  # late fees are accrued by ``fees``, interest is claimed below
            plan(StepPlan(ctx, fire, action, why, built, calendar_days))
    states_claim = any(kind(k).states_claims for k in kinds) and bool(st.interest)
    if ctx.policy.interest is not None and ("interest" in kinds or states_claim):
        if "interest" not in kinds:
            ctx.reasons.append("the step states the interest claim, so it is brought up to date")
        _claims(ctx, fire, why, built)
    return built


def _claims(ctx: Ctx, fire: StepConfig, why: str, built: Built) -> None:
    """Interest to date (and compensation once) for a step that claims or states it."""
    state = built.state
    got = claim(
        ctx.policy, ctx.settings.rates, ctx.inv, ctx.cust, state, ctx.today, ctx.org.go_live
    )
    ctx.reasons.extend(got.notes)
    cur = ctx.inv.currency
    if got.interest is not None:
        key = interest_key(ctx.org.org, ctx.inv.invoice_id, fire.id, ctx.today)
        built.actions.append(
            ctx.action(
                ActionKind.INTEREST,
                fire.id,
                f"{why}; {got.interest_why}",
                key,
                text=got.interest_text,
                review="; ".join(r for r in (got.review, got.interest_review) if r) or None,
                amount=Money(got.interest, cur),
            )
        )
        claim_record = InterestClaim(fire.id, ctx.today, got.interest, cur)
        state = replace(state, interest=(*state.interest, claim_record))
    if got.compensation is not None:
        key = compensation_key(ctx.org.org, ctx.inv.invoice_id)
        built.actions.append(
            ctx.action(
                ActionKind.COMPENSATION,
                fire.id,
                f"{why}; {got.compensation_why}",
                key,
                text=got.compensation_why,
                review=got.review,
                amount=Money(got.compensation, cur),
            )
        )
        state = replace(state, compensation=got.compensation)
    built.state = state
    if "interest" in fire.kinds():
        _hold_claim_email(ctx, fire, got, built)


def _hold_claim_email(ctx: Ctx, fire: StepConfig, got: ClaimOutcome, built: Built) -> None:
    """A step that claims statutory interest emails the claim: that email must not reach a
    customer whose claim waits for a person (not known to be a business) or cannot be made
    (not a business, another currency): it would assert a claim nobody has made."""
    claimed = got.interest is not None or got.compensation is not None
    waits = (got.review or got.interest_review) if claimed else None
    if got.declined is not None:
        why = (
            f"step {fire.id!r} claims statutory interest, and none can be claimed on this "
            f"invoice ({got.declined}): read the email before it goes, it may say otherwise"
        )
    elif waits is not None:
        why = f"the email goes with a statutory claim that waits for review ({waits})"
    else:
        return
    invoice = ctx.inv.invoice_id
    built.emails = [
        replace(e, review="; ".join(r for r in (e.review, why) if r))
        if e.item.invoice_id == invoice and e.item.step_id == fire.id
        else e
        for e in built.emails
    ]
