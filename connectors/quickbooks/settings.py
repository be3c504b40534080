"""What an org's config must say to reach one QuickBooks Online company."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class QuickBooksCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    #: Optional: ``syncd connect`` stores the tokens encrypted. A token pasted here is used
    #: once to bootstrap; afterwards syncd keeps the rotated token in its encrypted store.
    refresh_token: SecretStr | None = None
    #: Written by ``syncd connect`` (the company the user picked at Intuit).
    realm_id: str | None = Field(default=None, min_length=1, pattern=r"^[0-9A-Za-z-]+$")


class QuickBooksOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Intuit's development companies live on a different API host than production ones.
    environment: Literal["production", "sandbox"] = "production"
    minorversion: int = Field(default=75, ge=75)
    page_size: int = Field(default=1000, ge=1, le=1000)
    #: Stay under Intuit's 500 requests a minute per company with room for other apps.
    requests_per_minute: int = Field(default=450, ge=1, le=500)
    #: Used only for records that carry no CurrencyRef (single-currency companies).
    home_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    late_fee_mode: Literal["line", "invoice"] = "line"
    #: The service Item (by Id) that late-fee lines and invoices are booked to.
    late_fee_item_id: str | None = None
    #: The TaxCode (by Id) on late-fee lines. Required for non-US companies, which refuse any
    #: line without a TaxCodeRef; US companies may use "NON" (the default) or "TAX".
    late_fee_tax_code_id: str | None = None
    #: The service Item (by Id) a settlement's credit memo line is booked to (a discount or
    #: sales item); without it syncd cannot close a settlement in QuickBooks.
    settlement_item_id: str | None = None
    #: Extra CA bundle for a sandbox or proxy that serves HTTPS with a private certificate.
    ca_bundle: str | None = None
    timeout_seconds: float = Field(default=60, gt=0, le=300)
