"""``random.Random``'s draws as the seed makes them, without the layers around them.

The planner makes some two million draws for 100,000 invoices. ``randrange`` and ``choice``
each cost two Python frames and argument checks around one ``getrandbits`` call, a tenth of
the seeding time. :func:`below` is ``Random._randbelow`` itself (the ``getrandbits`` variant,
which ``random.Random`` uses): the same calls to ``getrandbits`` with the same widths, so
every draw, and therefore every seeded company, is the one the library calls gave.

``tests/sandbox_quickbooks/test_qbsandbox_seed_draws.py`` checks each equivalence.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import TypeVar

T = TypeVar("T")
Bits = Callable[[int], int]


def bits_of(rng: random.Random) -> Bits:
    """The generator's ``getrandbits``; refused for a subclass that may draw otherwise."""
    if type(rng) is not random.Random:
        raise TypeError("the seed's draws replicate random.Random exactly, not subclasses")
    return rng.getrandbits


def below(bits: Bits, n: int) -> int:
    """``rng.randrange(n)`` (``rng._randbelow(n)``): a uniform int in ``[0, n)``, ``n > 0``."""
    k = n.bit_length()
    r = bits(k)
    while r >= n:
        r = bits(k)
    return r


def choice(bits: Bits, seq: Sequence[T]) -> T:
    """``rng.choice(seq)`` for a non-empty ``seq``."""
    return seq[below(bits, len(seq))]


def sample_small(bits: Bits, population: Sequence[T], k: int) -> list[T]:
    """``rng.sample(population, k)`` where the library takes its pool path (``len`` <= 21)."""
    n = len(population)
    if not 0 <= k <= n <= 21:
        raise ValueError("sample_small covers the pool path only")
    pool = list(population)
    result: list[T] = []
    for i in range(k):
        j = below(bits, n - i)
        result.append(pool[j])
        pool[j] = pool[n - i - 1]
    return result


class Weighted:
    """``rng.choices(values, weights=weights, k=1)[0]``, with the weights summed once."""

    def __init__(self, pairs: Sequence[tuple[str, int]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1] + 0.0
        self.hi = len(self.values) - 1

    def draw(self, rng: random.Random) -> str:
        return self.values[bisect_right(self.cumulative, rng.random() * self.total, 0, self.hi)]
