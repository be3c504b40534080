"""The configuration schema. Unknown keys are errors everywhere: a typo must never be ignored."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from cryptography.fernet import Fernet
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.base import is_loopback
from policies.kinds.base import ReviewClass
from policies.kinds.registry import kinds


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(Strict):
    #: SQLAlchemy URL. A relative SQLite path is resolved against the config file's folder.
    url: str = "sqlite:///syncd.db"
    #: Fernet key that encrypts stored OAuth tokens; generated into ``key_file`` if unset.
    secret_key: SecretStr | None = None
    key_file: str = "syncd.key"

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError(
                "expected a database URL such as sqlite:///syncd.db or "
                "postgresql://user@host/dbname"
            ) from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(
                f"unsupported database {backend!r}: syncd stores data in sqlite or postgresql"
            )
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode("utf-8"))
            except (ValueError, UnicodeEncodeError):
                raise ValueError(
                    "expected a Fernet key: 32 random bytes in URL-safe base64 (44 characters), "
                    "e.g. from python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'"
                ) from None
        return value


class DaemonSettings(Strict):
    sync_interval_minutes: int = Field(default=15, ge=1, le=1440)
    #: Cron expression for the dunning cycle, evaluated in each org's timezone.
    dunning_cron: str = "0 9 * * mon-fri"
    token_refresh_margin_seconds: int = Field(default=300, ge=30, le=3000)
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    #: ``host:port`` the webhook receiver listens on inside ``syncd run``; empty = off.
    webhook_address: str = ""
    #: Larger webhook bodies are refused with 413 before they are read.
    webhook_max_body_bytes: int = Field(default=1_048_576, ge=1024, le=16 * 1_048_576)
    #: ``host:port`` of ``/healthz`` and ``/metrics`` inside ``syncd run``; empty = off.
    metrics_address: str = "127.0.0.1:9464"

    @field_validator("webhook_address", "metrics_address")
    @classmethod
    def _host_port(cls, value: str, info: ValidationInfo) -> str:
        if value:
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                example = (
                    "127.0.0.1:9464" if info.field_name == "metrics_address" else "127.0.0.1:8090"
                )
                # The error formatter adds "(got ...)".
                raise ValueError(f'expected host:port such as {example}, or "" for off')
        return value

    @field_validator("dunning_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(
                "expected a cron expression 'minute hour day month weekday' such as "
                f"'0 9 * * mon-fri' ({exc})"
            ) from None
        return value

    #: How long an org's lease outlives a holder that stopped renewing it (crashed on another
    #: host); a holder renews every quarter of it.
    lease_seconds: float = Field(default=60, ge=1, le=3600)
    #: After SIGTERM, how long to wait for the action in flight before exiting anyway.
    stop_grace_seconds: float = Field(default=8, gt=0, le=300)
    #: A job running longer than this is reported stuck by ``/healthz`` (503).
    job_timeout_minutes: int = Field(default=60, ge=1, le=1440)
    #: Tries of a failed dunning cycle later the same day (0: wait for the next day's).
    cycle_retries: int = Field(default=3, ge=0, le=10)


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
    #: Where the daily digest of actions awaiting review goes (none: no digest).
    digest_to: str | None = None
    #: Local hour (org timezone) from which the day's digest may be sent.
    digest_hour: int = Field(default=10, ge=0, le=23)


class LetterSettings(Strict):
    """Where demand letters are saved and which templates and fonts lay them out."""

    #: Folder for the letters' PDFs; relative paths are resolved against the config file's
    #: folder. Default: ``letters`` beside the SQLite database (else beside the config).
    folder: str | None = None
    #: Override folder for letter templates (``demand/en.html.j2``, ...), file by file.
    templates_dir: str | None = None
    #: Folder holding DejaVuSans*.ttf (every currency symbol); default: the system's.
    font_dir: str | None = None


class OrgWebhookSettings(Strict):
    """The secrets the provider signs webhooks with (never logged)."""

    #: QuickBooks: the app's webhook "Verifier Token" (Intuit developer portal).
    verifier_token: SecretStr | None = None
    #: Xero: the app's "Webhooks key" (Xero developer portal, Webhooks tab).
    webhook_key: SecretStr | None = None


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
    #: The day syncd starts dunning this org; absent: the day its first backfill completed.
    go_live: date | None = None
    #: What waits for a human before it runs; absent means "all" (a new org's safe mode).
    review: Literal["all", "fees-and-escalations", "first-contact", "off"] | None = None
    #: Kinds that always need approval (a plan's confirmation, a settlement's credit note,
    #: a hand-off) but that this org lets run under its ``review`` mode like any other.
    review_exempt: list[str] = Field(default_factory=list)
    #: Webhook signing secrets; ``credentials.verifier_token`` / ``webhook_key`` also work.
    webhooks: OrgWebhookSettings = Field(default_factory=OrgWebhookSettings)
    #: Customer groups (provider groups / types / tags, matched without regard to case) whose
    #: members are businesses, whatever the provider says (statutory interest rules).
    business_groups: list[str] = Field(default_factory=list)
    #: Customer groups whose members are individuals or sole traders (neither provider says
    #: so itself): the England and Wales pre-action letter goes to them without a review.
    individual_groups: list[str] = Field(default_factory=list)

    @field_validator("review_exempt")
    @classmethod
    def _approval_kinds(cls, value: list[str]) -> list[str]:
        allowed = sorted(s.name for s in kinds() if s.review_class is ReviewClass.APPROVAL)
        for name in value:
            if name not in allowed:
                raise ValueError(
                    f"{name!r} is not an action kind that always needs approval "
                    f"(expected one of: {', '.join(allowed) or 'none registered'})"
                )
        return value

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
        if value is not None and value.startswith("http://") and not is_loopback(value):
            raise ValueError(
                "expected an https:// URL: credentials never travel over plain HTTP except to "
                "this machine"
            )
        return value.rstrip("/") if value else value


class Settings(Strict):
    store: StoreSettings = Field(default_factory=StoreSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    letters: LetterSettings = Field(default_factory=LetterSettings)
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
