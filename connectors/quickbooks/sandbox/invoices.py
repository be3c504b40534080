"""Invoice writes: create, update (full and sparse), void, delete and send."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from . import faults
from .itemlines import ItemLines
from .jsontree import copy_json
from .money import ZERO, decimal_string
from .shapes import (
    _EMAIL,
    _EMAIL_STATUSES,
    _INVOICE_BOOLS,
    _INVOICE_NULLABLE,
    _PRINT_STATUSES,
    JSON,
    VOID_NOTE,
    Tombstone,
    _blank,
    _clone,
    _ordered,
    _ref_value,
)
from .wire import entity_time


class InvoiceRules(ItemLines):
    """Invoice writes, and deletes of any transaction."""

    def create_invoice(
        self, body: JSON, *, at: datetime | None = None, source: str = "api"
    ) -> JSON:
        with self.lock:
            when = self._stamp(at)
            customer = self._customer(_ref_value(body.get("CustomerRef"), "CustomerRef"))
            lines, subtotal, _ = self._build_lines(body.get("Line"), None, customer=customer)
            tax_detail = self.last_tax_detail
            code = customer["CurrencyRef"]["value"]
            if (
                not _blank(body.get("CurrencyRef"))
                and _ref_value(body["CurrencyRef"], "CurrencyRef") != code
            ):
                raise faults.business_validation(
                    "The currency of the transaction must match the customer's currency.",
                    "CurrencyRef",
                )
            txn_date = self._txn_date(body.get("TxnDate"), when)
            term = self._term_ref(body.get("SalesTermRef"))
            due = (
                self._txn_date(body["DueDate"], when, "DueDate")
                if not _blank(body.get("DueDate"))
                else self._due_date(txn_date, term["value"] if term else None)
            )
            doc_number = (
                str(body["DocNumber"])
                if not _blank(body.get("DocNumber"))
                else self._new_doc_number()
            )
            invoice_id = self._new_txn_id()
            payload: JSON = {
                "domain": "QBO",
                "sparse": False,
                "Id": invoice_id,
                "SyncToken": "0",
                "MetaData": self._meta(when, modified_by=True),
                "CustomField": copy_json(body.get("CustomField") or []),
                "DocNumber": doc_number,
                "TxnDate": txn_date,
                "CurrencyRef": self._currency_ref(code),
                "LinkedTxn": [],
                "Line": lines,
                "TxnTaxDetail": tax_detail,
                "CustomerRef": {"value": customer["Id"], "name": customer["DisplayName"]},
                "FreeFormAddress": True,
                "DueDate": due,
                "TotalAmt": subtotal,
                "ApplyTaxAfterDiscount": False,
                "PrintStatus": "NeedToPrint",
                "EmailStatus": "NotSet",
                "Balance": subtotal,
            }
            self._invoice_defaults(payload, body, customer, term)
            self._apply_invoice_fields(payload, body, sparse=True, creating=True)
            self._home_amounts(payload)
            payload = _ordered("Invoice", payload)
            self.entities["Invoice"][invoice_id] = payload
            self._link_customer(customer["Id"], invoice_id, "Invoice")
            self._refresh_customer(customer["Id"], when)
            if source == "api":
                self._journal_created(payload, doc_number, subtotal, when)
            return payload

    def _invoice_defaults(
        self, payload: JSON, body: JSON, customer: JSON, term: JSON | None
    ) -> None:
        """Flags, exchange rate, terms and the addresses a new invoice starts with."""
        for flag in _INVOICE_BOOLS:
            payload[flag] = bool(body.get(flag, flag == "FreeFormAddress"))
        code = payload["CurrencyRef"]["value"]
        if code != self.home_currency:
            payload["ExchangeRate"] = self.exchange_rate(code)
        if term is not None:
            payload["SalesTermRef"] = term
        # The API copies the customer's addresses but not its email (recorded sample).
        for key in ("BillAddr", "ShipAddr"):
            if not _blank(body.get(key)):
                payload[key] = copy_json(body[key])
            elif key in customer:
                payload[key] = copy_json(customer[key])

    def _journal_created(
        self, invoice: JSON, doc_number: str, total: Decimal, when: datetime
    ) -> None:
        self.journal["invoices_created"].append(
            {
                "invoice_id": invoice["Id"],
                "doc_number": doc_number,
                "customer_id": invoice["CustomerRef"]["value"],
                "total": decimal_string(total),
                "at": entity_time(when, self.tz),
            }
        )

    def _apply_invoice_fields(
        self, payload: JSON, body: JSON, *, sparse: bool, creating: bool
    ) -> None:
        """Copy plain writable fields; a full update resets the omitted ones."""
        for key in _INVOICE_NULLABLE:
            if key in ("SalesTermRef", "BillAddr", "ShipAddr") and creating:
                continue
            if key in body or not sparse:
                value = body.get(key)
                if _blank(value):
                    payload.pop(key, None)
                elif key == "SalesTermRef":
                    payload[key] = self._term_ref(value)
                elif key in ("BillEmail", "BillEmailCc", "BillEmailBcc"):
                    address = value.get("Address") if isinstance(value, dict) else value
                    if _blank(address):
                        payload.pop(key, None)
                    else:
                        payload[key] = {"Address": str(address)}
                else:
                    payload[key] = copy_json(value)
        for key in _INVOICE_BOOLS:
            if key in body and isinstance(body[key], bool):
                payload[key] = body[key]
        for key, allowed in (("EmailStatus", _EMAIL_STATUSES), ("PrintStatus", _PRINT_STATUSES)):
            if key in body and not _blank(body[key]):
                if body[key] not in allowed:
                    raise faults.invalid_value(f"{key} {body[key]!r} is not valid", key)
                payload[key] = body[key]
        if "CustomField" in body and isinstance(body["CustomField"], list):
            payload["CustomField"] = copy_json(body["CustomField"])

    def update_invoice(
        self, body: JSON, *, sparse: bool, at: datetime | None = None, source: str = "api"
    ) -> JSON:
        with self.lock:
            current = self._current("Invoice", body)
            if source == "api":
                self._check_closing_date(current["TxnDate"])
            when = self._stamp(at)
            new = _clone(current)
            invoice_id = current["Id"]
            customer_id = current["CustomerRef"]["value"]
            if not _blank(body.get("CustomerRef")):
                self._change_customer(new, current, body["CustomerRef"])
            added: list[JSON] = []
            if "Line" in body and body["Line"] is not None:
                if invoice_id in self.voided:
                    raise faults.business_validation(
                        "A voided transaction can't be changed.", "Line"
                    )
                lines, subtotal, added = self._build_lines(
                    body["Line"],
                    current["Line"],
                    customer=self.entities["Customer"].get(customer_id),
                )
                new["TxnTaxDetail"] = self.last_tax_detail
                applied = self._applied_total(invoice_id)
                if subtotal < applied:
                    raise faults.business_validation(
                        "The transaction total can't be less than the payments applied to it.",
                        "Line",
                    )
                new["Line"] = lines
                new["TotalAmt"] = subtotal
                new["Balance"] = subtotal - applied
            self._apply_invoice_fields(new, body, sparse=sparse, creating=False)
            if not _blank(body.get("TxnDate")):
                new["TxnDate"] = self._txn_date(body["TxnDate"], when)
            if not _blank(body.get("DocNumber")):
                new["DocNumber"] = str(body["DocNumber"])
            if not _blank(body.get("DueDate")):
                new["DueDate"] = self._txn_date(body["DueDate"], when, "DueDate")
            elif not sparse or "SalesTermRef" in body or "TxnDate" in body:
                term = new.get("SalesTermRef")
                new["DueDate"] = self._due_date(new["TxnDate"], term["value"] if term else None)
            self._home_amounts(new)
            self._bump(new, when)
            new = _ordered("Invoice", new)
            self.entities["Invoice"][invoice_id] = new
            if new["CustomerRef"]["value"] != customer_id:
                self._unlink_customer(customer_id, invoice_id)
                self._link_customer(new["CustomerRef"]["value"], invoice_id, "Invoice")
                self._refresh_customer(customer_id, when)
            self._refresh_customer(new["CustomerRef"]["value"], when)
            if source == "api":
                self._journal_note("Invoice", current, new, when)
                self._journal_lines_added(invoice_id, added, when)
            return new

    def _change_customer(self, new: JSON, current: JSON, ref: Any) -> None:
        """A full or sparse update naming another customer moves the invoice to it."""
        wanted = _ref_value(ref, "CustomerRef")
        if wanted == current["CustomerRef"]["value"]:
            return
        if self.applied.get(current["Id"]):
            raise faults.business_validation(
                "You can't change the customer of an invoice with payments applied.",
                "CustomerRef",
            )
        customer = self._customer(wanted)
        if customer["CurrencyRef"] != current["CurrencyRef"]:
            raise faults.business_validation(
                "The currency of the transaction must match the customer's currency.",
                "CustomerRef",
            )
        new["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}

    def _journal_lines_added(self, invoice_id: str, added: list[JSON], when: datetime) -> None:
        for line in added:
            self.journal["lines_added"].append(
                {
                    "invoice_id": invoice_id,
                    "line_id": line["Id"],
                    "description": line.get("Description"),
                    "amount": decimal_string(line.get("Amount", ZERO)),
                    "item_id": line.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("value"),
                    "at": entity_time(when, self.tz),
                }
            )

    def void_invoice(self, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            current = self._current("Invoice", body)
            when = self._stamp(at)
            invoice_id = current["Id"]
            detached = self._detach_payments(invoice_id, when)
            new = copy_json(current)
            for line in new["Line"]:
                line["Amount"] = ZERO
                detail = line.get("SalesItemLineDetail")
                if isinstance(detail, dict):
                    detail.pop("Qty", None)
                    detail.pop("UnitPrice", None)
                for inner in (line.get("GroupLineDetail") or {}).get("Line") or []:
                    inner["Amount"] = ZERO
            new["TxnTaxDetail"] = {"TotalTax": ZERO}
            new["TotalAmt"] = ZERO
            new["Balance"] = ZERO
            new["LinkedTxn"] = [
                link for link in new.get("LinkedTxn", []) if link.get("TxnType") != "Payment"
            ]
            note = current.get("PrivateNote")
            new["PrivateNote"] = f"{VOID_NOTE} - {note}" if note else VOID_NOTE
            self._home_amounts(new)
            self._bump(new, when)
            new = _ordered("Invoice", new)
            self.entities["Invoice"][invoice_id] = new
            self.voided[invoice_id] = when
            customer_id = new["CustomerRef"]["value"]
            for payment_id in detached:
                self._refresh_customer(
                    self.entities["Payment"][payment_id]["CustomerRef"]["value"], when
                )
            self._refresh_customer(customer_id, when)
            return new

    def delete_transaction(self, entity: str, body: JSON, *, at: datetime | None = None) -> JSON:
        with self.lock:
            if entity == "Customer":
                raise faults.unsupported_operation(
                    "Delete on Customer (make it inactive with Active=false instead)"
                )
            current = self._current(entity, body)
            when = self._stamp(at)
            txn_id = current["Id"]
            customer_id = current["CustomerRef"]["value"]
            touched_customers = [customer_id]
            if entity == "Payment":
                targets = [line["LinkedTxn"][0]["TxnId"] for line in current["Line"]]
                del self.entities["Payment"][txn_id]
                self._rebuild_applications_for([txn_id])
                for target in dict.fromkeys(targets):
                    self._refresh_target(target, when)
            else:
                for payment_id in self._detach_payments(txn_id, when):
                    touched_customers.append(
                        self.entities["Payment"][payment_id]["CustomerRef"]["value"]
                    )
                del self.entities[entity][txn_id]
            self._unlink_customer(customer_id, txn_id)
            tomb = Tombstone(entity, txn_id, when, current)
            self.tombstones[(entity, txn_id)] = tomb
            for cid in dict.fromkeys(touched_customers):
                self._refresh_customer(cid, when)
            return {"domain": "QBO", "status": "Deleted", "Id": txn_id}

    def send_invoice(
        self,
        invoice_id: str,
        send_to: str | None,
        *,
        at: datetime | None = None,
        source: str = "api",
    ) -> JSON:
        with self.lock:
            current = self.get("Invoice", invoice_id)
            when = self._stamp(at)
            if send_to is not None:
                addresses = [a.strip() for a in send_to.split(",") if a.strip()]
                if not addresses or not all(_EMAIL.match(a) for a in addresses):
                    raise faults.invalid_value(
                        f"sendTo {send_to!r} is not a valid email address", "sendTo"
                    )
                address = ", ".join(addresses)
            else:
                bill = current.get("BillEmail") or {}
                address = str(bill.get("Address") or "") if isinstance(bill, dict) else ""
                if not address:
                    raise faults.required_param(
                        "Invoice has no BillEmail.Address and no sendTo was given; "
                        "an email address is required to send it",
                        "BillEmail",
                    )
            new = _clone(current)
            new["BillEmail"] = {"Address": address}
            new["EmailStatus"] = "EmailSent"
            new["DeliveryInfo"] = {
                "DeliveryType": "Email",
                "DeliveryTime": entity_time(when, self.tz),
            }
            self._bump(new, when)
            new = _ordered("Invoice", new)
            self.entities["Invoice"][invoice_id] = new
            if source == "api":
                self.journal["emails"].append(
                    {
                        "invoice_id": invoice_id,
                        "doc_number": new.get("DocNumber"),
                        "to": address,
                        "balance": decimal_string(new["Balance"]),
                        "at": entity_time(when, self.tz),
                    }
                )
            return new
