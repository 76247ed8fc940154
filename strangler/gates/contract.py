"""The contract gate: a step is left only after the contract suite passed at it.

`strangle verify` records each result through the proxy's public URL in
var/strangler/contract.json, per step: when, on which route table, PASS or FAIL and pytest's
summary. What counts is the last result at the current step on the table the step has now (a
plan change that alters the step's routes asks for a new run); a step whose suite never ran
there, or last failed, is not left, when the plan's `gates.contract.required` is true (off by
default: a project has no contract suite until it writes one). When it is false, a suite that
never ran holds nothing, but a last run that failed at the step still does: a known break is
never flipped past.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from strangler.proxy.errors import ProxyError
from strangler.proxy.nginx import write_atomically
from strangler.proxy.site import Site
from strangler.proxy.state import State, load_state
from strangler.proxy.verify import Verdict as SuiteOutcome

from .move import Check, Move

FILE_NAME = "contract.json"


@dataclass(frozen=True, slots=True)
class Result:
    step: str
    table: str | None  # the step's route table hash when the suite ran
    at: str  # ISO 8601, UTC
    ok: bool
    summary: str
    first_failure: str | None
    base_url: str

    def describe(self) -> str:
        outcome = "passed" if self.ok else "FAILED"
        text = f"{outcome} at {self.step} ({self.at}): {self.summary}"
        return text + (f" (first failure: {self.first_failure})" if self.first_failure else "")


def _path(site: Site) -> Path:
    return site.state_dir / FILE_NAME


def results(site: Site) -> dict[str, Result]:
    """The last result per step."""
    path = _path(site)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ProxyError(f"cannot read {path}: {error}") from None
    try:
        return {step: Result(**entry) for step, entry in raw.items()}
    except (AttributeError, TypeError) as error:
        raise ProxyError(f"cannot read {path}: {error}") from None


def record(site: Site, *, state: State, outcome: SuiteOutcome, base_url: str) -> Result:
    """Record a run of the suite at the recorded step through `base_url`."""
    if state.step is None:
        raise ProxyError("no step is recorded yet: `strangle up` first")
    result = Result(
        step=state.step,
        table=state.table_hash,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        ok=outcome.ok,
        summary=outcome.summary,
        first_failure=outcome.first_failure,
        base_url=base_url,
    )
    kept = {step: asdict(r) for step, r in results(site).items()}
    kept[result.step] = asdict(result)
    write_atomically(_path(site), json.dumps(kept, indent=2) + "\n")
    return result


def check(move: Move) -> Iterator[Check]:
    required = move.plan.gates.contract.required
    unrequired = " (not required: gates.contract.required is false)"
    step = move.current.id
    state = load_state(move.site.state_path)
    if state.step != step:
        detail = "no step is recorded yet: `strangle up`, then `strangle verify`"
        yield Check("contract", not required, detail + ("" if required else unrequired))
        return
    last = results(move.site).get(step)
    if last is None:
        detail = f"the contract suite never ran at {step}: `strangle verify`"
        yield Check("contract", not required, detail + ("" if required else unrequired))
    elif last.table != state.table_hash:
        detail = (
            f"the contract suite last ran at {step} on another route table ({last.at}): "
            "`strangle verify` again"
        )
        yield Check("contract", not required, detail + ("" if required else unrequired))
    else:
        yield Check("contract", last.ok, last.describe())
