"""The shape of `plan.yaml`, checked by pydantic before any cross-reference is resolved.

These models only say which keys exist and what each holds; `strangler.plan.build` checks how
they refer to each other and turns them into the immutable objects the rest of the code uses.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from strangler.plan.canary import CanaryGateIn
from strangler.plan.instances import MAX_INSTANCES
from strangler.plan.strict import Strict as _Strict

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
StepId = Annotated[str, StringConstraints(pattern=r"^[0-9a-z][a-z0-9_-]{0,59}$")]
Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# nginx time and size syntax, restricted to what the renderer passes through verbatim.
Duration = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,6}(ms|s|m)$")]
Size = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,6}[km]?$")]
Rate = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,5}r/[sm]$")]
# A field of an answer as the shadow report names it (strangler.shadow.fields): `status`,
# `count`, `results[].updated_at`.
FieldPath = Annotated[str, StringConstraints(pattern=r"^\S{1,200}$")]


class BackendIn(_Strict):
    url: str
    # Processes of this backend on one machine, the first at `url`, the next on ports
    # INSTANCE_PORT_STEP apart (strangler.plan.instances); the proxy balances across them.
    instances: int = Field(default=1, ge=1, le=MAX_INSTANCES)
    health: str = "/readyz"
    owns: list[Name] = Field(default_factory=list)
    copies: list[Name] = Field(default_factory=list)


class RateLimitIn(_Strict):
    rate: Rate
    burst: int = Field(default=0, ge=0, le=100_000)


class RouteIn(_Strict):
    name: Name
    path: str
    methods: list[Method] = Field(min_length=1)
    domain: Name
    internal: bool = False
    rate_limit: RateLimitIn | None = None


class UnroutedIn(_Strict):
    path: str
    reason: str = Field(min_length=1)


class TargetIn(_Strict):
    backend: Name | None = None
    split: dict[Name, int] | None = None
    # A split keeps a client on one side: "user" by the bearer token's subject, else by the
    # proxy's canary cookie; "client" by the cookie alone.
    sticky: Literal["user", "client"] | None = None
    shadow: Name | None = None
    # Absent means "the step's fallback"; an explicit null switches it off for this route.
    fallback: Name | None = None


class StepIn(_Strict):
    id: StepId
    title: str = Field(min_length=1)
    owners: dict[Name, Name] = Field(default_factory=dict)
    fallback: Name | None = None
    routes: dict[Name, TargetIn] = Field(default_factory=dict)


class ProxyIn(_Strict):
    connect_timeout: Duration = "1s"
    read_timeout: Duration = "30s"
    send_timeout: Duration = "30s"
    max_body_size: Size = "1m"
    worker_shutdown_timeout: Duration = "10s"
    upstream_keepalive: int = Field(default=32, ge=0, le=10_000)
    # Below the backends' own keep-alive timeout (gunicorn: 30 s), so nginx closes an idle
    # upstream connection before the backend does and never sends on a closing one.
    upstream_keepalive_timeout: Duration = "20s"
    shadow_timeout: Duration = "2s"
    shadow_log_size: Size = "4m"
    shadow_body_limit: int = Field(default=65_536, ge=0, le=1_048_576)
    shadow_concurrency: int = Field(default=64, ge=1, le=10_000)


class ShadowGateIn(_Strict):
    """`gates.shadow`: when the shadow report passes (`strangle shadow-report`), which is what
    a step leaving a shadow step requires (strangler.shadow.gate)."""

    # At most this share of the compared answers may differ (after noise and ignored fields).
    max_differing_rate: float = Field(default=0.01, ge=0, le=1)
    # The report needs this many answers compared over its routes together; a route with
    # fewer, none differing, is not judged alone (one with differences fails on its rate).
    min_compared: int = Field(default=20, ge=0, le=1_000_000)
    # A field that differs between the primary's two answers to one request in at least this
    # share of the route's entries where it appears is noise for the route.
    noise_min_share: float = Field(default=0.1, gt=0, le=1)
    # route -> fields never compared (a field covers what lies under it).
    ignore: dict[Name, list[FieldPath]] = Field(default_factory=dict)


class SyncGateIn(_Strict):
    """`gates.sync`: how far behind the outboxes of the backends a flip involves may be (the
    verdict of `strangle status` and `apply`: strangler.gates.lag)."""

    # Unsent outbox events of one backend, all aggregates together.
    max_pending: int = Field(default=1000, ge=0, le=100_000_000)
    # The age of its oldest unsent event, in seconds.
    max_lag_seconds: float = Field(default=30.0, ge=0, le=86_400)


class ContractGateIn(_Strict):
    """`gates.contract`: whether a step may be left only after `strangle verify` passed at it
    (strangler.gates.contract)."""

    # Off by default: a project has no contract suite until it writes one (the shop's plan
    # turns it on).
    required: bool = False


class GatesIn(_Strict):
    """Checks a step must pass before the next one is applied, one sub-key per kind."""

    canary: CanaryGateIn = Field(default_factory=CanaryGateIn)
    shadow: ShadowGateIn = Field(default_factory=ShadowGateIn)
    sync: SyncGateIn = Field(default_factory=SyncGateIn)
    contract: ContractGateIn = Field(default_factory=ContractGateIn)


class PlanIn(_Strict):
    version: Literal[1]
    origin: Name = "monolith"
    proxy: ProxyIn = Field(default_factory=ProxyIn)
    backends: dict[Name, BackendIn] = Field(min_length=1)
    routes: list[RouteIn] = Field(min_length=1)
    # Endpoints the proxy deliberately does not route (e.g. each backend's own sync API, which
    # callers reach directly); the route inventory lists them instead of flagging them.
    unrouted: list[UnroutedIn] = Field(default_factory=list)
    steps: list[StepIn] = Field(min_length=1)
    gates: GatesIn = Field(default_factory=GatesIn)
