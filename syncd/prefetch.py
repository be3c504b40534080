"""Fetch the next page while the current one is written: a bounded look-ahead thread.

A backfill alternates between waiting on the provider and writing to the store; overlapping
the two hides the shorter. The look-ahead is bounded (``depth`` pages), so memory stays that
of a few pages, and nothing is committed out of order: pages still reach the caller, and the
store, one at a time and in the provider's order. An exception in the producer is raised in
the consumer at the point the failed page would have arrived.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping
from typing import TypeVar, cast

_T = TypeVar("_T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(source: Iterator[_T], depth: int = 2) -> Iterator[_T]:
    """Yield ``source``'s items, producing up to ``depth`` of them ahead in another thread."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not offer(item):
                    return
        except BaseException as exc:
            offer(_Failure(exc))
            return
        offer(_DONE)

    worker = threading.Thread(target=produce, name="page-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield cast(_T, item)
    finally:
        stop.set()
        worker.join(timeout=60)


def interleave(
    sources: Mapping[str, Iterator[_T]], depth: int = 2
) -> Iterator[tuple[str, _T | None]]:
    """Yield ``(name, item)`` from every source as items arrive, each source read by its own
    thread at most ``depth`` items ahead, and ``(name, None)`` once a source is exhausted
    (after all of its items).

    One consumer sees every item, so a single writer commits them in arrival order while the
    providers are read concurrently. Each source's own order is kept. An exception in any
    source stops the others (they notice at their next item) and is raised here.
    """
    arrivals: queue.Queue[tuple[str, object]] = queue.Queue()
    room = {name: threading.Semaphore(depth) for name in sources}
    stop = threading.Event()

    def produce(name: str, source: Iterator[_T]) -> None:
        try:
            for item in source:
                while not room[name].acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                arrivals.put((name, item))
                del item  # not held while the next one is read: it is the writer's now
        except BaseException as exc:
            arrivals.put((name, _Failure(exc)))
            return
        arrivals.put((name, _DONE))

    workers = [
        threading.Thread(target=produce, args=(name, source), name=f"read-{name}", daemon=True)
        for name, source in sources.items()
    ]
    for worker in workers:
        worker.start()
    try:
        running = len(workers)
        while running:
            name, item = arrivals.get()
            if item is _DONE:
                running -= 1
                yield name, None
            elif isinstance(item, _Failure):
                raise item.error
            else:
                room[name].release()
                yield name, cast(_T, item)
                del item  # written by now: not held while the next one is awaited
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
