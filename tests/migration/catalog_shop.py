"""The shop of the catalog and orders extractions' tests: the monolith, the auth service and the
catalog service (and, with `orders=True`, the orders service), each with its database, sync
consumers and relay, behind real nginx, whose internal listener the order code reaches the
catalog's owner through."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from strangler.sync.flip import OwnershipHandover
from tests.migration.auth_shop import Shop, broker_url, parity_is_clean
from tests.migration.harness import RunningProxy, free_port
from tests.support.broker import empty_sync_queues
from tests.support.live import AUTH, CATALOG, ORDERS, LiveBackend


@dataclass
class CatalogShop(Shop):
    catalog_url: str = ""
    catalog: LiveBackend | None = None
    orders_url: str = ""
    orders: LiveBackend | None = None

    def create_legacy_products(self, count: int) -> None:
        """Products written straight to the monolith's tables, without outbox events: what a
        monolith already holds when its sync is switched on, which only a backfill copies."""
        self.monolith.manage(
            "shell",
            "-c",
            "from django.db import connection\n"
            "from django.utils import timezone\n"
            "from catalog.models import Category\n"
            "category = Category.objects.first().pk\n"
            "with connection.cursor() as cursor:\n"
            f"    for n in range({count}):\n"
            "        cursor.execute('INSERT INTO catalog_product (sku, name, description, "
            "price, category_id, stock, created_at, updated_at) "
            "VALUES (%s, %s, %s, 7.50, %s, 30, %s, %s)',"
            " [f'LEGACY-{n}', f'Legacy {n}', '', category, timezone.now(), timezone.now()])",
        )


def running_catalog_shop(
    tmp_path: Path, *, orders: bool = False, env: Mapping[str, str] | None = None
) -> Iterator[CatalogShop]:
    """`env` is added to every backend's environment (a fault test points CELERY_BROKER_URL at
    a fault proxy)."""
    var_dir = tmp_path / "var"
    services = {"auth": AUTH, "catalog": CATALOG, **({"orders": ORDERS} if orders else {})}
    ports = {name: free_port() for name in ("monolith", *services)}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    internal_port = free_port()
    broker = broker_url()
    empty_sync_queues(broker, list(urls))
    shared = {
        "SHOP_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": broker,
        "PROXY_INTERNAL_URL": f"http://127.0.0.1:{internal_port}",
        **{f"{name.upper()}_URL": url for name, url in urls.items()},
        **(env or {}),
    }
    with ExitStack() as running:
        monolith = running.enter_context(
            LiveBackend(name="c_monolith", env=shared, sync=True, port=ports["monolith"])
        )
        backends = {
            name: running.enter_context(
                LiveBackend(
                    name=f"c_{name}", project=project, env=shared, sync=True, port=ports[name]
                )
            )
            for name, project in services.items()
        }
        proxy = running.enter_context(
            RunningProxy(
                tmp_path / "proxy",
                backends=urls,
                hooks=(OwnershipHandover(),),
                gates=("health", "backfill", "parity"),
                internal_port=internal_port,
            )
        )
        yield CatalogShop(
            public_url=proxy.public_url,
            monolith_url=monolith.base_url,
            auth_url=backends["auth"].base_url,
            cli_env={**os.environ, **monolith.env, **proxy.env},
            monolith=monolith,
            auth=backends["auth"],
            catalog_url=backends["catalog"].base_url,
            catalog=backends["catalog"],
            orders_url=backends["orders"].base_url if orders else "",
            orders=backends.get("orders"),
        )


def move_to_the_catalog_step(shop: CatalogShop) -> None:
    """Auth and the catalog moved (`4-catalog`), and the orders service's copies of them
    backfilled: where step 5 starts."""
    shop.strangled("backfill", "auth")
    parity_is_clean(shop, "auth")
    shop.strangled("apply", "1-auth")
    shop.strangled("backfill", "catalog")
    parity_is_clean(shop, "catalog")
    shop.strangled("apply", "4-catalog")
    # The orders service has run since the start, so live sync fed its copies of the users and
    # the catalog; a backfill of each makes sure of rows that predate the sync, if any.
    shop.strangled("backfill", "auth", "--copy", "orders")
    shop.strangled("backfill", "catalog", "--copy", "orders")
