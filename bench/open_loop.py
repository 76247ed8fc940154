"""A steady write load: requests started on a fixed schedule, whatever the server's pace.

Open loop: request n is due at start + n / rate, and its latency counts from that moment, so a
server that falls behind shows it in the latencies instead of silently slowing the load down.
Bounded in requests (rate x duration) and, through the client timeout, in time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from bench.sync_lag import Distribution, distribution

# Builds request n: (method, path, JSON body, the status that counts as success).
RequestFactory = Callable[[int], tuple[str, str, dict, int]]


@dataclass(frozen=True)
class OpenLoopLoad:
    rate: float
    duration_s: float
    workers: int = 16
    timeout_s: float = 15.0

    @property
    def total(self) -> int:
        return max(1, round(self.rate * self.duration_s))


@dataclass
class LoadResult:
    offered: int
    succeeded: int = 0
    errors: int = 0
    wall_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        return self.succeeded / self.wall_s if self.wall_s else 0.0

    @property
    def latency(self) -> Distribution | None:
        return distribution(self.latencies_ms)


def run_open_loop(*, base_url: str, load: OpenLoopLoad, request: RequestFactory) -> LoadResult:
    result = LoadResult(offered=load.total)
    lock = threading.Lock()
    local = threading.local()
    clients: list[httpx.Client] = []

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=load.timeout_s)
            with lock:
                clients.append(local.client)
        return local.client

    def send(number: int, due: float) -> None:
        method, path, body, expected = request(number)
        try:
            response = client().request(method, path, json=body)
            outcome = None if response.status_code == expected else response.status_code
            detail = f"{response.status_code} {response.text[:160]}"
        except httpx.HTTPError as error:
            outcome, detail = "transport", repr(error)
        elapsed_ms = (time.monotonic() - due) * 1000.0
        with lock:
            if outcome is None:
                result.succeeded += 1
                result.latencies_ms.append(elapsed_ms)
            else:
                result.errors += 1
                if len(result.error_samples) < 10:
                    result.error_samples.append(detail)

    start = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=load.workers, thread_name_prefix="load") as pool:
            for number in range(load.total):
                due = start + number / load.rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(send, number, due)
        result.wall_s = time.monotonic() - start
    finally:
        for opened in clients:
            opened.close()
    return result
