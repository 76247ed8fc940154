"""`./manage.py strangle <subcommand>`: drive the migration plan on a running system.

Every failure is one line on stderr and a non-zero exit (CommandError), never a traceback: a
refused apply says which check failed, and the running step is left as it was.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string

from strangler.conf import strangler_settings
from strangler.plan import PlanError, load_plan
from strangler.plan.diff import diff_steps, newly_needed
from strangler.plan.inventory import build_inventory, walk_urlconf
from strangler.proxy import ProxyError, RenderOptions, render_parts
from strangler.proxy import health as backend_health
from strangler.proxy.accesslog import read_recent, summarise
from strangler.proxy.control import Controller, FlipHook
from strangler.proxy.site import Site
from strangler.proxy.verify import run_contract_suite
from strangler.sync.cli import (
    describe_parity,
    domain_pair,
    ownership_report,
    run_backfill,
    run_parity,
    sync_lag,
)
from strangler.sync.client import SyncError
from strangler.sync.internal_views import MAX_ROWS
from strangler.sync.parity import repair as repair_copy

GOLDEN_DIR = Path("tests") / "migration" / "golden"


class Command(BaseCommand):
    help = "Drive the migration plan: status, diff, apply, rollback, routes, verify, up, render."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        status = sub.add_parser("status", help="the current step, routes, health and traffic")
        status.add_argument("--minutes", type=float, default=5.0, help="traffic window")
        diff = sub.add_parser("diff", help="what would change going to STEP")
        diff.add_argument("step")
        apply = sub.add_parser("apply", help="flip the running proxy to STEP")
        apply.add_argument("step")
        apply.add_argument(
            "--dry-run", action="store_true", help="print the config, change nothing"
        )
        rollback = sub.add_parser("rollback", help="back to the step before the last apply")
        rollback.add_argument(
            "--force",
            action="store_true",
            help="even when the domain's current owner is down: names and records the writes "
            "since the flip that may be lost",
        )
        sub.add_parser("routes", help="the monolith's endpoints against the plan")
        verify = sub.add_parser("verify", help="run the contract suite through the proxy")
        verify.add_argument("--base-url", help="default: the proxy's public URL")
        verify.add_argument(
            "-x", "--exitfirst", action="store_true", help="stop at the first failing test"
        )
        sub.add_parser("up", help="prepare the recorded step's config (before nginx starts)")
        wait = sub.add_parser("wait", help="wait until the proxy serves the recorded step")
        wait.add_argument("--timeout", type=float, default=30.0)
        render = sub.add_parser("render", help="print the nginx config of STEP")
        render.add_argument("step")
        render.add_argument(
            "--golden",
            action="store_true",
            help=f"write {GOLDEN_DIR}/<step>.conf with the pinned defaults (updates golden files)",
        )
        shadow = sub.add_parser("shadow", help="the shadow log: mirrored requests and answers")
        shadow.add_argument("--limit", type=int, default=20)
        backfill = sub.add_parser(
            "backfill", help="copy DOMAIN's rows from its owner to the backend it moves to"
        )
        backfill.add_argument("domain")
        backfill.add_argument("--batch", type=int, default=5000, help="rows per call")
        backfill.add_argument(
            "--id-gap", type=int, default=1000, help="ids kept free above the copied ones"
        )
        parity = sub.add_parser("parity", help="compare DOMAIN's rows on its two backends")
        parity.add_argument("domain")
        parity.add_argument(
            "--repair",
            action="store_true",
            help="rewrite the copy's differing rows from the owner and report what changed",
        )
        parity.add_argument("--json", action="store_true", dest="as_json", help="one JSON object")

    def handle(self, *args, subcommand: str, **options) -> None:
        # httpx logs every request at INFO; the command's own output says what matters.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("strangler.service.http").setLevel(logging.WARNING)
        try:
            site = Site.from_env()
            controller = Controller(
                site,
                log=self._progress if options["verbosity"] > 1 else None,
                hooks=flip_hooks(),
            )
            getattr(self, f"_{subcommand.replace('-', '_')}")(controller, **options)
        except CommandError:
            raise
        except (ProxyError, PlanError, SyncError) as error:
            raise CommandError(str(error)) from None
        except (OSError, httpx.HTTPError) as error:
            raise CommandError(f"{type(error).__name__}: {error}") from None
        except Exception as error:
            if options.get("traceback"):
                raise
            raise CommandError(
                f"unexpected {type(error).__name__}: {error} (rerun with --traceback)"
            ) from None

    def _progress(self, message: str) -> None:
        self.stdout.write(f"  {message}")

    # -- status ------------------------------------------------------------------------------

    def _status(self, controller: Controller, *, minutes: float, **_) -> None:
        site = controller.site
        plan = controller.plan()
        state = controller.state()
        step = plan.step(state.step) if state.step in plan.step_ids else plan.steps[0]
        recorded = "" if state.step else " (nothing applied yet: the first step)"
        self.stdout.write(f"Step {step.id} ({step.index + 1} of {len(plan.steps)}){recorded}")
        self.stdout.write(f"  {step.title}")
        pid = controller.nginx.pid()
        if pid is None:
            self.stdout.write(f"Proxy: not running (prefix {site.prefix})")
        else:
            live = controller.admin().live()
            seen = f"live step {live.step} (table {live.table})" if live else "probe not answering"
            mismatch = "" if live and live.step == step.id else "  << differs from the record"
            self.stdout.write(
                f"Proxy: nginx pid {pid}, {site.options.public_url}, {seen}{mismatch}"
            )
        self.stdout.write("Backends:")
        for result in backend_health.check_all(list(plan.backends.values())):
            word = "healthy" if result.ok else "DOWN"
            self.stdout.write(f"  {result.backend:<10} {result.url:<36} {word} ({result.detail})")
        owners = ", ".join(f"{domain}={owner}" for domain, owner in step.owners.items())
        self.stdout.write(f"Write owners: {owners}")
        for row in ownership_report(plan, step):
            seen = ", ".join(
                f"{name} says {view[0]} ({view[1]})" if view else f"{name} unreachable"
                for name, view in row["seen"].items()
            )
            self.stdout.write(f"  {row['domain']}: {seen}: {row['verdict']}")
        self.stdout.write("Sync lag (unsent outbox events per backend):")
        for lag in sync_lag(plan):
            if lag["error"]:
                self.stdout.write(f"  {lag['backend']:<10} unknown ({lag['error']})")
            elif lag["pending"]:
                self.stdout.write(
                    f"  {lag['backend']:<10} {lag['pending']} pending, "
                    f"oldest {lag['oldest_seconds']:.1f}s"
                )
            else:
                self.stdout.write(f"  {lag['backend']:<10} drained")
        traffic = summarise(read_recent(site.access_log, minutes=minutes))
        self.stdout.write(f"Routes (traffic of the last {minutes:g} min from {site.access_log}):")
        rows = []
        for route in plan.routes:
            target = step.targets[route.name]
            rows.append(
                [
                    route.name,
                    ",".join(route.methods),
                    target.describe().split(", fallback")[0],
                    target.fallback or "-",
                    step.owners[route.domain],
                    *_traffic_columns(traffic.get((route.name, "*"))),
                ]
            )
            backends = sorted(b for r, b in traffic if r == route.name and b != "*")
            if len(backends) > 1 or (backends and backends[0] != target.backend):
                for backend in backends:
                    columns = _traffic_columns(traffic[(route.name, backend)])
                    rows.append(["", "", f"  via {backend}", "", "", *columns])
        headers = ["ROUTE", "METHODS", "SERVED BY", "FALLBACK", "OWNER", "REQS", "5XX", "P99"]
        self._table(headers, rows, right=(5, 6, 7))

    # -- data sync ---------------------------------------------------------------------------

    def _domain_pair(self, controller: Controller, domain: str):
        plan = controller.plan()
        state = controller.state()
        step = plan.step(state.step) if state.step in plan.step_ids else plan.steps[0]
        return domain_pair(plan, domain=domain, step=step)

    def _backfill(self, controller: Controller, *, domain: str, batch: int, id_gap: int, **_):
        if not 1 <= batch <= MAX_ROWS or id_gap < 0:
            raise CommandError(f"--batch must be 1 to {MAX_ROWS} and --id-gap zero or more")
        pair = self._domain_pair(controller, domain)
        self.stdout.write(f"Backfilling {domain}: {pair.owner.name} -> {pair.copy.name}")
        result = run_backfill(
            pair,
            checkpoint_dir=controller.site.state_dir,
            batch=batch,
            id_gap=id_gap,
            out=sys.stderr,
        )
        for aggregate, copied in result.copied.items():
            next_id = result.sequences.get(aggregate, 0) + 1
            self.stdout.write(f"  {aggregate}: {copied} rows copied; new ids start at {next_id}")

    def _parity(
        self, controller: Controller, *, domain: str, repair: bool, as_json: bool, **_
    ) -> None:
        pair = self._domain_pair(controller, domain)
        results = run_parity(pair)
        repairs = []
        if repair and not all(result.clean for result in results):
            repairs = [
                repair_copy(result, owner=pair.owner, copy=pair.copy)
                for result in results
                if not result.clean
            ]
            results = run_parity(pair)
        clean = all(result.clean for result in results)
        if as_json:
            self.stdout.write(
                json.dumps(
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
                            {
                                "aggregate": r.aggregate,
                                "rewritten": r.rewritten,
                                "deleted": r.deleted,
                            }
                            for r in repairs
                        ],
                    }
                )
            )
        else:
            for fixed in repairs:
                self.stdout.write(
                    f"repaired {fixed.aggregate} on {pair.copy.name}: rewrote "
                    f"{len(fixed.rewritten)} rows from {pair.owner.name} "
                    f"({_some_ids(fixed.rewritten)}), deleted {len(fixed.deleted)} "
                    f"({_some_ids(fixed.deleted)})"
                )
            for line in describe_parity(pair, results):
                self.stdout.write(line)
        if not clean:
            raise CommandError(f"parity of {domain}: {pair.owner.name} and {pair.copy.name} differ")
        if not as_json:
            self.stdout.write(f"parity of {domain}: clean")

    def _table(self, headers: list[str], rows: list[list[str]], right: Sequence[int] = ()) -> None:
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [
                str(cell).rjust(widths[i]) if i in right else str(cell).ljust(widths[i])
                for i, cell in enumerate(row)
            ]
            self.stdout.write(("  " + "  ".join(cells)).rstrip())

    # -- diff / apply / rollback / up / wait ---------------------------------------------------

    def _diff(self, controller: Controller, *, step: str, **_) -> None:
        plan = controller.plan()
        state = controller.state()
        current = plan.step(state.step) if state.step in plan.step_ids else plan.steps[0]
        target = Controller._step(plan, step)
        changes = diff_steps(plan, current, target)
        if not changes:
            self.stdout.write(f"{current.id} -> {target.id}: nothing changes")
            return
        self.stdout.write(f"{current.id} -> {target.id}: {len(changes)} change(s)")
        for change in changes:
            self.stdout.write(f"  {change}")
        needed = newly_needed(current, target)
        if needed:
            self.stdout.write(f"  newly needed backends (must be healthy): {', '.join(needed)}")

    def _apply(self, controller: Controller, *, step: str, dry_run: bool, **_) -> None:
        if dry_run:
            rendered = controller.dry_run(step)
            self.stdout.write(rendered.config, ending="")
            return
        outcome = controller.apply(step)
        self.stdout.write(outcome.describe())

    def _rollback(self, controller: Controller, *, force: bool, **_) -> None:
        if force:
            for hook in controller.hooks:
                if hasattr(hook, "forced"):
                    hook.forced = True
                    hook.journal_dir = controller.site.state_dir
        outcome = controller.rollback()
        self.stdout.write(f"rolled back: {outcome.describe()}")

    def _up(self, controller: Controller, **_) -> None:
        outcome = controller.up()
        self.stdout.write(
            f"proxy {controller.site.options.public_url}: {outcome.describe()} "
            f"(config {controller.site.conf_path})"
        )

    def _wait(self, controller: Controller, *, timeout: float, **_) -> None:
        state = controller.state()
        admin = controller.admin()
        deadline = time.monotonic() + timeout
        while (live := admin.live()) is None or (state.step and live.step != state.step):
            if time.monotonic() > deadline:
                seen = f"serves {live.step}" if live else "does not answer"
                raise CommandError(
                    f"the proxy at {controller.site.options.internal_url} {seen} after "
                    f"{timeout:g} s (expected step {state.step})"
                )
            time.sleep(0.2)
        self.stdout.write(f"proxy {controller.site.options.public_url} serves step {live.step}")

    # -- routes / verify / render / shadow -----------------------------------------------------

    def _routes(self, controller: Controller, **_) -> None:
        plan = controller.plan()
        state = controller.state()
        step = plan.step(state.step) if state.step in plan.step_ids else plan.steps[0]
        inventory = build_inventory(plan, step, list(walk_urlconf()))
        self.stdout.write(f"The monolith's endpoints at step {step.id} ({plan.source})")
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
        self._table(["ENDPOINT", "METHODS", "ROUTE", "SERVED BY"], rows)
        flags = [f"{row.label}: no plan route matches it" for row in inventory.uncovered]
        flags += [
            f"{row.label}: {', '.join(row.undeclared)} not in the plan (goes to the write owner)"
            for row in inventory.rows
            if row.undeclared
        ]
        flags += [
            f"route {route.name} ({route.pattern}): matches no endpoint of the monolith"
            for route in inventory.unmatched_routes
        ]
        if flags:
            self.stdout.write("Flags:")
            for flag in flags:
                self.stdout.write(f"  ! {flag}")
        moved, partly, total = inventory.moved(plan.origin)
        share = 100 * moved / total if total else 0.0
        self.stdout.write(
            f"Moved out of the {plan.origin}: {moved} of {total} endpoints ({share:.0f}%)"
            + (f", {partly} more partly (canary)" if partly else "")
        )

    def _verify(
        self, controller: Controller, *, base_url: str | None, exitfirst: bool, **_
    ) -> None:
        site = controller.site
        state = controller.state()
        url = base_url or site.options.public_url
        extra = ("-x",) if exitfirst else ()
        verdict = run_contract_suite(root=site.root, base_url=url, extra_args=extra)
        line = verdict.line(step=state.step or "(none applied)", base_url=url)
        if not verdict.ok:
            raise CommandError(line)
        self.stdout.write(line)

    def _render(self, controller: Controller, *, step: str, golden: bool, **_) -> None:
        site = controller.site
        if not golden:
            self.stdout.write(controller.render_step(step).config, ending="")
            return
        # Golden files pin the shipped plan with default URLs and options, whatever the env.
        plan = load_plan(site.plan_path, env={})
        rendered = render_parts(plan, Controller._step(plan, step), RenderOptions())
        path = site.root / GOLDEN_DIR / f"{rendered.step}.conf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered.config, encoding="utf-8")
        self.stdout.write(f"wrote {path}")

    def _shadow(self, controller: Controller, *, limit: int, **_) -> None:
        data = controller.admin().shadow_log(limit=limit)
        self.stdout.write(
            f"{data['count']} entries shown, {data['inflight']} in flight, "
            f"{data['dropped']} dropped"
        )
        for entry in data["entries"]:
            self.stdout.write(json.dumps(entry, sort_keys=True))


def _some_ids(ids: list[int], limit: int = 20) -> str:
    if not ids:
        return "none"
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f", +{len(ids) - limit} more" if len(ids) > limit else "")


def _traffic_columns(traffic) -> list[str]:
    if traffic is None:
        return ["0", "-", "-"]
    p99 = f"{traffic.p99_ms:.0f}ms" if traffic.p99_ms is not None else "-"
    return [str(traffic.requests), f"{traffic.error_rate:.1%}", p99]


def flip_hooks() -> tuple[FlipHook, ...]:
    """Hooks named in STRANGLER_FLIP_HOOKS (dotted paths to classes or factories)."""
    return tuple(import_string(path)() for path in strangler_settings.FLIP_HOOKS)
