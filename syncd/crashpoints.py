"""Named points where a crash test may kill the process (SIGKILL: no clean-up at all).

The exactly-once guarantee is only as good as the test that kills syncd between every pair
of steps; these markers are how that test chooses its instants. ``SYNCD_CRASHPOINT`` names
one point and the hit on which to die (``executor.after_provider#3``);
``SYNCD_CRASHPOINT_TRACE`` names a file that records every point passed, so the test can
enumerate them from a clean run. Unset, a crash point costs one comparison.
"""

from __future__ import annotations

import os
import signal

_TARGET = os.environ.get("SYNCD_CRASHPOINT", "")
_NAME, _, _NTH = _TARGET.partition("#")
_TRACE = os.environ.get("SYNCD_CRASHPOINT_TRACE", "")
_HITS: dict[str, int] = {}


def crashpoint(name: str) -> None:
    if not _NAME and not _TRACE:
        return
    if _TRACE:
        with open(_TRACE, "a", encoding="utf-8") as trace:
            trace.write(name + "\n")
    if name != _NAME:
        return
    _HITS[name] = _HITS.get(name, 0) + 1
    if _HITS[name] >= int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGKILL)
