from tests.letters.conftest import LetterWorld
from tests.letters.conftest import letter_world  # noqa

def test_smoke(letter_world: LetterWorld) -> None:
    w = letter_world
    w.cli("run-once")
    w.bench.sandbox.control.advance_clock(days=14)
    w.cli("run-once")
    w.cli("run-once")
    import json
    wr = w.bench.sandbox.control.writes()
    print(type(wr), list(wr)[:5] if isinstance(wr, dict) else wr[:2])
    print("NOTES", wr["notes"])
    print(w.cli("preview", "7").output[:1500])
    assert 0
