"""Builders of the Kubernetes objects every role shares: a hardened pod, a Deployment, its
Service, HorizontalPodAutoscaler and PodDisruptionBudget. Plain dicts, dumped by render."""

from __future__ import annotations

from typing import Any

from strangler.k8s.spec import Replicas, Resources

Object = dict[str, Any]

PART_OF = "strangler-shop"
# The images' app user (fixed numeric uid: runAsNonRoot can verify it).
APP_UID = 10001
NAME_LABEL = "app.kubernetes.io/name"


def metadata(name: str, **labels: str) -> Object:
    return {"name": name, "labels": {NAME_LABEL: name, **labels}}


def selector(name: str) -> Object:
    return {"matchLabels": {NAME_LABEL: name}}


def resources(spec: Resources) -> Object:
    return spec.model_dump()


def container_security() -> Object:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def pod_security(uid: int = APP_UID) -> Object:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pre_stop_sleep(seconds: int) -> Object:
    """Keep serving while the endpoint's removal reaches every node, then get the stop signal."""
    return {"preStop": {"exec": {"command": ["sleep", str(seconds)]}}}


def deployment(
    name: str,
    *,
    pod: Object,
    component: str,
    replicas: int | None = None,
    single: bool = False,
) -> Object:
    """`single`: never two at once (a relay, a beat, a partition's consumer), so Recreate."""
    strategy: Object = (
        {"type": "Recreate"}
        if single
        else {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    )
    spec: Object = {
        "selector": selector(name),
        "strategy": strategy,
        "template": {"metadata": {"labels": metadata(name, **_component(component))["labels"]}},
    }
    if replicas is not None:
        spec = {"replicas": replicas, **spec}
    spec["template"]["spec"] = pod
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, **_component(component)),
        "spec": spec,
    }


def service(name: str, *, target: str, ports: list[tuple[str, int]], component: str) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name, **_component(component)),
        "spec": {
            "selector": {NAME_LABEL: target},
            "ports": [
                {"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}
                for port_name, port in ports
            ],
        },
    }


def autoscaler(name: str, replicas: Replicas) -> Object:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            **bounds(replicas),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": replicas.cpu_utilization,
                        },
                    },
                }
            ],
        },
    }


def bounds(replicas: Replicas) -> Object:
    return {"minReplicas": replicas.min, "maxReplicas": replicas.max}


def disruption_budget(name: str) -> Object:
    """One pod at a time may be evicted (a drain never waits forever on a single replica)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(name),
        "spec": {"maxUnavailable": 1, "selector": selector(name)},
    }


def http_probe(path: str, port: str, *, period: int, failures: int) -> Object:
    """Django checks the Host header: the kubelet's (the pod's IP) is not an allowed host."""
    return {
        "httpGet": {
            "path": path,
            "port": port,
            "httpHeaders": [{"name": "Host", "value": "127.0.0.1"}],
        },
        "periodSeconds": period,
        "timeoutSeconds": 4,
        "failureThreshold": failures,
    }


def _component(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/component": component, "app.kubernetes.io/part-of": PART_OF}
