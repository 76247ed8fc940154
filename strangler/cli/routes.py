"""The monolith's endpoints (its URLconf) against the plan at the recorded step: the route
nginx picks for each and who serves it, flags for endpoints no route covers, methods no
route declares and routes that match no endpoint, and how much has moved out.

Needs the project's settings (DJANGO_SETTINGS_MODULE, --settings, or `./manage.py strangle
routes`).

--json prints one object with the keys:
  step, plan   the step's id and the plan's file
  endpoints    [{endpoint, patterns, methods, routes: [{route, methods, served_by}],
               unrouted, undeclared}]: one row per endpoint, or per `**` route with every
               endpoint under it (patterns); unrouted is the plan's reason or null;
               undeclared the view's methods no route declares
  flags        [strings]: what the text lists under "Flags:"
  moved        {origin, moved, partly, total, percent}: endpoints moved out of the origin,
               partly moved (a canary), and all routed ones
"""

from __future__ import annotations

import argparse

from strangler.plan.inventory import Inventory, build_inventory, walk_urlconf

from .context import Context

HELP = "the monolith's endpoints against the plan"
NEEDS_PROJECT = True  # the monolith's URLconf


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="one JSON object: step, plan, endpoints, flags, moved",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    plan, step = ctx.plan_and_step()
    inventory = build_inventory(plan, step, list(walk_urlconf()))
    moved, partly, total = inventory.moved(plan.origin)
    share = 100 * moved / total if total else 0.0
    if args.as_json:
        ctx.out.json(
            {
                "step": step.id,
                "plan": plan.source,
                "endpoints": [
                    {
                        "endpoint": row.label,
                        "patterns": [endpoint.pattern for endpoint in row.endpoints],
                        "methods": sorted({m for e in row.endpoints for m in e.methods}),
                        "routes": [
                            {
                                "route": route.name,
                                "methods": list(route.methods),
                                "served_by": inventory.served_by(route),
                            }
                            for route in row.routes
                        ],
                        "unrouted": row.unrouted.reason if row.unrouted else None,
                        "undeclared": list(row.undeclared),
                    }
                    for row in inventory.rows
                ],
                "flags": flags(inventory),
                "moved": {
                    "origin": plan.origin,
                    "moved": moved,
                    "partly": partly,
                    "total": total,
                    "percent": round(share, 1),
                },
            }
        )
        return
    ctx.out.line(f"The monolith's endpoints at step {step.id} ({plan.source})")
    rows = []
    for row in inventory.rows:
        label = row.label
        if len(row.endpoints) > 1:
            label += f" ({len(row.endpoints)} endpoints)"
        if row.unrouted is not None:
            rows.append([label, "*", "(unrouted)", row.unrouted.reason])
        elif not row.routes:
            rows.append([label, ",".join(row.endpoints[0].methods) or "*", "-", "NO ROUTE"])
        for index, route in enumerate(row.routes):
            rows.append(
                [
                    label if index == 0 else "",
                    ",".join(route.methods),
                    route.name,
                    inventory.served_by(route),
                ]
            )
    ctx.out.table(["ENDPOINT", "METHODS", "ROUTE", "SERVED BY"], rows)
    listed = flags(inventory)
    if listed:
        ctx.out.line("Flags:")
        for flag in listed:
            ctx.out.line(f"  ! {flag}")
    ctx.out.line(
        f"Moved out of the {plan.origin}: {moved} of {total} endpoints ({share:.0f}%)"
        + (f", {partly} more partly (canary)" if partly else "")
    )


def flags(inventory: Inventory) -> list[str]:
    found = [f"{row.label}: no plan route matches it" for row in inventory.uncovered]
    found += [
        f"{row.label}: {', '.join(row.undeclared)} not in the plan (goes to the write owner)"
        for row in inventory.rows
        if row.undeclared
    ]
    found += [
        f"route {route.name} ({route.pattern}): matches no endpoint of the monolith"
        for route in inventory.unmatched_routes
    ]
    return found
