"""What differs between a New Zealand, UK, Australian and US Xero organisation.

Each Xero edition ships its own tax rates and default chart of accounts. The codes and names
below are the ones a fresh organisation of that edition starts with (Xero's "Standard chart
of accounts" help pages and the tax-rate lists of each edition), trimmed to what a small
services business uses. The traps are real ones: an Australian organisation has no ``NONE``
tax rate (``BASEXCLUDED`` plays its part), ``OUTPUT2`` means 15 % GST in New Zealand but
20 % VAT in the UK, a US organisation names its sales taxes itself (``TAX001``), and every
edition carries an archived revenue account someone once used for fees.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import CURRENCY_RATES


@dataclass(frozen=True)
class TaxRate:
    tax_type: str
    name: str
    rate: Decimal
    report_type: str
    revenue: bool = True
    expenses: bool = True
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Account:
    code: str
    name: str
    type: str  # Xero AccountType: BANK, REVENUE, SALES, OTHERINCOME, EXPENSE, CURRENT ...
    klass: str  # ASSET, EQUITY, EXPENSE, LIABILITY, REVENUE
    tax_type: str
    status: str = "ACTIVE"
    system: str = ""


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    city: str
    region: str
    postal_code: str
    country: str  # as Xero shows it: the country's name, typed by the user


@dataclass(frozen=True)
class Region:
    code: str  # Organisation.CountryCode and Version
    currency: str
    timezone: str  # Organisation.Timezone, Xero's (Windows) name
    zone: str  # the same zone's IANA name, for the [[orgs]] block a sandbox prints
    org_name: str
    legal_name: str
    registration: str
    tax_number: str
    address: Address
    phone: tuple[str, str, str]  # country code, area code, number
    email_domain: str
    sales_tax: str  # the default sales tax type on invoice lines
    purchase_tax: str
    no_tax: str  # the "no tax" rate of this edition
    export_tax: str  # zero-rated sales to foreign customers
    tax_rates: tuple[TaxRate, ...]
    accounts: tuple[Account, ...]
    fee_account: str = "260"

    def rate(self, tax_type: str) -> Decimal | None:
        found = next((t for t in self.tax_rates if t.tax_type == tax_type), None)
        return found.rate if found else None

    def rates(self) -> dict[str, Decimal]:
        """Every tax type this organisation knows, deleted ones included (old documents)."""
        return {t.tax_type: t.rate for t in self.tax_rates}

    def currency_rate(self, currency: str) -> Decimal:
        """Units of ``currency`` per unit of the base currency (Xero's CurrencyRate)."""
        return (CURRENCY_RATES[currency] / CURRENCY_RATES[self.currency]).quantize(
            Decimal("0.000001")
        )

    def sales_tax_types(self) -> frozenset[str]:
        return frozenset(t.tax_type for t in self.tax_rates if t.revenue and t.status == "ACTIVE")

    def purchase_tax_types(self) -> frozenset[str]:
        return frozenset(t.tax_type for t in self.tax_rates if t.expenses and t.status == "ACTIVE")

    def account(self, code: str) -> Account | None:
        return next((a for a in self.accounts if a.code == code), None)


def _chart(
    tax: str, purchase: str, no_tax: str, fees_name: str = "Late Payment Fees"
) -> tuple[Account, ...]:
    """The default chart every edition shares, with that edition's tax codes."""
    return (
        Account("090", "Business Bank Account", "BANK", "ASSET", no_tax),
        Account("200", "Sales", "REVENUE", "REVENUE", tax),
        Account("260", "Other Revenue", "REVENUE", "REVENUE", tax),
        Account("265", fees_name + " (old)", "REVENUE", "REVENUE", tax, status="ARCHIVED"),
        Account("270", "Interest Income", "OTHERINCOME", "REVENUE", no_tax),
        Account("400", "Advertising", "EXPENSE", "EXPENSE", purchase),
        Account("404", "Bank Fees", "EXPENSE", "EXPENSE", no_tax),
        Account("408", "Cleaning", "EXPENSE", "EXPENSE", purchase),
        Account("412", "Consulting & Accounting", "EXPENSE", "EXPENSE", purchase),
        Account("425", "Freight & Courier", "EXPENSE", "EXPENSE", purchase),
        Account("429", "General Expenses", "EXPENSE", "EXPENSE", purchase),
        Account("445", "Light, Power, Heating", "EXPENSE", "EXPENSE", purchase),
        Account("449", "Motor Vehicle Expenses", "EXPENSE", "EXPENSE", purchase),
        Account("461", "Printing & Stationery", "EXPENSE", "EXPENSE", purchase),
        Account("469", "Rent", "EXPENSE", "EXPENSE", purchase),
        Account("485", "Subscriptions", "EXPENSE", "EXPENSE", purchase),
        Account("489", "Telephone & Internet", "EXPENSE", "EXPENSE", purchase),
        Account("610", "Accounts Receivable", "CURRENT", "ASSET", no_tax, system="DEBTORS"),
        Account("720", "Computer Equipment", "FIXED", "ASSET", purchase),
        Account("800", "Accounts Payable", "CURRLIAB", "LIABILITY", no_tax, system="CREDITORS"),
    )


NZ = Region(
    code="NZ",
    currency="NZD",
    timezone="NEWZEALANDSTANDARDTIME",
    zone="Pacific/Auckland",
    org_name="Kowhai Sandbox Trading",
    legal_name="Kowhai Sandbox Trading Limited",
    registration="8712345",
    tax_number="123-456-789",
    address=Address(("Level 2, 18 Customs Street East",), "Auckland", "", "1010", "New Zealand"),
    phone=("64", "09", "379 4410"),
    email_domain="co.nz",
    sales_tax="OUTPUT2",
    purchase_tax="INPUT2",
    no_tax="NONE",
    export_tax="ZERORATEDOUTPUT",
    tax_rates=(
        TaxRate("OUTPUT2", "15% GST on Income", Decimal("0.15"), "OUTPUT", expenses=False),
        TaxRate("INPUT2", "15% GST on Expenses", Decimal("0.15"), "INPUT", revenue=False),
        TaxRate("NONE", "No GST", Decimal("0"), "NONE"),
        TaxRate("ZERORATEDOUTPUT", "Zero Rated", Decimal("0"), "OUTPUT", expenses=False),
        TaxRate("EXEMPTOUTPUT", "Exempt Income", Decimal("0"), "EXEMPTOUTPUT", expenses=False),
        TaxRate("EXEMPTINPUT", "Exempt Expenses", Decimal("0"), "EXEMPTINPUT", revenue=False),
        TaxRate("OUTPUT", "GST on Income (12.5%)", Decimal("0.125"), "OUTPUT", status="DELETED"),
    ),
    accounts=_chart("OUTPUT2", "INPUT2", "NONE"),
)

UK = Region(
    code="GB",
    currency="GBP",
    timezone="GMTSTANDARDTIME",
    zone="Europe/London",
    org_name="Hartley & Rowe Consulting",
    legal_name="Hartley & Rowe Consulting Ltd",
    registration="09876543",
    tax_number="GB 123 4567 89",
    address=Address(
        ("Unit 4, Canal Wharf", "Kirkstall Road"),
        "Leeds",
        "West Yorkshire",
        "LS3 1LH",
        "United Kingdom",
    ),
    phone=("44", "0113", "496 0123"),
    email_domain="co.uk",
    sales_tax="OUTPUT2",
    purchase_tax="INPUT2",
    no_tax="NONE",
    export_tax="ZERORATEDOUTPUT",
    tax_rates=(
        TaxRate("OUTPUT2", "20% (VAT on Income)", Decimal("0.20"), "OUTPUT", expenses=False),
        TaxRate("INPUT2", "20% (VAT on Expenses)", Decimal("0.20"), "INPUT", revenue=False),
        TaxRate("RROUTPUT", "5% (VAT on Income)", Decimal("0.05"), "OUTPUT", expenses=False),
        TaxRate("ZERORATEDOUTPUT", "Zero Rated Income", Decimal("0"), "OUTPUT", expenses=False),
        TaxRate("EXEMPTOUTPUT", "Exempt Income", Decimal("0"), "EXEMPTOUTPUT", expenses=False),
        TaxRate("NONE", "No VAT", Decimal("0"), "NONE"),
        TaxRate("OUTPUT", "17.5% (VAT on Income)", Decimal("0.175"), "OUTPUT", status="DELETED"),
    ),
    accounts=_chart("OUTPUT2", "INPUT2", "NONE"),
)

AU = Region(
    code="AU",
    currency="AUD",
    timezone="AUSEASTERNSTANDARDTIME",
    zone="Australia/Sydney",
    org_name="Wattle Creek Electrical",
    legal_name="Wattle Creek Electrical Pty Ltd",
    registration="ACN 612 345 678",
    tax_number="51 612 345 678",
    address=Address(("Suite 3, 120 Parramatta Road",), "Camperdown", "NSW", "2050", "Australia"),
    phone=("61", "02", "9519 4400"),
    email_domain="com.au",
    sales_tax="OUTPUT",
    purchase_tax="INPUT",
    no_tax="BASEXCLUDED",
    export_tax="EXEMPTEXPORT",
    tax_rates=(
        TaxRate("OUTPUT", "GST on Income", Decimal("0.10"), "OUTPUT", expenses=False),
        TaxRate("INPUT", "GST on Expenses", Decimal("0.10"), "INPUT", revenue=False),
        TaxRate("EXEMPTOUTPUT", "GST Free Income", Decimal("0"), "EXEMPTOUTPUT", expenses=False),
        TaxRate("EXEMPTEXPORT", "GST Free Exports", Decimal("0"), "EXEMPTEXPORT", expenses=False),
        TaxRate("BASEXCLUDED", "BAS Excluded", Decimal("0"), "BASEXCLUDED"),
    ),
    accounts=_chart("OUTPUT", "INPUT", "BASEXCLUDED"),
)

US = Region(
    code="US",
    currency="USD",
    timezone="PACIFICSTANDARDTIME",
    zone="America/Los_Angeles",
    org_name="Redwood Bay Design Studio",
    legal_name="Redwood Bay Design Studio LLC",
    registration="",
    tax_number="94-3216549",
    address=Address(
        ("455 Market Street", "Suite 1250"), "San Francisco", "CA", "94105", "United States"
    ),
    phone=("1", "415", "555 0142"),
    email_domain="com",
    sales_tax="TAX001",
    purchase_tax="NONE",
    no_tax="NONE",
    export_tax="NONE",
    tax_rates=(
        TaxRate(
            "TAX001",
            "Tax on Sales (San Francisco 8.625%)",
            Decimal("0.08625"),
            "USSALESTAX",
            expenses=False,
        ),
        TaxRate(
            "TAX002",
            "Tax on Sales (Oakland 10.25%)",
            Decimal("0.1025"),
            "USSALESTAX",
            expenses=False,
            status="ARCHIVED",
        ),
        TaxRate("NONE", "Tax Exempt", Decimal("0"), "NONE"),
    ),
    accounts=_chart("TAX001", "NONE", "NONE"),
)

REGIONS: dict[str, Region] = {"NZ": NZ, "UK": UK, "GB": UK, "AU": AU, "US": US}


def region(code: str) -> Region:
    try:
        return REGIONS[code.upper()]
    except KeyError:
        raise ValueError(f"no sandbox region {code!r} (choose NZ, UK, AU or US)") from None
