"""``GET /Organisation``, ``GET /Accounts`` and ``GET /TaxRates``: the organisation's setup.

Shapes follow the OpenAPI spec's ``Organisations``, ``Accounts`` and ``TaxRates`` schemas and
Xero's documented examples: the organisation lists its POBOX and STREET addresses and its
phones, ``PeriodLockDate`` / ``EndOfYearLockDate`` appear only when set ("Shown if set"),
accounts carry their ``Status`` (ARCHIVED accounts are returned, as Xero does) and tax rates
their components and the account classes they may be used on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from . import errors
from .dates import DateParseError, ms_date, ms_datetime, parse_if_modified_since
from .errors import Reply
from .money import json_number
from .organisation import Organisation
from .queries import select
from .regions import Account, TaxRate
from .render import account_id, envelope
from .where import Field

HEADS = frozenset({"organisation", "accounts", "taxrates"})
#: The chart was set up when the organisation was created; accounts changed later carry
#: their own stamp.
_ACCOUNT_FIELDS: dict[str, Field] = {
    "Code": Field("string", lambda a: a.code),
    "Name": Field("string", lambda a: a.name),
    "Type": Field("string", lambda a: a.type),
    "Class": Field("string", lambda a: a.klass),
    "Status": Field("string", lambda a: a.status),
    "TaxType": Field("string", lambda a: a.tax_type),
}
_TAX_FIELDS: dict[str, Field] = {
    "TaxType": Field("string", lambda t: t.tax_type),
    "Name": Field("string", lambda t: t.name),
    "Status": Field("string", lambda t: t.status),
}


def _organisation_addresses(org: Organisation) -> list[dict[str, Any]]:
    """The POBOX address and a STREET copy of it."""
    addr = org.region.address
    address: dict[str, Any] = {"AddressType": "POBOX"}
    for i, line in enumerate(addr.lines[:4]):
        address[f"AddressLine{i + 1}"] = line
    address.update(
        {
            "City": addr.city,
            "Region": addr.region,
            "PostalCode": addr.postal_code,
            "Country": addr.country,
        }
    )
    return [address, dict(address, AddressType="STREET")]


def organisation_json(org: Organisation) -> dict[str, Any]:
    region = org.region
    country_code, area, number = region.phone
    out: dict[str, Any] = {
        "APIKey": "",
        "Name": org.name,
        "LegalName": region.legal_name,
        "PaysTax": True,
        "Version": "UK" if region.code == "GB" else region.code,
        "OrganisationType": "COMPANY",
        "BaseCurrency": region.currency,
        "CountryCode": region.code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "TaxNumber": region.tax_number,
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "ACCRUALS" if region.code != "AU" else "ACCRUAL",
        "SalesTaxPeriod": "QUARTERLY" if region.code != "NZ" else "2MONTHLY",
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Inclusive",
        "CreatedDateUTC": ms_datetime(org.created_at),
        "OrganisationEntityType": "COMPANY",
        "Timezone": region.timezone,
        "ShortCode": "!" + org.tenant_id[:5],
        "OrganisationID": org.tenant_id,
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "LineOfBusiness": "Professional services",
        "Addresses": _organisation_addresses(org),
        "Phones": [
            {
                "PhoneType": "OFFICE",
                "PhoneNumber": number,
                "PhoneAreaCode": area,
                "PhoneCountryCode": country_code,
            }
        ],
        "ExternalLinks": [],
        "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
    }
    if region.registration:
        out["RegistrationNumber"] = region.registration
    if org.period_lock_date is not None:
        out["PeriodLockDate"] = ms_date(org.period_lock_date)
    if org.end_of_year_lock_date is not None:
        out["EndOfYearLockDate"] = ms_date(org.end_of_year_lock_date)
    return out


def account_json(org: Organisation, account: Account) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AccountID": account_id(account.code),
        "Code": account.code,
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type,
        "Class": account.klass,
        "EnablePaymentsToAccount": account.type == "BANK",
        "ShowInExpenseClaims": account.klass == "EXPENSE",
        "BankAccountType": "BANK" if account.type == "BANK" else "",
        "ReportingCode": account.klass[:3],
        "HasAttachments": False,
        "UpdatedDateUTC": ms_datetime(org.created_at),
        "AddToWatchlist": False,
    }
    if account.system:
        out["SystemAccount"] = account.system
    if account.type == "BANK":
        out["CurrencyCode"] = org.region.currency
        out["BankAccountNumber"] = "0123456789"
    return out


def tax_rate_json(rate: TaxRate) -> dict[str, Any]:
    percent = rate.rate * 100
    return {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": rate.report_type,
        "CanApplyToAssets": rate.expenses,
        "CanApplyToEquity": rate.expenses,
        "CanApplyToExpenses": rate.expenses,
        "CanApplyToLiabilities": rate.expenses,
        "CanApplyToRevenue": rate.revenue,
        "DisplayTaxRate": json_number(percent),
        "EffectiveRate": json_number(percent),
        "Status": rate.status,
        "TaxComponents": [
            {
                "Name": rate.name.split("(")[0].strip() or rate.name,
                "Rate": json_number(percent),
                "IsCompound": False,
                "IsNonRecoverable": False,
            }
        ],
    }


def get_organisation(org: Organisation, now: datetime) -> Reply:
    return errors.json_reply(200, envelope(now, "Organisations", [organisation_json(org)]))


def list_accounts(
    org: Organisation, params: Mapping[str, str], headers: Mapping[str, str], now: datetime
) -> Reply:
    since = headers.get("if-modified-since")
    try:
        modified = parse_if_modified_since(since) if since else None
    except DateParseError:
        modified = None  # Xero ignores a header it cannot read
    chosen = select(
        org.region.accounts,
        _ACCOUNT_FIELDS,
        "Account",
        where=params.get("where"),
        order=params.get("order") or "Code",
        modified_since=modified,
        updated=lambda _a: org.created_at,
        ident=lambda a: a.code,
    )
    return errors.json_reply(200, envelope(now, "Accounts", [account_json(org, a) for a in chosen]))


def list_tax_rates(org: Organisation, params: Mapping[str, str], now: datetime) -> Reply:
    chosen = select(
        org.region.tax_rates,
        _TAX_FIELDS,
        "TaxRate",
        where=params.get("where"),
        order=params.get("order") or "Name",
        modified_since=None,
        updated=lambda _t: org.created_at,
        ident=lambda t: t.tax_type,
    )
    return errors.json_reply(200, envelope(now, "TaxRates", [tax_rate_json(t) for t in chosen]))
