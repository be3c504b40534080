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
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import PlannedAction
from policies.kinds.base import ReviewClass
from policies.kinds.registry import kind as registered_kind
from policies.kinds.registry import kinds

from ..config.loader import LoadedConfig
from ..store.models import OutboxAction, OutboxStatus

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


def hold_reason(
    action: PlannedAction, mode: str, *, contacted: bool, exempt: Iterable[str] = ()
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
    """The hold decision for one cycle's actions (one query for the whole cycle)."""

    def __init__(
        self,
        session: Session,
        config: LoadedConfig,
        org_name: str,
        org_id: int,
        actions: Iterable[PlannedAction],
    ) -> None:
        self.mode = review_mode(config, org_name)
        self.exempt = frozenset(config.settings.org(org_name).review_exempt)
        self.contacted = (
            contacted_customers(session, org_id, (a.customer_id for a in actions))
            if self.mode == "first-contact"
            else set()
        )

    def reason(self, action: PlannedAction) -> str | None:
        return hold_reason(
            action, self.mode, contacted=action.customer_id in self.contacted, exempt=self.exempt
        )
