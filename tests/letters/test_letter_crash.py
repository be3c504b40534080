"""A letter survives the process dying after it was made and after the notes were written:
the next run makes no second letter, writes no second note and sends no second email.

The death is simulated in-process (an exception nothing catches, raised at the handler's
crash points) so the test stays fast; the row is left in flight under the dead run's lease
generation, exactly as after a SIGKILL, and the next run recovers it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import syncd.letters.handler as handler
from syncd.store.ladder import Letter
from syncd.store.models import OutboxAction
from tests.letters.conftest import LetterWorld


class Died(BaseException):
    """Stands for SIGKILL: no ``except Exception`` in syncd stops it."""


@pytest.mark.parametrize("point", ["letters.after_letter", "letters.after_notes"])
def test_a_crash_while_making_letters_repeats_nothing(
    letter_world: LetterWorld, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = letter_world
    w.cli("run-once")
    w.bench.sandbox.control.advance_clock(days=14)

    def die(name: str) -> None:
        if name == point:
            raise Died(name)

    monkeypatch.setattr(handler, "crashpoint", die)
    with pytest.raises(Died):
        w.cli("run-once")
    monkeypatch.undo()
    with w.bench.store.sessions() as s:
        first = list(s.scalars(select(Letter)))
        stuck = list(s.scalars(select(OutboxAction).where(OutboxAction.status == "in_flight")))
    assert len(first) == 1 and [r.kind for r in stuck] == ["escalate"]
    for _ in range(3):
        w.cli("run-once")
    with w.bench.store.sessions() as s:
        made = list(s.scalars(select(Letter).order_by(Letter.id)))
    assert {x.customer_provider_id for x in made} == {w.jane.id, w.works.id}
    assert len(made) == 2 and made[0].path == first[0].path
    notes = [n for n in w.bench.sandbox.control.writes()["notes"] if "Formal letter" in n["after"]]
    assert sorted(n["id"] for n in notes) == sorted(i for x in made for i in x.invoice_ids)
    carried = [m for m in w.inbox.messages if "Formal demand" in str(m.message["Subject"])]
    assert len(carried) == 2
