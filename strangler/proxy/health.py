"""Backend health as `apply` and `status` see it: GET <url><health path> answers 200, on
every instance of the backend."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from strangler.plan import Backend

TIMEOUT = httpx.Timeout(3.0, connect=1.0)


@dataclass(frozen=True, slots=True)
class Health:
    backend: str
    url: str
    ok: bool
    detail: str  # "200 in 12 ms" or why not


def check(backend: str, url: str, *, client: httpx.Client) -> Health:
    started = time.monotonic()
    try:
        response = client.get(url)
    except httpx.HTTPError as error:
        return Health(backend, url, False, str(error) or type(error).__name__)
    elapsed = (time.monotonic() - started) * 1000
    ok = response.status_code == 200
    return Health(backend, url, ok, f"{response.status_code} in {elapsed:.0f} ms")


def check_all(backends: list[Backend]) -> list[Health]:
    """One Health per instance of each backend, in the order given."""
    probes = [(backend.name, url) for backend in backends for url in backend.health_urls]
    if not probes:
        return []
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        ThreadPoolExecutor(max_workers=min(8, len(probes))) as pool,
    ):
        return list(pool.map(lambda probe: check(*probe, client=client), probes))
