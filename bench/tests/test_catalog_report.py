"""The catalog benchmark's report is pinned by a golden file (bench/tests/golden/catalog.md);
after an intended change, rewrite it with STRANGLER_UPDATE_GOLDEN=1 and review the diff."""

import json
import os
from pathlib import Path

from bench.catalog_report import CatalogReport, SameAnswer, Throughput, Visibility
from bench.report import ScenarioResult

GOLDEN = Path(__file__).parent / "golden" / "catalog.md"


def run(rps: float, *, errors: int = 0, p50: float = 10.0) -> ScenarioResult:
    return ScenarioResult("s", "wrk", int(rps * 10), errors, 10.0, rps, p50, p50 * 4)


def report(*, detail_catalog_rps: float = 1200.0, copy_ms: float | None = 180.0) -> CatalogReport:
    return CatalogReport(
        settings={"load average at start (1/5/15 min)": "0.50 / 0.40 / 0.30"},
        throughput=[
            Throughput(
                scenario="GET /api/products?page_size=20",
                monolith=[run(200.0, p50=40.0), run(220.0, p50=38.0), run(180.0, p50=45.0)],
                catalog=[run(900.0), run(1000.0), run(950.0)],
            ),
            Throughput(
                scenario="GET /api/products/{id} (random ids)",
                monolith=[run(300.0, p50=30.0)],
                catalog=[run(detail_catalog_rps)],
            ),
        ],
        visibility=[
            Visibility(
                write="the monolith", read="the catalog's copy", visible_ms=[120.0, copy_ms]
            ),
            Visibility(write="the catalog service", read="the proxy", visible_ms=[8.0, 9.0, 7.5]),
        ],
        answers=[
            SameAnswer(request="/api/products", same=True),
            SameAnswer(request="/api/products/1", same=True),
        ],
    )


def test_the_report_renders_as_the_golden_file() -> None:
    text = report().to_markdown()
    if os.environ.get("STRANGLER_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_the_ratio_is_the_median_of_the_rounds_ratios() -> None:
    listing, detail = report().throughput

    assert listing.ratios == [900.0 / 200.0, 1000.0 / 220.0, 950.0 / 180.0]
    assert listing.ratio == 1000.0 / 220.0
    assert detail.ratio == 4.0


def test_a_clean_run_has_no_problems_and_says_so_in_json(tmp_path: Path) -> None:
    markdown, machine = report().write(tmp_path)
    payload = json.loads(machine.read_text())

    assert "## Problems" not in markdown.read_text()
    assert payload["problems"] == []
    assert payload["summary"]["GET /api/products/{id} (random ids)"]["ratio"] == 4.0
    assert payload["visibility"][1]["p50_ms"] == 8.0


def test_a_ratio_under_3x_a_late_or_lost_write_and_differing_answers_are_problems() -> None:
    broken = report(detail_catalog_rps=600.0, copy_ms=None)
    broken.visibility[1].visible_ms.append(1500.0)
    broken.answers.append(SameAnswer(request="/api/categories", same=False, difference="body"))
    broken.throughput[0].monolith.append(run(200.0))
    broken.throughput[0].catalog.append(run(950.0, errors=1000))

    problems = broken.problems()

    assert problems == [
        "GET /api/products?page_size=20: 2.2% of requests failed",
        "GET /api/products/{id} (random ids): 2.0x the monolith's requests per second, "
        "under the 3x aimed at",
        "the monolith read from the catalog's copy: not every write was visible within 1000 ms",
        "the catalog service read from the proxy: not every write was visible within 1000 ms",
        "/api/categories: the steps answer differently (body)",
    ]
    assert "## Problems" in broken.to_markdown()
