"""Issue 14, "closed days and grouping", end to end on both sandboxes: a cycle outside the send
window or on a closed day plans and sends nothing; the next open day writes each customer once,
with the latest step due for every invoice in that email."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from syncd.config import load_config
from tests.connectors.quickbooks import conftest as qbo
from tests.connectors.xero import conftest as xero
from tests.review.conftest import World, email_section
from tests.support.smtp import Inbox, smtp_server

# The standard preset's ladder (days after the due date) and the latest step due on a day.
LADDER: tuple[tuple[str, int], ...] = (("heads-up", -3), ("reminder", 1), ("firm-reminder", 7))
LADDER += (("late-fee", 14), ("final-notice", 30))


def latest_step(days_overdue: int) -> str:
    return [step for step, days in LADDER if days <= days_overdue][-1]


def open_days(start: date) -> tuple[date, list[date], date]:
    """A weekday, the seven days after it closed, and the open weekday after them."""
    day0 = start
    while day0.weekday() > 3:  # Mon-Thu, so day0 + 8 is a weekday too
        day0 += timedelta(days=1)
    return day0, [day0 + timedelta(days=n) for n in range(1, 8)], day0 + timedelta(days=8)


def with_calendar(path: Path, closed: list[date], email: str) -> None:
    dates = ", ".join(d.isoformat() for d in closed)
    # Charges wait for review: Xero's 60 calls a minute would pace a backlog of fee writes.
    text = path.read_text(encoding="utf-8").replace(
        'review = "off"', 'review = "fees-and-escalations"'
    )
    text += email
    path.write_text(text + f"\n[dunning.calendar]\nclosed_dates = [{dates}]\n", encoding="utf-8")


class Closures:
    def __init__(self, world: World, tz: ZoneInfo, set_time: object) -> None:
        self.world, self.tz, self._set_time = world, tz, set_time

    def at(self, day: date, hour: int) -> None:
        moment = datetime.combine(day, time(hour), self.tz).astimezone(UTC)
        self._set_time(moment)  # type: ignore[operator]
        assert abs(self.world.now() - moment) < timedelta(minutes=1)  # the clock runs on


def worlds(provider: str, tmp_path: Path, url: str, port: int, inbox: Inbox) -> Iterator[Closures]:
    start = (qbo.SANDBOX_NOW if provider == "quickbooks" else xero.SANDBOX_NOW).date()
    _, closed, _ = open_days(start + timedelta(days=1))
    if provider == "quickbooks":
        for qb in qbo.make_bench(tmp_path, url, invoices=120, smtp_port=port):
            with_calendar(qb.config.path, closed, "")
            qb.config = load_config(qb.config.path)
            qb.syncer().backfill()
            w = World(
                provider,
                "qbo",
                qb.config,
                qb.store,
                inbox,
                qb.clock.now,
                qb.sandbox.control.writes,
                qb,
            )
            yield Closures(
                w,
                ZoneInfo("America/Los_Angeles"),
                lambda m, c=qb.sandbox.control: c.set_clock(m.isoformat()),
            )
    else:
        for xb in xero.make_bench(tmp_path, url, invoices=80, minute_limit=5000):
            with_calendar(xb.config.path, closed, email_section(port))
            xb.config = load_config(xb.config.path)
            xb.syncer().backfill()
            w = World(
                provider, xero.ORG, xb.config, xb.store, inbox, xb.clock.now, xb.control.writes, xb
            )
            yield Closures(w, ZoneInfo("UTC"), xb.control.set_time)


@pytest.fixture(params=["quickbooks", "xero"])
def closures(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> Iterator[Closures]:
    with smtp_server() as (inbox, port):
        yield from worlds(request.param, tmp_path, store_url, port, inbox)


def recipients(inbox: Inbox, since: int) -> Counter[str]:
    return Counter(str(m.message["To"]) for m in inbox.messages[since:])


def test_closed_days_plan_nothing_then_one_email_per_customer(closures: Closures) -> None:
    w = closures.world
    day0, closed, reopen = open_days(w.now().astimezone(closures.tz).date() + timedelta(days=1))
    closures.at(day0 - timedelta(days=1), 20)  # after the send window closed
    assert json.loads(w.cli("plan", "--json").stdout) == []
    w.cli("run-once", ok=False)
    assert not w.inbox.messages and not w.outbox()
    closures.at(day0, 10)
    w.cli("run-once", ok=False)  # customers without an address fail, as in every bench
    baseline, rows = len(w.inbox.messages), len(w.outbox())
    assert baseline and rows
    writes = w.writes()
    for day in closed:
        closures.at(day, 10)
        assert json.loads(w.cli("plan", "--json").stdout) == [], day
        w.cli("run-once", ok=False)
        assert len(w.inbox.messages) == baseline and len(w.outbox()) == rows, day
    assert w.writes() == writes
    closures.at(reopen, 10)
    emails = [a for a in json.loads(w.cli("plan", "--json").stdout) if a["action"] == "email"]
    assert emails, "a week's closure leaves steps due"
    per_customer = Counter(a["customer"] for a in emails)
    assert max(per_customer.values()) == 1, per_customer.most_common(3)
    for a in emails:
        assert a["step"] == max(
            (i["step"] for i in a["invoices"]), key=[s for s, _ in LADDER].index
        )
        for item in a["invoices"]:
            assert item["step"] == latest_step(item["days_overdue"]), item
    w.cli("run-once", ok=False)
    queued = [r for r in w.outbox()[rows:] if r.kind == "email"]
    per_customer = Counter(r.customer_provider_id for r in queued)
    assert queued and max(per_customer.values()) == 1, per_customer.most_common(3)
    sent = recipients(w.inbox, baseline)
    assert max(sent.values(), default=1) == 1, sent.most_common(3)
    # The rest wait: for an address, or with the late fee they announce (charges wait here).
    for r in queued:
        if r.status != "done":
            assert r.status == "awaiting_review", (r.status, r.last_error)
            reason = str(r.review_reason)
            assert "no email address" in reason or "the email announces the" in reason, reason
