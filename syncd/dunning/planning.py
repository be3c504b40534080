"""Read-only planning and simulation for one org, straight from the store."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from policies import OrgContext, PlanResult, SimulationResult, plan_cycle, simulate
from policies.compare import CAVEAT, Comparison, compare

from ..config.loader import LoadedConfig
from ..experiments.assignments import with_arms
from ..review.golive import go_live_for
from .backtest import describe, inputs_on, replay_go_live
from .snapshots import load_inputs


def org_context(config: LoadedConfig, org_name: str, go_live: date | None = None) -> OrgContext:
    org = config.settings.org(org_name)
    return OrgContext(
        org=org.name, timezone=ZoneInfo(org.timezone), default_policy=org.policy, go_live=go_live
    )


def as_of_datetime(
    config: LoadedConfig, org_name: str, day: date | None, now: datetime
) -> datetime:
    """A date given on the command line means that day at 09:00 in the org's timezone."""
    if day is None:
        return now
    tz = ZoneInfo(config.settings.org(org_name).timezone)
    return datetime.combine(day, time(9, 0), tzinfo=tz)


def policy_fingerprint(config: LoadedConfig, org_name: str, go_live: date | None = None) -> str:
    """Changes whenever anything that shapes this org's plans changes in the config."""
    org = config.settings.org(org_name)
    shape: dict[str, object] = {
        "policy": org.policy,
        "timezone": org.timezone,
        "policies": {n: p.model_dump(mode="json") for n, p in sorted(config.policies.items())},
        "dunning": config.dunning[org_name].model_dump(mode="json"),
    }
    if go_live is not None:
        shape["go_live"] = go_live.isoformat()
    if org.business_groups:  # only when set: unchanged configs keep their fingerprint
        shape["business_groups"] = sorted(g.casefold() for g in org.business_groups)
    blob = json.dumps(shape, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class OrgPlan:
    result: PlanResult
    #: Every invoice the plan looked at (their state rows record the fingerprint).
    planned: list[str]
    fingerprint: str


def plan_org_candidates(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    as_of: datetime,
    *,
    record_arms: bool = False,
) -> OrgPlan:
    """Plan only the invoices that can have something to do at ``as_of``; the cycle
    records new A/B experiment arms (``record_arms``), read-only callers do not."""
    go_live = go_live_for(session, config, org_name, org_id, record=False)
    ctx = org_context(config, org_name, go_live)
    fingerprint = policy_fingerprint(config, org_name, go_live)
    due_on = as_of.astimezone(ctx.timezone).date()
    inputs = load_inputs(
        session,
        org_id,
        ctx.timezone,
        due_on=due_on,
        fingerprint=fingerprint,
        business_groups=config.settings.org(org_name).business_groups,
    )
    inputs = with_arms(
        session,
        org_name=org_name,
        org_id=org_id,
        rules=config.dunning[org_name].rules,
        inputs=inputs,
        now=as_of,
        record_new=record_arms,
    )
    result = plan_cycle(
        org=ctx,
        policies=config.policies,
        settings=config.dunning[org_name],
        as_of=as_of,
        invoices=inputs,
    )
    return OrgPlan(result, [i.invoice.invoice_id for i in inputs], fingerprint)


def plan_org(
    session: Session, config: LoadedConfig, org_name: str, org_id: int, as_of: datetime
) -> PlanResult:
    return plan_org_candidates(session, config, org_name, org_id, as_of).result


@dataclass
class Backtest:
    """Several policies replayed over the same history from the state on ``start``."""

    org: str
    start: date
    end: date
    start_state: dict[str, int]
    runs: dict[str, SimulationResult]
    comparisons: dict[str, Comparison]
    #: The org's go-live (None: not yet) and the one the replay ran with.
    go_live: date | None
    replayed_go_live: date

    @property
    def go_live_assumed(self) -> bool:
        """The replay assumed syncd went live on ``start`` (the org was not live by then)."""
        return self.go_live != self.replayed_go_live

    def to_dict(self) -> dict[str, object]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "note": CAVEAT,
            "start_state": self.start_state,
            "go_live": {
                "org": self.go_live.isoformat() if self.go_live else None,
                "replayed": self.replayed_go_live.isoformat(),
                "assumed": self.go_live_assumed,
            },
            "policies": {
                name: {**run.to_dict(), "comparison": self.comparisons[name].to_dict()}
                for name, run in self.runs.items()
            },
        }


def backtest_org(
    session: Session,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    start: date,
    end: date,
    policies: list[str | None],
    within: int = 14,
) -> Backtest:
    """Every policy (None: the org's configured policies and rules) from the dunning state
    as it stood on ``start``, over the real payment history."""
    go_live = go_live_for(session, config, org_name, org_id, record=False)
    replayed = replay_go_live(go_live, start)
    ctx = org_context(config, org_name, replayed)
    inputs = load_inputs(
        session,
        org_id,
        ctx.timezone,
        open_only=False,
        business_groups=config.settings.org(org_name).business_groups,
    )
    inputs = inputs_on(session, org_id, inputs, start, ctx.timezone, replayed)
    snapshots = {i.invoice.invoice_id: i.invoice for i in inputs}
    runs: dict[str, SimulationResult] = {}
    comparisons: dict[str, Comparison] = {}
    for policy in policies:
        name = policy or "configured"
        runs[name] = simulate(
            org=ctx,
            policies=config.policies,
            settings=config.dunning[org_name],
            invoices=inputs,
            start=start,
            end=end,
            policy=policy,
        )
        comparisons[name] = compare(name, runs[name], snapshots, within)
    return Backtest(
        org_name,
        start,
        end,
        describe({i.invoice.invoice_id: i.state for i in inputs}),
        runs,
        comparisons,
        go_live,
        replayed,
    )
