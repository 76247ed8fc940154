"""The checkout latency benchmark's results: checkouts through the proxy at step 0-monolith (the
monolith checks out on its own tables) and at step 5-orders (the orders service checks out,
reserving stock on the catalog service through the proxy's internal listener), side by side,
with where a checkout's time goes; rendered as Markdown (bench/results/orders.md) and JSON
(orders.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.sync_lag import Distribution, distribution

MONOLITH_STEP, ORDERS_STEP = "0-monolith", "5-orders"
# Issue 10: the checkout median through the services at most 1.5x the monolith's, 1.2x the goal.
GOAL_RATIO = 1.2
LIMIT_RATIO = 1.5

# The timed parts of a checkout, as the report names them, in the order it lists them.
PARTS = {
    "checkout": "`POST /api/orders`, as the customer sees it",
    "checkout_proxy": "`POST /api/orders` at the proxy (public listener's request_time)",
    "checkout_backend": "`POST /api/orders` in the backend checking out (its duration_ms)",
    "checkout_own": "`POST /api/orders` in the backend less its reservation call: the backend's "
    "own work",
    "reservation_proxy": "`PUT /internal/catalog/reservations/{key}`, as the orders service "
    "sees it (internal listener's request_time)",
    "reservation_catalog": "`PUT /internal/catalog/reservations/{key}` in the catalog service "
    "(its duration_ms)",
    "cart": "`PUT /api/cart/items/{id}` before it, as the customer sees it",
}
CHECKOUT, RESERVATION = "checkout", "reservation_proxy"


@dataclass
class Phase:
    """One measured run of the closed loop at one step: every customer's checkouts."""

    step: str
    round: int
    checkouts: int  # measured checkouts attempted
    seconds: float
    errors: int = 0  # answers other than 200 / 201 from the expected backend
    first_errors: list[str] = field(default_factory=list)
    timings: dict[str, list[float]] = field(default_factory=dict)  # part -> milliseconds

    def of(self, part: str) -> Distribution | None:
        return distribution(self.timings.get(part, []))

    @property
    def checkouts_per_s(self) -> float:
        return self.checkouts / self.seconds if self.seconds else 0.0

    @property
    def reservations(self) -> int:
        return len(self.timings.get(RESERVATION, []))

    @property
    def label(self) -> str:
        return f"{self.step}, round {self.round}"


def _cell(figures: Distribution | None) -> str:
    return f"{figures.p50_ms:.1f} / {figures.p99_ms:.1f}" if figures else "-"


def _ratio(orders: Distribution | None, monolith: Distribution | None, name: str) -> float:
    if not orders or not monolith or not getattr(monolith, name):
        return 0.0
    return getattr(orders, name) / getattr(monolith, name)


