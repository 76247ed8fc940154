"""render(plan, step) -> the nginx config of that step. Pure: same input, same text.

The config has two halves. The structure (listeners, upstream groups, one location per path
pattern, error pages, logs, the Lua runtime) depends on the plan and the options only, so every
step of a plan shares it and its hash. The step table (which backend serves each route) is the
only part that differs between steps; a running nginx takes a new one without a reload.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from strangler.plan import READ_METHODS, Backend, Plan, Route, Step
from strangler.plan.hosts import is_host
from strangler.plan.patterns import by_specificity
from strangler.proxy import assets
from strangler.proxy.errors import ProxyError
from strangler.proxy.options import RenderOptions
from strangler.proxy.tables import StepTable, step_table

# Passive ejection: a server that failed once (refused or broke a connection, timed out, or
# answered 502-504: proxy_next_upstream's conditions) gets no request for FAIL_TIMEOUT, then
# one that probes it. nginx ignores it for a group's only server.
MAX_FAILS = 1
FAIL_TIMEOUT = "10s"
# The proxy's metrics (strangler/metrics.lua): counts per minute are kept this long, so
# `strangle status` and the canary analysis can read any window up to it.
METRICS_WINDOW_MINUTES = 60
METRICS_DICT_SIZE = "16m"
# Room for the chunk that crosses client_max_body_size, so even that is refused from memory.
BODY_SLACK = 256 * 1024

# Every error nginx produces itself answers JSON, in DRF's {"detail": ...} shape.
ERRORS = (
    (400, "Bad request."),
    (404, "Not found."),
    (405, "Method not allowed."),
    (408, "Request timeout."),
    (413, "Request body too large."),
    (414, "Request URI too long."),
    (429, "Too many requests: slow down and retry later."),
    (431, "Request headers too large."),
    (494, "Request headers too large."),
    (500, "Internal proxy error."),
    (503, "Service unavailable: the backend for this route is unavailable."),
    (504, "Gateway timeout: the backend for this route did not answer in time."),
)
# nginx answers 502 when it cannot reach the backend or the backend breaks the connection (it
# crashed, it restarts). To a client that is what a backend's own 503 says (its database is
# unreachable, a handover outlasted its wait): unavailable for now, retry. So it gets the same
# answer, a 503 (with Retry-After, see strangler.lua), whichever layer noticed.
ANSWERED_AS = {502: 503}

# Raised while the request line or headers are parsed, before any location is chosen.
EARLY_ERRORS = frozenset({400, 414, 431, 494})

_PLACEHOLDERS = {
    "structure_hash": "@@strangler:structure@@",
    "table_hash": "@@strangler:table-hash@@",
    "table_text": "@@strangler:table@@",
    "step_id": "@@strangler:step@@",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    config: str
    skeleton: str
    structure_hash: str
    table: StepTable

    @property
    def step(self) -> str:
        return self.table.step


def render(plan: Plan, step: Step | str, options: RenderOptions | None = None) -> str:
    """The complete nginx config serving `plan` at `step`."""
    return render_parts(plan, step, options).config


def render_parts(plan: Plan, step: Step | str, options: RenderOptions | None = None) -> Rendered:
    step = plan.step(step) if isinstance(step, str) else step
    options = options or RenderOptions()
    skeleton = (
        _environment()
        .get_template("nginx.conf.j2")
        .render(**_structure(plan, options), **_PLACEHOLDERS)
    )
    structure_hash = _structure_hash(skeleton)
    table = step_table(plan, step)
    values = {
        "structure_hash": structure_hash,
        "table_hash": table.hash,
        "table_text": table.text,
        "step_id": step.id,
    }
    config = skeleton
    for name, placeholder in _PLACEHOLDERS.items():
        config = config.replace(placeholder, values[name])
    return Rendered(config=config, skeleton=skeleton, structure_hash=structure_hash, table=table)


def _structure_hash(skeleton: str) -> str:
    digest = hashlib.sha256(skeleton.encode())
    for path, text in assets.lua_sources():
        digest.update(f"\0{path}\0{text}".encode())
    return digest.hexdigest()[:16]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(assets.PACKAGE, assets.TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # nginx config, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _structure(plan: Plan, options: RenderOptions) -> dict[str, Any]:
    locations = _locations(plan)
    public = [location for location in locations if not location["internal"]]
    backends = [_checked(backend) for backend in plan.backends.values()]
    upstreams = _upstreams(plan)
    return {
        "plan_name": Path(plan.source).name,
        "plan": plan,
        "proxy": plan.proxy,
        "options": options,
        "shadow_timeout_ms": _milliseconds(plan.proxy.shadow_timeout),
        "metrics_window_minutes": METRICS_WINDOW_MINUTES,
        "metrics_dict_size": METRICS_DICT_SIZE,
        "body_buffer_size": f"{(_bytes(plan.proxy.max_body_size) + BODY_SLACK) // 1024}k",
        "backends": backends,
        "upstreams": upstreams,
        # A request may try every server of its group once (each instance, then the fallback's).
        "next_upstream_tries": max(len(upstream["servers"]) for upstream in upstreams),
        "locations": locations,
        "mirrors": any(location["mirrored"] for location in locations),
        "rate_limited": [route for route in plan.routes if route.rate_limit],
        "errors": [
            {
                "status": status,
                "codes": [
                    *(code for code, answer in ANSWERED_AS.items() if answer == status),
                    status,
                ],
                "body": _error_body(text),
                "early": status in EARLY_ERRORS,
            }
            for status, text in ERRORS
        ],
        "servers": [
            {
                "name": "public",
                "comment": "Public listener: the shop's URL. /internal/ and /__strangler/ are 404.",
                "listen": options.public_listen,
                "internal": False,
                "locations": public,
            },
            {
                "name": "internal",
                "comment": "Internal listener: service-to-service (/internal/) and the admin API.",
                "listen": options.internal_listen,
                "internal": True,
                "locations": locations,
            },
        ],
    }


def _checked(backend: Backend) -> Backend:
    """A backend whose address is safe to write into nginx.conf and the Lua init block.

    strangler.plan refuses bad URLs when it loads a plan; this guards any other way a Plan
    was made, since an address ending the `server` directive would add directives of its own."""
    for address in backend.addresses:
        host, _, port = address.rpartition(":")
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not (is_host(bare) and port.isdigit() and 0 < int(port) < 65536):
            raise ProxyError(f"backend {backend.name}: unsafe address {address!r}")
    return backend


def _upstreams(plan: Plan) -> list[dict[str, Any]]:
    """One group per backend (its instances), plus backend-then-fallback groups for every
    fallback the plan names, so that any step of the plan runs on the same structure."""
    groups = [
        {"name": b.name, "members": [b.name], "servers": _servers(b)}
        for b in plan.backends.values()
    ]
    fallbacks = dict.fromkeys(
        target.fallback
        for step in plan.steps
        for target in step.targets.values()
        if target.fallback
    )
    for fallback in fallbacks:
        for backend in plan.backends.values():
            if backend.name == fallback:
                continue
            groups.append(
                {
                    "name": f"{backend.name}__fallback__{fallback}",
                    "members": [backend.name, fallback],
                    "servers": [
                        *_servers(backend),
                        *(f"{address} backup" for address in plan.backends[fallback].addresses),
                    ],
                }
            )
    return groups


def _servers(backend: Backend) -> list[str]:
    return [
        f"{address} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT}"
        for address in backend.addresses
    ]


def _locations(plan: Plan) -> list[dict[str, Any]]:
    by_shape: dict[str, list[Route]] = {}
    for route in plan.routes:
        by_shape.setdefault(route.pattern.shape, []).append(route)
    shadowed = {
        target.route for step in plan.steps for target in step.targets.values() if target.shadow
    }
    # nginx tries `=` locations before any regex whatever their order; listing them first
    # makes the file read the way nginx matches.
    ordered = by_specificity([routes[0].pattern for routes in by_shape.values()])
    patterns = [p for p in ordered if p.is_exact] + [p for p in ordered if not p.is_exact]
    locations = []
    for index, pattern in enumerate(patterns, start=1):
        routes = by_shape[pattern.shape]
        readers = [route for route in routes if "GET" in route.methods]
        limits = [(route.name, route.rate_limit) for route in routes if route.rate_limit]
        locations.append(
            {
                "id": index,
                "pattern": pattern.text,
                "modifier": "=" if pattern.is_exact else "~",
                "match": pattern.text if pattern.is_exact else pattern.regex,
                "internal": routes[0].internal,
                "methods": [(m, route.name) for route in routes for m in route.methods],
                "domains": [(route.name, route.domain) for route in routes],
                "default": (readers or routes)[0].name,
                "mirrored": any(
                    route.name in shadowed and set(route.methods) <= READ_METHODS
                    for route in routes
                ),
                "rate_limit": (
                    {"name": limits[0][0], "burst": limits[0][1].burst} if limits else None
                ),
            }
        )
    return locations


def _error_body(text: str) -> str:
    # Inside a single-quoted nginx string `$` would start a variable and `'` end the string.
    if re.search(r"['$\\]", text):
        raise ValueError(f"unsafe character in error text: {text!r}")
    return '{"detail":"' + text + '"}'


def _bytes(size: str) -> int:
    number, unit = _parts(r"([0-9]+)([km]?)", size)
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def _milliseconds(duration: str) -> int:
    number, unit = _parts(r"([0-9]+)(ms|s|m)", duration)
    return int(number) * {"ms": 1, "s": 1000, "m": 60_000}[unit]


def _parts(pattern: str, text: str) -> tuple[str, str]:
    """(number, unit) of a size or duration the plan's schema already checked."""
    match = re.fullmatch(pattern, text)
    if match is None:
        raise ValueError(f"not a plan size or duration: {text!r}")
    return match.group(1), match.group(2)
