"""Answers as fields: a JSON body flattened into paths to its leaves, and the names the shadow
report gives them.

A path is exact (`results[3].price`, one leaf); its field is the path with list indexes
generalised (`results[].price`), which is what noise is learned on, ignore rules name and the
report counts. Object keys join with dots; a key that is not a plain name (letters, digits,
`_`, `-`) is written quoted, `["a key"]`, and so is a top-level key named like one of the
report's own fields (`["status"]`), which therefore never collide:

- `status`: the HTTP status (or why there was none);
- `$`: the body itself when it is not JSON (or is a JSON scalar); text never equals a JSON
  string.

Empty objects and lists are leaves of their own (`{}` and `[]`), so that an empty list and a
missing one differ.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

STATUS = "status"
ROOT = "$"
RESERVED = frozenset({STATUS, ROOT})

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Text(str):
    """A body that is not JSON (a plain-text error page), which never equals a JSON string of
    the same characters."""

    __slots__ = ()


def parse(body: str) -> Any:
    """The body as JSON, or as Text when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return Text(body)


class Leaf(NamedTuple):
    field: str  # the path with list indexes generalised
    value: Any  # a JSON scalar, or an empty object or list


def flatten(value: Any) -> dict[str, Leaf]:
    """Exact path -> its leaf, in document order."""
    return {path: leaf for path, leaf in _leaves(value, "", "")}


def _leaves(value: Any, path: str, field: str) -> Iterator[tuple[str, Leaf]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            name = _key(key, top=not path)
            yield from _leaves(item, _join(path, name), _join(field, name))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]", f"{field}[]")
    else:
        yield path or ROOT, Leaf(field or ROOT, value)


def _key(key: str, *, top: bool) -> str:
    if _PLAIN_KEY.fullmatch(key) and not (top and key in RESERVED):
        return key
    return f"[{json.dumps(key)}]"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and not name.startswith("[") else path + name


def covers(rule: str, field: str) -> bool:
    """Whether an ignore rule names `field` or an object or list it lies in."""
    return field == rule or (field.startswith(rule) and field[len(rule)] in ".[")


def same(left: Any, right: Any) -> bool:
    """Equal as JSON values: `true` is not `1` (Python says it is), `1` is `1.0`."""
    return _kind(left) == _kind(right) and left == right


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
