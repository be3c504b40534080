"""Copying stored payloads: a JSON tree copier that is several times faster than deepcopy.

Payloads are plain JSON trees (dicts, lists and immutable leaves: str, int, float, bool, None,
Decimal), so a copy only has to rebuild the containers. ``copy.deepcopy`` also keeps a memo of
every object it visited to preserve shared references, which a JSON tree never relies on; it
was a tenth of the seeding time. Anything that is not a JSON container or leaf still goes
through ``deepcopy``, so the result is always an independent copy.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

_LEAVES = (str, int, float, bool, Decimal, type(None))
#: The same types as a set: a leaf inside a container is kept without a call per leaf (most of
#: a payload's values are leaves; the calls were most of a copy's cost while seeding).
_LEAF_TYPES = frozenset(_LEAVES)


def copy_json(value: Any) -> Any:
    """An independent copy of a JSON tree (containers rebuilt, immutable leaves shared)."""
    kind = type(value)
    if kind is dict:
        return {
            key: item if type(item) in _LEAF_TYPES else copy_json(item)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _LEAF_TYPES else copy_json(item) for item in value]
    if kind in _LEAVES:
        return value
    return copy.deepcopy(value)
