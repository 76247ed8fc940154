"""Settings of the orders service, all from the environment (django-environ).

Like every backend's: development (SHOP_ENV=development, the default) needs no configuration
(SQLite and the filesystem broker under var/, the JWT key under var/keys shared with the other
backends); production (SHOP_ENV=production) refuses to start without its secrets. The service
runs the shared `orders` domain (carts and orders), and two read copies it never writes, kept in
sync from their owners: `accounts`' users (request.user, an order's customer) and the `catalog`
(a cart line's product, priced now; the stock itself is reserved on the catalog's owner).
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
        backend="orders",
        project="orderssvc",
        apps=["accounts", "catalog", "orders"],
        production=PRODUCTION,
        var_dir=VAR_DIR,
        plan=SHOP.plan,
        database_env="ORDERS_DATABASE_URL",
        static_root=VAR_DIR / "orders-static",
        api_title="Shop API: orders service",
        api_description="The cart and orders part of the shop's public HTTP API (see shop-api.md).",
    )
)
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledLoginBackend"]
# The token of a user this copy has not received yet is read through from the auth domain's owner.
STRANGLER_USER_AGGREGATE = "user"
