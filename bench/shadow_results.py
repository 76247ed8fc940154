"""The shadow benchmark's figures: wrk windows with the shadow off and on, summarised side by
side per load and endpoint, and rendered as Markdown and JSON. Pure: bench/shadow_bench.py runs
the windows, this module only counts."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench.report import ScenarioResult
from strangler.proxy.accesslog import p99

OFF, ON = "off", "on"


@dataclass(frozen=True)
class ShadowLog:
    """What the proxy's shadow log says after a shadowed window, once its copies landed. The log
    is bounded (proxy.shadow_log_size, least recently used entries evicted), so its counts are
    of the latest reads; `dropped` is a counter and counts them all."""

    held: int  # shadowed reads the log holds, each with the primary's answer
    answered: int  # ... whose copy the shadow answered (any status, an error included)
    failed: int  # ... of those, a transport error or a 5xx
    dropped: int  # copies never sent: over proxy.shadow_concurrency, or no timer
    inflight: int  # copies still travelling when the wait for them ended (0 unless stuck)
    compared: int | None = None  # `strangle shadow-report` on the window's route
    differing: int | None = None
    top_fields: tuple[tuple[str, int], ...] = ()  # the report's most differing fields, counted


def shadow_log_counts(log: Mapping[str, Any]) -> ShadowLog:
    """Counts of the admin endpoint's answer (GET /__strangler/shadow, as `strangle shadow`
    reads it)."""
    shadows = [entry["shadow"] for entry in log["entries"] if entry.get("shadow")]
    return ShadowLog(
        held=len(log["entries"]),
        answered=len(shadows),
        # A transport error is logged with no status and the error; a status is an answer.
        failed=sum(
            bool(shadow.get("error")) or int(shadow.get("status") or 500) >= 500
            for shadow in shadows
        ),
        dropped=int(log.get("dropped") or 0),
        inflight=int(log.get("inflight") or 0),
    )


def with_report(counts: ShadowLog, report: Mapping[str, Any] | None, *, route: str) -> ShadowLog:
    """`counts` with the compared and differing answers `strangle shadow-report --json` found on
    `route` (unchanged without a report, or when it lists no such route)."""
    for row in (report or {}).get("routes", []):
        if row["route"] == route:
            return replace(
                counts,
                compared=row["compared"],
                differing=row["differing"],
                top_fields=tuple(
                    (field["field"], field["differing"]) for field in row["top_fields"]
                ),
            )
    return counts


@dataclass(frozen=True)
class ProxyTimes:
    """A window's requests as the proxy's access log timed them: nginx's time of each request
    split into the upstream's (the primary's answer) and the proxy's own (the rest), each
    request's own time being what mirroring it could add to the client's."""

    requests: int
    upstream_p99_ms: float
    own_p99_ms: float
    own_max_ms: float


def _upstream_seconds(value: Any) -> float | None:
    """$upstream_response_time: one time per upstream tried (", "), per internal redirect
    (" : "), "-" for none; their sum is the request's time upstream."""
    parts = [part.strip() for part in re.split("[,:]", str(value))]
    times = [float(part) for part in parts if part and part != "-"]
    return sum(times) if times else None


def proxy_times(
    entries: Iterable[Mapping[str, Any]], *, step: str, route: str
) -> ProxyTimes | None:
    """The times of the access log `entries` of `route` at `step` (None when there are none)."""
    upstream, own = [], []
    for entry in entries:
        if entry.get("step") != step or entry.get("route") != route:
            continue
        upstream_s = _upstream_seconds(entry.get("upstream_time", "-"))
        if upstream_s is None:
            continue
        total_s = float(entry["request_time"])
        upstream.append(upstream_s * 1000)
        own.append(max(0.0, total_s - upstream_s) * 1000)
    if not upstream:
        return None
    return ProxyTimes(
        requests=len(upstream),
        upstream_p99_ms=p99(upstream) or 0.0,
        own_p99_ms=p99(own) or 0.0,
        own_max_ms=max(own),
    )


@dataclass(frozen=True)
class Window:
    """One wrk run: a load shape on one endpoint with the shadow off or on."""

    round: int
    load: str
    endpoint: str
    condition: str  # OFF or ON
    result: ScenarioResult
    shadow: ShadowLog | None = None  # read after ON windows only
    proxy: ProxyTimes | None = None
    load_average: float | None = None  # the machine's (1 min) at the window's end: other work


