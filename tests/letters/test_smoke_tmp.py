from tests.letters.conftest import (
    LetterWorld,
    letter_world,  # noqa
)


def test_smoke(letter_world: LetterWorld) -> None:
    w = letter_world
    w.cli("run-once")
    w.bench.sandbox.control.advance_clock(days=14)
    w.cli("run-once")
    w.cli("run-once")
    from pypdf import PdfReader
    from sqlalchemy import select

    from syncd.store.ladder import Letter
    from syncd.store.models import OutboxAction

    with w.bench.store.sessions() as s:
        for a in s.scalars(select(OutboxAction)):
            print(
                a.id,
                a.kind,
                a.customer_provider_id,
                a.status,
                a.review_reason,
                a.last_error,
                a.payload.get("template"),
                a.result,
            )
        for l in s.scalars(select(Letter)):
            print(l.id, l.template, l.path, l.total, l.statement)
            print("\n".join(p.extract_text() for p in PdfReader(l.path).pages))
    print(len(w.inbox.messages), [m.message["Subject"] for m in w.inbox.messages])
    assert 0
