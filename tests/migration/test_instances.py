"""A backend's instances behind real nginx, with echo backends: requests are shared, an instance
that is down costs no request, and a write an instance received is never sent to another."""

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from strangler.plan.instances import instance_port
from strangler.proxy.errors import ProxyError
from tests.migration.harness import EchoBackend, RunningProxy, free_instances_port

pytestmark = pytest.mark.integration

IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE")
NON_IDEMPOTENT = ("POST", "PATCH")
# Requests the balancer needs at most before each of two instances has had one (in turn).
ROUNDS = 6


@contextlib.contextmanager
def two_monoliths(var_dir: Path) -> Iterator[tuple[RunningProxy, list[EchoBackend]]]:
    """The shop's plan at step 0-monolith with MONOLITH_INSTANCES=2: an echo backend on each
    instance's port, the other backends' echo beside them."""
    port = free_instances_port(2)
    instances = [
        EchoBackend(f"monolith#{index}", port=instance_port(port, index)) for index in (0, 1)
    ]
    others = {name: EchoBackend(name) for name in ("auth", "catalog", "orders")}
    with contextlib.ExitStack() as stack:
        for backend in [*instances, *others.values()]:
            stack.enter_context(backend)
        urls = {
            "monolith": instances[0].url,
            **{name: backend.url for name, backend in others.items()},
        }
        proxy = stack.enter_context(
            RunningProxy(var_dir, backends=urls, env={"MONOLITH_INSTANCES": "2"}, gates=("health",))
        )
        yield proxy, instances


def request_ids(backend: EchoBackend) -> set[str]:
    return {seen["request_id"] for seen in backend.seen}


def test_a_backends_instances_share_its_requests(tmp_path):
    with (
        two_monoliths(tmp_path) as (proxy, instances),
        httpx.Client(base_url=proxy.public_url) as client,
    ):
        # Two reads and a write at a time: three requests, which the instances take in turn.
        for _ in range(ROUNDS):
            for method in ("GET", "GET", "POST"):
                response = client.request(method, "/api/products")
                assert response.status_code == 200
                assert response.headers["X-Served-By"] == "monolith"
    for instance in instances:
        assert {seen["method"] for seen in instance.seen} == {"GET", "POST"}, instance.name


def test_an_instance_that_is_down_costs_no_request_whatever_its_method(tmp_path):
    with (
        two_monoliths(tmp_path) as (proxy, instances),
        httpx.Client(base_url=proxy.public_url) as client,
    ):
        down, up = instances
        down.stop()
        for _ in range(ROUNDS):
            for method in (*IDEMPOTENT, *NON_IDEMPOTENT):
                response = client.request(method, "/api/cart/items/3")
                assert response.status_code == 200, method
                assert response.headers["X-Served-By"] == "monolith"
        assert len(up.seen) == ROUNDS * 6


def first_seen_by(
    client: httpx.Client, method: str, instance: EchoBackend
) -> tuple[str, httpx.Response]:
    """Sends `method` requests, each with an id of its own, until `instance` receives one: that
    request's id and the answer its client got."""
    for _ in range(ROUNDS):
        request_id = uuid.uuid4().hex
        response = client.request(method, "/api/cart/items/3", headers={"X-Request-ID": request_id})
        if request_id in request_ids(instance):
            return request_id, response
    raise AssertionError(f"{instance.name} received none of {ROUNDS} {method} requests")


@pytest.mark.parametrize("method", IDEMPOTENT)
def test_an_idempotent_request_an_instance_failed_is_answered_by_another(tmp_path, method):
    with (
        two_monoliths(tmp_path) as (proxy, (failing, healthy)),
        httpx.Client(base_url=proxy.public_url) as client,
    ):
        failing.failing = 503
        request_id, response = first_seen_by(client, method, failing)
    assert response.status_code == 200
    assert request_id in request_ids(healthy)


@pytest.mark.parametrize("method", NON_IDEMPOTENT)
def test_a_non_idempotent_request_an_instance_received_is_never_sent_to_another(tmp_path, method):
    with (
        two_monoliths(tmp_path) as (proxy, (failing, healthy)),
        httpx.Client(base_url=proxy.public_url) as client,
    ):
        failing.failing = 503
        request_id, response = first_seen_by(client, method, failing)
    assert response.status_code == 503  # the instance's own answer: the client may retry
    assert request_id not in request_ids(healthy)


def test_a_failed_instance_is_left_out_by_every_worker_for_a_while(tmp_path):
    with (
        two_monoliths(tmp_path) as (proxy, (failing, healthy)),
        httpx.Client(base_url=proxy.public_url) as client,
    ):
        failing.failing = 503
        first_seen_by(client, "GET", failing)
        seen = len(failing.seen)
        # New connections, so each request may reach either of the proxy's two workers.
        for _ in range(ROUNDS * 2):
            response = httpx.get(f"{proxy.public_url}/api/products")
            assert response.status_code == 200
    assert len(failing.seen) == seen
    assert len(healthy.seen) >= ROUNDS * 2


def test_apply_checks_the_health_of_every_instance_and_names_one_that_is_down(tmp_path):
    with two_monoliths(tmp_path) as (proxy, (up, down)):
        down.stop()
        with pytest.raises(ProxyError) as refused:
            proxy.controller.apply("1-auth")
        assert proxy.controller.state().step == "0-monolith"
    assert f"monolith at {down.url}/readyz:" in str(refused.value)
    assert f"monolith at {up.url}/readyz:" not in str(refused.value)
