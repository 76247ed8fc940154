"""The acceptance tests of the flip: real monoliths under gunicorn, real nginx, real load.

Two monoliths play the monolith and the extracted catalog (each with its own database); the
shipped plan flips the catalog between them (steps 0-monolith and 4-catalog) while keep-alive
clients keep reading and writing.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.migration.harness import RunningProxy, live_backend
from tests.support.live import LiveBackend

pytestmark = pytest.mark.integration

FLIPS = 24
CLIENTS = 8
PAUSE_BETWEEN_FLIPS = 0.4
STEP_BACKEND = {"0-monolith": "monolith", "4-catalog": "catalog"}  # who serves catalog routes


@pytest.fixture(scope="module")
def monolith() -> Iterator[LiveBackend]:
    with live_backend("live_monolith") as backend:
        yield backend


def staff_token(backend: LiveBackend) -> str:
    response = httpx.post(
        f"{backend.base_url}/api/auth/token",
        json={
            "email": os.environ.get("SHOP_ADMIN_EMAIL", "admin@shop.local"),
            "password": os.environ.get("SHOP_ADMIN_PASSWORD", "admin-pass-1234"),
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access"]


def shop_proxy(tmp_path, *, monolith: LiveBackend, catalog: LiveBackend) -> RunningProxy:
    # auth and orders are not extracted in these tests: the monolith plays them.
    urls = {
        "monolith": monolith.base_url,
        "auth": monolith.base_url,
        "catalog": catalog.base_url,
        "orders": monolith.base_url,
    }
    return RunningProxy(tmp_path / "var", backends=urls)


@dataclass
class Result:
    started: float
    ended: float
    kind: str
    status: int | None
    served_by: str | None
    error: str | None = None


class Load:
    """Keep-alive clients reading and writing the catalog until stopped (bounded in time)."""

    def __init__(self, base_url: str, *, token: str, category: str, limit: float = 120.0):
        self.base_url = base_url
        self.token = token
        self.category = category
        self.limit = limit
        self.results: list[Result] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(CLIENTS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, client_id: int) -> None:
        deadline = time.monotonic() + self.limit
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for n in itertools.count():
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                kind = ("list", "detail", "categories", "create")[n % 4]
                started = time.monotonic()
                try:
                    if kind == "list":
                        response = client.get("/api/products", params={"page_size": 5})
                    elif kind == "detail":
                        response = client.get(f"/api/products/{1 + n % 20}")
                    elif kind == "categories":
                        response = client.get("/api/categories")
                    else:
                        response = client.post(
                            "/api/products",
                            headers=headers,
                            json={
                                "sku": f"FLIP-{client_id}-{n}",
                                "name": f"Flip {client_id}/{n}",
                                "description": "created during a flip",
                                "price": "9.99",
                                "category": self.category,
                                "stock": 3,
                            },
                        )
                    result = Result(
                        started,
                        time.monotonic(),
                        kind,
                        response.status_code,
                        response.headers.get("X-Served-By"),
                    )
                except httpx.HTTPError as error:
                    result = Result(started, time.monotonic(), kind, None, None, repr(error))
                with self._lock:
                    self.results.append(result)


def test_flipping_back_and_forth_under_keep_alive_load_loses_no_request(tmp_path, monolith):
    with (
        live_backend("live_catalog") as catalog,
        shop_proxy(tmp_path, monolith=monolith, catalog=catalog) as proxy,
    ):
        token = staff_token(monolith)
        category = httpx.get(f"{monolith.base_url}/api/categories").json()["results"][0]["slug"]
        flips: list[tuple[float, float, str]] = []
        with Load(proxy.public_url, token=token, category=category) as load:
            time.sleep(PAUSE_BETWEEN_FLIPS)
            for index in range(FLIPS):
                step = "4-catalog" if index % 2 == 0 else "0-monolith"
                started = time.monotonic()
                outcome = proxy.controller.apply(step)
                flips.append((started, time.monotonic(), step))
                assert outcome.mode == "push", "a flip within one plan never reloads nginx"
                time.sleep(PAUSE_BETWEEN_FLIPS)
        results = load.results

    expected_status = {"list": 200, "detail": 200, "categories": 200, "create": 201}
    failures = [r for r in results if r.error or r.status != expected_status[r.kind]]
    assert failures == [], f"{len(failures)} of {len(results)} requests failed: {failures[:5]}"
    assert len(flips) >= 20

    # Every response to a request sent after a flip completed (and answered before the next
    # flip began) came from the backend that step names.
    boundaries = [(0.0, 0.0, "0-monolith"), *flips]
    checked = {step: 0 for step in STEP_BACKEND}
    wrong = []
    for result in results:
        for (_, done, step), following in itertools.zip_longest(boundaries, boundaries[1:]):
            next_start = following[0] if following else float("inf")
            if done <= result.started and result.ended <= next_start:
                checked[step] += 1
                if result.served_by != STEP_BACKEND[step]:
                    wrong.append((step, result))
                break
    assert wrong == [], f"{len(wrong)} responses came from the wrong backend: {wrong[:5]}"
    assert all(count > 50 for count in checked.values()), checked
    print(f"\nflip under load: {len(results)} requests, {len(failures)} failed, {len(flips)} flips")


def test_reads_fall_back_to_the_monolith_when_the_catalog_dies_and_writes_fail_as_json(
    tmp_path, monolith
):
    with (
        live_backend("live_doomed") as catalog,
        shop_proxy(tmp_path, monolith=monolith, catalog=catalog) as proxy,
    ):
        token = staff_token(monolith)
        headers = {"Authorization": f"Bearer {token}"}
        proxy.controller.apply("4-catalog")
        with httpx.Client(base_url=proxy.public_url, timeout=30) as client:
            assert client.get("/api/products").headers["X-Served-By"] == "catalog"
            catalog.stop()
            for path in ("/api/products", "/api/products/3", "/api/categories"):
                response = client.get(path)
                assert response.status_code == 200, path
                assert response.headers["X-Served-By"] == "monolith", path
                assert response.json()
            head = client.head("/api/products/3")
            assert (head.status_code, head.headers["X-Served-By"]) == (200, "monolith")
            writes = [
                client.post("/api/products", headers=headers, json={"sku": "DEAD-1"}),
                client.patch("/api/products/3", headers=headers, json={"stock": 1}),
                client.delete("/api/products/4", headers=headers),
            ]
            for response in writes:
                assert response.status_code in (502, 503), response.request
                assert response.headers["Content-Type"] == "application/json"
                assert set(response.json()) == {"detail"}
                assert response.headers["X-Request-ID"]
            # The monolith never saw those writes: product 4 is still there.
            assert httpx.get(f"{monolith.base_url}/api/products/4").status_code == 200
