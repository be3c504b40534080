"""A record table (id -> record) that counts changes to which records it holds.

The default list order (:mod:`.ordercache`) is valid while the same record objects are listed
and none of their ``UpdatedDateUTC`` stamps moved. Checking that by comparing 100,000 records
one by one on every page cost more CPU than the client spends reading the page. Records are
added from many places (seeding, the API, the control API, tests), so rather than trusting
each to say so, the table counts every call that can change its membership: the cache then
compares one number. The count only ever grows; a table replaced wholesale is a new object.
"""

from __future__ import annotations

from typing import Any, TypeVar

V = TypeVar("V")


class Records(dict[str, V]):
    """A ``dict`` whose ``changes`` grows on every call that may add, replace or drop an entry."""

    changes: int = 0

    def __setitem__(self, key: str, value: V) -> None:
        self.changes += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self.changes += 1
        dict.__delitem__(self, key)

    def pop(self, *args: Any) -> Any:
        self.changes += 1
        return dict.pop(self, *args)

    def popitem(self) -> tuple[str, V]:
        self.changes += 1
        return dict.popitem(self)

    def clear(self) -> None:
        self.changes += 1
        dict.clear(self)

    def update(self, *args: Any, **kwargs: V) -> None:
        self.changes += 1
        dict.update(self, *args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.changes += 1
        return dict.setdefault(self, key, default)

    def __ior__(self, other: Any) -> Records[V]:  # type: ignore[override,misc]
        self.changes += 1
        dict.update(self, other)
        return self
