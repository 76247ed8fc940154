"""Load `plan.yaml`: YAML (rejecting duplicate keys), then the schema, then the cross checks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from strangler.plan.build import build_plan
from strangler.plan.errors import PlanError, PlanIssue
from strangler.plan.model import Plan
from strangler.plan.schema import PlanIn

DEFAULT_PLAN = Path("migration-plan") / "plan.yaml"

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing required key",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; in a plan that silently drops a route."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_plan(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Plan:
    """Load and validate the plan at `path`; `<BACKEND>_URL` and `<BACKEND>_INSTANCES`
    variables in `env` (default: the process environment) override backend URLs and instance
    counts. Raises PlanError."""
    path = Path(path)
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanError([PlanIssue(file=file, message=f"cannot read: {error.strerror}")]) from None
    return parse_plan(text, file=file, env=os.environ if env is None else env)


def parse_plan(text: str, *, file: str, env: Mapping[str, str]) -> Plan:
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PlanError([PlanIssue(file=file, message=f"invalid YAML: {where}{problem}")]) from None
    if not isinstance(raw, dict):
        raise PlanError([PlanIssue(file=file, message="the plan must be a YAML mapping")])
    try:
        parsed = PlanIn.model_validate(raw)
    except ValidationError as error:
        raise PlanError([_issue(file, raw, e) for e in error.errors()]) from None
    return build_plan(parsed, file=file, env=env)


def _issue(file: str, raw: dict[str, Any], error: Mapping[str, Any]) -> PlanIssue:
    loc = list(error["loc"])
    message = _MESSAGES.get(error["type"], error["msg"])
    step = None
    parts: list[str] = []
    if loc and loc[0] == "steps" and len(loc) > 1 and isinstance(loc[1], int):
        step = _item_name(raw, "steps", loc[1], "id")
        loc = loc[2:]
    elif loc and loc[0] == "routes" and len(loc) > 1 and isinstance(loc[1], int):
        parts.append(f"routes.{_item_name(raw, 'routes', loc[1], 'name')}")
        loc = loc[2:]
    parts.extend(str(part) for part in loc)
    return PlanIssue(file=file, message=message, step=step, key=".".join(parts) or None)


def _item_name(raw: dict[str, Any], section: str, index: int, field: str) -> str:
    items = raw.get(section)
    if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
        value = items[index].get(field)
        if isinstance(value, str):
            return value
    return f"#{index + 1}"
