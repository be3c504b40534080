"""Checks of a loaded config that concern what a run will do, not the file's shape.

``load_config`` accepts a config without ``[email]`` because syncing and planning need none;
sending does. ``syncd config check``, ``run-once`` and ``run`` call :func:`check_runtime`
before anything runs, so a policy that sends email never meets a missing SMTP section at
execution time (it used to try localhost:587 quietly).
"""

from __future__ import annotations

from policies.schema import EmailAction

from .errors import ConfigError
from .loader import LoadedConfig


def policies_sending_email(config: LoadedConfig) -> list[tuple[str, str]]:
    """(org, policy) pairs whose schedule has an email step."""
    found: list[tuple[str, str]] = []
    for org in config.settings.orgs:
        settings = config.dunning.get(org.name)
        used = {org.policy} | {r.policy for r in (settings.rules if settings else []) if r.policy}
        for name in sorted(used):
            policy = config.policies.get(name)
            if policy is None:
                continue
            if any(isinstance(a, EmailAction) for step in policy.steps for a in step.actions):
                found.append((org.name, name))
    return found


def check_runtime(config: LoadedConfig) -> None:
    """Raise the first :class:`ConfigError` a run would meet."""
    sending = policies_sending_email(config)
    if sending and "email" not in config.settings.model_fields_set:
        org, policy = sending[0]
        raise ConfigError(
            config.path,
            "email",
            f"section [email] is missing, but policy {policy!r} of org {org!r} sends reminder "
            "emails: add [email] with host, port, security and from_address",
        )
