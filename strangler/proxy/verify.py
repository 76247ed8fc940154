"""`strangle verify`: the contract suite against the proxy, reduced to a one-line verdict."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from strangler.proxy.errors import ProxyError

CONTRACT_SUITE = Path("tests") / "contract"
# The `contract` extra (pyproject.toml): the runner and the plugins the suite's settings name.
CONTRACT_RUNNERS = (
    ("pytest", "pytest"),
    ("pytest-django", "pytest_django"),
    ("pytest-timeout", "pytest_timeout"),
)
_SUMMARY = re.compile(r"\b\d+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)\b")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    summary: str  # pytest's closing line, e.g. "57 passed in 12.31s"
    first_failure: str | None

    def line(self, *, step: str, base_url: str) -> str:
        text = f"{'PASS' if self.ok else 'FAIL'}: contract suite at step {step} via {base_url}: "
        text += self.summary
        if self.first_failure:
            text += f" (first failure: {self.first_failure})"
        return text


def run_contract_suite(
    *, root: Path, base_url: str, extra_args: tuple[str, ...] = (), timeout: float = 1800
) -> Verdict:
    suite = root / CONTRACT_SUITE
    if not suite.is_dir():
        raise ProxyError(f"no contract suite at {suite}")
    missing = missing_runners()
    if missing:
        raise ProxyError(
            f"the contract suite runs with pytest, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed in {sys.prefix}: "
            "pip install 'strangler[contract]' (in this project: make install)"
        )
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(CONTRACT_SUITE),
        "--base-url",
        base_url,
        "-q",
        "-p",
        "no:cacheprovider",
        "-rfE",
        *extra_args,
    ]
    try:
        result = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProxyError(f"the contract suite did not finish within {timeout:.0f} s") from None
    return parse_outcome(result.returncode, result.stdout + result.stderr)


def missing_runners() -> list[str]:
    """The distributions of the `contract` extra this interpreter cannot import."""
    return [name for name, module in CONTRACT_RUNNERS if importlib.util.find_spec(module) is None]


def parse_outcome(returncode: int, output: str) -> Verdict:
    lines = [line.strip().strip("=").strip() for line in output.splitlines() if line.strip()]
    summaries = [line for line in lines if _SUMMARY.search(line)]
    summary = summaries[-1] if summaries else (lines[-1] if lines else f"exit {returncode}")
    failures = [line.split(" ", 1)[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    first = failures[0].split(" - ")[0] if failures else None
    return Verdict(ok=returncode == 0, summary=summary, first_failure=first)
