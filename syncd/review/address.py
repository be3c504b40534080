"""Emails to customers syncd has no address for: held for review, not failed.

An email action whose customer has no address would only fail at send time, after a human
may already have approved it. The cycle therefore holds it (``awaiting_review``) with a reason
that says what to fix, marked with the hold kind ``HoldKind.ADDRESS``; once a sync brings the
address in, :func:`syncd.review.hold.release_addressed` puts the action back on its ordinary
path. The
address counts the way the mailer counts it: the customer's own, or the billing address
QuickBooks keeps on the invoice, each entry bare or with a display name as a mail program
writes it. A field holding something that is not an address ("n/a", "none", "accounts at
acme", "x@", a lone name) counts as no usable address, and the hold's reason names the value
(:func:`read_email_field`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr, unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import PermanentError

from ..mail.model import reachable_address
from ..store.audit import record
from ..store.models import Customer, HoldKind, Invoice, OutboxAction, OutboxStatus

#: Kinds syncd sends by SMTP to the customer's own address.
ADDRESSED_KINDS = frozenset({"email"})
#: What every such hold's reason says (for the human reading it; the release finds its own
#: holds by ``OutboxAction.hold_kind``, never by this text).
NO_ADDRESS = "has no email address"
_CHUNK = 5000


def no_address_reason(customer_id: str) -> str:
    return (
        f"customer {customer_id} {NO_ADDRESS}: add one at the provider; "
        "the next sync releases this email"
    )


@dataclass(frozen=True, slots=True)
class EmailField:
    """One provider email field as a bookkeeper reads it: its addresses, and the entries
    that are not addresses ("n/a", "accounts at acme", "x@", a lone name)."""

    addresses: tuple[str, ...]
    bad: tuple[str, ...]

    @property
    def usable(self) -> list[str]:
        """The addresses a reminder goes to: all of them, or none while any entry is bad.

        A field with a bad entry beside good ones was typed wrong, and the bad entry is
        most often someone the business meant to reach (a half-typed address); a reminder
        that silently skips one of its intended readers is the doubt the product rule holds
        for. The email waits, naming the entry, until the field is corrected."""
        return [] if self.bad else list(self.addresses)


#: One entry of a provider email field: up to the next comma or semicolon that is not inside
#: a quoted display name (``"Smith, Jane" <jane@acme.test>``) or angle brackets. An unclosed
#: quote or bracket is an ordinary character, so the entry it starts reads as typed (and bad).
_ENTRY = re.compile(r'(?:"(?:[^"\\]|\\.)*"|<[^<>]*>|[^,;])+')


def read_email_field(field: object) -> EmailField:
    """The entries of one provider email field, in order, blanks and repeated addresses
    dropped.

    QuickBooks lets a business put several addresses in one field, separated by commas
    (people type semicolons too), and sends its own emails to every one of them; a reminder
    must reach the same people. An entry may carry a display name as people copy it from
    their mail program (``Jane Smith <jane@acme.test>``): a bookkeeper would send to it, so
    its address counts. A field holding only separators or spaces holds nothing. Each
    address is judged by the mailer's own rule (``syncd.mail.model.reachable_address``), and
    the mailer sends to exactly :attr:`EmailField.usable`, so what is counted usable here is
    what it will send to."""
    seen: set[str] = set()
    addresses: list[str] = []
    bad: list[str] = []
    for match in _ENTRY.finditer(str(field or "")):
        entry = match.group().strip()
        if not entry:
            continue
        address = _address_of(entry)
        if (address or entry).lower() in seen:
            continue
        seen.add((address or entry).lower())
        if address is None:
            bad.append(entry)
        else:
            addresses.append(address)
    return EmailField(tuple(addresses), tuple(bad))


def _address_of(entry: str) -> str | None:
    """The address one field entry names, bare (``jane@acme.test``) or with a display name
    (``"Smith, Jane" <jane@acme.test>``); None when it names none a reminder could reach.

    ``email.utils.parseaddr`` reads the display-name form, but it forgives what a careful
    bookkeeper would not ("Jane <jane@acme.test" and "Jane <jane@acme.test> extra" both
    parse to the address), so an entry counts only when it reads exactly ``name <address>``
    as parsed: anything the parser had to guess at is held and named like "n/a"."""
    if reachable_address(entry):
        return entry
    name, address = parseaddr(entry)
    bracketed = f"<{address}>"
    if not address or not entry.endswith(bracketed) or not reachable_address(address):
        return None
    typed = entry.removesuffix(bracketed).strip()
    return address if " ".join(unquote(typed).split()) == " ".join(name.split()) else None


def email_addresses(field: object) -> list[str]:
    """The addresses a reminder may go to from one provider email field (see
    :attr:`EmailField.usable`): empty when the field holds none, or anything that is not an
    address, so every reader counts such a field as no usable address."""
    return read_email_field(field).usable


def bill_emails(raw: object) -> list[str]:
    """The billing addresses QuickBooks keeps on an invoice's raw payload (none: empty); the
    payload is any mapping, as stored or as a connector's fresh read hands it over."""
    return email_addresses(bill_field(raw))


