"""One full cycle for one org: incremental sync, plan into the outbox, execute what is due.

Each org runs on its own: an exception in one is caught, logged and reported, and the other
orgs still run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..connections import connect, org_id_for
from ..dunning.cycle import CycleReport, run_cycle
from ..dunning.planning import plan_org
from ..logs import get_logger
from ..outbox.email import ReminderMailer
from ..outbox.executor import EmailSender, ExecutionReport, Executor
from ..store import Store
from ..sync import Syncer, SyncReport

log = get_logger(__name__)

MailerFactory = Callable[[Store, LoadedConfig, str, int, Clock], EmailSender]


def default_mailer(
    store: Store, config: LoadedConfig, org_name: str, org_id: int, clock: Clock
) -> EmailSender:
    org = config.settings.org(org_name)
    return ReminderMailer(
        store,
        org_id,
        config.settings.email,
        org_name=org_name,
        timezone=org.timezone,
        now=clock.now,
    )


@dataclass
class OrgRun:
    org: str
    sync: SyncReport | None = None
    cycle: CycleReport | None = None
    execution: ExecutionReport | None = None
    error: str | None = None

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
) -> OrgRun:
    run = OrgRun(org_name)
    connector = None
    try:
        connector = connect(store, config, org_name, clock)
        org_id = org_id_for(store, config, org_name, clock)
        run.sync = Syncer(store, org_id, org_name, connector, clock, company_info=True).sync()
        if dry_run:
            with store.sessions() as session:
                result = plan_org(session, config, org_name, org_id, clock.now())
            run.cycle = CycleReport(org_name, planned=len(result.actions))
            for action in result.actions:
                log.info(
                    "dry run: planned",
                    org=org_name,
                    action=action.kind.value,
                    key=str(action.key),
                    reason=action.reason,
                )
            return run
        run.cycle = run_cycle(store, config, org_name, org_id, clock.now())
        executor = Executor(
            store,
            org_id,
            connector,
            now=clock.now,
            send_email=mailer_factory(store, config, org_name, org_id, clock),
        )
        if executor_hook is not None:
            executor_hook(executor)
        run.execution = executor.run()
    except Exception as exc:  # one org's failure must not stop the others
        run.error = f"{type(exc).__name__}: {exc}"
        log.exception("org cycle failed", org=org_name)
    finally:
        if connector is not None:
            connector.close()
    return run


def run_once(
    store: Store,
    config: LoadedConfig,
    clock: Clock,
    *,
    org: str | None = None,
    dry_run: bool = False,
    mailer_factory: MailerFactory = default_mailer,
) -> list[OrgRun]:
    names = [org] if org else [o.name for o in config.settings.orgs]
    return [
        run_org_once(store, config, name, clock, dry_run=dry_run, mailer_factory=mailer_factory)
        for name in names
    ]
