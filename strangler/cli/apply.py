"""Flip the running proxy to STEP.

The step is rendered and tested by nginx, the backends it needs must be healthy and the flip
hooks (STRANGLER_FLIP_HOOKS: the shadow report of a step whose shadowed routes move, the
canary analysis when a canary is promoted, backfilled copies in parity, the write-ownership
handover) must agree before anything changes; a refusal says which check failed and leaves
the running step as it was. --dry-run prints the config nginx would get and changes nothing.
"""

from __future__ import annotations

import argparse

from .context import Context

HELP = "flip the running proxy to STEP"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("step")
    parser.add_argument("--dry-run", action="store_true", help="print the config, change nothing")


def run(args: argparse.Namespace, ctx: Context) -> None:
    if args.dry_run:
        rendered = ctx.controller.dry_run(args.step)
        ctx.out.line(rendered.config, ending="")
        return
    outcome = ctx.controller.apply(args.step)
    ctx.out.line(outcome.describe())
