"""The validated migration plan as immutable objects.

A `Step` is fully resolved: every route has a `Target` saying which backend serves it (or how
reads are split or shadowed) and where safe requests fall back, so the renderer, `diff` and the
route inventory never re-derive defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from strangler.plan.canary import CanaryGate
from strangler.plan.instances import instance_addresses
from strangler.plan.patterns import PathPattern, by_specificity

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Splits and shadows copy or divert traffic, which only reads tolerate.
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    url: str  # its first instance's: what talks to "the backend" directly (sync, parity)
    address: str  # host:port of its first instance, as nginx's `server` directive wants it
    health: str
    owns: frozenset[str]
    # Domains it keeps a read copy of without ever owning them (a service's staff users).
    copies: frozenset[str] = frozenset()
    instances: int = 1

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every instance's host:port, the first one's first (strangler.plan.instances)."""
        return instance_addresses(self.address, self.instances)

    @property
    def instance_urls(self) -> tuple[str, ...]:
        return (self.url, *(f"http://{address}" for address in self.addresses[1:]))

    @property
    def health_urls(self) -> tuple[str, ...]:
        return tuple(url.rstrip("/") + self.health for url in self.instance_urls)


@dataclass(frozen=True, slots=True)
class RateLimit:
    rate: str
    burst: int


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    pattern: PathPattern
    methods: tuple[str, ...]
    domain: str
    internal: bool = False
    rate_limit: RateLimit | None = None

    @property
    def write_methods(self) -> tuple[str, ...]:
        return tuple(m for m in self.methods if m not in SAFE_METHODS)

    @property
    def reads_only(self) -> bool:
        return all(m in READ_METHODS for m in self.methods)


@dataclass(frozen=True, slots=True)
class Unrouted:
    pattern: PathPattern
    reason: str


@dataclass(frozen=True, slots=True)
class Target:
    """Where one route goes at one step."""

    route: str
    backend: str  # serves every request not diverted by `split`
    split: tuple[tuple[str, int], ...] = ()  # (backend, weight) in plan order; GET/HEAD only
    # "user": the bearer token's subject, else the proxy's cookie | "client": the cookie
    sticky: str = "user"
    shadow: str | None = None  # receives a copy of GET/HEAD requests
    fallback: str | None = None  # retried for safe methods when `backend` fails

    @property
    def backends(self) -> tuple[str, ...]:
        """Every backend this target may send a client's request to, primary first."""
        names = [self.backend, *(name for name, weight in self.split if weight)]
        if self.fallback:
            names.append(self.fallback)
        return tuple(dict.fromkeys(names))

    def read_share(self, backend: str) -> int:
        """The percentage of the route's reads sent to `backend` (before any fallback)."""
        if self.split:
            return dict(self.split).get(backend, 0)
        return 100 if backend == self.backend else 0

    def describe(self) -> str:
        if self.split:
            text = " / ".join(f"{name} {weight}%" for name, weight in self.split)
            text += f" (sticky per {self.sticky})"
        else:
            text = self.backend
        if self.shadow:
            text += f", shadow to {self.shadow}"
        if self.fallback:
            text += f", fallback {self.fallback}"
        return text


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    index: int
    title: str
    owners: Mapping[str, str]  # domain -> write owner, complete for every domain
    targets: Mapping[str, Target]  # route name -> target, complete for every route

    def needed_backends(self) -> tuple[str, ...]:
        names: list[str] = []
        for target in self.targets.values():
            names.extend(target.backends)
            if target.shadow:
                names.append(target.shadow)
        names.extend(self.owners.values())
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class ProxySettings:
    connect_timeout: str = "1s"
    read_timeout: str = "30s"
    send_timeout: str = "30s"
    max_body_size: str = "1m"
    worker_shutdown_timeout: str = "10s"
    upstream_keepalive: int = 32
    upstream_keepalive_timeout: str = "20s"
    shadow_timeout: str = "2s"
    shadow_log_size: str = "4m"
    shadow_body_limit: int = 65_536
    shadow_concurrency: int = 64


@dataclass(frozen=True, slots=True)
class ShadowGateSettings:
    """When a shadow report passes (`gates.shadow`; strangler.shadow reads it)."""

    max_differing_rate: float = 0.01
    min_compared: int = 20
    noise_min_share: float = 0.1
    ignore: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def ignored(self, route: str) -> tuple[str, ...]:
        return self.ignore.get(route, ())


@dataclass(frozen=True, slots=True)
class SyncGateSettings:
    """How far behind an outbox may be when a step flips (`gates.sync`)."""

    max_pending: int = 1000
    max_lag_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class ContractGateSettings:
    """Whether the contract suite must have passed at a step before it is left
    (`gates.contract`)."""

    required: bool = False


@dataclass(frozen=True, slots=True)
class Gates:
    """What a step must show before the next one may be applied."""

    canary: CanaryGate
    shadow: ShadowGateSettings = field(default_factory=ShadowGateSettings)
    sync: SyncGateSettings = field(default_factory=SyncGateSettings)
    contract: ContractGateSettings = field(default_factory=ContractGateSettings)


@dataclass(frozen=True, slots=True)
class Plan:
    source: str
    origin: str
    proxy: ProxySettings
    backends: Mapping[str, Backend]
    routes: tuple[Route, ...]
    steps: tuple[Step, ...]
    gates: Gates
    domains: tuple[str, ...] = field(default=())
    unrouted: tuple[Unrouted, ...] = field(default=())

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(step.id for step in self.steps)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        known = ", ".join(self.step_ids)
        raise KeyError(f"unknown step {step_id!r} (the plan has: {known})")

    def route(self, name: str) -> Route:
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(f"unknown route {name!r}")

    def match(self, path: str, *, internal: bool = False) -> list[Route]:
        """The routes of the most specific pattern matching `path`, as nginx would pick it."""
        for pattern, routes in self.locations(internal=internal):
            if pattern.matches(path):
                return list(routes)
        return []

    def locations(self, *, internal: bool = False) -> list[tuple[PathPattern, tuple[Route, ...]]]:
        """Each path pattern with its routes, most specific first: the first pattern matching a
        path is the one nginx picks. A caller matching many paths computes this once."""
        candidates = [r for r in self.routes if internal or not r.internal]
        ordered = by_specificity(list({r.pattern.shape: r.pattern for r in candidates}.values()))
        return [
            (pattern, tuple(r for r in candidates if r.pattern.shape == pattern.shape))
            for pattern in ordered
        ]
