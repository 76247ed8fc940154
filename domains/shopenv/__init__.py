"""The shop's deployment environment, read alike by the settings of every backend of the shop
(the monolith and each service): which environment it runs in, where its state lives and which
plan it follows. What a backend then asks of the framework is its own (strangler.service.backend).

    SHOP_ENV       development (the default: no configuration needed) or production (secrets
                   required, refused without them)
    SHOP_VAR_DIR   the state folder (SQLite files, broker folders, keys); <repo>/var by default
    STRANGLER_PLAN the migration plan; <repo>/migration-plan/plan.yaml by default
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import environ

ENVIRONMENTS = frozenset({"development", "production"})


@dataclass(frozen=True)
class ShopEnvironment:
    env: environ.Env
    production: bool
    var_dir: Path
    plan: Path


def shop_environment(*, repo_dir: Path) -> ShopEnvironment:
    env = environ.Env()
    name = env.str("SHOP_ENV", default="development")
    if name not in ENVIRONMENTS:
        raise environ.ImproperlyConfigured("SHOP_ENV must be 'development' or 'production'")
    return ShopEnvironment(
        env=env,
        production=name == "production",
        var_dir=Path(env.str("SHOP_VAR_DIR", default=str(repo_dir / "var"))),
        plan=Path(env.str("STRANGLER_PLAN", default=str(repo_dir / "migration-plan/plan.yaml"))),
    )
