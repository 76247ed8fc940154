"""The proxy's shadow log: the latest mirrored requests with their answers (the primary's, the
shadow's and the primary's second one, `secondary`), one JSON object a line, after a count of
entries shown, in flight and dropped. `strangle shadow-report` compares them; --clear empties
the log first."""

from __future__ import annotations

import argparse
import json

from .context import Context

HELP = "the shadow log: mirrored requests and answers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument(
        "--clear",
        action="store_true",
        help="empty the log first, so that the shadow report judges new answers only "
        "(after a fix in the shadow backend)",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    admin = ctx.controller.admin()
    if args.clear:
        admin.clear_shadow_log()
        ctx.out.line("shadow log cleared")
    data = admin.shadow_log(limit=args.limit)
    ctx.out.line(
        f"{data['count']} entries shown, {data['inflight']} in flight, {data['dropped']} dropped"
    )
    for entry in data["entries"]:
        ctx.out.line(json.dumps(entry, sort_keys=True))
