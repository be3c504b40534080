"""One full cycle for one org: incremental sync, plan into the outbox, execute what is due.

Each org runs on its own: an exception in one is caught, logged and reported, and the other
orgs still run. Nothing happens for an org without its lease (:mod:`syncd.store.leases`): a
second process finds the org busy, waits up to ``wait`` seconds, then reports who holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connectors.base import ConnectorError

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..connections import connect, org_id_for
from ..dunning.cycle import CycleReport, run_cycle
from ..dunning.planning import plan_org
from ..logs import get_logger
from ..outbox.email import ReminderMailer
from ..outbox.executor import EmailSender, ExecutionReport, Executor
from ..store import Store
from ..store.leases import LeaseLost, OrgBusy, OrgLease
from ..sync import Syncer, SyncReport

log = get_logger(__name__)

MailerFactory = Callable[[Store, LoadedConfig, str, int, Clock], EmailSender]


def default_mailer(
    store: Store, config: LoadedConfig, org_name: str, org_id: int, clock: Clock
) -> EmailSender:
    org = config.settings.org(org_name)
    folder = config.settings.email.templates_dir
    return ReminderMailer(
        store,
        org_id,
        config.settings.email,
        org_name=org_name,
        timezone=org.timezone,
        now=clock.now,
        # ``[email] templates_dir`` overrides the built-in wording (relative to the config).
        templates_dir=str(config.path.parent / folder) if folder else None,
    )


@dataclass
class OrgRun:
    org: str
    sync: SyncReport | None = None
    cycle: CycleReport | None = None
    execution: ExecutionReport | None = None
    error: str | None = None
    #: Set when another process held the org's lease (nothing was done).
    busy: OrgBusy | None = None
    #: The exception behind ``error`` (the daemon's health tells a refused login apart).
    cause: Exception | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or bool(self.execution and self.execution.failed)


def run_org_once(
    store: Store,
    config: LoadedConfig,
    org_name: str,
    clock: Clock,
    *,
    dry_run: bool = False,
    mailer_factory: MailerFactory = default_mailer,
    executor_hook: Callable[[Executor], None] | None = None,
    wait: float = 0.0,
    lease: OrgLease | None = None,
) -> OrgRun:
    """One org's cycle; under ``lease`` if the caller holds it, else under a lease of its own."""
    run = OrgRun(org_name)
    own: OrgLease | None = None
    try:
        org_id = org_id_for(store, config, org_name, clock)
        if lease is None:
            lease = own = take_lease(store, config, org_name, org_id, wait=wait)
        _run_org_leased(
            run,
            store,
            config,
            org_name,
            org_id,
            clock,
            lease,
            dry_run,
            mailer_factory,
            executor_hook,
        )
    except OrgBusy as exc:
        run.error, run.busy = str(exc), exc
        log.warning("org busy: skipped", org=org_name, holder=exc.holder.describe())
    except (ConnectorError, LeaseLost) as exc:  # a clear message, no traceback
        run.error, run.cause = str(exc), exc
        log.error("org cycle failed", org=org_name, error=str(exc))
    except Exception as exc:  # one org's failure must not stop the others
        run.error, run.cause = f"{type(exc).__name__}: {exc}", exc
        log.exception("org cycle failed", org=org_name)
    finally:
        if own is not None:
            own.release()
    return run


def lease_seconds(config: LoadedConfig) -> float:
    return float(config.settings.daemon.lease_seconds)


def take_lease(
    store: Store, config: LoadedConfig, org_name: str, org_id: int, *, wait: float = 0.0
) -> OrgLease:
    """The org's lease, or :class:`OrgBusy` naming the holder after ``wait`` seconds."""
    return OrgLease(store, org_id, org_name, seconds=lease_seconds(config)).acquire(wait)


def _run_org_leased(
    run: OrgRun,
    store: Store,
    config: LoadedConfig,
    org_name: str,
    org_id: int,
    clock: Clock,
    lease: OrgLease,
    dry_run: bool,
    mailer_factory: MailerFactory,
    executor_hook: Callable[[Executor], None] | None,
) -> None:
    connector = connect(store, config, org_name, clock)
    try:
        run.sync = Syncer(store, org_id, org_name, connector, clock, company_info=True).sync()
        if lease.lost:
            raise LeaseLost(f"lease on org {org_name!r} lapsed during the sync")
        if dry_run:
            with store.sessions() as session:
                result = plan_org(session, config, org_name, org_id, clock.now())
            run.cycle = CycleReport(org_name, planned=len(result.actions), deferral=result.deferral)
            for action in result.actions:
                log.info(
                    "dry run: planned",
                    org=org_name,
                    action=str(action.kind),
                    key=str(action.key),
                    reason=action.reason,
                )
            return
        run.cycle = run_cycle(store, config, org_name, org_id, clock.now())
        executor = Executor(
            store,
            org_id,
            connector,
            now=clock.now,
            send_email=mailer_factory(store, config, org_name, org_id, clock),
            lease=lease,
        )
        if executor_hook is not None:
            executor_hook(executor)
        run.execution = executor.run()
    finally:
        connector.close()


def run_once(
    store: Store,
    config: LoadedConfig,
    clock: Clock,
    *,
    org: str | None = None,
    dry_run: bool = False,
    mailer_factory: MailerFactory = default_mailer,
    wait: float = 0.0,
) -> list[OrgRun]:
    names = [org] if org else [o.name for o in config.settings.orgs]
    return [
        run_org_once(
            store, config, name, clock, dry_run=dry_run, mailer_factory=mailer_factory, wait=wait
        )
        for name in names
    ]
