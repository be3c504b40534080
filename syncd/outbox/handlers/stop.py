"""``stop``: recorded in syncd only; the engine's state already stops dunning."""

from __future__ import annotations

from .base import LocalHandler
from .registry import register


class StopHandler(LocalHandler):
    kind = "stop"


HANDLER = register(StopHandler())
