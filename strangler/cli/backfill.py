"""Copy DOMAIN's rows from its current write owner to the backend it moves to (or from), in
batches, resuming from a checkpoint (var/strangler/backfill-<domain>-<backend>.json); progress
bars go to stderr. Ids above the copied ones are kept free (--id-gap) for the copy's own writes.
--copy BACKEND fills another backend that keeps a read copy of DOMAIN (the plan's `copies`)
instead: rows its own data refers to that live sync never brought (they predate it)."""

from __future__ import annotations

import argparse
import sys

from strangler.errors import StranglerError
from strangler.sync.cli import domain_pair, run_backfill
from strangler.sync.payloads import MAX_ROWS

from .context import Context

HELP = "copy DOMAIN's rows from its owner to the backend it moves to"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain")
    parser.add_argument("--batch", type=int, default=10_000, help="rows per call")
    parser.add_argument(
        "--id-gap", type=int, default=1000, help="ids kept free above the copied ones"
    )
    parser.add_argument(
        "--copy",
        metavar="BACKEND",
        help="fill this backend's read copy of DOMAIN instead of the one it moves to",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    if not 1 <= args.batch <= MAX_ROWS or args.id_gap < 0:
        raise StranglerError(f"--batch must be 1 to {MAX_ROWS} and --id-gap zero or more")
    plan, step = ctx.plan_and_step()
    pair = domain_pair(plan, domain=args.domain, step=step, copy=args.copy)
    ctx.out.line(f"Backfilling {args.domain}: {pair.owner.name} -> {pair.copy.name}")
    result = run_backfill(
        pair,
        checkpoint_dir=ctx.site.state_dir,
        batch=args.batch,
        id_gap=args.id_gap,
        out=sys.stderr,
    )
    for aggregate, copied in result.copied.items():
        next_id = result.sequences.get(aggregate, 0) + 1
        ctx.out.line(f"  {aggregate}: {copied} rows copied; new ids start at {next_id}")
