"""The company's name lists and settings as QBO serves them: CompanyInfo, CustomerType, Item,
TaxCode (read and queried, never written through the API in the sandbox).

Shapes follow Intuit's API reference samples for each entity (key order, ``domain``,
``sparse``, ``MetaData``); the values describe a plausible small business in the sandbox's
country. Items keep the ids of :mod:`.catalog` so invoice lines and the list agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .catalog import ITEMS
from .wire import entity_time

if TYPE_CHECKING:
    from .company import Company

JSON = dict[str, Any]

LIST_ENTITIES = ("CompanyInfo", "CustomerType", "Item", "TaxCode")
PATH_TO_LIST = {name.lower(): name for name in LIST_ENTITIES}

CUSTOMER_TYPES = (
    ("1", "Commercial"),
    ("2", "Residential"),
    ("3", "Government"),
    ("4", "Non-profit"),
    ("5", "Trade partner"),
)

#: Item id -> QBO item Type. Items not listed are services.
ITEM_TYPES = {"7": "Inventory", "9": "NonInventory"}
#: An old late-fee item someone made inactive (pre-flight must refuse it).
INACTIVE_FEE_ITEM = ("11", "Late Fee (old)")
#: A bundle ("Group" item) of services: expanded into a GroupLineDetail on invoices.
BUNDLE_ITEM = ("12", "Website Starter Bundle", (("3", Decimal("4")), ("5", Decimal("1"))))


@dataclass(frozen=True)
class TaxCode:
    id: str
    name: str
    rate: Decimal  # percent
    description: str
    active: bool = True


#: Non-US companies must put one of these on every line (Intuit refuses lines without one).
TAX_CODES: dict[str, tuple[TaxCode, ...]] = {
    "GB": (
        TaxCode("2", "20.0% S", Decimal("20"), "Standard rate sales"),
        TaxCode("4", "0.0% Z", Decimal("0"), "Zero-rated sales"),
        TaxCode("6", "Exempt", Decimal("0"), "Exempt sales"),
        TaxCode("8", "5.0% R", Decimal("5"), "Reduced rate sales"),
        TaxCode("9", "17.5% S", Decimal("17.5"), "Old standard rate", active=False),
        TaxCode("12", "No VAT", Decimal("0"), "Outside the scope of VAT"),
    ),
    "CA": (
        TaxCode("3", "HST ON", Decimal("13"), "Ontario HST"),
        TaxCode("5", "GST", Decimal("5"), "Federal GST"),
        TaxCode("7", "Exempt", Decimal("0"), "Exempt"),
        TaxCode("10", "PST BC", Decimal("7"), "Old BC PST", active=False),
    ),
    # US companies with automated sales tax: lines say TAX or NON; the rate comes from the
    # customer's address (the sandbox uses one combined rate per state).
    "US": (
        TaxCode("TAX", "TAX", Decimal("0"), "Taxable"),
        TaxCode("NON", "NON", Decimal("0"), "Non-taxable"),
    ),
}

US_STATE_RATES = {
    "CA": Decimal("8.625"),
    "OR": Decimal("0"),
    "TX": Decimal("8.25"),
    "CO": Decimal("8.81"),
}

COMPANY_PROFILES: dict[str, JSON] = {
    "US": {
        "CompanyName": "Harbor Lane Creative LLC",
        "LegalName": "Harbor Lane Creative, LLC",
        "CompanyAddr": {
            "Line1": "2500 Garcia Ave",
            "City": "Mountain View",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "94043",
            "Country": "US",
        },
        "PrimaryPhone": {"FreeFormNumber": "(650) 944-4444"},
        "Email": {"Address": "accounts@harborlanecreative.example"},
        "WebAddr": {"URI": "https://harborlanecreative.example"},
    },
    "GB": {
        "CompanyName": "Thistle & Pine Studio Ltd",
        "LegalName": "Thistle & Pine Studio Limited",
        "CompanyAddr": {
            "Line1": "14 Dale Street",
            "City": "Manchester",
            "PostalCode": "M1 1JA",
            "Country": "GB",
        },
        "PrimaryPhone": {"FreeFormNumber": "0161 496 0123"},
        "Email": {"Address": "accounts@thistleandpine.example"},
        "WebAddr": {"URI": "https://thistleandpine.example"},
    },
    "CA": {
        "CompanyName": "Maple Ridge Design Inc.",
        "LegalName": "Maple Ridge Design Incorporated",
        "CompanyAddr": {
            "Line1": "220 King St W",
            "City": "Toronto",
            "CountrySubDivisionCode": "ON",
            "PostalCode": "M5H 1K4",
            "Country": "CA",
        },
        "PrimaryPhone": {"FreeFormNumber": "(416) 555-0190"},
        "Email": {"Address": "accounts@mapleridgedesign.example"},
        "WebAddr": {"URI": "https://mapleridgedesign.example"},
    },
}


def active_tax_codes(country: str) -> dict[str, TaxCode]:
    return {code.id: code for code in TAX_CODES.get(country, ()) if code.active}


def _base(entity_id: str, created: datetime, company: Company) -> JSON:
    stamp = entity_time(created, company.tz)
    return {
        "domain": "QBO",
        "sparse": False,
        "Id": entity_id,
        "SyncToken": "0",
        "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
    }


def _company_info(company: Company, created: datetime) -> JSON:
    profile = COMPANY_PROFILES[company.country]
    address = {"Id": "1", **profile["CompanyAddr"]}
    return {
        "CompanyName": profile["CompanyName"],
        "LegalName": profile["LegalName"],
        "CompanyAddr": address,
        "CustomerCommunicationAddr": dict(address),
        "LegalAddr": dict(address),
        "PrimaryPhone": dict(profile["PrimaryPhone"]),
        "CompanyStartDate": created.date().isoformat(),
        "FiscalYearStartMonth": "January" if company.country != "GB" else "April",
        "Country": company.country,
        "Email": dict(profile["Email"]),
        "WebAddr": dict(profile["WebAddr"]),
        "SupportedLanguages": "en",
        "NameValue": [
            {"Name": "NeoEnabled", "Value": "true"},
            {"Name": "IndustryType", "Value": "Design and creative services"},
            {"Name": "SubscriptionStatus", "Value": "PAID"},
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
        ],
        **_base("1", created, company),
    }


def _item(company: Company, created: datetime, item_id: str) -> JSON:
    item = ITEMS[item_id]
    kind = ITEM_TYPES.get(item_id, "Service")
    payload: JSON = {
        "Name": item.name,
        "Description": item.description,
        "Active": True,
        "FullyQualifiedName": item.name,
        "Taxable": company.country == "US" and item.name != "Late Fee",
        "UnitPrice": item.unit_price,
        "Type": kind,
        "IncomeAccountRef": {"value": item.account_id, "name": item.account_name},
        "PurchaseCost": 0,
        "TrackQtyOnHand": kind == "Inventory",
    }
    if kind == "Inventory":
        payload["QtyOnHand"] = 40
        payload["AssetAccountRef"] = {"value": "81", "name": "Inventory Asset"}
        payload["ExpenseAccountRef"] = {"value": "80", "name": "Cost of Goods Sold"}
    return {**payload, **_base(item_id, created, company)}


def _extra_items(company: Company, created: datetime) -> list[JSON]:
    old_id, old_name = INACTIVE_FEE_ITEM
    old = {
        "Name": old_name,
        "Description": "Late payment fee (retired)",
        "Active": False,
        "FullyQualifiedName": f"{old_name} (deleted)",
        "Taxable": False,
        "UnitPrice": 15,
        "Type": "Service",
        "IncomeAccountRef": {"value": "82", "name": "Late Fee Income"},
        "PurchaseCost": 0,
        "TrackQtyOnHand": False,
        **_base(old_id, created, company),
    }
    bundle_id, bundle_name, parts = BUNDLE_ITEM
    bundle = {
        "Name": bundle_name,
        "Description": "Design hours plus a month of hosting",
        "Active": True,
        "FullyQualifiedName": bundle_name,
        "Type": "Group",
        "PrintGroupedItems": False,
        "ItemGroupDetail": {
            "ItemGroupLine": [
                {"ItemRef": {"value": part, "name": ITEMS[part].name}, "Qty": qty}
                for part, qty in parts
            ]
        },
        **_base(bundle_id, created, company),
    }
    return [old, bundle]


def _tax_code(company: Company, created: datetime, code: TaxCode) -> JSON:
    payload: JSON = {
        "Name": code.name,
        "Description": code.description,
        "Active": code.active,
        "Hidden": False,
        "Taxable": code.rate > 0 or code.id == "TAX",
        "TaxGroup": False,
    }
    if code.id not in ("TAX", "NON"):
        payload["SalesTaxRateList"] = {
            "TaxRateDetail": [
                {
                    "TaxRateRef": {"value": code.id, "name": code.name},
                    "TaxTypeApplicable": "TaxOnAmount",
                    "TaxOrder": 0,
                }
            ]
        }
    return {**payload, **_base(code.id, created, company)}


def install_lists(company: Company, created: datetime) -> None:
    """Fill the name lists; ``created`` is when the company was set up (before any history)."""
    for name in LIST_ENTITIES:
        company.entities.setdefault(name, {})
    lists = company.entities
    lists["CompanyInfo"]["1"] = _company_info(company, created)
    for type_id, type_name in CUSTOMER_TYPES:
        lists["CustomerType"][type_id] = {
            "Name": type_name,
            "Active": True,
            **_base(type_id, created, company),
        }
    for item_id in ITEMS:
        lists["Item"][item_id] = _item(company, created, item_id)
    for payload in _extra_items(company, created + timedelta(days=200)):
        lists["Item"][payload["Id"]] = payload
    for code in TAX_CODES.get(company.country, ()):
        lists["TaxCode"][code.id] = _tax_code(company, created, code)
