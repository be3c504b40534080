"""Concurrent stream reads feed one writer: order per stream, bounded look-ahead, failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from syncd.prefetch import interleave


def _counted(name: str, n: int, produced: list[str]) -> Iterator[str]:
    for i in range(n):
        produced.append(f"{name}{i}")
        yield f"{name}{i}"


def test_every_item_arrives_once_in_its_source_order_then_its_end() -> None:
    produced: list[str] = []
    got = list(
        interleave({"a": _counted("a", 50, produced), "b": _counted("b", 7, produced)}, depth=2)
    )
    for name, n in (("a", 50), ("b", 7)):
        mine = [item for source, item in got if source == name]
        assert mine == [f"{name}{i}" for i in range(n)] + [None]


def test_readers_stay_at_most_depth_items_ahead_of_the_writer() -> None:
    produced: list[str] = []
    stream = interleave({"a": _counted("a", 100, produced)}, depth=2)
    for consumed, (_source, item) in enumerate(stream, start=1):
        if item is None:
            break
        threading.Event().wait(0.01)  # let the reader run ahead as far as it may
        # Taken: `consumed`; queued: at most depth; one more in the reader's hands.
        assert len(produced) <= consumed + 3


def test_a_failing_stream_stops_the_others_and_is_raised() -> None:
    produced: list[str] = []

    def endless() -> Iterator[str]:
        i = 0
        while True:
            produced.append(f"e{i}")
            yield f"e{i}"
            i += 1

    def failing() -> Iterator[str]:
        yield "f0"
        raise RuntimeError("provider said no")

    with pytest.raises(RuntimeError, match="provider said no"):
        for _source, _item in interleave({"e": endless(), "f": failing()}, depth=2):
            pass
    before = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) <= before + 1, "the other reader stopped"


def test_a_writer_failure_stops_the_readers() -> None:
    produced: list[str] = []
    with pytest.raises(KeyError):
        for _source, _item in interleave({"a": _counted("a", 10_000, produced)}, depth=2):
            raise KeyError("store is down")
    before = len(produced)
    threading.Event().wait(0.3)
    assert len(produced) <= before + 1 and len(produced) < 10_000
