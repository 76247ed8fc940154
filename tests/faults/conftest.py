"""Fixtures of the fault suite: the auth extraction's shop (tests/migration/auth_shop.py: the
monolith and the auth service with their sync workers and relays, behind real nginx), with a
fault proxy (tests/support/faults.py) in front of the server a case takes away."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.migration.auth_shop import Shop, broker_url, running_shop
from tests.migration.harness import own_database
from tests.support.faults import FaultProxy
from tests.support.live import is_postgres_url


@pytest.fixture(autouse=True)
def quiet_http_client_logs():
    # httpx logs every request at INFO; a load's requests would bury the failure.
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


def redis_broker() -> str:
    url = broker_url()
    if not url.startswith("redis://"):
        pytest.skip("needs a Redis broker (CELERY_BROKER_URL=redis://...), as CI runs")
    return url


def postgres_database() -> None:
    if not is_postgres_url(os.environ.get("MONOLITH_DATABASE_URL")):
        pytest.skip("needs PostgreSQL (MONOLITH_DATABASE_URL=postgres://...), as CI runs")


@pytest.fixture
def shop(tmp_path) -> Iterator[Shop]:
    yield from running_shop(tmp_path)


# What the test waits before a batch taken by a killed consumer is redelivered: the shop's
# CELERY_VISIBILITY_TIMEOUT (the default, 5 minutes, is longer than a test should wait).
REDELIVERY_SECONDS = 10


@pytest.fixture
def shop_redelivering_quickly(tmp_path) -> Iterator[Shop]:
    """The shop on Redis and PostgreSQL (a test holds its sync at a chosen statement with a
    table lock), where Redis hands a batch nobody acknowledged to another consumer after
    REDELIVERY_SECONDS."""
    redis_broker()
    postgres_database()
    yield from running_shop(tmp_path, env={"CELERY_VISIBILITY_TIMEOUT": str(REDELIVERY_SECONDS)})


@pytest.fixture
def broker_fault() -> Iterator[FaultProxy]:
    with FaultProxy.in_front_of(redis_broker()) as fault:
        yield fault


@pytest.fixture
def shop_behind_broker_fault(tmp_path, broker_fault) -> Iterator[Shop]:
    """Every backend, worker and relay reaches the broker through `broker_fault`."""
    yield from running_shop(tmp_path, env={"CELERY_BROKER_URL": broker_fault.url(broker_url())})


@pytest.fixture
def auth_database_fault() -> Iterator[tuple[str, FaultProxy]]:
    """The auth service's database (its URL) and a fault proxy in front of it."""
    postgres_database()
    with own_database("faults_auth") as url:
        assert url is not None
        with FaultProxy.in_front_of(url) as fault:
            yield url, fault


@pytest.fixture
def shop_behind_database_fault(tmp_path, auth_database_fault) -> Iterator[Shop]:
    """The auth service reaches its database through the fault proxy."""
    url, fault = auth_database_fault
    yield from running_shop(tmp_path, auth_database_url=fault.url(url))
