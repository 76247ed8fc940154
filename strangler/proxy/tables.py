"""The step table: the runtime half of a step, read by the proxy's Lua on every request.

`apply` posts it to the running nginx instead of reloading it, and the config embeds it for
the workers a later (re)load starts. It is JSON written by `dumps` alone (sorted keys, no
spaces), so a step always serialises, and hashes, to the same bytes; the Lua side decodes and
checks it in strangler/proxy/lua/strangler/steptable.lua. The shape:

    {"hash": "<16 hex>", "step": "<step id>", "owners": {"<domain>": "<backend>"},
     "routes": {"<route>": {"backend": "<backend>", "split": [["<backend>", <weight>], ...],
                            "sticky": "user" | "client", "shadow": "<backend>",
                            "fallback": "<backend>"}}}

`hash` covers everything else; a route names split, sticky, shadow and fallback only when set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from strangler.plan import Plan, Step, Target


def dumps(value: object) -> str:
    """The one serialisation of step tables: stable bytes for a stable hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True, slots=True)
class StepTable:
    data: dict[str, Any]

    @property
    def step(self) -> str:
        return str(self.data["step"])

    @property
    def hash(self) -> str:
        return str(self.data["hash"])

    @property
    def text(self) -> str:
        return dumps(self.data)


def route_record(target: Target) -> dict[str, Any]:
    record: dict[str, Any] = {"backend": target.backend}
    if target.split:
        record["split"] = [[name, weight] for name, weight in target.split]
        record["sticky"] = target.sticky
    if target.shadow:
        record["shadow"] = target.shadow
    if target.fallback:
        record["fallback"] = target.fallback
    return record


def step_table(plan: Plan, step: Step) -> StepTable:
    body = {
        "step": step.id,
        "owners": {domain: step.owners[domain] for domain in plan.domains},
        "routes": {route.name: route_record(step.targets[route.name]) for route in plan.routes},
    }
    digest = hashlib.sha256(dumps(body).encode()).hexdigest()[:16]
    return StepTable({**body, "hash": digest})
