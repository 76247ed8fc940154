"""What every subcommand gets: where to print, and the Controller of this machine's proxy."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.utils.module_loading import import_string

from strangler.conf import strangler_settings
from strangler.gates.verdict import Verdicts
from strangler.plan import Plan, Step
from strangler.proxy import ProxyError
from strangler.proxy.control import Controller, FlipHook
from strangler.proxy.site import Site

from .output import Output


@dataclass
class Context:
    out: Output = field(default_factory=Output)
    verbosity: int = 1
    # Django configured by the console script itself (no DJANGO_SETTINGS_MODULE): the
    # framework's settings only, no project and no URLconf.
    standalone: bool = False

    @cached_property
    def controller(self) -> Controller:
        """The proxy of the site the environment describes (Site.from_env), gated by the
        can-flip verdict, with the flip hooks of STRANGLER_FLIP_HOOKS; at verbosity 2 and more
        it reports each stage."""
        log = self.progress if self.verbosity > 1 else None
        site = Site.from_env()
        return Controller(site, log=log, hooks=flip_hooks(), gate=Verdicts(site))

    @property
    def site(self) -> Site:
        return self.controller.site

    def progress(self, message: str) -> None:
        self.out.line(f"  {message}")

    def plan_and_step(self) -> tuple[Plan, Step]:
        """The plan, and the step the state file records (the plan's first when none is)."""
        plan = self.controller.plan()
        state = self.controller.state()
        return plan, current_step(plan, state.step)


def current_step(plan: Plan, recorded: str | None) -> Step:
    return plan.step(recorded) if recorded in plan.step_ids else plan.steps[0]


def find_step(plan: Plan, step_id: str) -> Step:
    """The plan's step `step_id`; an unknown one is a ProxyError naming the plan's steps."""
    try:
        return plan.step(step_id)
    except KeyError as error:
        raise ProxyError(error.args[0]) from None


def flip_hooks() -> tuple[FlipHook, ...]:
    """Hooks named in STRANGLER_FLIP_HOOKS (dotted paths to classes or factories)."""
    return tuple(import_string(path)() for path in strangler_settings.FLIP_HOOKS)
