"""The step table: the runtime half of a step, read by the proxy's Lua on every request.

`apply` sends this text to the running nginx instead of reloading it; the format is parsed by
`parse_table` in proxy/strangler.lua (one record per line, see there).
"""

from __future__ import annotations

import hashlib

from strangler.plan import Plan, Step, Target


def route_record(target: Target) -> str:
    words = ["route", target.route, target.backend]
    if target.split:
        words.append("split=" + ",".join(f"{name}:{weight}" for name, weight in target.split))
        words.append(f"sticky={target.sticky}")
    if target.shadow:
        words.append(f"shadow={target.shadow}")
    if target.fallback:
        words.append(f"fallback={target.fallback}")
    return " ".join(words)


def step_table(plan: Plan, step: Step) -> tuple[str, str]:
    """(text, hash) of the step table; the hash covers everything after the hash line."""
    lines = [f"step {step.id}"]
    lines += [f"owner {domain} {step.owners[domain]}" for domain in plan.domains]
    lines += [route_record(step.targets[route.name]) for route in plan.routes]
    body = "\n".join(lines) + "\n"
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return f"hash {digest}\n{body}", digest
