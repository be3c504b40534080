"""Each record's JSON text, rendered once and kept until the organisation changes.

Serving a 1,000-row page used to rebuild 1,000 dicts (Decimals to JSON numbers, dates to
``/Date(ms)/``) and encode them on every request: more CPU than the client spends reading
the page.  A record's text depends on more than the record (an invoice embeds its
contact's name, its payments and credit allocations; a contact its balances, which depend
on every invoice of the contact and on today's date), and records are changed in place from
many places.  So a text is not invalidated record by record, which would trust every writer
to name everything its write reaches: every write request (any API method but GET, any
control API method but GET) starts a new generation, and a text is served only within the
generation it was rendered in.  Reads between writes (a backfill, a reader paging back and
forth, repeated incremental polls) reuse the texts; the first read after a write renders
afresh, exactly as before.  Texts that depend on the date carry it in their key.  At most
``MAX_TEXTS`` texts are kept (the oldest go first), so memory stays bounded at 100,000
invoices.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from .errors import record_dumps

T = TypeVar("T")

#: Texts kept at most (oldest dropped first): a reader paging through 100,000 invoices once
#: gains nothing from keeping them all (about 1.7 KB each), one re-reading recent pages does.
MAX_TEXTS = 30_000


class RenderCache:
    """Texts by key, valid for one write generation."""

    def __init__(self, max_texts: int = MAX_TEXTS) -> None:
        self.max_texts = max_texts
        self._lock = threading.Lock()
        self._generation = 0
        self._texts: dict[Hashable, tuple[int, bytes]] = {}
        self._values: dict[Hashable, tuple[int, Any]] = {}

    @property
    def generation(self) -> int:
        """Read before rendering: a text rendered from state older than a write is never kept."""
        return self._generation

    def written(self) -> None:
        """A write request finished (or failed part-way): everything rendered before is void."""
        with self._lock:
            self._generation += 1
            self._texts.clear()
            self._values.clear()

    def text(self, generation: int, key: Hashable, render: Callable[[], Any]) -> bytes:
        """``render()``'s JSON text (or its bytes, if it writes them itself), reused while no
        write happened since ``generation``."""
        return self.texts(generation, [(key, render)], _called)[0]

    def texts(
        self,
        generation: int,
        keyed: Iterable[tuple[Hashable, T]],
        render: Callable[[T], Any],
    ) -> list[bytes]:
        """:meth:`text` for a page's records, ``(key, record)`` in order: the texts not kept
        are rendered by ``render(record)`` and kept under one lock, not one per record."""
        kept = self._texts
        out: list[bytes] = []
        fresh: list[tuple[Hashable, bytes]] = []
        for key, item in keyed:
            hit = kept.get(key)
            if hit is not None and hit[0] == generation:
                out.append(hit[1])
                continue
            value = render(item)
            data = value if value.__class__ is bytes else record_dumps(value)
            out.append(data)
            fresh.append((key, data))
        if fresh:
            with self._lock:
                if generation == self._generation:
                    for key, data in fresh:
                        kept[key] = (generation, data)
                    excess = len(kept) - self.max_texts
                    if excess > 0:  # the oldest kept go first
                        for key in list(itertools.islice(kept, excess)):
                            del kept[key]
        return out

    def value(self, generation: int, key: Hashable, compute: Callable[[], T]) -> T:
        """A derived value (contact balances) reused like a text."""
        hit = self._values.get(key)
        if hit is not None and hit[0] == generation:
            result: T = hit[1]
            return result
        result = compute()
        with self._lock:
            if generation == self._generation:
                self._values[key] = (generation, result)
        return result


def _called(render: Callable[[], Any]) -> Any:
    return render()
