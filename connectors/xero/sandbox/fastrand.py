"""A ``random.Random`` whose hot integer draws skip the library's layers, same numbers.

Seeding 100,000 invoices makes about two million ``randint``/``choice`` calls; in CPython each
goes ``randint -> randrange -> _randbelow -> getrandbits`` with argument checks at every
step, and that chain was a third of the seed's CPU.  The overrides below inline the
algorithm CPython has used since 3.2 for a ``Random`` with ``getrandbits`` (draw
``n.bit_length()`` bits, redraw while ``>= n``), so every seeded organisation stays exactly
what it was: the same generator state is consumed in the same order.  Anything unusual
(empty ranges, steps, non-int bounds) goes to the library.  ``tests/sandbox_xero`` checks the
equivalence against ``random.Random`` so a future CPython change cannot slip past.

The seeded UUIDs are formatted here too (``uuid.UUID`` validates and builds an object per id),
and :func:`no_cyclic_gc` keeps the cyclic collector out of the seed's way.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")

# uuid.UUID(int=..., version=4): clear the variant and version bits, then set them.
_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_SET = (0x8000 << 48) | (4 << 76)


class FastRandom(random.Random):
    """Deterministic test data, not secrets: a seeded PRNG is the point."""

    def randint(self, a: int, b: int) -> int:
        n = b - a + 1
        if n <= 0 or type(a) is not int or type(b) is not int:
            return super().randint(a, b)
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return a + r

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start  # randrange(n): CPython draws _randbelow(n), the same bits
        if step != 1 or type(start) is not int or type(stop) is not int:
            return super().randrange(start, stop, step)
        n = stop - start
        if n <= 0:
            return super().randrange(start, stop, step)
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return start + r

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        n = len(seq)
        if not n:
            raise IndexError("Cannot choose from an empty sequence")
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return seq[r]

    def uuid4(self) -> str:
        """``str(uuid.UUID(int=self.getrandbits(128), version=4))``, without the object."""
        h = "%032x" % ((self.getrandbits(128) & _CLEAR) | _SET)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Seeding allocates millions of objects and frees almost none, so the cyclic collector
    kept rescanning a growing heap for nothing (a fifth of the seed's CPU at 100,000
    invoices).  Reference counting still frees everything; the collector resumes after.

    On the way out everything allocated meanwhile goes straight to the oldest generation
    (``freeze`` then ``unfreeze``, no scan): left in the youngest, the first allocation after
    ``enable`` would make the collector walk all of it (about a second at 100,000 invoices)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
