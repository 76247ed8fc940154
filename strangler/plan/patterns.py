"""Path patterns of plan routes.

Syntax: an absolute path whose segments are literals (`api`, `.well-known`), parameters that
match one segment (`{id}`), or, as the last segment only, `**` which matches any remainder,
including none (`/admin/**` matches `/admin`, `/admin/` and `/admin/x/y`). A trailing slash is
part of a literal pattern (`/api/products/` is not `/api/products`).

Specificity decides which route serves a path that several patterns match, exactly as the
rendered nginx config does: compared segment by segment from the left, a literal beats a
parameter, which beats the end of a pattern, which beats `**`. Two patterns of the same shape
(equal but for parameter names) are the same location and may only differ by methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LITERAL = re.compile(r"^[A-Za-z0-9._~-]*$")
_PARAM = re.compile(r"^\{([a-z_][a-z0-9_]*)\}$")
REST = "**"

_RANK_LITERAL = 3.0
_RANK_PARAM = 2.0
_RANK_END = 1.5
_RANK_REST = 1.0


@dataclass(frozen=True, slots=True)
class Segment:
    kind: str  # "literal" | "param" | "rest"
    value: str = ""

    @property
    def rank(self) -> float:
        return {"literal": _RANK_LITERAL, "param": _RANK_PARAM, "rest": _RANK_REST}[self.kind]


@dataclass(frozen=True, slots=True)
class PathPattern:
    text: str
    segments: tuple[Segment, ...]

    @classmethod
    def parse(cls, text: str) -> PathPattern:
        """Parse `text`; a ValueError says what is wrong with it."""
        if not isinstance(text, str) or not text.startswith("/"):
            raise ValueError("a path pattern must start with '/'")
        if text == "/":
            return cls(text=text, segments=(Segment("literal", ""),))
        raw = text[1:].split("/")
        segments: list[Segment] = []
        for index, part in enumerate(raw):
            last = index == len(raw) - 1
            if part == REST:
                if not last:
                    raise ValueError("'**' is only allowed as the last segment")
                segments.append(Segment("rest"))
            elif match := _PARAM.match(part):
                segments.append(Segment("param", match.group(1)))
            elif part == "" and not last:
                raise ValueError("empty segment ('//')")
            elif _LITERAL.match(part):
                segments.append(Segment("literal", part))
            else:
                raise ValueError(
                    f"segment {part!r} is neither a literal ([A-Za-z0-9._~-]), "
                    "a parameter ({name}) nor '**'"
                )
        return cls(text=text, segments=tuple(segments))

    @property
    def is_exact(self) -> bool:
        return all(segment.kind == "literal" for segment in self.segments)

    @property
    def shape(self) -> str:
        """The pattern with parameter names erased: equal shapes match the same paths."""
        parts = []
        for segment in self.segments:
            parts.append({"literal": segment.value, "param": "{}", "rest": REST}[segment.kind])
        return "/" + "/".join(parts)

    @property
    def specificity(self) -> tuple[float, ...]:
        """Higher sorts first; see the module docstring."""
        ranks = [segment.rank for segment in self.segments]
        if self.segments[-1].kind != "rest":
            ranks.append(_RANK_END)
        return tuple(ranks)

    @property
    def regex(self) -> str:
        """An anchored regex, valid both for Python's `re` and for nginx (PCRE)."""
        out = ""
        for segment in self.segments:
            if segment.kind == "rest":
                return "^" + out + "(?:/.*)?$"
            if segment.kind == "param":
                out += "/[^/]+"
            else:
                out += "/" + re.escape(segment.value)
        return "^" + out + "$"

    def matches(self, path: str) -> bool:
        return re.match(self.regex, path) is not None

    def __str__(self) -> str:
        return self.text


def by_specificity(patterns: list[PathPattern]) -> list[PathPattern]:
    """Most specific first; ties (disjoint patterns) keep a stable textual order."""
    return sorted(patterns, key=lambda p: (tuple(-r for r in p.specificity), p.text))
