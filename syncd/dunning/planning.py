"""Read-only planning and simulation for one org, straight from the store."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from policies import OrgContext, PlanResult, SimulationResult, plan_cycle, simulate

from ..config.loader import LoadedConfig
from .snapshots import load_inputs


def org_context(config: LoadedConfig, org_name: str) -> OrgContext:
    org = config.settings.org(org_name)
    return OrgContext(org=org.name, timezone=ZoneInfo(org.timezone), default_policy=org.policy)


def as_of_datetime(
    config: LoadedConfig, org_name: str, day: date | None, now: datetime
) -> datetime:
    """A date given on the command line means that day at 09:00 in the org's timezone."""
    if day is None:
        return now
    tz = ZoneInfo(config.settings.org(org_name).timezone)
    return datetime.combine(day, time(9, 0), tzinfo=tz)


def plan_org(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, as_of: datetime
) -> PlanResult:
    ctx = org_context(config, org_name)
    return plan_cycle(
        org=ctx,
        policies=config.policies,
        settings=config.dunning[org_name],
        as_of=as_of,
        invoices=load_inputs(session, org_id, ctx.timezone),
    )


def simulate_org(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    start: date,
    end: date,
    policy: str | None,
) -> SimulationResult:
    ctx = org_context(config, org_name)
    return simulate(
        org=ctx,
        policies=config.policies,
        settings=config.dunning[org_name],
        invoices=load_inputs(session, org_id, ctx.timezone, open_only=False),
        start=start,
        end=end,
        policy=policy,
    )
