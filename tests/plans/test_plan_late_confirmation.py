"""A confirmation that goes out after an instalment fell due: the customer who has just been
told about the plan is not told in the same breath that they missed a payment.

Driven across cycle boundaries by the sandbox's clock (the CLI's ``--now``) and, for the
time-zone edges, by calling the cycle's follow-up with the instant injected: a confirmation
handed over at 23:50 in Los Angeles (07:50 the next day in UTC) counts from its local day,
and no reminder follows it in the first cycle after local midnight.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from syncd.plans.follow import follow_up
from syncd.store.models import Org, OutboxAction, PaymentPlan
from tests.plans.conftest import LadderWorld, days_from, pdf_text, with_settlement_options
from tests.review.conftest import make_world
from tests.support.smtp import smtp_server


def _reminders(ladder: LadderWorld, plan_id: int) -> list[OutboxAction]:
    prefix = f"{ladder.org}:plan/{plan_id}/"
    return [r for r in ladder.outbox() if r.idempotency_key.startswith(prefix)]


def _late_confirmed_plan(ladder: LadderWorld) -> int:
    """A plan whose first instalment (due tomorrow) is three days overdue by the time its
    confirmation is approved and sent."""
    customer, (invoice,) = ladder.debtor()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", invoice.provider_id, "--instalments", "2", "--every", "14days",
        "--first", days_from(ladder.today(), 1), "--by", "alice",
    )  # fmt: skip
    ladder.cli("run-once", ok=False)
    ladder.advance_days(4)
    ladder.cli("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    ladder.cli("run-once", ok=False)  # the confirmation goes out in this one
    confirmation = next(r for r in ladder.outbox() if r.kind == "plan_confirmation")
    assert confirmation.status == "done"
    return int(plan["id"])


def test_a_late_confirmation_is_not_followed_by_a_missed_reminder(ladder: LadderWorld) -> None:
    plan_id = _late_confirmed_plan(ladder)
    told = ladder.today()
    # The confirmation itself says by when the instalment already due must now be paid.
    (confirmation,) = [m.message for m in ladder.w.inbox.messages
                       if str(m.message["Subject"]).startswith("Your payment plan")]  # fmt: skip
    (part,) = [p for p in confirmation.walk() if p.get_content_type() == "text/plain"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = " ".join(payload.decode("utf-8").split())  # the lines are wrapped
    (pay_by,) = re.findall(r"\(already due: please pay it by ([^)]*)\)", text)
    deadline = told + timedelta(days=5)  # in the customer's locale's words
    assert str(deadline.day) in pay_by and str(deadline.year) in pay_by, text
    assert re.search(r"\) Payment 2: ", text), "the next instalment stays on its own line"
    # The schedule PDF attached to it, the customer's record, says the same.
    pdf = pdf_text(confirmation)
    assert pdf.count("already due: please pay it by") == 1, pdf
    assert f"already due: please pay it by {deadline.isoformat()}" in pdf, pdf
    ladder.cli("run-once", ok=False)  # the next cycle, at once
    ladder.advance_days(0.5)
    ladder.cli("run-once", ok=False)  # half a day later
    assert _reminders(ladder, plan_id) == []
    assert not [m for m in ladder.w.inbox.messages
                if str(m.message["Subject"]).startswith("Not yet received")]  # fmt: skip

    ladder.advance_days(0.6)  # a day and more after the confirmation, the next local day
    ladder.cli("run-once", ok=False)
    (missed,) = _reminders(ladder, plan_id)
    assert (missed.payload["instalment"], missed.payload["reminder"]) == (1, "missed")
    assert missed.status == "done"
    # The date it asks to pay by is the one the plan holds them to: grace from the telling.
    assert missed.payload["deadline"] == (told + timedelta(days=5)).isoformat()
    shown = ladder.cli_json("payment-plan", "show", str(plan_id), "--org", ladder.org)
    assert shown["status"] == "active"


@pytest.fixture(params=["quickbooks"])
def la_ladder(
    request: pytest.FixtureRequest, tmp_path: Path, store_url: str
) -> Iterator[LadderWorld]:
    """The QuickBooks world, whose org keeps its books in America/Los_Angeles."""
    with smtp_server() as (inbox, port):
        for world in make_world(
            request.param, tmp_path, store_url, port, inbox, invoices=40, review='"off"'
        ):
            yield LadderWorld(with_settlement_options(world))


def _follow(ladder: LadderWorld, now: datetime) -> None:
    with ladder.w.store.sessions.begin() as s:
        org_id = s.scalar(select(Org.id).where(Org.name == ladder.org))
        assert org_id is not None
        follow_up(s, ladder.w.config, ladder.org, org_id, now)


def _plan_status(ladder: LadderWorld, plan_id: int) -> str:
    with ladder.w.store.sessions() as s:
        plan = s.get(PaymentPlan, plan_id)
        assert plan is not None
        return plan.status


def test_the_telling_counts_in_the_orgs_time_zone_across_midnight(la_ladder: LadderWorld) -> None:
    ladder = la_ladder
    tz = ZoneInfo(ladder.w.config.settings.org(ladder.org).timezone)
    assert tz.key == "America/Los_Angeles"
    plan_id = _late_confirmed_plan(ladder)
    told: date = ladder.today()
    # Say the confirmation was handed to the mail server at 23:50 local time: 07:50 the next
    # day in UTC.
    handed = datetime.combine(told, time(23, 50), tz)
    assert handed.astimezone(ZoneInfo("UTC")).date() == told + timedelta(days=1)
    with ladder.w.store.sessions.begin() as s:
        row = s.scalar(select(OutboxAction).where(OutboxAction.kind == "plan_confirmation"))
        assert row is not None
        row.handed_at = handed

    _follow(ladder, handed + timedelta(minutes=20))  # the first cycle after local midnight
    _follow(ladder, handed + timedelta(hours=19, minutes=50))
    assert _reminders(ladder, plan_id) == []
    _follow(ladder, handed + timedelta(hours=24, minutes=10))
    (missed,) = _reminders(ladder, plan_id)
    assert missed.payload["reminder"] == "missed"
    # Five grace days from the local day of the telling, not from its UTC day.
    assert missed.payload["deadline"] == (told + timedelta(days=5)).isoformat()
    _follow(ladder, datetime.combine(told + timedelta(days=5), time(23, 30), tz))
    assert _plan_status(ladder, plan_id) == "active"
    _follow(ladder, datetime.combine(told + timedelta(days=6), time(0, 30), tz))
    assert _plan_status(ladder, plan_id) == "broken"


def test_reminders_held_back_by_the_quiet_period_go_out_after_it_only_if_they_hold(
    la_ladder: LadderWorld,
) -> None:
    """A confirmation handed over at 23:50; instalment 1 due the next day, instalment 2 the
    day after that. Its "due today" falls inside the quiet period and is not sent a day late
    when the period ends; instalment 2's "coming up", also held back, goes out after it. A
    reminder queued for an instalment that is then paid before it is sent is skipped."""
    ladder = la_ladder
    ladder.use_plan_settings("after_miss_days = 3\ngrace_days = 5\n")
    tz = ZoneInfo(ladder.w.config.settings.org(ladder.org).timezone)
    told = ladder.today()
    customer, (invoice,) = ladder.debtor()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", invoice.provider_id, "--instalments", "2", "--every", "2days",
        "--first", days_from(told, 1), "--by", "alice",
    )  # fmt: skip
    plan_id = int(plan["id"])
    ladder.cli("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    ladder.cli("run-once", ok=False)
    handed = datetime.combine(told, time(23, 50), tz)
    with ladder.w.store.sessions.begin() as s:
        row = s.scalar(select(OutboxAction).where(OutboxAction.kind == "plan_confirmation"))
        assert row is not None and row.status == "done"
        row.handed_at = handed

    _follow(ladder, handed + timedelta(hours=12))  # instalment 1's due day, still quiet
    assert _reminders(ladder, plan_id) == []
    _follow(ladder, handed + timedelta(hours=24, minutes=30))  # the day after it was due
    assert [(r.payload["instalment"], r.payload["reminder"]) for r in _reminders(ladder, plan_id)
            ] == [(2, "before")]  # fmt: skip

    # Instalment 1's "missed" is queued three days after its due date...
    _follow(ladder, datetime.combine(told + timedelta(days=4), time(9), tz))
    missed = [r for r in _reminders(ladder, plan_id) if r.payload["reminder"] == "missed"]
    assert [r.payload["instalment"] for r in missed] == [1]
    # ...and the customer pays it before the cycle that would send it, still in time.
    ladder.advance_days(5)
    ladder.pay(invoice.provider_id, Decimal(plan["instalments"][0]["amount"]))
    ladder.cli("run-once", ok=False)
    (row,) = [r for r in _reminders(ladder, plan_id) if r.payload["reminder"] == "missed"]
    assert row.status == "skipped", (row.status, row.last_error)
    assert not [m for m in ladder.w.inbox.messages
                if str(m.message["Subject"]).startswith("Not yet received")]  # fmt: skip
    # Instalment 2's "coming up", queued before its due day, is not sent after it either.
    (before,) = [r for r in _reminders(ladder, plan_id) if r.payload["reminder"] == "before"]
    assert before.status == "skipped", (before.status, before.last_error)
    assert _plan_status(ladder, plan_id) == "active"


def test_the_next_days_cycle_at_the_same_hour_is_past_the_quiet_period(
    ladder: LadderWorld,
) -> None:
    """The default schedule runs daily at 09:00: a confirmation handed over seconds into one
    cycle is followed by the next day's cycle a few seconds less than 24 hours later. That
    cycle is past the quiet period, so an instalment due that day gets its "due today"
    (a full-day quiet period lost it: "due today" is never sent late)."""
    tz = ZoneInfo(ladder.w.config.settings.org(ladder.org).timezone)
    told = ladder.today()
    customer, (invoice,) = ladder.debtor()
    plan = ladder.cli_json(
        "payment-plan", "create", "--org", ladder.org, "--customer", customer.provider_id,
        "--invoice", invoice.provider_id, "--instalments", "2", "--every", "week",
        "--first", days_from(told, 1), "--by", "alice",
    )  # fmt: skip
    plan_id = int(plan["id"])
    ladder.cli("review", "approve", "--kind", "plan_confirmation", "--by", "alice")
    ladder.cli("run-once", ok=False)
    handed = datetime.combine(told, time(9, 0, 5), tz)
    with ladder.w.store.sessions.begin() as s:
        row = s.scalar(select(OutboxAction).where(OutboxAction.kind == "plan_confirmation"))
        assert row is not None and row.status == "done"
        row.handed_at = handed

    _follow(ladder, datetime.combine(told + timedelta(days=1), time(9), tz))
    assert [(r.payload["instalment"], r.payload["reminder"]) for r in _reminders(ladder, plan_id)
            ] == [(1, "due")]  # fmt: skip
