"""Fixtures of the migration suite: the shipped plan, echo backends, a running proxy."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from strangler.plan import Plan, load_plan
from tests.migration.auth_shop import Shop, running_shop
from tests.migration.harness import SHOP_PLAN, EchoBackend, RunningProxy
from tests.migration.harness import echo_backends as running_echo_backends


@pytest.fixture(autouse=True)
def quiet_http_client_logs():
    # httpx logs every request at INFO; thousands of load-test requests would bury failures.
    logger = logging.getLogger("httpx")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="session")
def shop_plan() -> Plan:
    """The shipped plan with its default URLs, whatever the environment says."""
    return load_plan(SHOP_PLAN, env={})


@pytest.fixture
def echo_backends() -> Iterator[dict[str, EchoBackend]]:
    with running_echo_backends() as backends:
        yield backends


@pytest.fixture
def proxy(tmp_path, echo_backends) -> Iterator[RunningProxy]:
    """The shop's plan on real nginx, every backend an echo server, at step 0-monolith; its
    controller judges the backends' health (echo servers answer nothing else)."""
    urls = {name: backend.url for name, backend in echo_backends.items()}
    with RunningProxy(tmp_path / "var", backends=urls, gates=("health",)) as running:
        yield running


@pytest.fixture
def shop(tmp_path) -> Iterator[Shop]:
    """The monolith and the auth service, with their sync, behind a real proxy."""
    yield from running_shop(tmp_path)
