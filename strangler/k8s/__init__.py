"""Kubernetes manifests rendered from the migration plan: a kustomize base and one overlay per
step (`strangle k8s` writes them under deploy/k8s/, `strangle k8s --check` compares)."""

from strangler.k8s.errors import K8sError
from strangler.k8s.render import render
from strangler.k8s.spec import ClusterSpec, load_spec
from strangler.k8s.timings import Timings, gunicorn_graceful_timeout

__all__ = [
    "ClusterSpec",
    "K8sError",
    "Timings",
    "gunicorn_graceful_timeout",
    "load_spec",
    "render",
]
