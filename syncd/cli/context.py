"""Shared state of one CLI invocation: where the config is and how to open the store.

Commands load config and open the store through here so that every command reports config
errors the same way (one line, exit status 2) and upgrades the schema before touching data.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from syncd.clock import Clock, SystemClock

if TYPE_CHECKING:  # imported where used: ``syncd --help`` and ``syncd sandbox`` need neither
    from syncd.config import ConfigError
    from syncd.config.loader import LoadedConfig
    from syncd.store import Store
    from syncd.store.engine import StoreError

EXIT_CONFIG = 2


@dataclass
class CliState:
    config_path: Path | None = None
    clock: Clock = field(default_factory=SystemClock)
    _config: LoadedConfig | None = None

    def config(self) -> LoadedConfig:
        from syncd.config import ConfigError, load_config

        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                fail_config(exc)
            _register_secrets(self._config)
        return self._config

    @contextmanager
    def store(self) -> Iterator[Store]:
        from syncd.store import open_store
        from syncd.store.engine import StoreError

        try:
            store = open_store(self.config().store_url)
        except StoreError as exc:
            fail_store(exc)
        try:
            yield store
        finally:
            store.close()


def _register_secrets(config: LoadedConfig) -> None:
    from syncd.logs import register_secret

    settings = config.settings
    if settings.email.password:
        register_secret(settings.email.password.get_secret_value())
    if settings.store.secret_key:
        register_secret(settings.store.secret_key.get_secret_value())
    for conn in config.connectors.values():
        for value in conn.credentials.model_dump().values():
            if hasattr(value, "get_secret_value"):
                register_secret(value.get_secret_value())


def fail_config(exc: ConfigError) -> NoReturn:
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"syncd: config error: {exc}", markup=False)
    raise typer.Exit(EXIT_CONFIG)


def fail_store(exc: StoreError) -> NoReturn:
    """One line, no traceback; status 2 for wrong settings, 1 for a database outage."""
    from rich.console import Console

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"syncd: store error: {exc}", markup=False)
    raise typer.Exit(exc.exit_code)


def state_of(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):  # pragma: no cover - the root callback always sets it
        raise RuntimeError("CLI state missing")
    return obj


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()
