"""Which planned actions wait for a human before they run.

Each kind's review class (``policies.kinds``, ``KindSpec.review_class``) says which modes
hold it. Precedence, first match wins:

1. the engine's ``PlannedAction.review`` (a reason): always held, whatever else says;
2. a kind of the ``approval`` class (a plan's confirmation, a settlement's credit note, a
   hand-off): always held unless the org lists it in ``review_exempt``;
3. the policy step's ``review = "always" | "never"`` (``PlannedAction.review_mode``);
4. the org's ``review`` mode; absent from the config means ``"all"`` (a new org's safe mode
   until the user chooses otherwise):

   * ``all``: everything;
   * ``fees-and-escalations``: the ``charge`` and ``escalation`` classes (late fees,
     statutory interest, compensation, escalations);
   * ``first-contact``: every action for a customer syncd has not yet reached: no action of
     the ``contact`` or ``charge`` class for that customer has been completed (``done`` with a
     confirmed outcome). Notes are internal and do not count as contact; an email whose
     delivery is unconfirmed does not either (a human looks once more);
   * ``off``: nothing.

Last, an email that would go on its own but announces a charge its step makes which waits
(``Holds.with_charges``) waits with it, with that reason as its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import PlannedAction
from policies.kinds.base import ReviewClass
from policies.kinds.registry import kind as registered_kind
from policies.kinds.registry import kinds

from ..config.loader import LoadedConfig
from ..store.models import HoldKind, OutboxAction, OutboxStatus
from .address import (
    ADDRESSED_KINDS,
    address_holds,
    lift_address_hold,
    refresh_address_hold,
    unaddressed_customers,
)

DEFAULT_MODE = "all"


def kinds_of(*classes: ReviewClass) -> frozenset[str]:
    return frozenset(s.name for s in kinds() if s.review_class in classes)


FEE_KINDS = kinds_of(ReviewClass.CHARGE)
ESCALATION_KINDS = kinds_of(ReviewClass.ESCALATION)
#: Kinds that reach the customer: once one of them is done, the customer has been contacted.
CONTACT_KINDS = kinds_of(ReviewClass.CONTACT, ReviewClass.CHARGE)


def review_mode(config: LoadedConfig, org_name: str) -> str:
    return config.settings.org(org_name).review or DEFAULT_MODE


def review_mode_label(config: LoadedConfig, org_name: str) -> str:
    """The mode as ``config check`` shows it (says when it is the new-org default)."""
    mode = config.settings.org(org_name).review
    return mode if mode is not None else f"{DEFAULT_MODE} (default for a new org)"


def _confirmed(result: dict[str, Any] | None) -> bool:
    return not str((result or {}).get("delivery") or "").startswith("unconfirmed")


def contacted_customers(session: Session, org_id: int, customers: Iterable[str]) -> set[str]:
    """The customers (provider ids) syncd has already reached with a completed action."""
    wanted = sorted(set(customers))
    found: set[str] = set()
    for start in range(0, len(wanted), 5000):
        rows = session.execute(
            select(OutboxAction.customer_provider_id, OutboxAction.result).where(
                OutboxAction.org_id == org_id,
                OutboxAction.status == OutboxStatus.DONE.value,
                OutboxAction.kind.in_(CONTACT_KINDS),
                OutboxAction.customer_provider_id.in_(wanted[start : start + 5000]),
            )
        )
        found.update(c for c, result in rows if c is not None and _confirmed(result))
    return found


class HoldSubject(Protocol):
    """What the hold decision reads of an action: a planned one, or one already queued."""

    @property
    def kind(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def step_id(self) -> str | None: ...
    @property
    def review(self) -> str | None: ...
    @property
    def review_mode(self) -> str | None: ...


class _Queued:
    """A queued action's hold inputs, read back from its payload (``PlannedAction.to_dict``)."""

    def __init__(self, row: OutboxAction) -> None:
        payload = row.payload or {}
        self.kind, self.step_id = row.kind, payload.get("step")
        self.customer_id = row.customer_provider_id or ""
        self.review, self.review_mode = payload.get("review"), payload.get("review_mode")


