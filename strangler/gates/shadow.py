"""The shadow gate: a step that moves or splits a route the current step shadows is held while
the current step's shadow report of those routes fails (the plan's `gates.shadow`)."""

from __future__ import annotations

from collections.abc import Iterator

from strangler.proxy.admin import AdminClient
from strangler.shadow.gate import gated_routes
from strangler.shadow.source import proxy_report

from .move import Check, Move


def check(move: Move) -> Iterator[Check]:
    routes = gated_routes(move.current, move.target)
    if not routes:
        return
    admin = AdminClient.for_site(move.site)
    try:
        report = proxy_report(admin, plan=move.plan, step=move.current, routes=routes)
    finally:
        admin.close()
    detail = report.verdict()
    if not report.passed:
        detail += " (`strangle shadow-report` shows why)"
    yield Check("shadow", report.passed, detail)
