"""Which step of a policy is due for an invoice, given where it stands.

The rules that give "each step at most once" and "no burst after downtime":

* a step is *due* when its day is on or before the invoice's dunning day, it is later
  than the invoice's stage (the furthest day reached, fired or superseded), and its id
  is not already recorded;
* of the due steps that apply to the invoice (minimum balance, customer groups), only
  the latest fires; the earlier ones are recorded as superseded and never sent;
* a step that does not apply is simply not taken; it stays behind the stage once a
  later step fires.

Because the stage only moves forward and is compared by day, editing a policy (new
steps, moved steps, renamed ids) can never send an invoice back to an earlier message.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.schema import PolicyConfig, StepConfig
from policies.snapshot import CustomerSnapshot, DunningState, InvoiceSnapshot


@dataclass(frozen=True, slots=True)
class StepDecision:
    fire: StepConfig | None
    superseded: tuple[StepConfig, ...]
    not_applicable: tuple[tuple[StepConfig, str], ...]
    next_step: StepConfig | None
    """The first step after today's position, whether or not it will apply then."""


def step_skip_reason(
    step: StepConfig, invoice: InvoiceSnapshot, customer: CustomerSnapshot
) -> str | None:
    """Why ``step`` does not apply to this invoice now, or None if it does."""
    if step.min_balance is not None:
        minimum = step.min_balance.for_currency(invoice.currency)
        if minimum is not None and invoice.balance < minimum:
            return (
                f"balance {invoice.balance} {invoice.currency} is below the step's "
                f"minimum {minimum} {invoice.currency}"
            )
    if step.customer_groups is not None and not (customer.groups & set(step.customer_groups)):
        return "the customer is not in any of the step's groups " + ", ".join(step.customer_groups)
    return None


def decide_step(
    policy: PolicyConfig,
    state: DunningState,
    day: int,
    invoice: InvoiceSnapshot,
    customer: CustomerSnapshot,
) -> StepDecision:
    floor = state.stage_day
    due: list[StepConfig] = []
    skipped: list[tuple[StepConfig, str]] = []
    schedule = policy.schedule()
    for step in schedule:
        if step.days > day or (floor is not None and step.days <= floor):
            continue
        if state.has_step(step.id):
            continue
        reason = step_skip_reason(step, invoice, customer)
        if reason is None:
            due.append(step)
        else:
            skipped.append((step, reason))
    fire = due[-1] if due else None
    position = max(day, floor if floor is not None else day, fire.days if fire else day)
    next_step = next((s for s in schedule if s.days > position and not state.has_step(s.id)), None)
    return StepDecision(
        fire=fire,
        superseded=tuple(due[:-1]),
        not_applicable=tuple(skipped),
        next_step=next_step,
    )


def describe_day(days: int) -> str:
    """Plain words for a step's day offset."""
    if days < 0:
        n = -days
        return f"{n} day{'s' if n != 1 else ''} before due"
    if days == 0:
        return "on the due date"
    return f"{days} day{'s' if days != 1 else ''} overdue"
