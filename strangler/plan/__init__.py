"""The declarative migration plan: load and validate `migration-plan/plan.yaml`."""

from strangler.plan.build import env_var_for
from strangler.plan.canary import CanaryGate
from strangler.plan.errors import PlanError, PlanIssue
from strangler.plan.instances import instance_address, instances_var_for
from strangler.plan.loader import DEFAULT_PLAN, load_plan, parse_plan
from strangler.plan.model import (
    READ_METHODS,
    SAFE_METHODS,
    Backend,
    ContractGateSettings,
    Gates,
    Plan,
    ProxySettings,
    RateLimit,
    Route,
    ShadowGateSettings,
    Step,
    SyncGateSettings,
    Target,
)
from strangler.plan.patterns import PathPattern

__all__ = [
    "DEFAULT_PLAN",
    "READ_METHODS",
    "SAFE_METHODS",
    "Backend",
    "CanaryGate",
    "ContractGateSettings",
    "Gates",
    "PathPattern",
    "Plan",
    "PlanError",
    "PlanIssue",
    "ProxySettings",
    "RateLimit",
    "Route",
    "ShadowGateSettings",
    "Step",
    "SyncGateSettings",
    "Target",
    "env_var_for",
    "instance_address",
    "instances_var_for",
    "load_plan",
    "parse_plan",
]
