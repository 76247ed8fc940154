"""A write-heavy customer load on a running shop, as operators see it during a flip.

Each client logs in once, then loops: every second request is a write (a refresh-token rotation,
or at most once every `register_every` seconds a registration, which costs a password hash), the
others read (`me`, products, the cart). Every answer is timed; anything but the expected status
is a failure. Used by the migration tests and, from the command line, against `make up`:

    .venv/bin/python -m bench.write_load --base-url http://127.0.0.1:8080 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

PASSWORD = "load-pass-1234"


@dataclass
class LoadReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)  # email -> id
    access_tokens: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "failed": len(self.failures),
            "p50_s": round(statistics.median(self.latencies), 4) if self.latencies else None,
            "p99_s": round(self.percentile(0.99), 4),
            "max_s": round(max(self.latencies, default=0.0), 4),
            "outcomes": dict(self.outcomes),
            "p99_by_kind_s": {
                kind: round(sorted(values)[min(len(values) - 1, int(0.99 * len(values)))], 4)
                for kind, values in self.by_kind.items()
            },
            "slowest": [f"{seconds:.3f}s {what}" for seconds, what in self.slowest[:5]],
            "failures": self.failures[:10],
        }


class Load:
    """Runs `clients` threads of `_client(number)` against `base_url` until stopped (a context
    manager), timing every call and counting every unexpected answer as a failure."""

    def __init__(
        self, base_url: str, *, clients: int, pause: float = 0.05, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url
        self.pause = pause
        self.timeout = timeout
        self.report = LoadReport()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)
        ]

    def _client(self, number: int) -> None:
        raise NotImplementedError

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _call(
        self,
        client: httpx.Client,
        what: str,
        expected: int | set[int],
        method: str,
        path: str,
        **kw,
    ):
        started = time.monotonic()
        try:
            response = client.request(method, path, **kw)
        except httpx.HTTPError as error:
            response = error
        seconds = time.monotonic() - started
        accepted = {expected} if isinstance(expected, int) else expected
        ok = isinstance(response, httpx.Response) and response.status_code in accepted
        with self._lock:
            report = self.report
            report.latencies.append(seconds)
            report.by_kind.setdefault(what, []).append(seconds)
            report.outcomes[f"{what} {'ok' if ok else 'FAILED'}"] += 1
            report.slowest.append((seconds, what))
            report.slowest.sort(reverse=True)
            del report.slowest[10:]
            if not ok:
                detail = (
                    f"{response.status_code} {response.text[:200]}"
                    if isinstance(response, httpx.Response)
                    else repr(response)
                )
                report.failures.append(f"{what}: {detail}")
        return response if ok else None

    def _register(self, client: httpx.Client, number: int) -> dict | None:
        """A new customer, logged in: its token pair."""
        email = f"load{number}-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": PASSWORD, "name": f"Load {number}"}
        created = self._call(client, "register", 201, "POST", "/api/auth/register", json=body)
        if created is None:
            return None
        with self._lock:
            self.report.users[email] = created.json()["id"]
        pair = self._call(
            client,
            "login",
            200,
            "POST",
            "/api/auth/token",
            json={"email": email, "password": PASSWORD},
        )
        return pair.json() if pair is not None else None


class WriteLoad(Load):
    """Customers logging in, rotating refresh tokens and reading: writes of the auth domain."""

    def __init__(
        self,
        base_url: str,
        *,
        clients: int = 12,
        register_every: float = 20.0,
        refresh: bool = True,
        **kw,
    ):
        super().__init__(base_url, clients=clients, **kw)
        self.register_every = register_every
        # Without refreshes the only writes are registrations: a fault test's clients then never
        # hold a refresh token whose rotation committed while its answer was lost.
        self.refresh = refresh

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            pair = None
            while pair is None and not self.stopping.is_set():
                pair = self._register(client, number)
            last_registration = time.monotonic()
            reads = ("/api/auth/me", "/api/products?page_size=5", "/api/cart")
            turn = 0
            while pair is not None and not self.stopping.is_set():
                bearer = {"Authorization": f"Bearer {pair['access']}"}
                path = reads[turn % len(reads)]
                self._call(client, f"GET {path.split('?')[0]}", 200, "GET", path, headers=bearer)
                turn += 1
                if time.monotonic() - last_registration >= self.register_every:
                    last_registration = time.monotonic()
                    fresh = self._register(client, number)
                    pair = fresh or pair
                elif self.refresh:
                    rotated = self._call(
                        client,
                        "refresh",
                        200,
                        "POST",
                        "/api/auth/token/refresh",
                        json={"refresh": pair["refresh"]},
                    )
                    if rotated is not None:
                        pair = rotated.json()
                        with self._lock:
                            self.report.access_tokens.append(pair["access"])
                time.sleep(self.pause)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--register-every", type=float, default=20.0)
    args = parser.parse_args()
    with WriteLoad(args.base_url, clients=args.clients, register_every=args.register_every) as load:
        time.sleep(args.seconds)
    print(json.dumps(load.report.summary(), indent=2))


if __name__ == "__main__":
    main()