def bill_field(raw: object) -> object:
    """The raw ``BillEmail.Address`` of an invoice payload (None when it has none)."""
    bill = raw.get("BillEmail") if isinstance(raw, Mapping) else None
    return bill.get("Address") if isinstance(bill, Mapping) else None


def unusable_entries(field: object) -> str | None:
    """The entries of ``field`` that are not addresses, named for a person ("'n/a' is not an
    email address"; the whole field follows when it says more); None when there are none."""
    bad = read_email_field(field).bad
    if not bad:
        return None
    listed = ", ".join(repr(b) for b in bad)
    which = "is not an email address" if len(bad) == 1 else "are not email addresses"
    text = str(field).strip()
    whole = "" if [text] == list(bad) else f" (the field reads {text!r})"
    return f"{listed} {which}{whole}"


def address_problem(own: object, billed: Iterable[object] = ()) -> str:
    """What is wrong with a customer's addresses, after "customer <id>": the first field
    that holds something other than an address (the customer's own, else an invoice's
    billing one) with that value named, else that there is none at all."""
    for field in (own, *billed):
        entries = unusable_entries(field)
        if entries:
            return f"has no usable email address: {entries}"
    return NO_ADDRESS


def address_reason(customer_id: str, own: object, billed: Iterable[object] = ()) -> str:
    """The hold's reason: what to fix, the bad value named so the person fixing it at the
    provider knows what to look for (the plain "no address" wording when there is none)."""
    problem = address_problem(own, billed)
    if problem == NO_ADDRESS:
        return no_address_reason(customer_id)
    return (
        f"customer {customer_id} {problem}: correct it at the provider; "
        "the next sync releases this email"
    )


class NoUsableAddress(PermanentError):
    """No email can be addressed to the customer at send time, though one could when it was
    queued or approved: the field went empty or bad since. That is the address's fault, not
    the email's, so the executor puts it back in review, held for its address, and the sync
    that brings a usable one releases it (:func:`lift_address_hold`), instead of failing an
    email a person approved. A preview shows it as the error it is. ``reason`` is the hold's
    (:func:`address_reason`)."""

    def __init__(self, customer_id: str, own: object, billed: Iterable[object] = ()) -> None:
        billed = list(billed)
        self.reason = address_reason(customer_id, own, billed)
        super().__init__(f"customer {customer_id} {address_problem(own, billed)}")


def unaddressed_customers(
    session: Session, org_id: int, customers: Iterable[str]
) -> dict[str, str]:
    """The customers (provider ids) no email could be addressed to, each with the reason
    its emails are held for (:func:`address_reason`)."""
    wanted = sorted(set(customers))
    own: dict[str, object] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(Customer.provider_id, Customer.email).where(
                Customer.org_id == org_id, Customer.provider_id.in_(chunk)
            )
        )
        emails = {pid: email for pid, email in rows}
        own.update((c, emails.get(c)) for c in chunk if not email_addresses(emails.get(c)))
    if not own:
        return {}
    billed: dict[str, list[object]] = {c: [] for c in own}
    for customer, raw in session.execute(
        select(Invoice.customer_provider_id, Invoice.raw)
        .where(
            Invoice.org_id == org_id,
            Invoice.customer_provider_id.in_(sorted(own)),
            Invoice.balance > 0,
        )
        .order_by(Invoice.customer_provider_id, Invoice.provider_id)
    ):
        billed[customer].append(bill_field(raw))
    return {
        customer: address_reason(customer, field, billed[customer])
        for customer, field in own.items()
        if not any(email_addresses(b) for b in billed[customer])
    }


def address_holds(session: Session, org_id: int, kinds: Iterable[str]) -> list[OutboxAction]:
    """The org's actions of ``kinds`` held for a missing address, locked for release (read by
    their hold kind, an index, so a cycle with none waiting costs one index probe)."""
    return list(
        session.scalars(
            select(OutboxAction)
            .where(
                OutboxAction.org_id == org_id,
                OutboxAction.hold_kind == HoldKind.ADDRESS.value,
                OutboxAction.status == OutboxStatus.AWAITING_REVIEW.value,
                OutboxAction.kind.in_(sorted(kinds)),
            )
            .with_for_update()
        )
    )


def refresh_address_hold(row: OutboxAction, reason: str | None, now: datetime) -> None:
    """``row`` stays held for its address, with the reason of today's value (None: keep the
    one it has): a field that went from empty to "n/a" needs correcting, not adding, and the
    person fixing it at the provider looks for the value the reason names."""
    if reason is not None and reason != row.review_reason:
        row.review_reason, row.updated_at = reason, now


def lift_address_hold(
    session: Session, row: OutboxAction, review: str | None, now: datetime
) -> None:
    """The address has come: ``row`` goes on to its ordinary path, pending or held for
    ``review`` (the reason its kind would be held for anyway), and the audit log says so."""
    if review is None:
        row.status = OutboxStatus.PENDING.value
    row.review_reason, row.hold_kind, row.updated_at = review, None, now
    record(
        session,
        at=now,
        event="action.address_found",
        org_id=row.org_id,
        subject_type="action",
        subject_id=row.idempotency_key,
        status=row.status,
        review=review,
    )
