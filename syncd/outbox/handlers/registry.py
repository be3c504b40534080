"""The executor's side of the action-kind registry: every module of the
``syncd.outbox.handlers`` package registers its handler(s) when imported."""

from __future__ import annotations

import importlib
import pkgutil

from .base import Handler

_HANDLERS: dict[str, Handler] = {}
_INFRA = frozenset({"base", "registry"})
_loaded = False


def register(handler: Handler) -> Handler:
    old = _HANDLERS.get(handler.kind)
    if old is not None and type(old) is not type(handler):
        raise ValueError(f"a handler for action kind {handler.kind!r} is registered twice")
    _HANDLERS[handler.kind] = handler
    return handler


def load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from .. import handlers as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name not in _INFRA and not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def handler(kind: str) -> Handler | None:
    load()
    return _HANDLERS.get(str(kind))


def kinds() -> frozenset[str]:
    load()
    return frozenset(_HANDLERS)
