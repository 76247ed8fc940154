"""Backend health as `apply` and `status` see it: GET <url><health path> answers 200."""

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


def check(backend: Backend, *, client: httpx.Client) -> Health:
    started = time.monotonic()
    try:
        response = client.get(backend.health_url)
    except httpx.HTTPError as error:
        reason = str(error) or type(error).__name__
        return Health(backend.name, backend.health_url, False, reason)
    elapsed = (time.monotonic() - started) * 1000
    ok = response.status_code == 200
    return Health(
        backend.name, backend.health_url, ok, f"{response.status_code} in {elapsed:.0f} ms"
    )


def check_all(backends: list[Backend]) -> list[Health]:
    if not backends:
        return []
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        ThreadPoolExecutor(max_workers=min(8, len(backends))) as pool,
    ):
        return list(pool.map(lambda backend: check(backend, client=client), backends))