@dataclass(frozen=True)
class Side:
    """One condition of a comparison: medians over its windows (percentiles of separate runs
    cannot be merged), and totals."""

    windows: int
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    upstream_p99_ms: float | None
    proxy_own_p99_ms: float | None
    proxy_own_max_ms: float | None

    @classmethod
    def of(cls, windows: Sequence[Window]) -> Side:
        results = [window.result for window in windows]
        timed = [window.proxy for window in windows if window.proxy is not None]

        def median(values: list[float]) -> float:
            return float(statistics.median(values))

        def median_timed(values: list[float]) -> float | None:
            return median(values) if values else None

        return cls(
            upstream_p99_ms=median_timed([times.upstream_p99_ms for times in timed]),
            proxy_own_p99_ms=median_timed([times.own_p99_ms for times in timed]),
            proxy_own_max_ms=max((times.own_max_ms for times in timed), default=None),
            windows=len(results),
            requests=sum(result.requests for result in results),
            errors=sum(result.errors for result in results),
            requests_per_s=median([result.requests_per_s for result in results]),
            p50_ms=median([result.p50_ms for result in results]),
            p99_ms=median([result.p99_ms for result in results]),
            p999_ms=median([result.p999_ms or 0.0 for result in results]),
        )


METRICS = ("requests_per_s", "p50_ms", "p99_ms", "p999_ms")


def paired_ratios(off: Sequence[Window], on: Sequence[Window]) -> dict[str, float | None]:
    """on / off of each metric: the median over the rounds of the ratio within each round's
    pair, which ran back to back, so what other work on the machine did weighs on both sides
    of a ratio alike. Above 1 for latencies, below 1 for requests per second, is the shadow
    costing the client."""

    def value(window: Window, metric: str) -> float:
        return float(getattr(window.result, metric) or 0.0)

    by_round = {w.round: w for w in off}
    pairs = [(by_round[w.round], w) for w in on if w.round in by_round]
    ratios: dict[str, float | None] = {}
    for metric in METRICS:
        known = [
            value(on_window, metric) / value(off_window, metric)
            for off_window, on_window in pairs
            if value(off_window, metric)
        ]
        ratios[metric] = float(statistics.median(known)) if known else None
    return ratios


@dataclass(frozen=True)
class Comparison:
    load: str
    endpoint: str
    off: Side
    on: Side
    ratios: dict[str, float | None]
    answered: int
    failed: int
    dropped: int
    compared: int | None
    differing: int | None
    top_fields: tuple[tuple[str, int], ...]


def _sum_known(values: list[int | None]) -> int | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def compare(windows: Sequence[Window]) -> list[Comparison]:
    """One comparison per (load, endpoint), in the order the windows first ran them; a pair
    lacking either condition is left out."""
    pairs: dict[tuple[str, str], None] = dict.fromkeys((w.load, w.endpoint) for w in windows)
    comparisons = []
    for load, endpoint in pairs:
        mine = [w for w in windows if (w.load, w.endpoint) == (load, endpoint)]
        off = [w for w in mine if w.condition == OFF]
        on = [w for w in mine if w.condition == ON]
        if not off or not on:
            continue
        logs = [w.shadow for w in on if w.shadow is not None]
        fields: Counter[str] = Counter()
        for log in logs:
            fields.update(dict(log.top_fields))
        comparisons.append(
            Comparison(
                load=load,
                endpoint=endpoint,
                off=Side.of(off),
                on=Side.of(on),
                ratios=paired_ratios(off, on),
                answered=sum(log.answered for log in logs),
                failed=sum(log.failed for log in logs),
                dropped=sum(log.dropped for log in logs),
                compared=_sum_known([log.compared for log in logs]),
                differing=_sum_known([log.differing for log in logs]),
                top_fields=tuple(fields.most_common(3)),
            )
        )
    return comparisons


def conditions_of_round(round_index: int) -> tuple[str, str]:
    """off then on, swapped every other round: neither condition always runs first, so a drift
    of the machine's load over the run weighs on both alike."""
    return (OFF, ON) if round_index % 2 == 0 else (ON, OFF)


def _ms(value: float) -> str:
    return f"{value:.1f}"