@dataclass
class OrdersReport:
    settings: dict[str, Any]
    phases: list[Phase]

    def pooled(self, step: str, part: str = CHECKOUT) -> Distribution | None:
        """The part's figures over every round at the step."""
        return distribution([ms for phase in self.at(step) for ms in phase.timings.get(part, [])])

    def at(self, step: str) -> list[Phase]:
        return [phase for phase in self.phases if phase.step == step]

    def ratio(self, name: str = "p50_ms") -> float:
        """The checkout's figure at 5-orders over the one at 0-monolith, every round pooled."""
        return _ratio(self.pooled(ORDERS_STEP), self.pooled(MONOLITH_STEP), name)

    def round_ratios(self) -> list[float]:
        """Each round's checkout median at 5-orders over its median at 0-monolith."""
        by_round: dict[int, dict[str, Phase]] = {}
        for phase in self.phases:
            by_round.setdefault(phase.round, {})[phase.step] = phase
        return [
            _ratio(steps[ORDERS_STEP].of(CHECKOUT), steps[MONOLITH_STEP].of(CHECKOUT), "p50_ms")
            for _, steps in sorted(by_round.items())
            if {MONOLITH_STEP, ORDERS_STEP} <= steps.keys()
        ]

    def problems(self) -> list[str]:
        found = []
        for phase in self.phases:
            if phase.errors:
                found.append(f"{phase.label}: {phase.errors} requests failed")
            if phase.step == MONOLITH_STEP and phase.reservations:
                found.append(f"{phase.label}: {phase.reservations} internal reservation calls")
            answered = len(phase.timings.get(CHECKOUT, []))
            if phase.step == ORDERS_STEP and phase.reservations < answered:
                found.append(
                    f"{phase.label}: {phase.reservations} reservation calls logged for "
                    f"{answered} checkouts"
                )
        ratio = self.ratio()
        if ratio > LIMIT_RATIO:
            found.append(
                f"the checkout median at {ORDERS_STEP} is {ratio:.2f}x the one at "
                f"{MONOLITH_STEP}, over the {LIMIT_RATIO}x allowed"
            )
        return found

    def verdict(self) -> str:
        ratio = self.ratio()
        if ratio <= GOAL_RATIO:
            return "within the goal"
        if ratio <= LIMIT_RATIO:
            return f"within the limit, over the {GOAL_RATIO}x goal"
        return "OVER THE LIMIT"

    def summary(self) -> str:
        monolith, orders = self.pooled(MONOLITH_STEP), self.pooled(ORDERS_STEP)
        reservation = self.pooled(ORDERS_STEP, RESERVATION)
        rounds = ", ".join(f"{ratio:.2f}x" for ratio in self.round_ratios())
        return (
            f"checkout p50 / p99 {_cell(monolith)} ms at {MONOLITH_STEP}, {_cell(orders)} ms "
            f"at {ORDERS_STEP}: **{self.ratio():.2f}x** the median (rounds: {rounds}; "
            f"{self.verdict()}: goal {GOAL_RATIO}x, limit {LIMIT_RATIO}x), "
            f"{self.ratio('p99_ms'):.2f}x the p99; the reservation call p50 / p99 "
            f"{_cell(reservation)} ms"
        )

    def to_markdown(self) -> str:
        lines = [
            "# Checkout latency: the monolith against the orders and catalog services, "
            "through the proxy",
            "",
            *(f"- {key}: {value}" for key, value in self.settings.items()),
            "",
            "## The checkout",
            "",
            "Customers each fill their cart with one unit of a product of their own "
            f"(`PUT /api/cart/items/{{id}}`) and check it out (`POST /api/orders`), in a closed "
            f"loop, through the proxy's public listener. At {MONOLITH_STEP} the monolith checks "
            f"out on its own tables; at {ORDERS_STEP} the orders service does, reserving the stock "
            "on the catalog service through the proxy's internal listener. Phases in the order "
            "they ran; figures in milliseconds.",
            "",
            "| phase | checkouts | errors | checkouts/s | checkout p50 / p99 "
            "| cart PUT p50 / p99 |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            *(
                f"| {phase.label} | {phase.checkouts} | {phase.errors} "
                f"| {phase.checkouts_per_s:.1f} | {_cell(phase.of(CHECKOUT))} "
                f"| {_cell(phase.of('cart'))} |"
                for phase in self.phases
            ),
            *(
                f"| {step}, every round | {sum(p.checkouts for p in self.at(step))} "
                f"| {sum(p.errors for p in self.at(step))} | "
                f"| **{_cell(self.pooled(step))}** | {_cell(self.pooled(step, 'cart'))} |"
                for step in (MONOLITH_STEP, ORDERS_STEP)
            ),
            "",
            f"**{ORDERS_STEP} against {MONOLITH_STEP}**: {self.summary()}.",
            "",
            "## Where a checkout's time goes",
            "",
            "p50 / p99 in milliseconds over every round, matched to the checkouts by their "
            "X-Request-ID (the bench sets one per checkout; the proxy and every backend pass it "
            "on to their internal calls and write it in their access logs).",
            "",
            f"| part | {MONOLITH_STEP} | {ORDERS_STEP} |",
            "| --- | ---: | ---: |",
            *(
                f"| {name} | {_cell(self.pooled(MONOLITH_STEP, part))} "
                f"| {_cell(self.pooled(ORDERS_STEP, part))} |"
                for part, name in PARTS.items()
            ),
        ]
        problems = self.problems()
        if problems:
            lines += ["", "## Problems", "", *(f"- {problem}" for problem in problems)]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        def figures(step: str, part: str) -> dict[str, Any] | None:
            pooled = self.pooled(step, part)
            return asdict(pooled) if pooled else None

        payload = {
            "settings": self.settings,
            "summary": {
                "ratio_p50": round(self.ratio(), 3),
                "ratio_p99": round(self.ratio("p99_ms"), 3),
                "round_ratios_p50": [round(ratio, 3) for ratio in self.round_ratios()],
                "goal_ratio": GOAL_RATIO,
                "limit_ratio": LIMIT_RATIO,
                **{
                    step: {part: figures(step, part) for part in PARTS}
                    for step in (MONOLITH_STEP, ORDERS_STEP)
                },
            },
            "phases": [asdict(phase) for phase in self.phases],
            "problems": self.problems(),
        }
        return json.dumps(payload, indent=2) + "\n"

    def write(self, directory: Path, stem: str = "orders") -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, machine = directory / f"{stem}.md", directory / f"{stem}.json"
        markdown.write_text(self.to_markdown())
        machine.write_text(self.to_json())
        return markdown, machine
