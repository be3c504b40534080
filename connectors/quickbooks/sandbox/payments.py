"""Payment and credit memo writes, and how payment lines apply to invoices and credits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from . import faults
from .catalog import (
    DEPOSIT_ACCOUNT_ID,
)
from .itemlines import ItemLines
from .jsontree import copy_json
from .money import ZERO, decimal_string
from .shapes import (
    JSON,
    VOID_NOTE,
    _amount,
    _blank,
    _clone,
    _name_value,
    _ordered,
    _ref_value,
)


class PaymentRules(ItemLines):
    """Payment and credit memo writes."""

    def create_credit_memo(self, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            when = self._stamp(at)
            customer = self._customer(_ref_value(body.get("CustomerRef"), "CustomerRef"))
            lines, subtotal, _ = self._build_lines(body.get("Line"), None)
            code = customer["CurrencyRef"]["value"]
            memo_id = self._new_txn_id()
            payload: JSON = {
                "RemainingCredit": subtotal,
                "domain": "QBO",
                "sparse": False,
                "Id": memo_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=True),
                "CustomField": [],
                "DocNumber": str(body["DocNumber"])
                if not _blank(body.get("DocNumber"))
                else self._new_doc_number(),
                "TxnDate": self._txn_date(body.get("TxnDate"), when),
                "CurrencyRef": self._currency_ref(code),
                "Line": lines,
                "TxnTaxDetail": {"TotalTax": ZERO},
                "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
                "FreeFormAddress": True,
                "TotalAmt": subtotal,
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
                "Balance": subtotal,
            }
            if code != self.home_currency:
                payload["ExchangeRate"] = self.exchange_rate(code)
            if not _blank(body.get("PrivateNote")):
                payload["PrivateNote"] = str(body["PrivateNote"])
            if "BillAddr" in customer:
                payload["BillAddr"] = copy_json(customer["BillAddr"])
            if "PrimaryEmailAddr" in customer:
                payload["BillEmail"] = {"Address": customer["PrimaryEmailAddr"]["Address"]}
            self._home_amounts(payload)
            payload = _ordered("CreditMemo", payload)
            self.entities["CreditMemo"][memo_id] = payload
            self._link_customer(customer["Id"], memo_id, "CreditMemo")
            self._refresh_customer(customer["Id"], when)
            return payload

    def update_credit_memo(self, body: JSON, *, sparse: bool, at: datetime | None = None) -> JSON:
        with self.lock:
            current = self._current("CreditMemo", body)
            when = self._stamp(at)
            new = _clone(current)
            if "Line" in body and body["Line"] is not None:
                lines, subtotal, _ = self._build_lines(body["Line"], current["Line"])
                applied = self._applied_total(current["Id"])
                if subtotal < applied:
                    raise faults.business_validation(
                        "The credit total can't be less than the credit already applied.", "Line"
                    )
                new["Line"] = lines
                new["TotalAmt"] = subtotal
                new["Balance"] = subtotal - applied
                new["RemainingCredit"] = new["Balance"]
            if "PrivateNote" in body or not sparse:
                if _blank(body.get("PrivateNote")):
                    new.pop("PrivateNote", None)
                else:
                    new["PrivateNote"] = str(body["PrivateNote"])
            if not _blank(body.get("TxnDate")):
                new["TxnDate"] = self._txn_date(body["TxnDate"], when)
            self._home_amounts(new)
            self._bump(new, when)
            new = _ordered("CreditMemo", new)
            self.entities["CreditMemo"][current["Id"]] = new
            self._refresh_customer(new["CustomerRef"]["value"], when)
            return new

    def _payment_lines(
        self, raw_lines: Any, customer_id: str, payment_id: str | None
    ) -> list[JSON]:
        if not isinstance(raw_lines, list):
            raise faults.invalid_value("Line must be a list", "Line")
        lines: list[JSON] = []
        seen: dict[str, Decimal] = {}
        for raw in raw_lines:
            if not isinstance(raw, dict):
                raise faults.invalid_value("Line entries must be objects", "Line")
            links = raw.get("LinkedTxn") or []
            if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
                raise faults.invalid_value(
                    "Each payment Line needs exactly one LinkedTxn", "Line.LinkedTxn"
                )
            target_id = _ref_value(links[0].get("TxnId"), "Line.LinkedTxn.TxnId")
            target_type = links[0].get("TxnType")
            if target_type not in ("Invoice", "CreditMemo"):
                raise faults.invalid_value(
                    f"LinkedTxn TxnType {target_type!r} is not supported (Invoice, CreditMemo)",
                    "Line.LinkedTxn.TxnType",
                )
            target = self.entities[target_type].get(target_id)
            if target is None:
                raise faults.invalid_reference(f"{target_type} {target_id}", "Line.LinkedTxn.TxnId")
            if target["CustomerRef"]["value"] != customer_id:
                raise faults.business_validation(
                    f"{target_type} {target_id} belongs to another customer.", "Line.LinkedTxn"
                )
            amount = _amount(raw.get("Amount"), "Line.Amount")
            if amount <= 0:
                raise faults.business_validation(
                    "A payment line amount must be positive.", "Line.Amount"
                )
            already = self._applied_total(target_id) - self.applied.get(target_id, {}).get(
                payment_id or "", ZERO
            )
            open_balance = target["TotalAmt"] - already
            seen[target_id] = seen.get(target_id, ZERO) + amount
            if seen[target_id] > open_balance:
                raise faults.business_validation(
                    f"The amount applied to {target_type} {target_id} ({seen[target_id]}) exceeds "
                    f"its open balance ({open_balance}).",
                    "Line.Amount",
                )
            lines.append(applied_line(target, target_type, amount, open_balance))
        return lines

    def create_payment(self, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            when = self._stamp(at)
            customer = self._customer(_ref_value(body.get("CustomerRef"), "CustomerRef"))
            lines = self._payment_lines(body.get("Line") or [], customer["Id"], None)
            applied = sum(
                (
                    line["Amount"]
                    if line["LinkedTxn"][0]["TxnType"] == "Invoice"
                    else -line["Amount"]
                    for line in lines
                ),
                ZERO,
            )
            total = (
                applied if _blank(body.get("TotalAmt")) else _amount(body["TotalAmt"], "TotalAmt")
            )
            if total < 0 or total < applied:
                raise faults.business_validation(
                    "The payment amount can't be less than the amount applied to transactions.",
                    "TotalAmt",
                )
            code = customer["CurrencyRef"]["value"]
            payment_id = self._new_txn_id()
            payload: JSON = {
                "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
                "DepositToAccountRef": copy_json(body.get("DepositToAccountRef"))
                or {"value": DEPOSIT_ACCOUNT_ID},
                "TotalAmt": total,
                "UnappliedAmt": total - applied,
                "ProcessPayment": False,
                "domain": "QBO",
                "sparse": False,
                "Id": payment_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=False),
                "TxnDate": self._txn_date(body.get("TxnDate"), when),
                "CurrencyRef": self._currency_ref(code),
                "Line": lines,
            }
            if code != self.home_currency:
                payload["ExchangeRate"] = self.exchange_rate(code)
            note = body.get("PrivateNote")
            if not _blank(note):
                payload["PrivateNote"] = str(note)
            for key in ("PaymentMethodRef", "PaymentRefNum"):
                if not _blank(body.get(key)):
                    payload[key] = copy_json(body[key])
            payload = _ordered("Payment", payload)
            self.entities["Payment"][payment_id] = payload
            self._link_customer(customer["Id"], payment_id, "Payment")
            self._rebuild_applications_for([payment_id])
            for target in dict.fromkeys(line["LinkedTxn"][0]["TxnId"] for line in lines):
                self._refresh_target(target, when)
            self._refresh_customer(customer["Id"], when)
            return payload

    def update_payment(
        self, body: JSON, *, sparse: bool, void: bool = False, at: datetime | None = None
    ) -> JSON:
        with self.lock:
            current = self._current("Payment", body)
            when = self._stamp(at)
            payment_id = current["Id"]
            customer_id = current["CustomerRef"]["value"]
            new = copy_json(current)
            old_targets = [line["LinkedTxn"][0]["TxnId"] for line in current["Line"]]
            if void:
                new["Line"] = []
                new["TotalAmt"] = ZERO
                note = current.get("PrivateNote")
                new["PrivateNote"] = f"{VOID_NOTE} - {note}" if note else VOID_NOTE
            else:
                if "Line" in body and body["Line"] is not None:
                    new["Line"] = self._payment_lines(body["Line"], customer_id, payment_id)
                if not _blank(body.get("TotalAmt")):
                    new["TotalAmt"] = _amount(body["TotalAmt"], "TotalAmt")
                if "PrivateNote" in body or not sparse:
                    if _blank(body.get("PrivateNote")):
                        new.pop("PrivateNote", None)
                    else:
                        new["PrivateNote"] = str(body["PrivateNote"])
                for key in ("PaymentMethodRef", "PaymentRefNum"):
                    if key in body or not sparse:
                        if _blank(body.get(key)):
                            new.pop(key, None)
                        else:
                            new[key] = copy_json(body[key])
                if not _blank(body.get("TxnDate")):
                    new["TxnDate"] = self._txn_date(body["TxnDate"], when)
            self._recompute_payment(new)
            if new["UnappliedAmt"] < 0:
                raise faults.business_validation(
                    "The payment amount can't be less than the amount applied to transactions.",
                    "TotalAmt",
                )
            self._bump(new, when)
            new = _ordered("Payment", new)
            self.entities["Payment"][payment_id] = new
            self._rebuild_applications_for([payment_id])
            new_targets = [line["LinkedTxn"][0]["TxnId"] for line in new["Line"]]
            for target in dict.fromkeys(old_targets + new_targets):
                self._refresh_target(target, when)
            self._refresh_customer(customer_id, when)
            self._journal_note("Payment", current, new, when)
            return new


def applied_line(target: JSON, target_type: str, amount: Decimal, open_balance: Decimal) -> JSON:
    """A stored payment line applying ``amount`` to ``target`` (its open balance before)."""
    target_id = target["Id"]
    return {
        "Amount": amount,
        "LinkedTxn": [{"TxnId": target_id, "TxnType": target_type}],
        "LineEx": {
            "any": [
                _name_value("txnId", target_id),
                _name_value("txnOpenBalance", decimal_string(open_balance)),
                _name_value("txnReferenceNumber", str(target.get("DocNumber", ""))),
            ]
        },
    }
