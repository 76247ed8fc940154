"""Compare DOMAIN's rows on its write owner and on the other backend that keeps it (per-range
checksums computed by each backend, then the differing ids); exit 0 when clean. --repair
rewrites the copy's differing rows from the owner, says what it changed, and compares again.
--copy BACKEND compares another backend that keeps a read copy of DOMAIN (the plan's `copies`).

--json prints one object: {domain, owner, copy, clean, aggregates: [{aggregate, owner_rows,
copy_rows, only_owner, only_copy, different}], repaired: [{aggregate, rewritten, deleted}]}
(ids in lists); it is printed before a difference makes the command fail.
"""

from __future__ import annotations

import argparse

from strangler.errors import StranglerError
from strangler.sync.cli import describe_parity, domain_pair, run_parity
from strangler.sync.parity import repair as repair_copy

from .context import Context
from .output import some_ids

HELP = "compare DOMAIN's rows on its two backends"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("domain")
    parser.add_argument(
        "--repair",
        action="store_true",
        help="rewrite the copy's differing rows from the owner and report what changed",
    )
    parser.add_argument(
        "--copy",
        metavar="BACKEND",
        help="compare this backend's read copy of DOMAIN instead of the one it moves to",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="one JSON object: domain, owner, copy, clean, aggregates, repaired",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    domain = args.domain
    plan, step = ctx.plan_and_step()
    pair = domain_pair(plan, domain=domain, step=step, copy=args.copy)
    results = run_parity(pair)
    repairs = []
    if args.repair and not all(result.clean for result in results):
        repairs = [
            repair_copy(result, owner=pair.owner, copy=pair.copy)
            for result in results
            if not result.clean
        ]
        results = run_parity(pair)
    clean = all(result.clean for result in results)
    if args.as_json:
        ctx.out.json(
            {
                "domain": domain,
                "owner": pair.owner.name,
                "copy": pair.copy.name,
                "clean": clean,
                "aggregates": [
                    {
                        "aggregate": r.aggregate,
                        "owner_rows": r.left_count,
                        "copy_rows": r.right_count,
                        "only_owner": r.only_left,
                        "only_copy": r.only_right,
                        "different": r.different,
                    }
                    for r in results
                ],
                "repaired": [
                    {"aggregate": r.aggregate, "rewritten": r.rewritten, "deleted": r.deleted}
                    for r in repairs
                ],
            }
        )
    else:
        for fixed in repairs:
            ctx.out.line(
                f"repaired {fixed.aggregate} on {pair.copy.name}: rewrote "
                f"{len(fixed.rewritten)} rows from {pair.owner.name} "
                f"({some_ids(fixed.rewritten)}), deleted {len(fixed.deleted)} "
                f"({some_ids(fixed.deleted)})"
            )
        for line in describe_parity(pair, results):
            ctx.out.line(line)
    if not clean:
        raise StranglerError(f"parity of {domain}: {pair.owner.name} and {pair.copy.name} differ")
    if not args.as_json:
        ctx.out.line(f"parity of {domain}: clean")
