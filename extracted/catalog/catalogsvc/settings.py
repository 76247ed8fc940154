"""Settings of the catalog service, all from the environment (django-environ).

Like every backend's: development (SHOP_ENV=development, the default) needs no configuration
(SQLite and the filesystem broker under var/, the JWT key under var/keys shared with the other
backends); production (SHOP_ENV=production) refuses to start without its secrets. The service
runs the shared `catalog` domain, and `accounts` as a read copy of the users (staff writes
check `is_staff` on it), kept in sync from the auth domain's owner. What is its own is the
read cache of the catalog (strangler.service.read_cache; READ_CACHE_URL picks where it is kept).
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
        backend="catalog",
        project="catalogsvc",
        apps=["accounts", "catalog"],
        production=PRODUCTION,
        var_dir=VAR_DIR,
        plan=SHOP.plan,
        database_env="CATALOG_DATABASE_URL",
        static_root=VAR_DIR / "catalog-static",
        api_title="Shop API: catalog service",
        api_description="The catalog domain of the shop's public HTTP API (see shop-api.md).",
        # The service's own read path: catalog reads answered from a cache that every change
        # of the catalog (a write here, an event applied here) invalidates, with ETags.
        cached_domains=("catalog",),
    )
)
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledLoginBackend"]
STRANGLER_USER_AGGREGATE = "user"
