"""A seeded QuickBooks sandbox with a few weeks of syncd's own history: backfilled, then one
real cycle a day (sync, plan, execute against the sandbox and a real SMTP server) while
some reminded customers pay in full, some in part, and some not at all."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from syncd.daemon.runner import run_org_once
from syncd.store.models import OutboxAction
from tests.contract.conftest import FULL_LADDER, World, make_world
from tests.support.smtp import smtp_server


def email_block(port: int) -> str:
    return (
        f'[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        'from_address = "Acme Accounts <accounts@acme.test>"\n'
    )


def _reminders(world: World) -> Counter[str]:
    """How many reminder emails each invoice has had so far."""
    with world.store.sessions() as s:
        rows = s.scalars(
            select(OutboxAction).where(OutboxAction.status == "done", OutboxAction.kind == "email")
        )
        return Counter(
            str(i["provider_id"]) for r in rows for i in (r.payload.get("invoices") or [])
        )


def customer_answer(invoice_id: str) -> str:
    """A fixed, arbitrary answer per invoice: pay in full after the first reminder, after
    the second, pay a part after the first, or ignore them."""
    answers = ("first", "second", "part", "ignore", "ignore")
    return answers[zlib.crc32(invoice_id.encode()) % len(answers)]


@contextmanager
def seeded_history(tmp_path: Path, store_url: str, days: int = 45) -> Iterator[World]:
    with smtp_server() as (_inbox, port):
        for world in make_world(
            tmp_path,
            store_url,
            "quickbooks",
            "kind",
            invoices=120,
            seed=11,
            extra_config=email_block(port),
            org_keys=FULL_LADDER,
        ):
            world.syncer().backfill()
            answered: set[str] = set()
            seen: list[Counter[str]] = []
            for day in range(days):
                run = run_org_once(
                    world.store,
                    world.config,
                    world.org,
                    world.clock,
                    executor_hook=lambda ex, w=world: w.adapter.pace(ex.connector, w.pace),
                )
                assert run.error is None, run.error
                seen.append(_reminders(world))
                # Customers answer two days after a reminder.
                for invoice_id, n in sorted(seen[day - 2].items() if day >= 2 else ()):
                    answer = customer_answer(invoice_id)
                    if invoice_id in answered or answer == "ignore":
                        continue
                    if answer == "second" and n < 2:
                        continue
                    answered.add(invoice_id)
                    world.adapter.pay(invoice_id, "10.00" if answer == "part" else None)
                world.adapter.advance(86400)
            world.syncer().sync()
            yield world
