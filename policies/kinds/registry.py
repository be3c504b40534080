"""The action-kind registry: every module of the ``policies.kinds`` package registers
its :class:`~policies.kinds.base.KindSpec` when imported; :func:`load` imports them all.
"""

from __future__ import annotations

import importlib
import pkgutil

from policies.kinds.base import ActionConfig, KindSpec

_KINDS: dict[str, KindSpec] = {}
_INFRA = frozenset({"base", "registry"})
_loaded = False
#: ``kinds()`` in planning order and those with a ``plan_source``, for the registry's
#: contents as they were when sorted: the engine asks once per invoice, and sorting a dozen
#: kinds each time cost more than planning a not-yet-due invoice.
_sorted_for: tuple[KindSpec, ...] = ()
_ordered: tuple[KindSpec, ...] = ()
_sources: tuple[KindSpec, ...] = ()


def register(spec: KindSpec) -> KindSpec:
    """Add a kind; a second kind of the same name is a programming error."""
    old = _KINDS.get(spec.name)
    if old is not None and old != spec:
        raise ValueError(f"action kind {spec.name!r} is registered twice")
    _KINDS[spec.name] = spec
    return spec


def load() -> None:
    """Import every kind module of the package (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import policies.kinds as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name not in _INFRA and not info.name.startswith("_"):
            importlib.import_module(f"policies.kinds.{info.name}")


def kind(name: str) -> KindSpec:
    load()
    try:
        return _KINDS[str(name)]
    except KeyError:
        raise KeyError(f"unknown action kind {name!r}") from None


def kinds() -> tuple[KindSpec, ...]:
    """Every registered kind, in planning order."""
    _refresh()
    return _ordered


def source_kinds() -> tuple[KindSpec, ...]:
    """The kinds with a ``plan_source``, in planning order (most kinds have none)."""
    _refresh()
    return _sources


def _refresh() -> None:
    """Re-sort when the registry changed (``register``, or a test patching ``_KINDS``)."""
    global _sorted_for, _ordered, _sources
    load()
    current = tuple(_KINDS.values())
    if current != _sorted_for:
        _ordered = tuple(sorted(current, key=lambda s: (s.order, s.name)))
        _sources = tuple(s for s in _ordered if s.plan_source is not None)
        _sorted_for = current


def step_models() -> tuple[type[ActionConfig], ...]:
    """The config models of the kinds that may appear in a policy step."""
    return tuple(s.config for s in kinds() if s.config is not None)
