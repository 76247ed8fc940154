"""Backends for the race tests: always SQLite, plus PostgreSQL when MONOLITH_DATABASE_URL is one."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from tests.contract.api import ADMIN_EMAIL, ADMIN_PASSWORD, Account, ShopApi, Unique
from tests.support.live import LiveBackend, is_postgres_url

# Enough gunicorn workers that requests really overlap (the machine has two cores).
WORKERS = 4
ENGINES = ["sqlite"] + (
    ["postgres"] if is_postgres_url(os.environ.get("MONOLITH_DATABASE_URL")) else []
)


@dataclass(frozen=True)
class RaceShop:
    engine: str
    base_url: str
    api: ShopApi
    admin: Account


@pytest.fixture(scope="session", params=ENGINES)
def race_shop(request, tmp_path_factory) -> Iterator[RaceShop]:
    engine = request.param
    # Forcing SQLite even when the environment points at PostgreSQL: both must hold.
    database_url = (
        f"sqlite:///{tmp_path_factory.mktemp('race') / 'race.sqlite3'}"
        if engine == "sqlite"
        else None
    )
    with (
        LiveBackend(
            name=f"race_{engine}", database_url=database_url, workers=WORKERS, products=5
        ) as backend,
        httpx.Client(base_url=backend.base_url, timeout=60.0) as client,
    ):
        api = ShopApi(client, Unique())
        yield RaceShop(
            engine=engine,
            base_url=backend.base_url,
            api=api,
            admin=api.account(ADMIN_EMAIL, ADMIN_PASSWORD),
        )


def race(base_url: str, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list:
    """Run every call on its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60.0) as client:
            barrier.wait(timeout=30)
            return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
