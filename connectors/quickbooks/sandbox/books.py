"""The company's state and the bookkeeping every write shares: ids, stamps, SyncTokens,
derived balances and the payment applications behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from . import faults
from .balances import CustomerBalances
from .balances import share as balance_share
from .catalog import (
    COMPANY_DEFAULT_DUE_DAYS,
    CURRENCIES,
    EXCHANGE_RATES,
    TERMS,
)
from .clock import SandboxClock
from .lists import active_tax_codes
from .money import ZERO, money
from .readindex import RowIndex, TrackedRows
from .shapes import (
    ENTITIES,
    JSON,
    Tombstone,
    _blank,
    _days_after,
    _iso_date,
    _ref_value,
    _sync_token,
)
from .unkind import Unkindness
from .wire import entity_time, envelope_time, local_date, parse_date


class Books:
    """One realm's books. All state changes go through methods holding ``self.lock``."""

    def __init__(
        self,
        *,
        realm_id: str,
        clock: SandboxClock,
        tz: tzinfo,
        home_currency: str = "USD",
        user_id: str = "9130357766900000",
        country: str = "US",
    ) -> None:
        self.realm_id = realm_id
        #: ISO country of the company: non-US companies require a TaxCodeRef on every line.
        self.country = country
        self.last_tax_detail: JSON = {"TotalTax": ZERO}
        #: Books closed up to and including this date (Settings > Advanced > Accounting).
        self.closing_date: date | None = None
        #: Account and settings > Advanced > Automatically apply credits (on for new companies).
        self.auto_apply_credit = True
        #: Undocumented behaviours and which way they go (see unkind.py).
        self.unkind = Unkindness()
        self.clock = clock
        self.tz = tz
        self.home_currency = home_currency
        self.user_id = user_id
        self.lock = threading.RLock()
        #: Change-ordered view of each entity for queries and CDC (see readindex.py).
        self.read_index = {name: RowIndex(tz) for name in ENTITIES}
        self.entities: dict[str, dict[str, JSON]] = {
            name: TrackedRows(self.read_index[name].mark) for name in ENTITIES
        }
        self.tombstones: dict[tuple[str, str], Tombstone] = {}
        self.voided: dict[str, datetime] = {}
        # target transaction id -> {payment id: amount applied}
        self.applied: dict[str, dict[str, Decimal]] = {}
        # payment id -> transaction ids its lines point at (reverse of ``applied``)
        self.payment_targets: dict[str, list[str]] = {}
        # customer id -> {transaction id: entity}
        self.customer_txns: dict[str, dict[str, str]] = {}
        self.balances = CustomerBalances()
        self.names: dict[str, str] = {}
        self.next_txn_id = 1
        self.next_customer_id = 1
        self.next_doc_number = 1001
        self.journal: dict[str, list[JSON]] = {
            "notes": [],
            "emails": [],
            "lines_added": [],
            "invoices_created": [],
        }

    def now(self) -> datetime:
        return self.clock.now()

    def time(self) -> str:
        return envelope_time(self.now(), self.tz)

    def _stamp(self, at: datetime | None) -> datetime:
        return at if at is not None else self.clock.now()

    def _new_txn_id(self) -> str:
        value = str(self.next_txn_id)
        self.next_txn_id += 1
        return value

    def _new_doc_number(self) -> str:
        value = str(self.next_doc_number)
        self.next_doc_number += 1
        return value

    def _currency_ref(self, code: str) -> JSON:
        return {"value": code, "name": CURRENCIES.get(code, code)}

    def _customer(self, customer_id: str, element: str = "CustomerRef") -> JSON:
        customer = self.entities["Customer"].get(customer_id)
        if customer is None:
            raise faults.invalid_reference(
                f"Customer assigned to this transaction: {customer_id}", element
            )
        return customer

    def get(self, entity: str, entity_id: str) -> JSON:
        found = self.entities[entity].get(str(entity_id))
        if found is None:
            raise faults.not_found(entity, str(entity_id))
        return found

    def _check_closing_date(self, txn_date: str) -> None:
        """Books closed: API edits of a transaction dated on or before the closing date are
        refused (the owner can still edit through the control API, as with the password)."""
        if self.closing_date is not None and parse_date(txn_date) <= self.closing_date:
            raise faults.business_validation(
                f"The transaction is dated on or before the closing date "
                f"({self.closing_date.isoformat()}); the books are closed for that period.",
                "TxnDate",
            )

    def _check_token(self, entity: str, current: JSON, body: JSON) -> None:
        sent = _sync_token(body.get("SyncToken"))
        if sent != current["SyncToken"]:
            raise faults.stale_object(entity, current["Id"], sent, current["SyncToken"])

    def _current(self, entity: str, body: JSON) -> JSON:
        """The stored row an update or delete names, if the SyncToken sent is the latest."""
        current = self.get(entity, _ref_value(body.get("Id"), "Id"))
        self._check_token(entity, current, body)
        return current

    def touch(self, entity: str, entity_id: str) -> None:
        """A stored row was changed in place: forget what the read index knows about it."""
        self.read_index[entity].mark(entity_id)

    def _bump(self, payload: JSON, at: datetime, *, by_user: bool = True) -> None:
        customer_ref = payload.get("CustomerRef")
        if customer_ref is not None:
            self.balances.touch(customer_ref["value"], payload["Id"])
        for index in self.read_index.values():
            index.mark(payload["Id"])
        payload["SyncToken"] = str(int(payload["SyncToken"]) + 1)
        meta = payload["MetaData"]
        meta["LastUpdatedTime"] = entity_time(at, self.tz)
        if by_user and "LastModifiedByRef" in meta:
            meta["LastModifiedByRef"] = {"value": self.user_id}

    def _meta(self, at: datetime, *, modified_by: bool) -> JSON:
        stamp = entity_time(at, self.tz)
        meta: JSON = {"CreateTime": stamp}
        if modified_by:
            meta["LastModifiedByRef"] = {"value": self.user_id}
        meta["LastUpdatedTime"] = stamp
        return meta

    def _link_customer(self, customer_id: str, txn_id: str, entity: str) -> None:
        self.customer_txns.setdefault(customer_id, {})[txn_id] = entity
        self.balances.touch(customer_id, txn_id)

    def _unlink_customer(self, customer_id: str, txn_id: str) -> None:
        self.customer_txns.get(customer_id, {}).pop(txn_id, None)
        self.balances.touch(customer_id, txn_id)

    def _applied_total(self, txn_id: str) -> Decimal:
        return sum(self.applied.get(txn_id, {}).values(), ZERO)

    def _refresh_target(self, txn_id: str, at: datetime) -> None:
        """Recompute an invoice's or credit memo's balance after its payments changed."""
        if txn_id in self.entities["Invoice"]:
            invoice = self.entities["Invoice"][txn_id]
            balance = invoice["TotalAmt"] - self._applied_total(txn_id)
            links = [
                {"TxnId": pid, "TxnType": "Payment"}
                for pid in sorted(self.applied.get(txn_id, {}), key=int)
            ]
            other = [
                link for link in invoice.get("LinkedTxn", []) if link.get("TxnType") != "Payment"
            ]
            new_links = other + links
            if balance != invoice["Balance"] or new_links != invoice.get("LinkedTxn"):
                invoice["Balance"] = balance
                invoice["LinkedTxn"] = new_links
                self._home_amounts(invoice)
                self._bump(invoice, at, by_user=False)
        elif txn_id in self.entities["CreditMemo"]:
            memo = self.entities["CreditMemo"][txn_id]
            remaining = memo["TotalAmt"] - self._applied_total(txn_id)
            if remaining != memo["Balance"]:
                memo["Balance"] = remaining
                memo["RemainingCredit"] = remaining
                self._home_amounts(memo)
                self._bump(memo, at, by_user=False)

    def _home_amounts(self, payload: JSON) -> None:
        rate = payload.get("ExchangeRate")
        if rate is None:
            return
        payload["HomeTotalAmt"] = money(payload["TotalAmt"] * rate)
        if "Balance" in payload:
            payload["HomeBalance"] = money(payload["Balance"] * rate)

    def customer_balance(self, customer_id: str) -> Decimal:
        """Open invoices and credit memos plus unapplied payments (see balances.py)."""
        return self.balances.balance(
            customer_id, self.customer_txns.get(customer_id, {}), self.entities
        )

    def customer_balance_rescan(self, customer_id: str) -> Decimal:
        """The same sum re-added from every transaction: the reference the tests check."""
        total = ZERO
        for txn_id, entity in self.customer_txns.get(customer_id, {}).items():
            payload = self.entities[entity].get(txn_id)
            if payload is not None:
                total += balance_share(entity, payload)
        return total

    def _refresh_customer(self, customer_id: str, at: datetime) -> None:
        customer = self.entities["Customer"].get(customer_id)
        if customer is None:
            return
        balance = self.customer_balance(customer_id)
        if balance != customer["Balance"]:
            self.touch("Customer", customer_id)
            customer["Balance"] = balance
            customer["BalanceWithJobs"] = balance
            customer["MetaData"]["LastUpdatedTime"] = entity_time(at, self.tz)

    def _due_date(self, txn_date: str, term_id: str | None) -> str:
        days = TERMS[term_id].days if term_id in TERMS else COMPANY_DEFAULT_DUE_DAYS
        return _days_after(txn_date, days)

    def _term_ref(self, value: Any) -> JSON | None:
        if _blank(value):
            return None
        term_id = _ref_value(value, "SalesTermRef")
        term = TERMS.get(term_id)
        if term is None:
            raise faults.invalid_reference(f"Term {term_id}", "SalesTermRef")
        return {"value": term.id, "name": term.name}

    def _txn_date(self, value: Any, when: datetime, element: str = "TxnDate") -> str:
        if _blank(value):
            return local_date(when, self.tz)
        try:
            return _iso_date(str(value))
        except ValueError as exc:
            raise faults.invalid_value(f"{element} {value!r} is not a date", element) from exc

    def _journal_note(self, entity: str, before: JSON, after: JSON, when: datetime) -> None:
        if before.get("PrivateNote") != after.get("PrivateNote"):
            self.journal["notes"].append(
                {
                    "entity": entity,
                    "id": after["Id"],
                    "before": before.get("PrivateNote"),
                    "after": after.get("PrivateNote"),
                    "at": entity_time(when, self.tz),
                }
            )

    def _recompute_payment(self, payment: JSON) -> None:
        applied = sum(
            (
                line["Amount"] if line["LinkedTxn"][0]["TxnType"] == "Invoice" else -line["Amount"]
                for line in payment["Line"]
            ),
            ZERO,
        )
        payment["UnappliedAmt"] = payment["TotalAmt"] - applied

    def _detach_payments(self, txn_id: str, when: datetime) -> list[str]:
        """Unapply every payment line that points at ``txn_id`` (void/delete of the target)."""
        touched: list[str] = []
        for payment_id in sorted(self.applied.get(txn_id, {}), key=int):
            payment = self.entities["Payment"].get(payment_id)
            if payment is None:
                continue
            payment["Line"] = [
                line for line in payment["Line"] if line["LinkedTxn"][0]["TxnId"] != txn_id
            ]
            self._recompute_payment(payment)
            self._bump(payment, when, by_user=False)
            touched.append(payment_id)
        self.applied.pop(txn_id, None)
        self._rebuild_applications_for(touched)
        return touched

    def _rebuild_applications_for(self, payment_ids: Iterable[str]) -> None:
        for payment_id in payment_ids:
            for target in self.payment_targets.pop(payment_id, []):
                self.applied.get(target, {}).pop(payment_id, None)
            payment = self.entities["Payment"].get(payment_id)
            if payment is None:
                continue
            targets: list[str] = []
            for line in payment["Line"]:
                target = line["LinkedTxn"][0]["TxnId"]
                bucket = self.applied.setdefault(target, {})
                bucket[payment_id] = bucket.get(payment_id, ZERO) + line["Amount"]
                targets.append(target)
            self.payment_targets[payment_id] = targets

    def exchange_rate(self, code: str) -> Decimal:
        """Units of home currency per unit of ``code`` (fixed rates, relative to USD)."""
        return (EXCHANGE_RATES[code] / EXCHANGE_RATES[self.home_currency]).quantize(
            Decimal("0.000001")
        )

    def default_tax_code(self) -> str:
        """The first active tax code: what seeded lines of a non-US company carry."""
        if self.country == "US":
            return "NON"
        codes = active_tax_codes(self.country)
        return next(iter(codes)) if codes else "NON"
