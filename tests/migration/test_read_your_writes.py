"""Read your writes across a canary, on real nginx in front of echo backends: a client that
just wrote reads from the split's primary (the write owner) while the canary's copy catches up,
and goes back to its own side afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.migration.harness import RunningProxy, proxy_at

pytestmark = pytest.mark.integration


@pytest.fixture
def canary(tmp_path, echo_backends) -> Iterator[RunningProxy]:
    with proxy_at(tmp_path / "var", echo_backends, "3-catalog-canary") as running:
        yield running


def test_a_client_on_the_canary_side_reads_its_write_from_the_primary(canary):
    on_canary = 0
    for _ in range(150):
        with httpx.Client(base_url=canary.public_url, timeout=10) as client:
            if client.get("/api/products").headers["X-Served-By"] != "catalog":
                continue
            on_canary += 1
            wrote = client.patch("/api/products/1", json={"name": "renamed"})
            assert wrote.headers["X-Served-By"] == "monolith"
            assert "strangler_wrote=" in wrote.headers["set-cookie"]

            assert client.get("/api/products").headers["X-Served-By"] == "monolith"
            assert client.get("/api/products/1").headers["X-Served-By"] == "monolith"

            client.cookies.delete("strangler_wrote")  # what its expiry does, five seconds on
            assert client.get("/api/products").headers["X-Served-By"] == "catalog"
    assert on_canary >= 3  # about 15 of 150 land on the canary


def test_reads_never_set_the_writers_mark(canary):
    with httpx.Client(base_url=canary.public_url, timeout=10) as client:
        for path in ("/api/products", "/api/categories", "/api/products/1"):
            assert "strangler_wrote" not in client.get(path).headers.get("set-cookie", "")


def test_without_a_split_a_write_sets_no_mark(tmp_path, echo_backends):
    with proxy_at(tmp_path / "var", echo_backends, "2-catalog-shadow") as running:
        wrote = httpx.patch(f"{running.public_url}/api/products/1", json={"name": "x"})
        assert "strangler_wrote" not in wrote.headers.get("set-cookie", "")
