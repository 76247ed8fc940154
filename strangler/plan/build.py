"""Cross-reference checks and resolution: from the parsed `PlanIn` to an immutable `Plan`.

Every check appends a `PlanIssue` instead of raising at once, so one run of `load_plan` reports
every problem of a broken plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from urllib.parse import urlsplit

from strangler.plan.errors import PlanError, PlanIssue
from strangler.plan.gates import build_gates
from strangler.plan.hosts import is_host
from strangler.plan.instances import (
    HIGHEST_PORT,
    MAX_INSTANCES,
    instances_var_for,
)
from strangler.plan.model import (
    SAFE_METHODS,
    Backend,
    Plan,
    ProxySettings,
    RateLimit,
    Route,
    Step,
    Target,
    Unrouted,
)
from strangler.plan.patterns import PathPattern
from strangler.plan.schema import PlanIn, StepIn, TargetIn

INTERNAL_PREFIX = "/internal/"
# What a backend URL (http://host:port) may be written with at all.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9._~:/\[\]@%+-]+")
# An <NAME>_INSTANCES value: a whole number, checked against MAX_INSTANCES after.
_COUNT = re.compile(r"[0-9]{1,3}")
# known(backend, subkey): records an issue and answers False when the plan has no such backend.
Known = Callable[[str, str], bool]


def env_var_for(backend: str) -> str:
    """`catalog` -> `CATALOG_URL`: the variable that overrides a backend's URL."""
    return backend.upper().replace("-", "_") + "_URL"


