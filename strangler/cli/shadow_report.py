"""Compare the primary's and the shadow's answers to the requests the current step mirrors,
per route: how many were compared, how many differ, the differing rate and the fields that
differ most, each with an example. Noise is left out as Diffy does: the proxy asks the
primary twice, and a field in which its own two answers differ is not compared (in that
entry, and on the whole route once it is noisy in the plan's `gates.shadow.noise_min_share`
of the entries where it appears); the plan's `gates.shadow.ignore` names fields never
compared. A differing status counts as a difference in the field `status`.

Exit 0 only when the report passes: at least `min_compared` answers compared over its routes
together, and on every route at most `max_differing_rate` of them differing (a route with
fewer than `min_compared` compared and none differing is not judged alone). `strangle apply`
of a step that moves or splits a shadowed route requires the same.

--json prints one object (before a failing report makes the command fail):
  step, threshold (max_differing_rate), min_compared, noise_min_share, compared (over every
  route), dropped (copies the proxy refused, too many in flight), passed, and
  routes [{route, compared, differing, differing_rate (null: none compared), passed, reason,
          top_fields [{field, differing, example {request_id, method, uri, path, primary,
                       shadow}}] (a side lacking the field has no key),
          noise [{field, noisy, seen, share}], ignored [field],
          incomplete, truncated, without_secondary}]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from strangler.shadow.compare import ABSENT
from strangler.shadow.errors import ShadowReportFailed
from strangler.shadow.report import Example, Report, RouteReport
from strangler.shadow.source import proxy_report

from .context import Context

HELP = "compare the primary's and the shadow's answers per shadowed route"
VALUE_WIDTH = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--route", action="append", help="only this route (repeatable)")
    parser.add_argument(
        "--top", type=int, default=5, help="differing fields shown per route (default 5)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="one JSON object: step, routes, threshold, min_compared, passed (see above)",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    plan, step = ctx.plan_and_step()
    report = proxy_report(ctx.controller.admin(), plan=plan, step=step, routes=args.route)
    if args.as_json:
        ctx.out.json(as_json(report, top=args.top))
    else:
        print_report(ctx, report, top=args.top)
    if not report.passed:
        raise ShadowReportFailed(report.verdict())
    if not args.as_json:
        ctx.out.line(report.verdict())


def as_json(report: Report, *, top: int) -> dict[str, Any]:
    settings = report.settings
    return {
        "step": report.step,
        "routes": [_route_json(route, top=top) for route in report.routes],
        "threshold": settings.max_differing_rate,
        "min_compared": settings.min_compared,
        "noise_min_share": settings.noise_min_share,
        "compared": report.compared,
        "dropped": report.dropped,
        "passed": report.passed,
    }


def _route_json(route: RouteReport, *, top: int) -> dict[str, Any]:
    return {
        "route": route.route,
        "compared": route.compared,
        "differing": route.differing,
        "differing_rate": route.differing_rate,
        "passed": route.passed,
        "reason": route.reason,
        "top_fields": [
            {"field": f.field, "differing": f.differing, "example": _example_json(f.example)}
            for f in route.fields[:top]
        ],
        "noise": [
            {"field": n.field, "noisy": n.noisy, "seen": n.seen, "share": n.share}
            for n in route.noise
        ],
        "ignored": list(route.ignored),
        "incomplete": route.incomplete,
        "truncated": route.truncated,
        "without_secondary": route.without_secondary,
    }


def _example_json(example: Example) -> dict[str, Any]:
    out = {
        "request_id": example.request_id,
        "method": example.method,
        "uri": example.uri,
        "path": example.path,
    }
    for side in ("primary", "shadow"):
        value = getattr(example, side)
        if value is not ABSENT:
            out[side] = value
    return out


def print_report(ctx: Context, report: Report, *, top: int) -> None:
    line, settings = ctx.out.line, report.settings
    line(
        f"Shadow report of step {report.step}: at most {settings.max_differing_rate:.1%} "
        f"differing per route, of at least {settings.min_compared} compared in all "
        f"({report.compared} compared)"
        + (f" ({report.dropped} copies dropped by the proxy)" if report.dropped else "")
    )
    rows = [
        [
            route.route,
            str(route.compared),
            str(route.differing),
            "-" if route.differing_rate is None else f"{route.differing_rate:.1%}",
            _verdict(route),
        ]
        for route in report.routes
    ]
    ctx.out.table(["ROUTE", "COMPARED", "DIFFERING", "RATE", "VERDICT"], rows, right=(1, 2, 3))
    for route in report.routes:
        details = _details(route, top=top)
        if details:
            line(f"{route.route}:")
            for detail in details:
                line(f"  {detail}")


def _verdict(route: RouteReport) -> str:
    if not route.passed:
        return f"FAIL: {route.reason}"
    # A route passing with a reason was not judged alone (too few compared): "pass" would
    # claim it was.
    return route.reason or "pass"


def _details(route: RouteReport, *, top: int) -> list[str]:
    details = []
    for field in route.fields[:top]:
        example = field.example
        details.append(
            f"{field.field}: {field.differing} differ; e.g. {example.method} {example.uri} "
            f"(request {example.request_id}) at {example.path}: "
            f"{_shown(example.primary)} (primary) vs {_shown(example.shadow)} (shadow)"
        )
    if len(route.fields) > top:
        details.append(f"... and {len(route.fields) - top} more fields (--top)")
    if route.noise:
        noise = ", ".join(f"{n.field} ({n.noisy} of {n.seen})" for n in route.noise)
        details.append(f"noise, the primary differing from itself: {noise}")
    if route.ignored:
        details.append(f"ignored by the plan: {', '.join(route.ignored)}")
    if route.incomplete or route.truncated:
        details.append(
            f"not compared: {route.incomplete} incomplete (in flight or evicted), "
            f"{route.truncated} too large (proxy.shadow_body_limit)"
        )
    return details


def _shown(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."
