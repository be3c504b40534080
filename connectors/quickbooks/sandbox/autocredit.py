"""Preferences and "Automatically apply credits" (Account and settings > Advanced >
Automation), as QuickBooks Online behaves with it.

``GET /preferences`` answers with ``SalesFormsPrefs.AutoApplyCredit`` among the sales-form
preferences. With the setting on, a new credit memo is applied at once to the customer's
oldest open invoices (QuickBooks community answers: "credits can be automatically applied
to the oldest open invoice"), linked through a zero-total payment whose memo reads "Created
by QB Online to link credits to charges." New companies have the setting on, so the sandbox
starts with it on: the harder case for a client that wants a credit on one given invoice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .money import ZERO

if TYPE_CHECKING:
    from .company import Company

JSON = dict[str, Any]
LINK_NOTE = "Created by QB Online to link credits to charges."


def preferences(company: Company) -> JSON:
    return {
        "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False},
        "SalesFormsPrefs": {
            "CustomField": [],
            "AllowDeposit": True,
            "AllowDiscount": True,
            "AllowServiceDate": False,
            "AllowShipping": False,
            "AutoApplyCredit": company.auto_apply_credit,
            "CustomTxnNumbers": False,
            "ETransactionEnabledStatus": "NotApplicable",
            "IPNSupportEnabled": False,
            "UsingPriceLevels": False,
            "UsingProgressInvoicing": False,
        },
        "CurrencyPrefs": {
            "MultiCurrencyEnabled": True,
            "HomeCurrency": {"value": company.home_currency},
        },
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "0",
    }


def auto_apply(company: Company, memo: JSON) -> JSON:
    """Apply a new credit memo to the customer's oldest open invoices, if the company says so."""
    if not company.auto_apply_credit:
        return memo
    customer_id = memo["CustomerRef"]["value"]
    open_invoices = sorted(
        (
            inv
            for inv in company.entities["Invoice"].values()
            if inv["CustomerRef"]["value"] == customer_id and inv["Balance"] > ZERO
        ),
        key=lambda inv: (inv["TxnDate"], int(inv["Id"])),
    )
    left: Decimal = memo["Balance"]
    lines: list[JSON] = []
    applied = ZERO
    for inv in open_invoices:
        if left <= ZERO:
            break
        amount = min(left, inv["Balance"])
        lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]})
        left -= amount
        applied += amount
    if not lines:
        return memo
    lines.append({"Amount": applied, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]})
    company.create_payment(
        {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": 0,
            "PrivateNote": LINK_NOTE,
            "Line": lines,
        }
    )
    return company.get("CreditMemo", memo["Id"])
