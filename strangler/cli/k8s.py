"""Write the Kubernetes manifests of the plan: a kustomize base and one overlay per step under
deploy/k8s/ (and dev-<step> overlays with PostgreSQL and Redis in the cluster), rendered from
migration-plan/plan.yaml, deploy/k8s/cluster.yaml (images, resources, replica bounds) and
gunicorn's graceful timeout (deploy/gunicorn.conf.py). Never edit the output: change those and
run this again. --check writes nothing and exits 1 when the files differ from the render.
Flipping a step in the cluster is `kubectl apply -k deploy/k8s/overlays/STEP`."""

from __future__ import annotations

import argparse
from pathlib import Path

from strangler import k8s
from strangler.k8s import tree
from strangler.k8s.timings import seconds
from strangler.plan import PlanError, load_plan
from strangler.sync import partitions

from .context import Context

HELP = "write (or --check) the Kubernetes manifests of every step under deploy/k8s/"
OUTPUT = Path("deploy/k8s")
SPEC = OUTPUT / "cluster.yaml"
GUNICORN = Path("deploy/gunicorn.conf.py")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check", action="store_true", help="compare only; exit 1 when the files differ"
    )
    parser.add_argument("--out", type=Path, help=f"the folder to write (default {OUTPUT})")


def run(args: argparse.Namespace, ctx: Context) -> None:
    root = ctx.site.root
    out = args.out or root / OUTPUT
    files = rendered(root, ctx.site.plan_path)
    if args.check:
        found = tree.drift(out, files)
        if not found.clean:
            raise k8s.K8sError(f"{out} is not the render (run `strangle k8s`): {found.describe()}")
        ctx.out.line(f"{out}: {len(files)} files, as rendered")
        return
    found = tree.write(out, files)
    ctx.out.line(
        f"{out}: {len(files)} files"
        + (f" ({found.describe()}: rewritten)" if not found.clean else ", unchanged")
    )


def rendered(root: Path, plan_path: Path) -> dict[str, str]:
    """The render of the project at `root`. The plan's URLs are not read from the environment:
    in the cluster every backend is reached at its Service."""
    try:
        plan = load_plan(plan_path, env={})
    except PlanError as error:
        raise k8s.K8sError(f"the plan is invalid: {error.one_line()}") from None
    spec = k8s.load_spec(root / SPEC)
    spec.check_against(plan, file=str(SPEC))
    timings = k8s.Timings(
        drain=spec.drain_seconds,
        gunicorn_graceful=k8s.gunicorn_graceful_timeout(root / GUNICORN),
        nginx_shutdown=seconds(plan.proxy.worker_shutdown_timeout),
        worker_stop=spec.worker_stop_seconds,
    )
    return k8s.render(plan, spec, timings=timings, partitions=partitions.count())
