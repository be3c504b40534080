"""Putting the demo together: sandboxes, mail catcher, config, backfill, the simulated days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.config.loader import LoadedConfig
from syncd.connections import connect, org_id_for
from syncd.store import Store, open_store
from syncd.store.models import Invoice, Org
from syncd.sync import ProgressFn, Syncer

from .mailbox import mail_catcher
from .payers import Payers
from .sandboxes import DemoOrg, start_sandboxes
from .simulation import DayHook, Simulation
from .summary import Summary, summarize
from .workspace import Workspace


@dataclass(frozen=True)
class Options:
    days: int
    invoices: int
    seed: int
    start: datetime


@dataclass(frozen=True)
class Overview:
    """One line per org after the backfill: what syncd now knows of its books."""

    org: str
    provider: str
    invoices: int
    open: int
    overdue: int
    currencies: str


class Screens:
    """What the command shows along the way (the CLI draws them; tests may ignore them)."""

    def backfill_progress(self, org: str) -> ProgressFn:
        return lambda _stream, _n, _total: None

    def overview(self, rows: list[Overview], config: LoadedConfig) -> None:
        pass

    def day_hook(self) -> DayHook | None:
        return None


def _backfill(store: Store, config: LoadedConfig, clock: FixedClock, screens: Screens) -> None:
    for org in config.settings.orgs:
        org_id = org_id_for(store, config, org.name, clock)
        connector = connect(store, config, org.name, clock)
        try:
            Syncer(
                store,
                org_id,
                org.name,
                connector,
                clock,
                screens.backfill_progress(org.name),
                company_info=True,
            ).backfill()
        finally:
            connector.close()


def _overview(store: Store, orgs: list[DemoOrg], today: datetime) -> list[Overview]:
    out = []
    with store.sessions() as session:
        for org in orgs:
            base = select(func.count()).select_from(Invoice).join(Org, Org.id == Invoice.org_id)
            base = base.where(Org.name == org.name)
            open_ = base.where(Invoice.balance > 0)
            overdue = open_.where(Invoice.due_date < today.date())
            currencies = session.scalars(
                select(Invoice.currency)
                .join(Org, Org.id == Invoice.org_id)
                .where(Org.name == org.name)
                .distinct()
            ).all()
            out.append(
                Overview(
                    org.name,
                    org.provider,
                    session.scalar(base) or 0,
                    session.scalar(open_) or 0,
                    session.scalar(overdue) or 0,
                    ", ".join(sorted(c for c in currencies if c)),
                )
            )
    return out


def run_demo(workspace: Workspace, options: Options, screens: Screens) -> Summary:
    """The whole demo; a re-run replaces the previous run's files first."""
    workspace.reset()
    clock = FixedClock(options.start)
    orgs = start_sandboxes(seed=options.seed, invoices=options.invoices, now=options.start)
    try:
        with mail_catcher(workspace.mail) as (_handler, port):
            config = load_config(workspace.write_config(orgs, port))
            store = open_store(config.store_url)
            try:
                _backfill(store, config, clock, screens)
                screens.overview(_overview(store, orgs, clock.now()), config)
                sim = Simulation(store, config, orgs, clock, Payers(options.seed), options.start)
                sim.run(options.days, screens.day_hook())
                with store.sessions() as session:
                    return summarize(
                        session,
                        start=options.start,
                        approved=sim.approved,
                        paid=sim.paid,
                        days=options.days,
                        errors=sim.errors,
                    )
            finally:
                store.close()
    finally:
        for org in orgs:
            org.stop()
