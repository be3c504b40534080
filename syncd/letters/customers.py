"""Finding a customer the way a person names one: the provider's id, or the name (exact,
then a unique partial match, both without regard to case)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.models import Customer


class CustomerNotFound(LookupError):
    """No customer, or several, match what the user typed: the message says which."""


def resolve_customer(session: Session, org_id: int, ref: str) -> Customer:
    wanted = ref.strip()
    if not wanted:
        raise CustomerNotFound("expected a customer's provider id or name")
    rows = list(session.scalars(select(Customer).where(Customer.org_id == org_id)))
    by_id = [c for c in rows if c.provider_id == wanted]
    if by_id:
        return by_id[0]
    folded = wanted.casefold()
    exact = [c for c in rows if c.name.casefold() == folded]
    matches = exact or [c for c in rows if folded in c.name.casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CustomerNotFound(f"no customer with id or name {wanted!r} in this org's store")
    shown = ", ".join(f"{c.name} (id {c.provider_id})" for c in matches[:8])
    more = f" and {len(matches) - 8} more" if len(matches) > 8 else ""
    raise CustomerNotFound(
        f"{wanted!r} matches {len(matches)} customers: {shown}{more}; give the id"
    )
