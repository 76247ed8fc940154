"""What the plan does not say about a cluster: each backend's image and Django project, which
backends run a Celery beat, resources and replica bounds (deploy/k8s/cluster.yaml).

Loaded strictly like the plan: an unknown key is an error naming the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from strangler.k8s.errors import K8sError
from strangler.plan import Plan

Quantity = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amounts(Strict):
    cpu: Quantity
    memory: Quantity


class Resources(Strict):
    requests: Amounts
    limits: Amounts


class Replicas(Strict):
    min: int = Field(ge=1)
    max: int = Field(ge=1)
    cpu_utilization: int = Field(default=70, ge=1, le=100)

    @model_validator(mode="after")
    def _bounded(self) -> Replicas:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class BackendSpec(Strict):
    project: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    image: str
    # Where `celery -A <project>` finds the project in the image.
    workdir: str = "/app"
    beat: bool = False


class ProxySpec(Strict):
    image: str
    # How nginx is rendered in the cluster (RenderOptions.from_env): the pods get the same.
    env: dict[str, str]


class Roles(Strict):
    web: Resources
    worker: Resources
    consumer: Resources
    relay: Resources
    beat: Resources
    proxy: Resources


class ReplicaPolicy(Strict):
    # A backend the step sends requests to (routes, splits, shadows, write ownership) ...
    serving: Replicas
    # ... and one that only keeps its copies in sync.
    standby: Replicas
    proxy: Replicas


class ClusterSpec(Strict):
    drain_seconds: int = Field(ge=0)
    worker_stop_seconds: int = Field(ge=1)
    # Where the backends believe X-Forwarded-For from (the pod network the proxy runs in).
    trusted_proxies: str
    backends: dict[str, BackendSpec]
    proxy: ProxySpec
    resources: Roles
    replicas: ReplicaPolicy
    dev_images: dict[Literal["postgres", "redis"], str]

    def check_against(self, plan: Plan, *, file: str) -> None:
        missing = sorted(set(plan.backends) - set(self.backends))
        extra = sorted(set(self.backends) - set(plan.backends))
        if missing or extra:
            raise K8sError(
                f"{file}: backends: the plan's are {', '.join(plan.backends)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; not in the plan: {', '.join(extra)}" if extra else "")
            )


def load_spec(path: Path) -> ClusterSpec:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise K8sError(f"{path}: {error}") from None
    try:
        return ClusterSpec.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top)"
        more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise K8sError(f"{path}: {key}: {first['msg']}{more}") from None
