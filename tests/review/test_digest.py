"""The daily review digest: at most one a day per org, none before the configured hour or
when nothing awaits review, and the daemon schedules it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncd.clock import FixedClock
from syncd.config import load_config
from syncd.connections import org_id_for
from syncd.daemon.service import Service
from syncd.review.digest import send_digest_if_due
from tests.review.conftest import World, make_world
from tests.support.smtp import smtp_server


@pytest.fixture
def qbo(tmp_path: Path, store_url: str) -> Iterator[World]:
    with smtp_server() as (inbox, port):
        for world in make_world("quickbooks", tmp_path, store_url, port, inbox):
            path = world.config.path
            text = path.read_text(encoding="utf-8")
            path.write_text(
                text.replace(
                    'bcc = "ar@acme.test"\n',
                    'bcc = "ar@acme.test"\ndigest_to = "owner@acme.test"\n',
                ),
                encoding="utf-8",
            )
            world.config = load_config(path)
            yield world


def test_digest_is_sent_once_a_day_and_only_when_something_waits(qbo: World) -> None:
    org_id = org_id_for(qbo.store, qbo.config, "qbo", qbo.bench.clock)
    # The org's timezone is America/Los_Angeles; the default digest hour is 10:00 local.
    morning = FixedClock(datetime(2026, 11, 3, 17, 30, tzinfo=UTC))  # 09:30 local
    late = FixedClock(datetime(2026, 11, 3, 19, 0, tzinfo=UTC))  # 11:00 local

    assert not send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, late)  # nothing waits
    qbo.cli("run-once")
    waiting = len(qbo.review_json())
    assert waiting > 0
    assert not send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, morning)
    assert qbo.inbox.messages == []

    assert send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, late)
    assert not send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, late)
    later = FixedClock(late.now() + timedelta(hours=10))  # 21:00 local, same day
    assert not send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, later)
    assert len(qbo.inbox.messages) == 1
    received = qbo.inbox.messages[0]
    assert received.rcpt_tos == ["owner@acme.test"]
    assert f"{waiting} action(s) await review" in str(received.message["Subject"])
    text = received.message.get_payload(decode=True)
    assert isinstance(text, bytes) and b"syncd review approve" in text

    next_day = FixedClock(late.now() + timedelta(days=1))
    assert send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, next_day)
    assert len(qbo.inbox.messages) == 2

    qbo.cli("review", "skip", "--all", "--reason", "not now")
    two_days = FixedClock(late.now() + timedelta(days=2))
    assert not send_digest_if_due(qbo.store, qbo.config, "qbo", org_id, two_days)
    assert len(qbo.inbox.messages) == 2


def test_the_daemons_digest_job_sends_once(qbo: World) -> None:
    qbo.cli("run-once")
    service = Service(qbo.store, qbo.config, FixedClock(datetime(2026, 11, 3, 19, tzinfo=UTC)))
    service.schedule()
    job = service.scheduler.get_job("qbo:digest")
    assert job is not None
    for _ in range(3):  # what the scheduler does every ten minutes
        job.func(*job.args)
    assert [m.rcpt_tos for m in qbo.inbox.messages] == [["owner@acme.test"]]
