"""The can-flip verdict of the next step (or --target STEP), then the current step, the proxy,
the backends' health, the write owners, the sync lag and each route with its traffic.

--json prints one object with the keys:
  next       null at the plan's last step, else the verdict of moving to the next step (or
             --target): {step, can_flip, reasons, direction, checks}; reasons are the failing
             checks, one line each ("gate: detail"); checks [{gate, ok, detail}] every check
             made (gates: health, backfill, parity, sync-lag, shadow, canary, contract; see
             strangler.gates.verdict); `strangle apply` refuses exactly when can_flip is false
  step       {id, number, of, title, recorded}: number counts from 1; recorded is false
             before the first apply (the plan's first step is shown)
  proxy      {running, pid, prefix, public_url, live, matches}: live is {step, table} as the
             proxy's probe answers (null when it does not), matches whether it is the step
  backends   [{backend, url, healthy, detail}]
  owners     {domain: write owner at the step}
  ownership  [{domain, expected, seen: {backend: {owner, state} or null}, verdict}]
  sync_lag   [{backend, pending, oldest_seconds, compensations, error}]: compensations is
             {pending, failing, oldest_seconds}: undos of remote calls not yet run (a
             checkout that died between reserving stock and ordering)
  traffic    {minutes, metrics}: the window the routes' traffic covers (whole minutes, the
             current one included), and the proxy's metrics it comes from
  routes     [{route, methods, backend, served_by, fallback, owner, traffic, via, split}]:
             backend is the primary one; traffic is {requests, errors, error_rate, p99_ms}
             (null: none seen), via {backend: traffic} per backend that answered; split, for
             a route whose reads this step splits, [{backend, weight, traffic}] per backend
             the split chose at this step, its errors being the 5xx it answered and the
             reads the fallback answered for it (empty for other routes)
  canary     null unless the next step promotes a canary of this step's split routes, else
             {step, next, minutes, passed, summary, reasons}: the canary analysis that
             `apply NEXT` runs (over the plan's gates.canary.window_minutes); summary is
             "passes" or the first reason to refuse, reasons lists every one
"""

from __future__ import annotations

import argparse

from strangler.gates.move import Facts
from strangler.gates.verdict import Verdicts
from strangler.plan import Plan, Step
from strangler.proxy.traffic import Traffic, summarise, summarise_split
from strangler.sync.cli import ownership_report

from .context import Context, current_step, find_step

