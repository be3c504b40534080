"""Reading a config file: TOML, ``${VAR}`` substitution, schema validation, plugin validation.

Validation happens in layers so that each error can name its key path: the core schema first,
then each org's ``credentials`` and ``options`` against its connector's own models, then the
policies against the policy engine's schema.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import make_url

from policies import (
    PolicyConfig,
    PolicyConfigError,
    PolicySettings,
    available_policies,
    cross_check,
    resolve_policies,
    validate_settings,
)
from syncd.registry import UnknownConnectorError, get_factory

from .errors import ConfigError, from_validation_error, key_path
from .models import Settings

ENV_VAR = "SYNCD_CONFIG"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$")


def default_config_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or "syncd.toml")


@dataclass(frozen=True)
class OrgConnectorSettings:
    credentials: BaseModel
    options: BaseModel


@dataclass(frozen=True)
class LoadedConfig:
    path: Path
    settings: Settings
    connectors: dict[str, OrgConnectorSettings] = field(default_factory=dict)
    #: Every policy an org may name: built-in presets overridden by ``[policies.NAME]``.
    policies: dict[str, PolicyConfig] = field(default_factory=dict)
    #: Each org's rules, calendar and rate tables.
    dunning: dict[str, PolicySettings] = field(default_factory=dict)

    @property
    def store_url(self) -> str:
        return self.settings.store.url


def substitute_env(
    value: Any, env: Mapping[str, str], file: Path, loc: tuple[str | int, ...] = ()
) -> Any:
    """Replace ``${VAR}`` (or ``${VAR:-default}``) in every string; ``$$`` is a literal ``$``."""
    if isinstance(value, dict):
        return {k: substitute_env(v, env, file, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, env, file, (*loc, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(file, key_path(loc), f"environment variable {name} is not set")

    return _PLACEHOLDER.sub(repl, value)


def _resolve_store_url(url: str, base: Path) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    if parsed.database == ":memory:" or Path(parsed.database).is_absolute():
        return url
    return parsed.set(database=str((base / parsed.database).resolve())).render_as_string(
        hide_password=False
    )


def _validate_connectors(file: Path, settings: Settings) -> dict[str, OrgConnectorSettings]:
    out: dict[str, OrgConnectorSettings] = {}
    for i, org in enumerate(settings.orgs):
        try:
            factory = get_factory(org.connector)
        except UnknownConnectorError as exc:
            raise ConfigError(file, f"orgs[{i}].connector", str(exc)) from None
        parts: dict[str, BaseModel] = {}
        for section, model in (
            ("credentials", factory.credentials_model),
            ("options", factory.options_model),
        ):
            try:
                parts[section] = model.model_validate(getattr(org, section))
            except ValidationError as exc:
                raise from_validation_error(file, exc, ("orgs", i, section)) from None
        out[org.name] = OrgConnectorSettings(parts["credentials"], parts["options"])
    return out


def _policy_error(file: Path, exc: PolicyConfigError) -> ConfigError:
    first, *rest = exc.issues
    message = first.message
    if rest:
        message += f" (and {len(rest)} more error{'s' if len(rest) > 1 else ''})"
    return ConfigError(file, first.path, message)


def _validate_policies(
    file: Path, settings: Settings
) -> tuple[dict[str, PolicyConfig], dict[str, PolicySettings]]:
    try:
        available = available_policies(resolve_policies(settings.policies))
        validate_settings(settings.dunning, root="dunning")
    except PolicyConfigError as exc:
        raise _policy_error(file, exc) from None
    per_org: dict[str, PolicySettings] = {}
    for i, org in enumerate(settings.orgs):
        if org.policy not in available:
            known = ", ".join(sorted(available))
            raise ConfigError(
                file, f"orgs[{i}].policy", f"no policy named {org.policy!r} (known: {known})"
            )
        merged = {**settings.dunning, **org.dunning}
        root = f"orgs[{i}].dunning"
        try:
            org_settings = validate_settings(merged, root=root)
        except PolicyConfigError as exc:
            raise _policy_error(file, exc) from None
        # Only the policies this org can reach must be complete (rate tables for interest).
        used = {org.policy} | {r.policy for r in org_settings.rules if r.policy}
        used |= {r.experiment.policy for r in org_settings.rules if r.experiment}
        issues = cross_check(
            org_settings, {n: available[n] for n in used if n in available}, root=root
        )
        if issues:
            raise _policy_error(file, PolicyConfigError(issues))
        per_org[org.name] = org_settings
    return available, per_org


def load_config(
    path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> LoadedConfig:
    file = Path(path) if path is not None else default_config_path()
    env = os.environ if env is None else env
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            file,
            "(file)",
            f"expected UTF-8 TOML text, found byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start} (a binary or differently encoded file?)",
        ) from None
    except FileNotFoundError:
        raise ConfigError(
            file, "(file)", "no such file; pass --config FILE or set SYNCD_CONFIG"
        ) from None
    except OSError as exc:
        raise ConfigError(file, "(file)", f"cannot read: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "(syntax)", f"invalid TOML: {exc}") from None
    raw = substitute_env(raw, env, file)
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(file, exc) from None
    store = settings.store.model_copy(
        update={"url": _resolve_store_url(settings.store.url, file.parent.resolve())}
    )
    settings = settings.model_copy(update={"store": store})
    connectors = _validate_connectors(file, settings)
    policies, dunning = _validate_policies(file, settings)
    return LoadedConfig(
        path=file, settings=settings, connectors=connectors, policies=policies, dunning=dunning
    )
