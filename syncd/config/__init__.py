"""syncd's TOML configuration: schema, loading, and errors that name file, key and expectation."""

from .errors import ConfigError
from .loader import default_config_path, load_config
from .models import DaemonSettings, EmailSettings, OrgSettings, Settings, StoreSettings

__all__ = [
    "ConfigError",
    "DaemonSettings",
    "EmailSettings",
    "OrgSettings",
    "Settings",
    "StoreSettings",
    "default_config_path",
    "load_config",
]
