"""Wait until the proxy's probe answers with the recorded step (any step before the first
apply); fail after --timeout seconds."""

from __future__ import annotations

import argparse
import time

from strangler.errors import StranglerError

from .context import Context

HELP = "wait until the proxy serves the recorded step"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=30.0)


def run(args: argparse.Namespace, ctx: Context) -> None:
    controller = ctx.controller
    state = controller.state()
    admin = controller.admin()
    deadline = time.monotonic() + args.timeout
    while (live := admin.live()) is None or (state.step and live.step != state.step):
        if time.monotonic() > deadline:
            seen = f"serves {live.step}" if live else "does not answer"
            raise StranglerError(
                f"the proxy at {controller.site.options.internal_url} {seen} after "
                f"{args.timeout:g} s (expected step {state.step})"
            )
        time.sleep(0.2)
    ctx.out.line(f"proxy {controller.site.options.public_url} serves step {live.step}")
