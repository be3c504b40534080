"""A backfill spaces out young-generation collections while it runs, and only while it runs."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from syncd.sync import _CollectionSpacing


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        yield gc.get_threshold()
    finally:
        gc.set_threshold(*before)


def test_spacing_lasts_as_long_as_the_backfill(thresholds: tuple[int, int, int]) -> None:
    spacing = _CollectionSpacing()
    with spacing():
        assert gc.get_threshold() == (50_000, 10, 100)
    assert gc.get_threshold() == thresholds


def test_an_error_still_restores_the_thresholds(thresholds: tuple[int, int, int]) -> None:
    spacing = _CollectionSpacing()
    with pytest.raises(RuntimeError), spacing():
        raise RuntimeError("provider went away")
    assert gc.get_threshold() == thresholds


def test_overlapping_backfills_restore_only_when_the_last_one_ends(
    thresholds: tuple[int, int, int],
) -> None:
    """Two orgs' backfills in two daemon threads, the first finishing before the second."""
    spacing = _CollectionSpacing()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def first() -> None:
        with spacing():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with spacing():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.get_threshold())  # the first has ended; this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [(50_000, 10, 100)]
    assert gc.get_threshold() == thresholds
