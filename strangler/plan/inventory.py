"""The route inventory: every endpoint of the monolith's URLconf against the plan.

For each endpoint it finds the plan route(s) nginx would pick for it and the backend serving
each at a step; it flags endpoints no route covers and routes that match no endpoint, and
measures how much of the monolith has moved out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from strangler.plan.model import Plan, Route, Step, Target, Unrouted

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")
_SAMPLES = {"int": "1", "id": "1", "slug": "sample", "str": "sample", "path": "a/b"}


@dataclass(frozen=True, slots=True)
class Endpoint:
    pattern: str  # as the URLconf spells it, with a leading slash
    sample: str  # a concrete path it answers
    methods: tuple[str, ...]  # () when the view does not say


@dataclass
class Row:
    """One endpoint, or every endpoint under one `**` route collapsed."""

    label: str
    endpoints: list[Endpoint]
    routes: list[Route] = field(default_factory=list)
    unrouted: Unrouted | None = None
    undeclared: tuple[str, ...] = ()  # methods the view has but no route declares


@dataclass
class Inventory:
    step: Step
    rows: list[Row]
    unmatched_routes: list[Route]

    @property
    def uncovered(self) -> list[Row]:
        return [row for row in self.rows if not row.routes and row.unrouted is None]

    def served_by(self, route: Route) -> str:
        return self.step.targets[route.name].describe()

    def moved(self, origin: str) -> tuple[int, int, int]:
        """(moved, partly moved, total) over routed rows."""
        moved = partly = total = 0
        for row in self.rows:
            if not row.routes:
                continue
            total += 1
            backends = {
                name for route in row.routes for name in _serving(self.step.targets[route.name])
            }
            if origin not in backends:
                moved += 1
            elif backends - {origin}:
                partly += 1
        return moved, partly, total


def _serving(target: Target) -> set[str]:
    names = {name for name, weight in target.split if weight} if target.split else {target.backend}
    return names


def walk_urlconf(urlconf: str | None = None) -> Iterator[Endpoint]:
    """Every endpoint of the URLconf (Django's resolver), with a sample path and methods."""
    from django.urls import URLResolver, get_resolver

    def walk(patterns: Sequence[Any], prefix: str) -> Iterator[Endpoint]:
        for entry in patterns:
            text = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, text)
            else:
                yield Endpoint(
                    pattern="/" + text, sample=sample_path(text), methods=_methods(entry)
                )

    yield from walk(get_resolver(urlconf).url_patterns, "")
    yield from _static_files()


def _static_files() -> Iterator[Endpoint]:
    """Static files are served by middleware (whitenoise), outside the URLconf."""
    from django.conf import settings

    url = getattr(settings, "STATIC_URL", None) or ""
    if url and "://" not in url:
        prefix = "/" + url.strip("/")
        yield Endpoint(
            pattern=f"{prefix}/ (static files)",
            sample=f"{prefix}/sample.css",
            methods=("GET", "HEAD"),
        )


def sample_path(pattern: str) -> str:
    """A concrete path for a URLconf pattern: `api/products/<int:id>` -> `/api/products/1`."""

    def converter(match: re.Match[str]) -> str:
        name = match.group("converter") or "str"
        return str(uuid.UUID(int=1)) if name == "uuid" else _SAMPLES.get(name, "1")

    def group(match: re.Match[str]) -> str:
        body = match.group("body")
        if body in (".*", ".+"):
            return "sample" if body == ".+" else ""
        literal = body.split("|")[0]
        return literal if re.fullmatch(r"[\w.-]+", literal) else "sample"

    # Regex groups first: `(?P<name>...)` would otherwise read as a `<converter>`.
    text = _NAMED_GROUP.sub(group, pattern)
    text = _CONVERTER.sub(converter, text)
    text = text.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + text


def _methods(entry: Any) -> tuple[str, ...]:
    callback = entry.callback
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is None:
        return ()
    actions = getattr(callback, "actions", None)
    if actions:
        names = {method.upper() for method in actions}
    else:
        names = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
    if "GET" in names:
        names.add("HEAD")  # Django's View answers HEAD with its GET handler
    return tuple(m for m in HTTP_METHODS if m in names)


def build_inventory(plan: Plan, step: Step, endpoints: list[Endpoint]) -> Inventory:
    rows: dict[str, Row] = {}
    matched: set[str] = set()
    for endpoint in endpoints:
        routes = plan.match(endpoint.sample, internal=True)
        unrouted = None
        if not routes:
            unrouted = next((u for u in plan.unrouted if u.pattern.matches(endpoint.sample)), None)
        collapse = routes and routes[0].pattern.segments[-1].kind == "rest"
        label = f"{routes[0].pattern.text}" if collapse else endpoint.pattern
        if unrouted is not None:
            label = unrouted.pattern.text
        row = rows.setdefault(
            label, Row(label=label, endpoints=[], routes=routes, unrouted=unrouted)
        )
        row.endpoints.append(endpoint)
        matched.update(route.name for route in routes)
    for row in rows.values():
        declared = {m for route in row.routes for m in route.methods}
        methods = {m for endpoint in row.endpoints for m in endpoint.methods}
        row.undeclared = (
            tuple(m for m in HTTP_METHODS if m in methods - declared) if row.routes else ()
        )
    unmatched = [route for route in plan.routes if route.name not in matched]
    return Inventory(step=step, rows=list(rows.values()), unmatched_routes=unmatched)
