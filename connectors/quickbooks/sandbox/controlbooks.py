"""The control API acting as the business: a customer pays, a bookkeeper adds, edits, voids
or deletes an invoice, issues a credit memo, adds or edits a customer.

These go through the company's own operations (as QBO's screens do), never the client's API,
so a test can change the books under a client without its requests being counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .controlkit import JSON, ControlError, error, json_body, ok
from .wire import Response

if TYPE_CHECKING:
    from .server import HttpRequest, SandboxApp


def _line(spec: JSON, default_tax: str = "NON") -> JSON:
    """Control-API line spec -> QBO SalesItemLineDetail line. The bookkeeper's screen fills in
    the company's default tax code when the spec names none (``tax_code``)."""
    detail: JSON = {"ItemRef": {"value": str(spec.get("item_id", "1"))}}
    detail["TaxCodeRef"] = {"value": str(spec.get("tax_code") or default_tax)}
    if "qty" in spec:
        detail["Qty"] = spec["qty"]
    if "unit_price" in spec:
        detail["UnitPrice"] = spec["unit_price"]
    line: JSON = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    if "amount" in spec:
        line["Amount"] = spec["amount"]
    if spec.get("description"):
        line["Description"] = str(spec["description"])
    return line


def payments(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if req.method == "POST" and parts == ["payments"]:
        return ok({"payment": _add_payment(app, json_body(req))})
    return None


def credit_memos(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    if req.method == "POST" and parts == ["credit-memos"]:
        return ok({"credit_memo": _add_credit(app, json_body(req))})
    return None


def customers(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response | None:
    company = app.company
    fields = json_body(req)
    if req.method == "POST" and len(parts) == 1:
        return ok({"customer": company.create_customer(fields)})
    if req.method == "PATCH" and len(parts) == 2:
        with company.lock:
            current = company.get("Customer", parts[1])
            update = {"Id": parts[1], "SyncToken": current["SyncToken"], **fields.get("fields", {})}
            return ok({"customer": company.update_customer(update, sparse=True)})
    return None


def invoices(app: SandboxApp, req: HttpRequest, parts: list[str]) -> Response:
    return _invoices(app, req, parts[1:])


def _invoices(app: SandboxApp, req: HttpRequest, rest: list[str]) -> Response:
    company = app.company
    body = json_body(req)
    if req.method == "POST" and not rest:
        qbo: JSON = {
            "CustomerRef": {"value": str(body["customer_id"])},
            "Line": [_line(spec, company.default_tax_code()) for spec in body.get("lines", [])],
        }
        for src, dst in (
            ("txn_date", "TxnDate"),
            ("due_date", "DueDate"),
            ("doc_number", "DocNumber"),
        ):
            if body.get(src):
                qbo[dst] = str(body[src])
        if body.get("terms_id"):
            qbo["SalesTermRef"] = {"value": str(body["terms_id"])}
        if body.get("bill_email"):
            qbo["BillEmail"] = {"Address": str(body["bill_email"])}
        if body.get("private_note"):
            qbo["PrivateNote"] = str(body["private_note"])
        return ok({"invoice": company.create_invoice(qbo, source="control")})
    if not rest:
        return error("invoice id required", 404)
    invoice_id = rest[0]
    with company.lock:
        current = company.get("Invoice", invoice_id)
        token = {"Id": invoice_id, "SyncToken": current["SyncToken"]}
        if req.method == "PATCH" and len(rest) == 1:
            update: JSON = {**token, "sparse": True, **body.get("fields", {})}
            if body.get("add_lines"):
                kept = [
                    line
                    for line in current["Line"]
                    if line.get("DetailType") != "SubTotalLineDetail"
                ]
                update["Line"] = kept + [
                    _line(spec, company.default_tax_code()) for spec in body["add_lines"]
                ]
            return ok({"invoice": company.update_invoice(update, sparse=True, source="control")})
        if req.method == "POST" and rest[1:] == ["void"]:
            return ok({"invoice": company.void_invoice(token)})
        if req.method == "POST" and rest[1:] == ["delete"]:
            return ok({"invoice": company.delete_transaction("Invoice", token)})
        if req.method == "GET" and len(rest) == 1:
            return ok({"invoice": current, "status": company.invoice_status(invoice_id)})
    return error(f"no control endpoint {req.method} {req.path}", 404)


def _add_payment(app: SandboxApp, body: JSON) -> JSON:
    company = app.company
    allocations = body.get("allocations", [])
    with company.lock:
        customer_id = body.get("customer_id")
        if customer_id is None:
            if not allocations:
                raise ControlError("customer_id or allocations required")
            customer_id = company.get("Invoice", str(allocations[0]["invoice_id"]))["CustomerRef"][
                "value"
            ]
        lines: list[JSON] = []
        for alloc in allocations:
            invoice = company.get("Invoice", str(alloc["invoice_id"]))
            amount = alloc.get("amount", invoice["Balance"])
            lines.append(
                {"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            )
        qbo: JSON = {"CustomerRef": {"value": str(customer_id)}, "Line": lines}
        if "amount" in body:
            qbo["TotalAmt"] = body["amount"]
        if body.get("txn_date"):
            qbo["TxnDate"] = str(body["txn_date"])
        if body.get("private_note"):
            qbo["PrivateNote"] = str(body["private_note"])
        if body.get("reference"):
            qbo["PaymentRefNum"] = str(body["reference"])
        return company.create_payment(qbo)


def _add_credit(app: SandboxApp, body: JSON) -> JSON:
    company = app.company
    with company.lock:
        memo = company.create_credit_memo(
            {
                "CustomerRef": {"value": str(body["customer_id"])},
                "Line": [
                    _line(
                        {
                            "amount": body["amount"],
                            "description": body.get("description", "Credit"),
                        },
                        company.default_tax_code(),
                    )
                ],
            }
        )
        target = body.get("apply_to_invoice")
        if target:
            amount = body.get("apply_amount", body["amount"])
            company.create_payment(
                {
                    "CustomerRef": {"value": str(body["customer_id"])},
                    "TotalAmt": 0,
                    "PrivateNote": "Created by QB Online to link credits to charges.",
                    "Line": [
                        {
                            "Amount": amount,
                            "LinkedTxn": [{"TxnId": str(target), "TxnType": "Invoice"}],
                        },
                        {
                            "Amount": amount,
                            "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
                        },
                    ],
                }
            )
            memo = company.get("CreditMemo", memo["Id"])
        return memo
