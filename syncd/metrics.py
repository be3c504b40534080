"""What ``/metrics`` exposes, in Prometheus' format, from one registry per daemon.

Two sources:

* **Counted as it happens:** provider HTTP calls and 429s, reported by each connector's HTTP
  seam through :mod:`connectors.kit.telemetry` (every attempt, token refreshes included);
  job outcomes from :class:`~syncd.daemon.health.Health`.
* **Read from the store at scrape time** (:class:`StoreCollector`): sync lag, the outbox by
  kind and status, its depth and how long its oldest due action has waited, and the actions
  awaiting review. Reading at scrape time means the figures are the store's, whoever changed
  it (this daemon, a ``run-once``, a reviewer), and survive a restart.

The registry is the daemon's own, never prometheus-client's global one, so two daemons (or
tests) in one process do not count into each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from connectors.kit import ApiCall, add_observer

from .daemon.health import Health
from .logs import get_logger
from .store import Store
from .store.models import AuditEntry, OutboxAction, OutboxStatus
from .store.models import Org as OrgRow

log = get_logger(__name__)

#: Audit events written at the end of every successful sync (:mod:`syncd.sync`).
SYNC_EVENTS = ("sync.incremental", "sync.backfill", "sync.full")
#: Statuses that are still to be executed.
QUEUED = (OutboxStatus.PENDING.value, OutboxStatus.IN_FLIGHT.value)


class Metrics:
    """The daemon's registry; :meth:`watch_calls` starts counting provider calls."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The usual process_* (memory, CPU, open files, start time) and python_info.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.api_calls = Counter(
            "syncd_api_calls",
            "HTTP requests to the provider, by answer (code 'none': no answer came).",
            ["provider", "endpoint", "code"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "syncd_api_rate_limited",
            "HTTP 429 answers from the provider.",
            ["provider", "endpoint"],
            registry=self.registry,
        )

    def observe(self, call: ApiCall) -> None:
        code = str(call.status) if call.status is not None else "none"
        self.api_calls.labels(call.provider, call.endpoint, code).inc()
        if call.status == 429:
            self.rate_limited.labels(call.provider, call.endpoint).inc()

    def watch_calls(self) -> Callable[[], None]:
        """Count every provider call of this process; returns the function that stops it."""
        return add_observer(self.observe)

    def add(self, collector: Collector) -> None:
        self.registry.register(collector)


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


class StoreCollector(Collector):
    """Figures read from the store, and the jobs' health, at each scrape."""

    def __init__(
        self, store: Store, orgs: list[str], now: Callable[[], datetime], health: Health
    ) -> None:
        self.store, self.orgs, self.now, self.health = store, orgs, now, health

    def collect(self) -> Iterator[Metric]:
        yield from self._health()
        up = _gauge("syncd_store_up", "1 if the store answered this scrape.", [])
        try:
            families = list(self._store_metrics())
        except SQLAlchemyError as exc:
            log.warning("metrics: store unreadable", error=type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _health(self) -> Iterator[Metric]:
        healthy, _ = self.health.report()
        ok = _gauge("syncd_healthy", "1 while /healthz answers 200.", [])
        ok.add_metric([], 1 if healthy else 0)
        yield ok
        last = _gauge(
            "syncd_last_success_timestamp_seconds",
            "When each job of each org last succeeded (job 'cycle': the dunning cycle).",
            ["org", "job"],
        )
        for (org, job), at in sorted(self.health.last_success().items()):
            last.add_metric([org, job], at.timestamp())
        yield last

    def _store_metrics(self) -> Iterator[Metric]:
        now = self.now()
        with self.store.sessions() as session:
            ids = dict(
                session.execute(
                    select(OrgRow.id, OrgRow.name).where(OrgRow.name.in_(self.orgs))
                ).all()
            )
            counts = session.execute(
                select(OutboxAction.org_id, OutboxAction.kind, OutboxAction.status, func.count())
                .where(OutboxAction.org_id.in_(ids))
                .group_by(OutboxAction.org_id, OutboxAction.kind, OutboxAction.status)
            ).all()
            counted = [(ids[o], kind, status, n) for o, kind, status, n in counts]
            oldest = dict(
                session.execute(
                    select(OutboxAction.org_id, func.min(OutboxAction.scheduled_for))
                    .where(
                        OutboxAction.org_id.in_(ids),
                        OutboxAction.status.in_(QUEUED),
                        OutboxAction.scheduled_for <= now,
                    )
                    .group_by(OutboxAction.org_id)
                ).all()
            )
            synced = {
                org_id: session.scalar(
                    select(AuditEntry.at)
                    .where(AuditEntry.org_id == org_id, AuditEntry.event.in_(SYNC_EVENTS))
                    .order_by(AuditEntry.at.desc())
                    .limit(1)
                )
                for org_id in ids
            }
        yield from _outbox(
            counted, {ids[k]: v for k, v in oldest.items()}, sorted(ids.values()), now
        )
        yield from _sync_lag({ids[k]: v for k, v in synced.items() if v is not None}, now)


def _outbox(
    counted: list[tuple[str, str, str, int]],
    oldest: dict[str, datetime],
    orgs: list[str],
    now: datetime,
) -> Iterator[Metric]:
    actions = _gauge(
        "syncd_actions",
        "Outbox actions by kind and status (done, failed, skipped: their outcome).",
        ["org", "kind", "status"],
    )
    depth = _gauge("syncd_outbox_depth", "Actions still to execute (pending, in flight).", ["org"])
    review = _gauge("syncd_actions_awaiting_review", "Actions held for a human.", ["org"])
    age = _gauge(
        "syncd_outbox_oldest_pending_age_seconds",
        "How long the oldest action still to execute has been due (0: none is due).",
        ["org"],
    )
    totals = {org: {"depth": 0, "review": 0} for org in orgs}
    for org, kind, status, n in sorted(counted):
        actions.add_metric([org, kind, status], n)
        if status in QUEUED:
            totals[org]["depth"] += n
        elif status == OutboxStatus.AWAITING_REVIEW.value:
            totals[org]["review"] += n
    for org in orgs:
        depth.add_metric([org], totals[org]["depth"])
        review.add_metric([org], totals[org]["review"])
        due = oldest.get(org)
        age.add_metric([org], max(0.0, (now - due).total_seconds()) if due else 0.0)
    yield from (actions, depth, review, age)


def _sync_lag(synced: dict[str, datetime], now: datetime) -> Iterator[Metric]:
    last = _gauge(
        "syncd_last_sync_timestamp_seconds", "When the org's last successful sync ended.", ["org"]
    )
    lag = _gauge("syncd_sync_lag_seconds", "Seconds since the org's last successful sync.", ["org"])
    for org, at in sorted(synced.items()):
        last.add_metric([org], at.timestamp())
        lag.add_metric([org], max(0.0, (now - at).total_seconds()))
    yield from (last, lag)
