"""What one action kind is, as far as the pure engine is concerned: a :class:`KindSpec`.

This module imports nothing of the engine at run time, so that ``policies.schema`` can
build the step-action union from the registered kinds while the kind modules use the
engine's helpers (``policies.actions``) freely. A kind module must therefore not import
``policies.schema``, ``policies.evaluate`` or ``policies.steps`` at module level (use
``TYPE_CHECKING`` or a local import inside a function).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from policies.actions import PlannedAction
    from policies.evaluate import Ctx
    from policies.schema import PolicyConfig, StepConfig
    from policies.steps import Built


class EscalationLevel(StrEnum):
    LETTER = "letter"
    COLLECTIONS = "collections"
    LEGAL = "legal"


class ReviewClass(StrEnum):
    """How the review queue treats a kind (``syncd.review.hold``).

    * ``contact``: reaches the customer (an email, the provider's invoice email); once one
      is done, the customer counts as contacted for ``review = "first-contact"``;
    * ``charge``: adds money to the customer's ledger; held by ``fees-and-escalations``
      and counts as contact;
    * ``escalation``: held by ``fees-and-escalations``;
    * ``internal``: syncd's own records or an internal note; held only by ``all``;
    * ``approval``: always held for a human, whatever the review mode, unless the org
      lists the kind in ``review_exempt`` (a plan's confirmation, a settlement's credit
      note, a hand-off).
    """

    CONTACT = "contact"
    CHARGE = "charge"
    ESCALATION = "escalation"
    INTERNAL = "internal"
    APPROVAL = "approval"


class ActionConfig(BaseModel):
    """Base of a step action's config model (``[[policies.NAME.steps]] actions``).

    Subclasses declare ``kind: Literal["<name>"]`` plus their own keys; unknown keys are
    refused, models are frozen like the rest of the policy schema.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str


@dataclass
class StepPlan:
    """What a kind's ``plan_step`` gets when its step fires for an invoice.

    ``ctx`` is the invoice in active dunning (``ctx.action(...)`` builds a
    :class:`~policies.actions.PlannedAction` carrying the invoice's review reason and the
    step's review override); append to ``built.actions`` / ``built.emails`` and replace
    ``built.state`` to change the invoice's dunning state.
    """

    ctx: Ctx
    fire: StepConfig
    action: ActionConfig
    why: str
    built: Built
    calendar_days: int


@dataclass
class SourcePlan:
    """What a kind's ``plan_source`` gets once per invoice in active dunning and cycle,
    after the firing step's actions: a kind planned from something other than a policy
    step (e.g. a payment plan's instalment schedule) looks at ``ctx`` (the invoice, its
    customer, its ``DunningState`` and the policy) and appends to ``built``. It may ask for
    the invoice to be looked at again on a given day with ``built.wake_on.append(day)``.
    ``day`` is the dunning day (holds not counted), ``calendar_days`` days since due.
    """

    ctx: Ctx
    built: Built
    day: int
    calendar_days: int


@dataclass(frozen=True)
class KindSpec:
    """One action kind's pure parts. Register it with ``policies.kinds.registry.register``.

    * ``name``: the kind, as in ``kind = "..."``, the outbox row and the executor handler;
    * ``order``: sort order of one customer's actions in a cycle (charges first, so the
      reminder sent in the same cycle shows them; leave gaps);
    * ``review_class``: see :class:`ReviewClass`;
    * ``config``: the step action model, or None if the kind never appears in a step
      (planned from another source, e.g. a payment plan's schedule);
    * ``plan_step``: what a firing step does with the action (None: nothing here, e.g.
      late fees are accrued by ``policies.fees``);
    * ``plan_source``: called for every invoice in active dunning, every cycle, for kinds
      planned from another source than a step (see :class:`SourcePlan`);
    * ``describe``: ``syncd policy explain``'s words for the configured action;
    * ``describe_planned``: extra words for a planned action in ``explain_decision``;
    * ``tally``: the ``simulate`` counter it adds one to (``emails``, ``notes``, ... or a
      new name), ``money_tally``: the per-currency sum it adds its amount to;
    * ``states_claims``: the action shows the customer what is owed (an email, the
      provider's invoice email, a letter): once statutory interest has been claimed, a step
      with such an action also claims the interest accrued since, so what it states is
      current (``policies.steps``);
    * ``validate``: cross-checks against the whole policy; returns ``(subkey, message)``
      pairs, ``subkey`` being "" for the action itself or one of its keys (e.g. ``fee``:
      a fee rule that does not exist).
    """

    name: str
    order: int
    review_class: ReviewClass
    config: type[ActionConfig] | None = None
    plan_step: Callable[[StepPlan], None] | None = None
    plan_source: Callable[[SourcePlan], None] | None = None
    describe: Callable[[PolicyConfig, ActionConfig, int], str] | None = None
    describe_planned: Callable[[PlannedAction], str] | None = None
    tally: str | None = None
    money_tally: str | None = None
    states_claims: bool = False
    validate: Callable[[PolicyConfig, StepConfig, ActionConfig], list[tuple[str, str]]] | None = (
        None
    )
