"""What would change going from the recorded step to STEP: write owners and routes, and the
backends the target step needs that the current one does not (they must be healthy).

--json prints one object: {from, to, changes, newly_needed}, where changes are the lines
the text shows ("owner of catalog: monolith -> catalog", "route products-create: ...") and
newly_needed the backends' names.
"""

from __future__ import annotations

import argparse

from strangler.plan.diff import diff_steps, newly_needed

from .context import Context, find_step

HELP = "what would change going to STEP"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("step")
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="one JSON object: from, to, changes (strings), newly_needed",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    plan, current = ctx.plan_and_step()
    target = find_step(plan, args.step)
    changes = diff_steps(plan, current, target)
    needed = newly_needed(current, target) if changes else ()
    if args.as_json:
        ctx.out.json(
            {
                "from": current.id,
                "to": target.id,
                "changes": [str(change) for change in changes],
                "newly_needed": list(needed),
            }
        )
        return
    if not changes:
        ctx.out.line(f"{current.id} -> {target.id}: nothing changes")
        return
    ctx.out.line(f"{current.id} -> {target.id}: {len(changes)} change(s)")
    for change in changes:
        ctx.out.line(f"  {change}")
    if needed:
        ctx.out.line(f"  newly needed backends (must be healthy): {', '.join(needed)}")