class _Builder:
    def __init__(self, parsed: PlanIn, *, file: str, env: Mapping[str, str]) -> None:
        self.parsed = parsed
        self.file = file
        self.env = env
        self.issues: list[PlanIssue] = []

    def issue(self, message: str, *, key: str | None = None, step: str | None = None) -> None:
        self.issues.append(PlanIssue(file=self.file, message=message, step=step, key=key))

    def build(self) -> Plan:
        backends = self._backends()
        routes = self._routes()
        domains = tuple(dict.fromkeys(route.domain for route in routes))
        self._check_owns(backends, domains)
        if self.parsed.origin not in backends:
            self.issue(f"unknown backend {self.parsed.origin!r}", key="origin")
        steps = self._steps(backends, routes, domains)
        unrouted = self._unrouted(routes)
        gates = build_gates(self.parsed.gates, routes=routes, steps=steps, issue=self.issue)
        if self.issues:
            raise PlanError(self.issues)
        return Plan(
            source=self.file,
            origin=self.parsed.origin,
            proxy=ProxySettings(**self.parsed.proxy.model_dump()),
            backends=MappingProxyType(backends),
            routes=tuple(routes),
            steps=tuple(steps),
            domains=domains,
            unrouted=unrouted,
            gates=gates,
        )

    def _unrouted(self, routes: list[Route]) -> tuple[Unrouted, ...]:
        entries = []
        shapes = {route.pattern.shape: route.name for route in routes}
        for index, spec in enumerate(self.parsed.unrouted):
            key = f"unrouted[{index}].path"
            try:
                pattern = PathPattern.parse(spec.path)
            except ValueError as error:
                self.issue(f"{error}: {spec.path!r}", key=key)
                continue
            if pattern.shape in shapes:
                self.issue(f"route {shapes[pattern.shape]!r} routes this pattern", key=key)
                continue
            entries.append(Unrouted(pattern=pattern, reason=spec.reason))
        return tuple(entries)

    # -- backends -------------------------------------------------------------------------

    def _backends(self) -> dict[str, Backend]:
        backends = {}
        for name, spec in self.parsed.backends.items():
            variable = env_var_for(name)
            url = self.env.get(variable) or spec.url
            key = f"backends.{name}.url" + (f" (from {variable})" if self.env.get(variable) else "")
            address = self._address(url, key=key)
            if not spec.health.startswith("/"):
                self.issue("must be a path starting with '/'", key=f"backends.{name}.health")
            backends[name] = Backend(
                name=name,
                url=url.rstrip("/"),
                address=address or "",
                health=spec.health,
                owns=frozenset(spec.owns),
                copies=frozenset(spec.copies),
                instances=self._instances(name, spec.instances),
            )
        self._check_instances(backends)
        return backends

    def _instances(self, name: str, planned: int) -> int:
        variable = instances_var_for(name)
        value = self.env.get(variable)
        if not value:
            return planned
        if not _COUNT.fullmatch(value) or not 1 <= int(value) <= MAX_INSTANCES:
            self.issue(
                f"a whole number from 1 to {MAX_INSTANCES}, got {value!r}",
                key=f"backends.{name}.instances (from {variable})",
            )
            return planned
        return int(value)

    def _check_instances(self, backends: Mapping[str, Backend]) -> None:
        """Every instance of every backend listens on a real port."""
        for name, backend in backends.items():
            if not backend.address:
                continue  # its URL is already reported
            last_port = int(backend.addresses[-1].rpartition(":")[2])
            if last_port > HIGHEST_PORT:
                variable = instances_var_for(name)
                self.issue(
                    f"instance {backend.instances} would listen on port {last_port}, "
                    f"above {HIGHEST_PORT}",
                    key=f"backends.{name}.instances"
                    + (f" (from {variable})" if self.env.get(variable) else ""),
                )

    def _address(self, url: str, *, key: str) -> str | None:
        # The address goes into nginx.conf as it is; urlsplit drops tabs and newlines and takes
        # `;`, quotes or braces in a host name, so the text is checked before it is parsed.
        if not _URL_CHARACTERS.fullmatch(url):
            self.issue(
                f"a backend URL is http://host:port, without whitespace, control characters, "
                f"quotes, ';', braces or '\\': {url!r}",
                key=key,
            )
            return None
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            self.issue(f"invalid URL {url!r}: {error}", key=key)
            return None
        if parts.scheme != "http" or not parts.hostname:
            self.issue(f"expected http://host:port, got {url!r}", key=key)
            return None
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            self.issue(f"a backend URL has no path, query or fragment: {url!r}", key=key)
            return None
        if "@" in parts.netloc:
            self.issue(f"a backend URL has no user or password: {url!r}", key=key)
            return None
        if not is_host(parts.hostname) or port == 0:
            self.issue(f"not an IP address or host name with a port: {url!r}", key=key)
            return None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"{host}:{port or 80}"

    def _check_owns(self, backends: Mapping[str, Backend], domains: tuple[str, ...]) -> None:
        for name, backend in backends.items():
            for key, listed in (("owns", backend.owns), ("copies", backend.copies)):
                for domain in sorted(listed - set(domains)):
                    self.issue(
                        f"unknown domain {domain!r} (no route has it; domains: "
                        f"{', '.join(domains)})",
                        key=f"backends.{name}.{key}",
                    )

    # -- routes ---------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        routes: list[Route] = []
        seen: set[str] = set()
        for spec in self.parsed.routes:
            key = f"routes.{spec.name}"
            if spec.name in seen:
                self.issue("duplicate route name", key=f"{key}.name")
                continue
            seen.add(spec.name)
            try:
                pattern = PathPattern.parse(spec.path)
            except ValueError as error:
                self.issue(f"{error}: {spec.path!r}", key=f"{key}.path")
                continue
            is_internal_path = (spec.path + "/").startswith(INTERNAL_PREFIX)
            if spec.internal and not is_internal_path:
                self.issue(
                    f"an internal route's path starts with {INTERNAL_PREFIX}", key=f"{key}.path"
                )
            if is_internal_path and not spec.internal:
                self.issue(
                    f"paths under {INTERNAL_PREFIX} are internal: set 'internal: true'",
                    key=f"{key}.internal",
                )
            limit = spec.rate_limit
            routes.append(
                Route(
                    name=spec.name,
                    pattern=pattern,
                    methods=tuple(dict.fromkeys(spec.methods)),
                    domain=spec.domain,
                    internal=spec.internal,
                    rate_limit=RateLimit(limit.rate, limit.burst) if limit else None,
                )
            )
        self._check_overlaps(routes)
        return routes

    def _check_overlaps(self, routes: list[Route]) -> None:
        for index, route in enumerate(routes):
            for other in routes[:index]:
                if route.pattern.shape != other.pattern.shape:
                    continue
                shared = [m for m in route.methods if m in other.methods]
                if shared:
                    self.issue(
                        f"overlaps route {other.name!r}: both match {route.pattern.shape} "
                        f"for {', '.join(shared)}",
                        key=f"routes.{route.name}.path",
                    )
                elif route.internal != other.internal:
                    self.issue(
                        f"shares its pattern with route {other.name!r} but not its listener",
                        key=f"routes.{route.name}.internal",
                    )

    # -- steps ----------------------------------------------------------------------------

    def _steps(
        self, backends: Mapping[str, Backend], routes: list[Route], domains: tuple[str, ...]
    ) -> list[Step]:
        steps: list[Step] = []
        seen: set[str] = set()
        for index, spec in enumerate(self.parsed.steps):
            if spec.id in seen:
                self.issue("duplicate step id", key=f"steps[{index}].id", step=spec.id)
                continue
            seen.add(spec.id)
            steps.append(self._step(index, spec, backends, routes, domains))
        return steps

    def _step(
        self,
        index: int,
        spec: StepIn,
        backends: Mapping[str, Backend],
        routes: list[Route],
        domains: tuple[str, ...],
    ) -> Step:
        owners = self._owners(spec, backends, domains)
        if spec.fallback is not None and spec.fallback not in backends:
            self.issue(f"unknown backend {spec.fallback!r}", key="fallback", step=spec.id)
        by_name = {route.name: route for route in routes}
        for name in spec.routes:
            if name not in by_name:
                self.issue(f"unknown route {name!r}", key=f"routes.{name}", step=spec.id)
        targets = {}
        for route in routes:
            target_spec = spec.routes.get(route.name, TargetIn())
            targets[route.name] = self._target(spec, route, target_spec, owners, backends)
        return Step(
            id=spec.id,
            index=index,
            title=spec.title,
            owners=MappingProxyType(owners),
            targets=MappingProxyType(targets),
        )

    def _owners(
        self, spec: StepIn, backends: Mapping[str, Backend], domains: tuple[str, ...]
    ) -> dict[str, str]:
        origin = self.parsed.origin
        for domain in spec.owners:
            if domain not in domains:
                self.issue(f"unknown domain {domain!r}", key=f"owners.{domain}", step=spec.id)
        owners = {}
        for domain in domains:
            owner = spec.owners.get(domain, origin)
            key = f"owners.{domain}" if domain in spec.owners else f"owners.{domain} (default)"
            backend = backends.get(owner)
            if backend is None:
                self.issue(f"unknown backend {owner!r}", key=key, step=spec.id)
            elif domain not in backend.owns:
                self.issue(
                    f"sends the writes of {domain!r} to {owner!r}, which is not declared able "
                    f"to own it (backends.{owner}.owns)",
                    key=key,
                    step=spec.id,
                )
            owners[domain] = owner
        return owners

    def _target(
        self,
        step: StepIn,
        route: Route,
        spec: TargetIn,
        owners: Mapping[str, str],
        backends: Mapping[str, Backend],
    ) -> Target:
        key = f"routes.{route.name}"
        owner = owners[route.domain]

        def known(name: str, subkey: str) -> bool:
            if name in backends:
                return True
            self.issue(f"unknown backend {name!r}", key=f"{key}.{subkey}", step=step.id)
            return False

        if spec.backend is not None and spec.split is not None:
            self.issue("give either 'backend' or 'split', not both", key=key, step=step.id)
        backend = owner
        if spec.backend is not None and known(spec.backend, "backend"):
            backend = spec.backend
            if route.write_methods and backend != owner:
                self.issue(
                    f"sends writes of domain {route.domain!r} "
                    f"({', '.join(route.write_methods)}) to {backend!r}, but the step's "
                    f"write owner of {route.domain!r} is {owner!r}",
                    key=f"{key}.backend",
                    step=step.id,
                )
        split = self._split(step, route, spec, known)
        if spec.sticky is not None and not spec.split:
            self.issue("'sticky' only applies to a split", key=f"{key}.sticky", step=step.id)
        shadow = self._shadow(step, route, spec, backend, known)
        fallback = self._fallback(step, route, spec, backend, split, known)
        return Target(
            route=route.name,
            backend=backend,
            split=split,
            sticky=spec.sticky or "user",
            shadow=shadow,
            fallback=fallback,
        )

    def _split(
        self, step: StepIn, route: Route, spec: TargetIn, known: Known
    ) -> tuple[tuple[str, int], ...]:
        if spec.split is None:
            return ()
        key = f"routes.{route.name}.split"
        if not route.reads_only:
            writes = [m for m in route.methods if m not in ("GET", "HEAD")]
            self.issue(
                f"a write split across backends: route {route.name!r} takes "
                f"{', '.join(writes)}; a split applies to GET/HEAD routes only, writes go to "
                "the domain's write owner",
                key=key,
                step=step.id,
            )
        if len(spec.split) < 2:
            self.issue("a split names at least two backends", key=key, step=step.id)
        for name, weight in spec.split.items():
            known(name, f"split.{name}")
            if not 0 <= weight <= 100:
                self.issue(f"weight {weight} is outside 0..100", key=f"{key}.{name}", step=step.id)
        total = sum(spec.split.values())
        if total != 100:
            self.issue(f"weights sum to {total}, not 100", key=key, step=step.id)
        return tuple(spec.split.items())

    def _shadow(
        self, step: StepIn, route: Route, spec: TargetIn, backend: str, known: Known
    ) -> str | None:
        if spec.shadow is None:
            return None
        key = f"routes.{route.name}.shadow"
        if not route.reads_only:
            self.issue(
                f"a shadow copies GET/HEAD only, but route {route.name!r} takes "
                f"{', '.join(m for m in route.methods if m not in ('GET', 'HEAD'))}",
                key=key,
                step=step.id,
            )
        if spec.split is not None:
            self.issue("a route is either split or shadowed, not both", key=key, step=step.id)
        if spec.shadow == backend:
            self.issue(f"{backend!r} cannot shadow itself", key=key, step=step.id)
        known(spec.shadow, "shadow")
        return spec.shadow

    def _fallback(
        self,
        step: StepIn,
        route: Route,
        spec: TargetIn,
        backend: str,
        split: tuple[tuple[str, int], ...],
        known: Known,
    ) -> str | None:
        explicit = "fallback" in spec.model_fields_set
        # A step's fallback is for clients; a service asking /internal/ must reach the owner.
        fallback = spec.fallback if explicit else (None if route.internal else step.fallback)
        if fallback is None:
            return None
        if not any(m in SAFE_METHODS for m in route.methods):
            if explicit:
                self.issue(
                    f"a fallback retries safe methods only; route {route.name!r} has none",
                    key=f"routes.{route.name}.fallback",
                    step=step.id,
                )
            return None
        if explicit:
            known(fallback, "fallback")
        served = {backend, *(name for name, _ in split)}
        if served == {fallback}:
            if explicit:
                self.issue(
                    f"the fallback is the backend itself ({fallback!r})",
                    key=f"routes.{route.name}.fallback",
                    step=step.id,
                )
            return None
        return fallback


def build_plan(parsed: PlanIn, *, file: str, env: Mapping[str, str]) -> Plan:
    return _Builder(parsed, file=file, env=env).build()
