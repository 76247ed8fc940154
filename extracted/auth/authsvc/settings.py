"""Settings of the auth service, all from the environment (django-environ).

Like the monolith's: development (SHOP_ENV=development, the default) needs no configuration at
all: SQLite and the filesystem broker under var/, and the JWT key pair under var/keys that the
monolith uses too, so that tokens issued by either verify on both. Production
(SHOP_ENV=production) refuses to start without its secrets. What every backend shares comes
from the chassis (strangler.service.backend); the service runs the shared `accounts` domain.
"""

from pathlib import Path

from shopenv import shop_environment

from strangler.service.backend import backend_settings

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent.parent

SHOP = shop_environment(repo_dir=REPO_DIR)
env, PRODUCTION, VAR_DIR = SHOP.env, SHOP.production, SHOP.var_dir

vars().update(
    backend_settings(
        env=env,
        backend="auth",
        project="authsvc",
        apps=["accounts"],
        production=PRODUCTION,
        var_dir=VAR_DIR,
        plan=SHOP.plan,
        database_env="AUTH_DATABASE_URL",
        # The admin's static files, collected by `make auth-migrate` and served by whitenoise.
        static_root=VAR_DIR / "auth-static",
        api_title="Shop API: auth service",
        api_description="The auth domain of the shop's public HTTP API (see shop-api.md).",
    )
)
AUTH_USER_MODEL = "accounts.User"
# Logins through the admin count against the API's lockout (accounts.backends).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledLoginBackend"]
STRANGLER_USER_AGGREGATE = "user"