HELP = "whether the next step can flip; the current step, routes, health and traffic"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=5.0, help="traffic window")
    parser.add_argument(
        "--target", metavar="STEP", help="judge moving to STEP instead of the next step"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        dest="as_json",
        help="one JSON object (next, step, proxy, backends, owners, ownership, sync_lag, "
        "traffic, routes, canary: see above)",
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    data = collect(ctx, minutes=args.minutes, judged=args.target)
    if args.as_json:
        ctx.out.json(data)
    else:
        print_status(ctx, data)


def collect(ctx: Context, *, minutes: float, judged: str | None = None) -> dict:
    site, controller = ctx.site, ctx.controller
    plan = controller.plan()
    state = controller.state()
    step = current_step(plan, state.step)
    facts = Facts(site, plan)
    following = _following(plan, step, judged)
    pid = controller.nginx.pid()
    admin = controller.admin()
    live = admin.live() if pid is not None else None
    text = (admin.metrics(minutes=minutes) if pid is not None else None) or ""
    traffic = summarise(text)
    split = summarise_split(text, step=step.id)
    routes = []
    for route in plan.routes:
        target = step.targets[route.name]
        backends = sorted(b for r, b in traffic if r == route.name and b != "*")
        routes.append(
            {
                "route": route.name,
                "methods": list(route.methods),
                "backend": target.backend,
                "served_by": target.describe().split(", fallback")[0],
                "fallback": target.fallback,
                "owner": step.owners[route.domain],
                "traffic": _traffic(traffic.get((route.name, "*"))),
                "via": {b: _traffic(traffic[(route.name, b)]) for b in backends},
                "split": [
                    {"backend": b, "weight": w, "traffic": _traffic(split.get((route.name, b)))}
                    for b, w in target.split
                ],
            }
        )
    return {
        "next": (
            Verdicts(site)
            .verdict(
                plan=plan,
                current=plan.step(state.step) if state.step in plan.step_ids else None,
                target=following,
                facts=facts,
            )
            .as_json()
            if following
            else None
        ),
        "step": {
            "id": step.id,
            "number": step.index + 1,
            "of": len(plan.steps),
            "title": step.title,
            "recorded": bool(state.step),
        },
        "proxy": {
            "running": pid is not None,
            "pid": pid,
            "prefix": str(site.prefix),
            "public_url": site.options.public_url,
            "live": {"step": live.step, "table": live.table} if live else None,
            "matches": bool(live and live.step == step.id),
        },
        "backends": [
            {"backend": r.backend, "url": r.url, "healthy": r.ok, "detail": r.detail}
            for r in facts.health(plan.backends)
        ],
        "owners": dict(step.owners),
        "ownership": [
            {
                **row,
                "seen": {
                    name: {"owner": view[0], "state": view[1]} if view else None
                    for name, view in row["seen"].items()
                },
            }
            for row in ownership_report(plan, step)
        ],
        "sync_lag": list(facts.sync_lag.values()),
        "traffic": {"minutes": minutes, "metrics": admin.metrics_url(minutes=minutes)},
        "routes": routes,
        "canary": _canary(facts, step, following),
    }


def _following(plan: Plan, step: Step, target: str | None) -> Step | None:
    """The step judged: --target, else the next one (None after the last)."""
    if target is not None:
        return find_step(plan, target)
    return plan.steps[step.index + 1] if step.index + 1 < len(plan.steps) else None


def _canary(facts: Facts, step: Step, following: Step | None) -> dict | None:
    """What the canary analysis says of the judged step, when that step promotes a canary."""
    if following is None:
        return None
    analysis = facts.canary(step, following)
    if not analysis.promotions:
        return None
    return {
        "step": analysis.step,
        "next": analysis.target,
        "minutes": analysis.minutes,
        "passed": analysis.passed,
        "summary": analysis.summary(),
        "reasons": list(analysis.reasons),
    }


def print_verdict(ctx: Context, verdict: dict | None) -> None:
    """The verdict in words: whether the judged step can flip, and every reason it cannot."""
    line = ctx.out.line
    if verdict is None:
        line("Next step: none (the plan's last step is current)")
        return
    if verdict["can_flip"]:
        gates = ", ".join(dict.fromkeys(check["gate"] for check in verdict["checks"]))
        line(f"Next step {verdict['step']}: CAN FLIP ({gates or 'nothing to check'}: ok)")
        return
    count = len(verdict["reasons"])
    line(f"Next step {verdict['step']}: CANNOT FLIP ({count} reason{'s' * (count > 1)})")
    for reason in verdict["reasons"]:
        line(f"  - {reason}")


def print_status(ctx: Context, data: dict) -> None:
    line = ctx.out.line
    print_verdict(ctx, data["next"])
    step, proxy = data["step"], data["proxy"]
    recorded = "" if step["recorded"] else " (nothing applied yet: the first step)"
    line(f"Step {step['id']} ({step['number']} of {step['of']}){recorded}")
    line(f"  {step['title']}")
    if not proxy["running"]:
        line(f"Proxy: not running (prefix {proxy['prefix']})")
    else:
        live = proxy["live"]
        seen = (
            f"live step {live['step']} (table {live['table']})" if live else "probe not answering"
        )
        mismatch = "" if proxy["matches"] else "  << differs from the record"
        line(f"Proxy: nginx pid {proxy['pid']}, {proxy['public_url']}, {seen}{mismatch}")
    line("Backends:")
    for result in data["backends"]:
        word = "healthy" if result["healthy"] else "DOWN"
        line(f"  {result['backend']:<10} {result['url']:<36} {word} ({result['detail']})")
    line(f"Write owners: {', '.join(f'{d}={o}' for d, o in data['owners'].items())}")
    for row in data["ownership"]:
        seen = ", ".join(
            f"{name} says {view['owner']} ({view['state']})" if view else f"{name} unreachable"
            for name, view in row["seen"].items()
        )
        line(f"  {row['domain']}: {seen}: {row['verdict']}")
    line("Sync lag (unsent outbox events per backend):")
    for lag in data["sync_lag"]:
        if lag["error"]:
            line(f"  {lag['backend']:<10} unknown ({lag['error']})")
        elif lag["pending"]:
            line(
                f"  {lag['backend']:<10} {lag['pending']} pending, "
                f"oldest {lag['oldest_seconds']:.1f}s"
            )
        else:
            line(f"  {lag['backend']:<10} drained")
        undos = lag["compensations"]
        if undos and undos["pending"]:
            line(
                f"  {'':<10} {undos['pending']} compensations to run ({undos['failing']} "
                f"failing, oldest {undos['oldest_seconds']:.1f}s): remote calls whose local "
                "write never came, undone by the sweeper (Celery beat)"
            )
    window = data["traffic"]
    line(f"Routes (traffic of the last {window['minutes']:g} min from {window['metrics']}):")
    rows = []
    for route in data["routes"]:
        rows.append(
            [
                route["route"],
                ",".join(route["methods"]),
                route["served_by"],
                route["fallback"] or "-",
                route["owner"],
                *_columns(route["traffic"]),
            ]
        )
        via = route["via"]
        if route["split"]:
            # Per backend the split chose: the figures the canary analysis compares.
            for member in route["split"]:
                name = f"  split {member['backend']} {member['weight']}%"
                rows.append(["", "", name, "", "", *_columns(member["traffic"])])
        elif len(via) > 1 or (via and next(iter(via)) != route["backend"]):
            for backend, traffic in via.items():
                rows.append(["", "", f"  via {backend}", "", "", *_columns(traffic)])
    headers = ["ROUTE", "METHODS", "SERVED BY", "FALLBACK", "OWNER", "REQS", "5XX", "P99"]
    ctx.out.table(headers, rows, right=(5, 6, 7))
    canary = data["canary"]
    if canary:
        line(
            f"Canary analysis for {canary['next']} (last {canary['minutes']:g} min at "
            f"{canary['step']}): {canary['summary']}"
        )


def _traffic(traffic: Traffic | None) -> dict | None:
    if traffic is None:
        return None
    return {
        "requests": traffic.requests,
        "errors": traffic.errors,
        "error_rate": traffic.error_rate,
        "p99_ms": traffic.p99_ms,
    }


def _columns(traffic: dict | None) -> list[str]:
    if traffic is None:
        return ["0", "-", "-"]
    p99 = f"{traffic['p99_ms']:.0f}ms" if traffic["p99_ms"] is not None else "-"
    return [str(traffic["requests"]), f"{traffic['error_rate']:.1%}", p99]
