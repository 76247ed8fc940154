"""Back to the step before the last apply, with the same checks as apply.

--force: when the domain's current owner is down, move its writes back without it; the
writes it accepted since the flip that may be lost are named and recorded
(var/strangler/forced-<domain>-<time>.json).
"""

from __future__ import annotations

import argparse

from strangler.proxy.control import ForcibleHook

from .context import Context

HELP = "back to the step before the last apply"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="even when the domain's current owner is down: names and records the writes "
        "since the flip that may be lost",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    controller = ctx.controller
    if args.force:
        for hook in controller.hooks:
            if isinstance(hook, ForcibleHook):
                hook.force(journal_dir=controller.site.state_dir)
    outcome = controller.rollback()
    ctx.out.line(f"rolled back: {outcome.describe()}")