def _known_ms(value: float | None) -> str:
    return "-" if value is None else _ms(value)


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def to_markdown(
    *, settings: Mapping[str, Any], comparisons: Sequence[Comparison], windows: Sequence[Window]
) -> str:
    lines = [
        "# Shadow traffic: catalog reads through the proxy with the shadow off and on",
        "",
        *[f"- {key}: {value}" for key, value in settings.items()],
        "",
        "Off is step `1-auth` (the monolith serves the catalog, nothing is mirrored); on is step "
        "`2-catalog-shadow` (the monolith serves the catalog; each read is copied to the catalog "
        "service, then asked of the monolith a second time, from a timer once the client has "
        "its answer). Medians over the windows of each condition; a ratio is on / off within each "
        "round's pair of windows (run back to back), its median over the rounds.",
        "",
        "| load | endpoint | req/s off / on | p50 ms off / on | p99 ms off / on "
        "| p99.9 ms off / on | ratio req/s | ratio p99 | ratio p99.9 | errors off / on |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in comparisons:
        ratios = c.ratios
        lines.append(
            f"| {c.load} | {c.endpoint} "
            f"| {c.off.requests_per_s:.0f} / {c.on.requests_per_s:.0f} "
            f"| {_ms(c.off.p50_ms)} / {_ms(c.on.p50_ms)} "
            f"| {_ms(c.off.p99_ms)} / {_ms(c.on.p99_ms)} "
            f"| {_ms(c.off.p999_ms)} / {_ms(c.on.p999_ms)} "
            f"| {_times(ratios['requests_per_s'])} | {_times(ratios['p99_ms'])} "
            f"| {_times(ratios['p999_ms'])} | {c.off.errors} / {c.on.errors} |"
        )
    lines += [
        "",
        "How to read it: a saturating load (every connection sends its next request at once) "
        "keeps the backends busy, so the work a shadow adds (a second request to the monolith, "
        "one to the catalog service, on the same cores) shows as fewer requests per second, "
        "while a closed loop's latency stays near connections / throughput; a paced load "
        "leaves the machine headroom, so what the shadow adds shows in the latencies.",
        "",
        "## Where the client's time went",
        "",
        "The proxy's access log over the same windows: nginx's time of each read split into the "
        "primary's (upstream) and the proxy's own, which holds whatever mirroring adds to a "
        "client's reads: nginx logs a request once its mirror subrequest is done (which only "
        "hands the copy to a timer), and the next request on a keep-alive connection waits "
        "for it. "
        "Medians over the windows of their p99; the proxy's own time at worst, over all of "
        "them. nginx times to the millisecond.",
        "",
        "| load | endpoint | upstream p99 ms off / on | proxy's own p99 ms off / on "
        "| proxy's own max ms off / on |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for c in comparisons:
        lines.append(
            f"| {c.load} | {c.endpoint} "
            f"| {_known_ms(c.off.upstream_p99_ms)} / {_known_ms(c.on.upstream_p99_ms)} "
            f"| {_known_ms(c.off.proxy_own_p99_ms)} / {_known_ms(c.on.proxy_own_p99_ms)} "
            f"| {_known_ms(c.off.proxy_own_max_ms)} / {_known_ms(c.on.proxy_own_max_ms)} |"
        )
    lines += [
        "",
        "## Mirroring happened",
        "",
        "Over the shadowed windows: reads answered, copies the proxy dropped (over "
        "`proxy.shadow_concurrency`), and in the bounded shadow log (the latest entries): "
        "shadow answers, failed ones (transport error or 5xx), and what `strangle "
        "shadow-report` compared on the route and found differing (noise learned from the "
        "primary's second answers left out).",
        "",
        "| load | endpoint | reads | dropped | shadow answers | failed | compared | differing "
        "| most differing fields |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in comparisons:
        fields = ", ".join(f"`{field}` ({count})" for field, count in c.top_fields) or "-"
        lines.append(
            f"| {c.load} | {c.endpoint} | {c.on.requests} | {c.dropped} | {c.answered} "
            f"| {c.failed} | {_count(c.compared)} | {_count(c.differing)} | {fields} |"
        )
    lines += [
        "",
        "## Every window, in the order it ran",
        "",
        "| round | load | endpoint | shadow | requests | req/s | p50 ms | p99 ms | p99.9 ms "
        "| errors | log: reads / shadow answers | dropped | load average |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for w in windows:
        r = w.result
        log = f"{w.shadow.held} / {w.shadow.answered} | {w.shadow.dropped}" if w.shadow else "- | -"
        lines.append(
            f"| {w.round + 1} | {w.load} | {w.endpoint} | {w.condition} | {r.requests} "
            f"| {r.requests_per_s:.0f} | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} "
            f"| {_ms(r.p999_ms or 0.0)} | {r.errors} | {log} "
            f"| {'-' if w.load_average is None else f'{w.load_average:.1f}'} |"
        )
    return "\n".join(lines) + "\n"


def to_json(
    *, settings: Mapping[str, Any], comparisons: Sequence[Comparison], windows: Sequence[Window]
) -> str:
    payload = {
        "settings": dict(settings),
        "comparisons": [asdict(c) for c in comparisons],
        "windows": [asdict(w) for w in windows],
    }
    return json.dumps(payload, indent=2) + "\n"
