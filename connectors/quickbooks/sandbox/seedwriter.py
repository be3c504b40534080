"""The seed's bulk path: invoices, sends and payments written straight into their stored shape.

Replaying eighteen months of history through the API rules (validate the request, build a
request-shaped copy, clone the stored row on every change, re-order its keys) cost about 585
Python calls per invoice, most of the start time of a 100,000-invoice sandbox. The seed's
requests are well formed by construction, so here each one is turned directly into what the
rules would have stored: the same payload in QBO's key order, the same ids, SyncTokens,
MetaData stamps, LinkedTxn, LineEx open balances, customer balances and applications. Rows
are changed in place rather than cloned (nothing else holds them while seeding).

The rare writes (credit memos, voids, deletions, deactivations) still go through the rules,
which stay the path for every write after start. ``tests/sandbox_quickbooks/
test_qbsandbox_seed_bulk.py`` proves both paths leave the same company.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from .catalog import COMPANY_DEFAULT_DUE_DAYS, TERMS
from .company import Company
from .money import ZERO, money
from .payments import applied_line
from .seedshared import (
    DEPOSIT_ACCOUNT_REF,
    NOTHING,
    TERM_REFS,
    UNTAXED,
    PlannedLine,
    flat_copy,
    item_line,
    planned_lines,
)
from .seedstamps import SeedStamps
from .shapes import JSON, _days_after, _iso_date
from .taxlines import tax_detail


class SeedWrites(Protocol):
    """The writes the seed makes most: :class:`Company` (replay) or :class:`SeedWriter`."""

    def create_invoice(
        self, body: JSON, *, at: datetime | None = None, source: str = "api"
    ) -> JSON: ...

    def send_invoice(
        self, invoice_id: str, send_to: str | None, *, at: datetime | None = None, source: str = ...
    ) -> JSON: ...

    def create_payment(self, body: JSON, *, at: datetime | None = None) -> JSON: ...


def seed_writes(company: Company, *, replay: bool) -> SeedWrites:
    """The rules themselves when ``replay`` (the reference), else the bulk writer."""
    return company if replay else SeedWriter(company)


class SeedWriter:
    """Writes the seed's invoices, sends and payments as the API rules would store them."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.tz = company.tz
        self.user_id = company.user_id
        self.home = company.home_currency
        self._rates: dict[str, Decimal] = {}
        # Reference objects shared by every row that names the same thing: stored rows are
        # copy-on-write below their top level (``shapes._clone``), so no write changes one in
        # place, and a hundred thousand invoices allocate a few hundred of them, not a million.
        self._customer_refs: dict[str, JSON] = {}
        self._currency_refs: dict[str, JSON] = {}
        #: (customer id, key) -> (the customer's address object, the copy invoices share).
        self._addresses: dict[tuple[str, str], tuple[JSON, JSON]] = {}
        self._memos: dict[str, JSON] = {}
        self._stamps = SeedStamps(self.tz)

    def _stamp(self, at: datetime | None) -> str:
        return self._stamps(at if at is not None else self.company.clock.now())

    def _rate(self, code: str) -> Decimal | None:
        if code == self.home:
            return None
        rate = self._rates.get(code)
        if rate is None:
            rate = self._rates[code] = self.company.exchange_rate(code)
        return rate

    # -- invoices ------------------------------------------------------------------------

    def _lines(self, raw_lines: list[JSON], customer: JSON) -> tuple[list[JSON], Decimal, JSON]:
        """Stored lines, total and TxnTaxDetail (what ``ItemLines._build_lines`` makes)."""
        company = self.company
        us = company.country == "US"
        lines: list[JSON] = []
        subtotal = discount = ZERO
        # A US invoice none of whose lines says TAX owes no sales tax: most of them.
        taxed = not us
        for number, raw in enumerate(raw_lines, 1):
            if raw.get("DetailType") == "SalesItemLineDetail":
                line, code = item_line(number, raw, us)
                subtotal += line["Amount"]
                taxed = taxed or code != "NON"
            else:
                line = {"Id": str(number), "LineNum": number}
                subtotal, discount = company._other_line(raw, line, subtotal, discount)
                taxed = taxed or line["DetailType"] == "GroupLineDetail"
            lines.append(line)
        lines.append(
            {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": NOTHING}
        )
        if taxed:
            detail, tax = tax_detail(company, lines, customer)
        else:
            detail, tax = UNTAXED, ZERO
        company.last_tax_detail = detail
        return lines, subtotal - discount + tax, detail

    def create_invoice(
        self, body: JSON, *, at: datetime | None = None, source: str = "seed"
    ) -> JSON:
        customer = self.company.entities["Customer"][body["CustomerRef"]["value"]]
        return self._invoice(body, customer, self._lines(body["Line"], customer), at)

    def create_planned_invoice(
        self, body: JSON, planned: list[PlannedLine], codes: list[str], *, at: datetime
    ) -> JSON:
        """``create_invoice`` for a request (without ``Line``) whose lines would all be the
        seed's item lines ``planned``, with tax codes ``codes``: the stored lines are made
        from the plan directly instead of from request lines built to be read once."""
        customer = self.company.entities["Customer"][body["CustomerRef"]["value"]]
        return self._invoice(
            body, customer, planned_lines(self.company, planned, codes, customer), at
        )

    def _invoice(
        self,
        body: JSON,
        customer: JSON,
        built: tuple[list[JSON], Decimal, JSON],
        at: datetime | None,
    ) -> JSON:
        """The new invoice from its request and its stored lines, total and TxnTaxDetail."""
        company = self.company
        stamp = self._stamp(at)
        customer_id = customer["Id"]
        lines, total, detail = built
        code = customer["CurrencyRef"]["value"]
        rate = self._rate(code)
        txn_date = _iso_date(body["TxnDate"])
        term = TERMS[body["SalesTermRef"]["value"]] if "SalesTermRef" in body else None
        invoice_id = company._new_txn_id()
        payload: JSON = {
            "AllowIPNPayment": False,
            "AllowOnlinePayment": False,
            "AllowOnlineCreditCardPayment": False,
            "AllowOnlineACHPayment": False,
            "domain": "QBO",
            "sparse": False,
            "Id": invoice_id,
            "SyncToken": "0",
            "MetaData": {
                "CreateTime": stamp,
                "LastModifiedByRef": {"value": self.user_id},
                "LastUpdatedTime": stamp,
            },
            "CustomField": [],
            "DocNumber": company._new_doc_number(),
            "TxnDate": txn_date,
            "CurrencyRef": self._currency_ref(code),
        }
        if rate is not None:
            payload["ExchangeRate"] = rate
        if "PrivateNote" in body:
            payload["PrivateNote"] = str(body["PrivateNote"])
        payload["LinkedTxn"] = []
        payload["Line"] = lines
        payload["TxnTaxDetail"] = detail
        payload["CustomerRef"] = self._customer_ref(customer)
        if "CustomerMemo" in body:
            payload["CustomerMemo"] = self._memo(body["CustomerMemo"])
        self._copy_addresses(payload, customer)
        payload["FreeFormAddress"] = True
        if term is not None:
            payload["SalesTermRef"] = TERM_REFS[term.id]
        days = term.days if term is not None else COMPANY_DEFAULT_DUE_DAYS
        payload["DueDate"] = _days_after(txn_date, days)
        _amounts(payload, body, total, rate)
        _store(company, "Invoice", payload, customer_id)
        _balance_moved(customer, total, stamp)
        return payload

    def _customer_ref(self, customer: JSON) -> JSON:
        customer_id, name = customer["Id"], customer["DisplayName"]
        ref = self._customer_refs.get(customer_id)
        if ref is None or ref["name"] != name:  # a new one for a renamed customer
            ref = self._customer_refs[customer_id] = {"value": customer_id, "name": name}
        return ref

    def _memo(self, memo: JSON) -> JSON:
        """A copy of the request's CustomerMemo, one per text."""
        text = memo.get("value")
        if len(memo) != 1 or type(text) is not str:
            return flat_copy(memo)
        shared = self._memos.get(text)
        if shared is None:
            shared = self._memos[text] = {"value": text}
        return shared

    def _copy_addresses(self, payload: JSON, customer: JSON) -> None:
        """The API copies the customer's addresses onto a new invoice: one copy per address
        object, shared by the customer's invoices (an update gives the customer a new one)."""
        for key in ("BillAddr", "ShipAddr"):
            if key in customer:
                source = customer[key]
                cached = self._addresses.get((customer["Id"], key))
                if cached is None or cached[0] is not source:
                    cached = self._addresses[customer["Id"], key] = (source, flat_copy(source))
                payload[key] = cached[1]

    def _currency_ref(self, code: str) -> JSON:
        ref = self._currency_refs.get(code)
        if ref is None:
            ref = self._currency_refs[code] = self.company._currency_ref(code)
        return ref

    def send_invoice(
        self,
        invoice_id: str,
        send_to: str | None,
        *,
        at: datetime | None = None,
        source: str = "seed",
    ) -> JSON:
        """Emailed to its BillEmail (the seed sends only invoices that have one)."""
        stamp = self._stamp(at)
        invoice = self.company.entities["Invoice"][invoice_id]
        invoice["BillEmail"] = {"Address": invoice["BillEmail"]["Address"]}
        invoice["EmailStatus"] = "EmailSent"
        # DeliveryInfo is the last key of QBO's invoice order: added last, it is in place.
        invoice["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": stamp}
        _bump(invoice, stamp, self.user_id)
        return invoice

    # -- payments ------------------------------------------------------------------------

    def create_payment(self, body: JSON, *, at: datetime | None = None) -> JSON:
        company = self.company
        stamp = self._stamp(at)
        customer = company.entities["Customer"][body["CustomerRef"]["value"]]
        customer_id = customer["Id"]
        payment_id = company._new_txn_id()
        lines, targets, applied = self._payment_lines(body["Line"])
        total = money(body["TotalAmt"])
        code = customer["CurrencyRef"]["value"]
        payload: JSON = {
            "CustomerRef": self._customer_ref(customer),
            "DepositToAccountRef": DEPOSIT_ACCOUNT_REF,
            "TotalAmt": total,
            "UnappliedAmt": total - applied,
            "ProcessPayment": False,
            "domain": "QBO",
            "sparse": False,
            "Id": payment_id,
            "SyncToken": "0",
            "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
            "TxnDate": _iso_date(body["TxnDate"]),
            "CurrencyRef": self._currency_ref(code),
        }
        rate = self._rate(code)
        if rate is not None:
            payload["ExchangeRate"] = rate
        if "PrivateNote" in body:
            payload["PrivateNote"] = str(body["PrivateNote"])
        if "PaymentRefNum" in body:
            payload["PaymentRefNum"] = body["PaymentRefNum"]
        payload["Line"] = lines
        _store(company, "Payment", payload, customer_id)
        for target, amount in targets:
            company.applied.setdefault(target, {})[payment_id] = amount
        company.payment_targets[payment_id] = [target for target, _ in targets]
        for target, _ in targets:
            self._apply(target, payment_id, stamp)
        # What the customer owes drops by the whole payment: the applied part off its
        # invoices (less the credits it used), the rest as unapplied credit.
        _balance_moved(customer, -total, stamp)
        return payload

    def _payment_lines(
        self, raw_lines: list[JSON]
    ) -> tuple[list[JSON], list[tuple[str, Decimal]], Decimal]:
        """Stored lines, (target, amount) per line, and what they apply (credits negative)."""
        entities = self.company.entities
        lines: list[JSON] = []
        targets: list[tuple[str, Decimal]] = []
        applied = ZERO
        for raw in raw_lines:
            link = raw["LinkedTxn"][0]
            target_id, target_type = str(link["TxnId"]), link["TxnType"]
            target = entities[target_type][target_id]
            amount = money(raw["Amount"])
            applied += amount if target_type == "Invoice" else -amount
            open_balance = target["TotalAmt"] - self.company._applied_total(target_id)
            lines.append(applied_line(target, target_type, amount, open_balance))
            targets.append((target_id, amount))
        return lines, targets, applied

    def _apply(self, target_id: str, payment_id: str, stamp: str) -> None:
        """What ``Books._refresh_target`` does to an invoice or credit memo a new payment
        names: its balance drops, an invoice links the payment (ids rise, so it goes last)."""
        company = self.company
        invoice = company.entities["Invoice"].get(target_id)
        if invoice is not None:
            invoice["Balance"] = invoice["TotalAmt"] - company._applied_total(target_id)
            invoice["LinkedTxn"] = [
                *invoice["LinkedTxn"],
                {"TxnId": payment_id, "TxnType": "Payment"},
            ]
            _home_balance(invoice)
            company.balances.touch(invoice["CustomerRef"]["value"], target_id)
            _bump(invoice, stamp, None)
            return
        memo = company.entities["CreditMemo"][target_id]
        remaining = memo["TotalAmt"] - company._applied_total(target_id)
        if remaining != memo["Balance"]:
            memo["Balance"] = remaining
            memo["RemainingCredit"] = remaining
            _home_balance(memo)
            company.balances.touch(memo["CustomerRef"]["value"], target_id)
            _bump(memo, stamp, None)


def _store(company: Company, entity: str, payload: JSON, customer_id: str) -> None:
    """A new row, linked to its customer (what ``Books._link_customer`` does)."""
    txn_id = payload["Id"]
    company.entities[entity][txn_id] = payload
    txns = company.customer_txns.get(customer_id)
    if txns is None:
        company.customer_txns[customer_id] = {txn_id: entity}
    else:
        txns[txn_id] = entity
    company.balances.touch(customer_id, txn_id)


def _amounts(payload: JSON, body: JSON, total: Decimal, rate: Decimal | None) -> None:
    """A new invoice's keys from TotalAmt on, in QBO's order (nothing is paid yet)."""
    payload["TotalAmt"] = total
    if rate is not None:
        payload["HomeTotalAmt"] = money(total * rate)
    payload["ApplyTaxAfterDiscount"] = False
    payload["PrintStatus"] = "NeedToPrint"
    payload["EmailStatus"] = "NotSet"
    if "BillEmail" in body:
        payload["BillEmail"] = {"Address": str(body["BillEmail"]["Address"])}
    payload["Balance"] = total
    if rate is not None:
        payload["HomeBalance"] = money(total * rate)


def _balance_moved(customer: JSON, delta: Decimal, stamp: str) -> None:
    """What ``Books._refresh_customer`` does after a write that moved the balance by
    ``delta``: a new Balance and LastUpdatedTime, no new SyncToken. The company's
    ``CustomerBalances`` was told which transactions changed and agrees when next asked."""
    if delta:
        balance = customer["Balance"] + delta
        customer["Balance"] = balance
        customer["BalanceWithJobs"] = balance
        customer["MetaData"]["LastUpdatedTime"] = stamp


def _home_balance(payload: JSON) -> None:
    rate = payload.get("ExchangeRate")
    if rate is not None:
        payload["HomeTotalAmt"] = money(payload["TotalAmt"] * rate)
        payload["HomeBalance"] = money(payload["Balance"] * rate)


def _bump(payload: JSON, stamp: str, user_id: str | None) -> None:
    """A change: SyncToken up, LastUpdatedTime now (and who, for a user's own change)."""
    payload["SyncToken"] = str(int(payload["SyncToken"]) + 1)
    meta = payload["MetaData"]
    meta["LastUpdatedTime"] = stamp
    if user_id is not None and "LastModifiedByRef" in meta:
        meta["LastModifiedByRef"] = {"value": user_id}
