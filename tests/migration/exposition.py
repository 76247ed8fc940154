"""The proxy's metrics as /__strangler/metrics writes them (strangler/metrics.lua), made from a
list of requests, for the tests of what reads them (strangler.proxy.traffic)."""

from __future__ import annotations

from collections import Counter, defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def exposition(requests: list[dict]) -> str:
    """Each request: {route, backend, code, step, split, seconds}; split "" when not split."""
    counts: Counter[tuple[str, ...]] = Counter()
    durations: defaultdict[tuple[str, ...], list[float]] = defaultdict(list)
    for r in requests:
        series = (r["route"], r["backend"], r.get("step", "1-canary"), r.get("split", ""))
        counts[(*series, str(r.get("code", 200)))] += 1
        durations[series].append(r.get("seconds", 0.004))
    lines = ["# TYPE strangler_requests_total counter"]
    for (route, backend, step, split, code), count in sorted(counts.items()):
        labels = f'route="{route}",backend="{backend}",code="{code}",step="{step}",split="{split}"'
        lines.append(f"strangler_requests_total{{{labels}}} {count}")
    lines.append("# TYPE strangler_request_duration_seconds histogram")
    for (route, backend, step, split), seconds in sorted(durations.items()):
        labels = f'route="{route}",backend="{backend}",step="{step}",split="{split}"'
        for bound in (*BUCKETS, float("inf")):
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            held = sum(value <= bound for value in seconds)
            lines.append(f'strangler_request_duration_seconds_bucket{{{labels},le="{le}"}} {held}')
        lines.append(f"strangler_request_duration_seconds_sum{{{labels}}} {sum(seconds)}")
        lines.append(f"strangler_request_duration_seconds_count{{{labels}}} {len(seconds)}")
    return "\n".join(lines) + "\n"
