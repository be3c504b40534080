"""What an org's config must say to reach one Xero organisation (tenant)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class XeroCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    #: Optional: ``syncd connect`` stores the tokens encrypted. A token pasted here is used
    #: once to bootstrap; afterwards syncd keeps the rotated token in its encrypted store.
    refresh_token: SecretStr | None = None
    #: Written by ``syncd connect`` (the organisation the user picked at Xero).
    tenant_id: str | None = Field(default=None, min_length=1)


class XeroOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(default=1000, ge=1, le=1000)
    #: Xero allows 60 calls a minute and 5,000 a day per tenant.
    minute_limit: int = Field(default=60, ge=1, le=60)
    day_limit: int = Field(default=5000, ge=1, le=5000)
    late_fee_mode: Literal["line", "invoice"] = "line"
    late_fee_account_code: str | None = None
    late_fee_item_code: str | None = None
    #: Xero's tax rate code for fee lines; "NONE" keeps the fee exactly the amount charged.
    #: Must be an active sales rate of the organisation (an Australian one has no "NONE":
    #: use "BASEXCLUDED"); ``syncd check`` verifies it against the org's TaxRates.
    late_fee_tax_type: str = Field(default="NONE", min_length=1)
    #: The revenue account a settlement's credit note reduces (Xero's UI asks for one);
    #: without it syncd cannot close a settlement in Xero.
    settlement_account_code: str | None = None
    #: Used only for records that carry no CurrencyCode (Xero normally always sends one).
    home_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    ca_bundle: str | None = None
    timeout_seconds: float = Field(default=60, gt=0, le=300)
