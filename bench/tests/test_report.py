import json
from pathlib import Path

from bench.report import BenchReport, ScenarioResult


def sample_report() -> BenchReport:
    return BenchReport(
        title="Monolith benchmark",
        settings={"server": "gunicorn, 5 sync workers"},
        results=[
            ScenarioResult("GET /api/products", "wrk", 1200, 0, 10.0, 120.0, 41.25, 98.5),
            ScenarioResult("checkout flow", "locust", 300, 3, 10.0, 30.0, 80.0, 150.0, "boom"),
        ],
    )


def test_markdown_table_has_one_row_per_scenario_with_rounded_figures() -> None:
    markdown = sample_report().to_markdown()
    assert "- server: gunicorn, 5 sync workers" in markdown
    assert "| GET /api/products | wrk | 1200 | 0 | 120.0 | 41.2 | 98.5 |" in markdown
    assert "| checkout flow | locust | 300 | 3 | 30.0 | 80.0 | 150.0 |" in markdown
    assert "- checkout flow: boom" in markdown


def test_write_puts_the_same_results_in_markdown_and_json(tmp_path: Path) -> None:
    markdown, machine = sample_report().write(directory=tmp_path / "results", stem="monolith")
    assert markdown.name == "monolith.md"
    assert markdown.read_text() == sample_report().to_markdown()
    payload = json.loads(machine.read_text())
    assert [row["scenario"] for row in payload["results"]] == ["GET /api/products", "checkout flow"]
    assert payload["results"][1]["errors"] == 3