def hold_reason(
    action: HoldSubject, mode: str, *, contacted: bool, exempt: Iterable[str] = ()
) -> str | None:
    """Why ``action`` must wait for review, or None if it may run by itself."""
    forced = action.review
    if forced:
        return forced
    kind = str(action.kind)
    spec = registered_kind(kind)
    if spec.review_class is ReviewClass.APPROVAL and kind not in exempt:
        return (
            f"a {kind.replace('_', ' ')} always waits for approval "
            f'(unless the org lists it in review_exempt = ["{kind}"])'
        )
    step = f"step {action.step_id!r}" if action.step_id else "this step"
    if action.review_mode == "always":
        return f'{step} is set to review = "always"'
    if action.review_mode == "never":
        return None
    if mode == "all":
        return 'review = "all": every action waits for approval'
    if mode == "fees-and-escalations" and kind in FEE_KINDS | ESCALATION_KINDS:
        return f'review = "fees-and-escalations": a {kind.replace("_", " ")} waits for approval'
    if mode == "first-contact" and not contacted:
        return (
            'review = "first-contact": syncd has not yet reached this customer '
            "(no email or charge completed)"
        )
    return None


class Holds:
    """The hold decision for a set of actions, planned or queued (one query for their
    customers' contact, in ``first-contact`` mode, and one for the addresses of those it
    emails). New actions and released address holds are judged by this one decision."""

    def __init__(
        self,
        session: Session,
        config: LoadedConfig,
        org_name: str,
        org_id: int,
        actions: Iterable[HoldSubject],
    ) -> None:
        actions = list(actions)
        self.mode = review_mode(config, org_name)
        self.exempt = frozenset(config.settings.org(org_name).review_exempt)
        self.contacted = (
            contacted_customers(session, org_id, (a.customer_id for a in actions))
            if self.mode == "first-contact"
            else set()
        )
        emailed = (a.customer_id for a in actions if str(a.kind) in ADDRESSED_KINDS)
        self.unaddressed = unaddressed_customers(session, org_id, emailed)

    def hold(self, action: HoldSubject) -> tuple[str | None, HoldKind | None]:
        """Why ``action`` waits for review (None: it does not), and the kind of hold when
        syncd itself releases it (None: only a human does)."""
        if str(action.kind) in ADDRESSED_KINDS and action.customer_id in self.unaddressed:
            return self.unaddressed[action.customer_id], HoldKind.ADDRESS
        return self._reason(action), None

    def _reason(self, action: HoldSubject) -> str | None:
        contacted = action.customer_id in self.contacted
        return hold_reason(action, self.mode, contacted=contacted, exempt=self.exempt)

    def with_charges(self, actions: Sequence[PlannedAction]) -> list[PlannedAction]:
        """An email that announces a charge its step makes (the late-fee notice, the
        statutory claim) waits while that charge waits (``fees-and-escalations``, say): no
        customer is told of a charge the bookkeeper may still refuse, and approving the
        customer sends both. The reason becomes the email's own, so the sync that brings a
        missing address does not release it alone."""
        waiting = {
            (a.invoice_id, a.step_id): str(a.kind).replace("_", " ")
            for a in actions
            if str(a.kind) in FEE_KINDS and self._reason(a) is not None
        }
        if not waiting:
            return list(actions)
        out: list[PlannedAction] = []
        for a in actions:
            goes_with = [
                f"the {waiting[i.invoice_id, i.step_id]} on invoice {i.number}"
                for i in a.items
                if (i.invoice_id, i.step_id) in waiting
            ]
            if goes_with and self._reason(a) is None:
                why = (
                    f"the email announces {', '.join(goes_with)}, which waits for review: "
                    "approve them together"
                )
                a = replace(a, review=why)
            out.append(a)
        return out


def release_addressed(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, now: datetime
) -> int:
    """Emails held for a missing address whose customer has one now (a sync brought it in)
    go back on their ordinary path: pending, or still held if the org's review would hold
    them anyway (with that reason). Reads only the org's address holds (by their kind, an
    index), so a cycle costs nothing here while none are waiting. Returns how many were
    released."""
    rows = address_holds(session, org_id, ADDRESSED_KINDS)  # plans: syncd.plans.addressing
    if not rows:
        return 0
    queued = [_Queued(row) for row in rows]
    holds = Holds(session, config, org_name, org_id, queued)
    released = 0
    for row, action in zip(rows, queued, strict=True):
        held, kind = holds.hold(action)
        if kind is HoldKind.ADDRESS:  # still no usable address: the reason says what is wrong now
            refresh_address_hold(row, held, now)
            continue
        lift_address_hold(session, row, held, now)
        released += 1
    return released
