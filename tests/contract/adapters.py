"""How the contract suite drives each provider's sandbox: one thin adapter per provider.

The suite speaks only to these adapters (bookkeeper actions, the write log, fault injection,
the truth) and to syncd's public seams (config, store, :func:`syncd.connections.connect`),
so a new connector joins the suite by shipping a sandbox and one adapter here.
"""

from __future__ import annotations

import inspect
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from connectors.kit import TAG_RE
from tests.support import quickbooks_truth, xero_truth

MODES = ("kind", "strict")


def tags_in(value: Any) -> set[str]:
    return set(TAG_RE.findall(str(value)))


def count_tags(groups: Iterable[set[str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for group in groups:
        counts.update(group)
    return counts


def accepts_strict(sandbox_class: Any) -> bool:
    try:
        return "strict" in inspect.signature(sandbox_class).parameters
    except (TypeError, ValueError):
        return False


@dataclass
class Pace:
    """Fake time for a connector's sleeps: recorded, and the sandbox clock moved to match."""

    advance: Callable[[float], None]
    t: float = field(default_factory=time.monotonic)
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            # The provider's clock first: a thread that reads the new time must find the
            # provider already there (the other order let a call through that the sandbox,
            # not yet advanced, still counted in the old minute: a 429 on a loaded machine).
            self.advance(seconds)
            self.t += seconds


class Adapter:
    """One provider's sandbox seen through what the contract needs; subclasses fill it in."""

    provider: str
    org = "shop"
    now: datetime
    fee_options: dict[str, str]
    #: The pause a 429 without Retry-After earns (the provider's documented advice).
    default_throttle_wait: float
    #: An invoice id the provider has never issued.
    missing_id: str

    def __init__(self, sandbox_class: Any) -> None:
        self.sandbox_class = sandbox_class
        self.sandbox: Any = None

    @contextmanager
    def started(self, mode: str, *, seed: int, invoices: int, **kwargs: Any) -> Iterator[Any]:
        if mode == "strict":
            kwargs["strict"] = True
        with self.sandbox_class(seed=seed, invoices=invoices, now=self.now, **kwargs) as box:
            self.sandbox = box
            yield box

    def org_block(self, name: str | None = None, org_keys: str = "", **options: Any) -> str:
        """``org_keys``: extra TOML lines for the ``[[orgs]]`` table itself (review, go_live)."""
        cfg = self.sandbox.org_config()
        creds = "".join(f'{k} = "{cfg[k]}"\n' for k in self.credential_keys)
        opts = "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in {**self.fee_options, **options}.items()
        )
        return (
            f'\n[[orgs]]\nname = "{name or self.org}"\nconnector = "{self.provider}"\n'
            f'policy = "standard"\n{self.timezone_line}{org_keys}'
            f'base_url = "{cfg["base_url"]}"\ntoken_url = "{cfg["token_url"]}"\n\n'
            f"[orgs.credentials]\n{creds}\n[orgs.options]\n{opts}"
        )

    credential_keys: tuple[str, ...] = ()
    timezone_line = ""

    # Provided by each provider --------------------------------------------------------------
    def sandbox_now(self) -> datetime:
        raise NotImplementedError

    def advance(self, seconds: float) -> None:
        raise NotImplementedError

    def truth(self) -> dict[str, Any]:
        raise NotImplementedError

    def mismatches(self, session: Session, org_id: int | None = None) -> list[str]:
        raise NotImplementedError

    def open_invoices(self, *, emailable: bool = True) -> list[dict[str, Any]]:
        """Unpaid, editable invoices: ``{"id", "currency", "customer_id"}``."""
        raise NotImplementedError

    def deletable_invoice(self, avoid: set[str] = frozenset()) -> str:  # type: ignore[assignment]
        raise NotImplementedError

    def pay(self, invoice_id: str, amount: str | None = None) -> None:
        raise NotImplementedError

    def void(self, invoice_id: str) -> None:
        raise NotImplementedError

    def delete(self, invoice_id: str) -> None:
        raise NotImplementedError

    def edit_due_date(self, invoice_id: str, due: str) -> None:
        raise NotImplementedError

    def delete_payment(self) -> str | None:
        """Delete a live payment at the provider; its id, or None where it cannot be done."""
        return None

    def notes(self, invoice_id: str) -> list[str]:
        raise NotImplementedError

    def emails(self, invoice_id: str) -> int:
        raise NotImplementedError

    def note_tags(self) -> Counter[str]:
        """How often each tag key was written in a note, over all invoices."""
        raise NotImplementedError

    def fee_tags(self) -> Counter[str]:
        """How often each tag key was written as a fee (a line added, a fee invoice)."""
        raise NotImplementedError

    def provider_emails(self) -> int:
        raise NotImplementedError

    def fee_lines(self, key_tag: str) -> int:
        raise NotImplementedError

    def fee_invoices(self) -> int:
        raise NotImplementedError

    def fault(self, kind: str, count: int, **kwargs: Any) -> None:
        """``kind`` in 500, 503, 429, timeout, malformed; kwargs: seconds, retry_after, method."""
        raise NotImplementedError

    def statuses(self) -> list[int]:
        """HTTP statuses of the API calls (not token or control calls), in order."""
        raise NotImplementedError

    def expire_access_tokens(self) -> None:
        raise NotImplementedError

    def kill_refresh_token(self) -> None:
        """Make the refresh token syncd holds unusable, as a disconnect would."""
        raise NotImplementedError

    def pace(self, connector: Any, pace: Pace) -> None:
        raise NotImplementedError

    def set_timeout(self, connector: Any, seconds: float) -> None:
        raise NotImplementedError

    def bad_fee_options(self) -> dict[str, str]:
        """Fee settings the provider refuses with a validation error."""
        raise NotImplementedError

    def credit_documents(self) -> list[dict[str, Any]]:
        """Credit notes (Xero) or credit memos (QuickBooks) at the provider: ``{"id", "total"}``."""
        raise NotImplementedError


class QuickBooksAdapter(Adapter):
    provider = "quickbooks"
    now = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    fee_options = {"late_fee_item_id": "10", "settlement_item_id": "1"}
    default_throttle_wait = 60.0
    missing_id = "999999"
    credential_keys = ("client_id", "client_secret", "refresh_token", "realm_id")
    timezone_line = 'timezone = "America/Los_Angeles"\n'

    @property
    def control(self) -> Any:
        return self.sandbox.control

    def sandbox_now(self) -> datetime:
        return datetime.fromisoformat(self.control.now()).astimezone(UTC)

    def advance(self, seconds: float) -> None:
        self.control.advance_clock(seconds=seconds)

    def truth(self) -> dict[str, Any]:
        return dict(self.control.truth())

    def mismatches(self, session: Session, org_id: int | None = None) -> list[str]:
        return quickbooks_truth.mismatches(session, self.truth(), org_id)

    def open_invoices(self, *, emailable: bool = True) -> list[dict[str, Any]]:
        return [
            {"id": t["id"], "currency": t["currency"], "customer_id": t["customer_id"]}
            for t in self.truth()["invoices"]
            if t["status"] == "open"
            and bool(t["bill_email"]) == emailable
            and Decimal(t["balance"]) == Decimal(t["total"])
        ]

    def deletable_invoice(self, avoid: set[str] = frozenset()) -> str:  # type: ignore[assignment]
        truth = self.truth()["invoices"]
        return str(next(t["id"] for t in truth if t["status"] == "open" and t["id"] not in avoid))

    def pay(self, invoice_id: str, amount: str | None = None) -> None:
        allocation = {"invoice_id": invoice_id}
        if amount is not None:
            allocation["amount"] = amount
        self.control.add_payment([allocation])

    def void(self, invoice_id: str) -> None:
        self.control.void_invoice(invoice_id)

    def delete(self, invoice_id: str) -> None:
        self.control.delete_invoice(invoice_id)

    def edit_due_date(self, invoice_id: str, due: str) -> None:
        self.control.edit_invoice(invoice_id, fields={"DueDate": due})

    def notes(self, invoice_id: str) -> list[str]:
        found: list[str] = []
        for note in self.control.writes()["notes"]:
            if note["id"] != invoice_id:
                continue
            before = (note["before"] or "").split("\n")
            found += [
                ln
                for ln in (note["after"] or "").split("\n")
                if ln.startswith("[syncd:") and ln not in before
            ]
        return found

    def emails(self, invoice_id: str) -> int:
        return sum(1 for e in self.control.writes()["emails"] if e["invoice_id"] == invoice_id)

    def fee_lines(self, key_tag: str) -> int:
        return sum(1 for ln in self.control.writes()["lines_added"] if key_tag in str(ln))

    def note_tags(self) -> Counter[str]:
        groups = []
        for note in self.control.writes()["notes"]:
            before = set((note["before"] or "").split("\n"))
            added = [ln for ln in (note["after"] or "").split("\n") if ln not in before]
            groups.append(tags_in("\n".join(added)))
        return count_tags(groups)

    def fee_tags(self) -> Counter[str]:
        writes = self.control.writes()
        return count_tags(tags_in(w) for w in writes["lines_added"] + writes["invoices_created"])

    def provider_emails(self) -> int:
        return len(self.control.writes()["emails"])

    def fee_invoices(self) -> int:
        return len(self.control.writes()["invoices_created"])

    def fault(self, kind: str, count: int, **kwargs: Any) -> None:
        kwargs.pop("retry_after", None)  # Intuit sends no Retry-After
        name = {"timeout": "timeout", "malformed": "malformed_json"}.get(kind, f"http_{kind}")
        self.control.inject_fault(name, count=count, **kwargs)

    def statuses(self) -> list[int]:
        return [int(r["status"]) for r in self.control.requests() if "/v3/" in str(r["path"])]

    def expire_access_tokens(self) -> None:
        self.control.expire_access_tokens()

    def kill_refresh_token(self) -> None:
        # Another client spends the refresh token: Intuit rotates it, syncd's copy is dead.
        import requests

        cfg = self.sandbox.org_config()
        reply = requests.post(
            cfg["token_url"],
            data={"grant_type": "refresh_token", "refresh_token": cfg["refresh_token"]},
            auth=(cfg["client_id"], cfg["client_secret"]),
            timeout=10,
        )
        assert reply.status_code == 200, reply.text
        self.control.expire_access_tokens()

    def pace(self, connector: Any, pace: Pace) -> None:
        connector._sleep = pace.sleep
        connector.session._limiter._sleep = pace.sleep
        connector.session._limiter._monotonic = pace.monotonic

    def set_timeout(self, connector: Any, seconds: float) -> None:
        connector.session._timeout = seconds

    def bad_fee_options(self) -> dict[str, str]:
        return {"late_fee_item_id": "999"}

    def credit_documents(self) -> list[dict[str, Any]]:
        return [{"id": m["id"], "total": m["total"]} for m in self.truth()["credit_memos"]]


class XeroAdapter(Adapter):
    provider = "xero"
    now = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    fee_options = {"late_fee_account_code": "200", "settlement_account_code": "200"}
    default_throttle_wait = 60.0
    missing_id = "00000000-0000-0000-0000-000000000000"
    credential_keys = ("client_id", "client_secret", "refresh_token", "tenant_id")

    @contextmanager
    def started(self, mode: str, *, seed: int, invoices: int, **kwargs: Any) -> Iterator[Any]:
        from connectors.xero.sandbox import XeroSandboxClient

        with super().started(mode, seed=seed, invoices=invoices, **kwargs) as box:
            self.control = XeroSandboxClient(box.base_url)
            yield box

    def sandbox_now(self) -> datetime:
        return self.control.now().astimezone(UTC)  # type: ignore[no-any-return]

    def advance(self, seconds: float) -> None:
        self.control.advance(seconds)

    def truth(self) -> dict[str, Any]:
        return dict(self.control.truth())

    def mismatches(self, session: Session, org_id: int | None = None) -> list[str]:
        return xero_truth.mismatches(session, self.truth(), org_id)

    def open_invoices(self, *, emailable: bool = True) -> list[dict[str, Any]]:
        truth = self.truth()
        reachable = {c["contact_id"] for c in truth["contacts"] if c["email_recipients"]}
        return [
            {"id": t["invoice_id"], "currency": t["currency"], "customer_id": t["contact_id"]}
            for t in truth["invoices"]
            if t["status"] == "AUTHORISED"
            and (t["contact_id"] in reachable) == emailable
            and Decimal(t["amount_paid"]) == 0
            and Decimal(t["amount_credited"]) == 0
        ]

    def deletable_invoice(self, avoid: set[str] = frozenset()) -> str:  # type: ignore[assignment]
        # Xero deletes only drafts and submitted invoices.
        truth = self.truth()["invoices"]
        return str(next(t["invoice_id"] for t in truth if t["status"] == "DRAFT"))

    def pay(self, invoice_id: str, amount: str | None = None) -> None:
        if amount is None:
            self.control.add_payment(invoice_id)
        else:
            self.control.add_payment(invoice_id, amount)

    def void(self, invoice_id: str) -> None:
        self.control.void_invoice(invoice_id)

    def delete(self, invoice_id: str) -> None:
        self.control.delete_invoice(invoice_id)

    def edit_due_date(self, invoice_id: str, due: str) -> None:
        self.control.edit_invoice(invoice_id, due_date=due)

    def delete_payment(self) -> str | None:
        live = next(p for p in self.truth()["payments"] if p["status"] == "AUTHORISED")
        self.control.delete_payment(live["payment_id"])
        return str(live["payment_id"])

    def notes(self, invoice_id: str) -> list[str]:
        return [
            str(n["details"])
            for n in self.control.writes()["history_notes"]
            if n["invoice_id"] == invoice_id and "[syncd:" in str(n["details"])
        ]

    def emails(self, invoice_id: str) -> int:
        return sum(1 for e in self.control.writes()["emails"] if e["invoice_id"] == invoice_id)

    def fee_lines(self, key_tag: str) -> int:
        return sum(1 for e in self.control.writes()["line_edits"] if key_tag in str(e))

    def note_tags(self) -> Counter[str]:
        return count_tags(tags_in(n["details"]) for n in self.control.writes()["history_notes"])

    def fee_tags(self) -> Counter[str]:
        writes = self.control.writes()
        edits = (tags_in(e["after"]) - tags_in(e["before"]) for e in writes["line_edits"])
        created = (tags_in(c) for c in writes["created_invoices"])
        return count_tags([*edits, *created])

    def provider_emails(self) -> int:
        return len(self.control.writes()["emails"])

    def fee_invoices(self) -> int:
        return len(self.control.writes()["created_invoices"])

    def fault(self, kind: str, count: int, **kwargs: Any) -> None:
        name = {"timeout": "timeout"}.get(kind, kind)
        if kind == "429":
            kwargs.setdefault("problem", "minute")
        self.control.add_fault(name, count=count, **kwargs)

    def statuses(self) -> list[int]:
        return [
            int(r["status"])
            for r in self.control.requests()
            if str(r["path"]).startswith("/api.xro")
        ]

    def expire_access_tokens(self) -> None:
        self.control.expire_access_tokens()

    def kill_refresh_token(self) -> None:
        self.control.revoke_refresh_tokens()
        self.control.expire_access_tokens()

    def pace(self, connector: Any, pace: Pace) -> None:
        connector.sleep = pace.sleep
        connector.governor.sleep = pace.sleep
        connector.governor.monotonic = pace.monotonic

    def set_timeout(self, connector: Any, seconds: float) -> None:
        connector.transport._timeout = seconds

    def bad_fee_options(self) -> dict[str, str]:
        return {"late_fee_account_code": "999"}

    def credit_documents(self) -> list[dict[str, Any]]:
        return [
            {"id": n["credit_note_id"], "total": n["total"]} for n in self.truth()["credit_notes"]
        ]


ADAPTERS: dict[str, type[Adapter]] = {"quickbooks": QuickBooksAdapter, "xero": XeroAdapter}
