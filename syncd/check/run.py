"""Running every pre-flight check, org by org: one org's failure never stops the others.

Nothing here writes to a provider or sends mail. The only store write is the business's own
details (``company_info()``), cached with the org exactly as a sync would.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from connectors.base import CompanyInfo, Connector, ConnectorError, FindingSeverity

from ..clock import Clock
from ..company import refresh_company
from ..config.loader import LoadedConfig
from ..config.models import EmailSettings
from ..connections import connect, org_id_for
from ..dunning.snapshots import load_inputs
from ..logs import get_logger, scrub
from ..mail import MailError, SmtpSender
from ..store import Store
from .model import CheckReport, Finding
from .store_checks import customers_without_email, dunned_customers, reference_rates
from .timezone import timezone_check

log = get_logger(__name__)


def smtp_check(settings: EmailSettings, *, ssl_context: ssl.SSLContext | None = None) -> Finding:
    """The server answers and accepts the login; nothing is sent."""
    try:
        detail = SmtpSender(settings, ssl_context=ssl_context).probe()
    except MailError as exc:
        return Finding(None, "smtp", FindingSeverity.ERROR, f"{exc}; no reminder email can go out")
    return Finding(None, "smtp", FindingSeverity.OK, detail)


def connector_checks(org: str, connector: Connector) -> list[Finding]:
    """The connector's own read-only checks (late-fee item, account, tax code, ...)."""
    try:
        found = connector.preflight()
    except (NotImplementedError, AttributeError):
        return [Finding(org, "preflight", FindingSeverity.WARNING, "the connector has no checks")]
    return [Finding(org, f.check, f.severity, f.detail) for f in found]


def company_check(org: str, info: CompanyInfo | None) -> Finding:
    """The business's name signs every email; its address heads letters and claims."""
    if info is None or not info.name.strip():
        return Finding(
            org,
            "company",
            FindingSeverity.WARNING,
            "the provider did not give the business's name: emails are signed with the "
            "[email] from_address display name (or the org name)",
        )
    if not info.address:
        return Finding(
            org,
            "company",
            FindingSeverity.WARNING,
            f"business {info.name!r} has no address in the provider: add it there "
            "(statutory claims and letters need it)",
            {"name": info.name},
        )
    return Finding(
        org,
        "company",
        FindingSeverity.OK,
        f"{info.name}, {', '.join(info.address)}",
        {"name": info.name, "address": list(info.address)},
    )


def _store_checks(
    store: Store, config: LoadedConfig, org: str, org_id: int, clock: Clock
) -> list[Finding]:
    settings = config.settings.org(org)
    tz = ZoneInfo(settings.timezone)
    with store.sessions() as session:
        inputs = load_inputs(session, org_id, tz, business_groups=settings.business_groups)
        dunned = dunned_customers(settings.policy, config.dunning[org], inputs)
        findings = customers_without_email(session, org, org_id, settings.connector, dunned=dunned)
    if not inputs:
        findings.append(
            Finding(
                org,
                "store",
                FindingSeverity.WARNING,
                "no open invoices in the store: run `syncd backfill` first, or nothing is due",
            )
        )
    findings += reference_rates(
        org,
        settings.policy,
        dict(config.policies),
        config.dunning[org],
        inputs,
        clock.now().astimezone(tz).date(),
    )
    return findings


def check_org(store: Store, config: LoadedConfig, org: str, clock: Clock) -> list[Finding]:
    findings: list[Finding] = []
    org_id = org_id_for(store, config, org, clock)
    connector: Connector | None = None
    try:
        connector = connect(store, config, org, clock)
        findings += connector_checks(org, connector)
        info = refresh_company(store, org_id, connector, clock.now(), force=True)
        findings.append(company_check(org, info))
        findings.append(
            timezone_check(
                org,
                config.settings.org(org).timezone,
                info.country if info else None,
                config.dunning[org].calendar,
                clock.now(),
            )
        )
    except ConnectorError as exc:
        findings.append(Finding(org, "connection", FindingSeverity.ERROR, scrub(str(exc))))
    except Exception as exc:  # one org's bug must not hide the others' results
        log.exception("check failed", org=org)
        findings.append(
            Finding(org, "connection", FindingSeverity.ERROR, f"{type(exc).__name__}: {exc}")
        )
    finally:
        if connector is not None:
            connector.close()
    findings += _store_checks(store, config, org, org_id, clock)
    return findings


def run_checks(
    config: LoadedConfig,
    store: Store,
    clock: Clock,
    orgs: Sequence[str],
    *,
    ssl_context: ssl.SSLContext | None = None,
) -> CheckReport:
    report = CheckReport([smtp_check(config.settings.email, ssl_context=ssl_context)])
    for org in orgs:
        report.findings += check_org(store, config, org, clock)
    return report
