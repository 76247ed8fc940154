"""The flip hook that holds a step leaving a shadow step until the shadow report passes:
`strangle apply 3-catalog-canary` is refused while the catalog's answers, compared at
`2-catalog-shadow`, differ from the monolith's beyond the plan's `gates.shadow`."""

from __future__ import annotations

from strangler.plan import Plan, Step
from strangler.proxy.admin import AdminClient
from strangler.proxy.site import Site

from .errors import ShadowReportFailed
from .report import shadowed
from .source import proxy_report


def gated_routes(current: Step, target: Step) -> tuple[str, ...]:
    """The routes `current` shadows that `target` has served, wholly or in part, by another
    backend than `current`'s primary: what the shadow comparison vouches for."""
    moved = []
    for name, now in shadowed(current).items():
        then = target.targets[name]
        serving = {then.backend, *(backend for backend, weight in then.split if weight)}
        if serving != {now.backend}:
            moved.append(name)
    return tuple(moved)


class ShadowGate:
    """strangler.proxy.control.FlipHook: refuses a flip that moves or splits a route the
    current step shadows while the current step's report of those routes fails. Any other
    flip (a rollback, a step after a step that shadows nothing) goes through untouched."""

    def __init__(self, site: Site | None = None) -> None:
        # None: the site the environment describes, found when a flip needs it.
        self.site = site

    def before_flip(self, *, plan: Plan, current: Step | None, target: Step) -> None:
        routes = gated_routes(current, target) if current else ()
        if current is None or not routes:
            return
        admin = AdminClient.for_site(self.site or Site.from_env())
        try:
            report = proxy_report(admin, plan=plan, step=current, routes=routes)
        finally:
            admin.close()
        if not report.passed:
            raise ShadowReportFailed(f"{report.verdict()} (`strangle shadow-report` shows why)")

    def after_flip(self, *, plan: Plan, current: Step | None, target: Step) -> None:
        """Nothing to do: the gate only refuses."""

    def flip_abandoned(self, *, plan: Plan, current: Step | None, target: Step) -> None:
        """Nothing to undo: before_flip changes nothing."""
