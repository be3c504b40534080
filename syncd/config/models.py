"""The configuration schema. Unknown keys are errors everywhere: a typo must never be ignored."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(Strict):
    #: SQLAlchemy URL. A relative SQLite path is resolved against the config file's folder.
    url: str = "sqlite:///syncd.db"
    #: Fernet key that encrypts stored OAuth tokens; generated into ``key_file`` if unset.
    secret_key: SecretStr | None = None
    key_file: str = "syncd.key"


class DaemonSettings(Strict):
    sync_interval_minutes: int = Field(default=15, ge=1, le=1440)
    #: Cron expression for the dunning cycle, evaluated in each org's timezone.
    dunning_cron: str = "0 9 * * mon-fri"
    token_refresh_margin_seconds: int = Field(default=300, ge=30, le=3000)
    misfire_grace_seconds: int = Field(default=3600, ge=1)


class EmailSettings(Strict):
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "accounts@example.com"
    reply_to: str | None = None
    bcc: str | None = None
    templates_dir: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)


class OrgSettings(Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    connector: str
    policy: str
    timezone: str = "UTC"
    base_url: str | None = None
    token_url: str | None = None
    #: Validated by the connector's own ``credentials_model``.
    credentials: dict[str, Any] = Field(default_factory=dict)
    #: Validated by the connector's own ``options_model``.
    options: dict[str, Any] = Field(default_factory=dict)
    #: Overrides ``[dunning]`` (rules, calendar, rates) for this org, section by section.
    dunning: dict[str, Any] = Field(default_factory=dict)
    #: Customer groups (provider groups / types / tags, matched without regard to case) whose
    #: members are businesses, whatever the provider says (statutory interest rules).
    business_groups: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"expected an IANA timezone name such as Europe/London, got {value!r}"
            ) from None
        return value

    @field_validator("base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/") if value else value


class Settings(Strict):
    store: StoreSettings = Field(default_factory=StoreSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    orgs: list[OrgSettings] = Field(default_factory=list)
    #: Validated by the policy engine's schema (``policies.resolve_policies``).
    policies: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Rules, send calendar and reference-rate tables shared by every org (policy engine schema).
    dunning: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_org_names(self) -> Settings:
        seen: set[str] = set()
        for org in self.orgs:
            if org.name in seen:
                raise ValueError(f"org name {org.name!r} is used twice")
            seen.add(org.name)
        return self

    def org(self, name: str) -> OrgSettings:
        for org in self.orgs:
            if org.name == name:
                return org
        raise KeyError(name)
