"""Everything the reports read for a set of orgs, loaded once per command."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from syncd.experiments.report import Comparison, experiment_comparisons

from ..clock import Clock
from ..config.loader import LoadedConfig
from ..connections import org_id_for
from ..store import Store
from .effectiveness import DoneAction
from .ledger import LedgerInvoice
from .load import load_actions, load_ledger
from .recovery import RecoveryFigures, recovery_figures


@dataclass
class OrgData:
    name: str
    org_id: int
    timezone: ZoneInfo
    today: date
    ledger: list[LedgerInvoice]
    actions: list[DoneAction]
    recovery: RecoveryFigures = field(default_factory=RecoveryFigures)
    experiments: list[Comparison] = field(default_factory=list)

    @property
    def by_id(self) -> dict[tuple[str, str], LedgerInvoice]:
        return {(i.org, i.invoice_id): i for i in self.ledger}


def load_orgs(
    store: Store,
    config: LoadedConfig,
    names: list[str],
    clock: Clock,
    period: tuple[date, date] | None = None,
) -> list[OrgData]:
    out: list[OrgData] = []
    now: datetime = clock.now()
    for name in names:
        tz = ZoneInfo(config.settings.org(name).timezone)
        org_id = org_id_for(store, config, name, clock)
        today = now.astimezone(tz).date()
        with store.sessions() as session:
            data = OrgData(
                name,
                org_id,
                tz,
                today,
                load_ledger(session, org_id, name, tz),
                load_actions(session, org_id, name, tz),
            )
            start, end = period or (date.min, today)
            data.recovery = recovery_figures(session, org_id, start, end)
            data.experiments = experiment_comparisons(session, org_id)
        out.append(data)
    return out
