"""Django for the console script: the project's settings when DJANGO_SETTINGS_MODULE names
them (or --settings does), else the framework's own, configured here.

The framework's settings are strangler.conf's DEFAULTS, each overridable by an environment
variable of the setting's name (STRANGLER_INTERNAL_TOKEN, STRANGLER_HANDOVER_TIMEOUT_SECONDS,
STRANGLER_FLIP_HOOKS as comma-separated dotted paths, ...). Without a project there is no
URLconf: `strangle routes` needs the project's settings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from strangler.conf import DEFAULTS
from strangler.errors import StranglerError


def configure(
    *, settings_module: str | None = None, pythonpath: str | None = None, env=None
) -> bool:
    """Set Django up once; True when it runs on the framework's settings alone."""
    env = os.environ if env is None else env
    if pythonpath:
        sys.path.insert(0, pythonpath)
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
    if settings.configured:
        return False
    module = env.get("DJANGO_SETTINGS_MODULE")
    if not module:
        settings.configure(**framework_settings(env))
        django.setup()
        return True
    try:
        django.setup()
    except ImportError as error:
        raise StranglerError(
            f"cannot import the settings {module!r} (DJANGO_SETTINGS_MODULE): {error}; "
            "is its folder on the Python path (--pythonpath)?"
        ) from error
    except ImproperlyConfigured as error:
        raise StranglerError(f"the settings {module!r} are not usable: {error}") from error
    return False


def framework_settings(env: Mapping[str, str]) -> dict:
    """The Django settings the framework runs on without a project."""
    values = {"INSTALLED_APPS": ["strangler"], "USE_TZ": True}
    for name, default in DEFAULTS.items():
        raw = env.get(f"STRANGLER_{name}")
        if raw is None:
            continue
        values[f"STRANGLER_{name}"] = _typed(f"STRANGLER_{name}", raw, default)
    return values


def _typed(name: str, raw: str, default):
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if isinstance(default, str):
        return raw
    try:
        return type(default)(raw)
    except ValueError:
        raise StranglerError(f"{name}={raw!r}: not a {type(default).__name__}") from None
