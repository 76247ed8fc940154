"""The shadow report of a running proxy: its shadow log, read through the internal listener."""

from __future__ import annotations

from collections.abc import Sequence

from strangler.plan import Plan, Step
from strangler.proxy.admin import AdminClient

from .report import Entry, Report, step_report

# Every entry the log holds: it is bounded by its size (proxy.shadow_log_size), not by a count.
LOG_LIMIT = 1_000_000


def proxy_report(
    admin: AdminClient, *, plan: Plan, step: Step, routes: Sequence[str] | None = None
) -> Report:
    """The report of `step` over what the proxy's shadow log holds now. Raises ProxyError
    when the log cannot be read, ShadowError when the step shadows none of `routes`."""
    log = admin.shadow_log(limit=LOG_LIMIT)
    entries = [Entry.from_log(raw) for raw in log["entries"]]
    return step_report(plan, step, entries, routes=routes, dropped=int(log.get("dropped") or 0))
