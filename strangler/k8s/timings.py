"""How long each process may take to stop, read from where the one-machine setup reads it:
gunicorn's graceful_timeout from its settings file, nginx's from the plan's
proxy.worker_shutdown_timeout. Nothing here keeps a second copy of either."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from strangler.k8s.errors import K8sError

_DURATION = re.compile(r"([0-9]+)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds: `drain` a pod keeps serving after it was taken out of its Service (preStop),
    then the graceful stop of its server."""

    drain: int
    gunicorn_graceful: int
    nginx_shutdown: int
    worker_stop: int

    @property
    def web_grace(self) -> int:
        return self.drain + self.gunicorn_graceful

    @property
    def proxy_grace(self) -> int:
        return self.drain + self.nginx_shutdown


def gunicorn_graceful_timeout(path: Path) -> int:
    """The literal `graceful_timeout = N` of a gunicorn settings file, read without running
    it (the file installs hooks when executed)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError) as error:
        raise K8sError(f"{path}: cannot read gunicorn's settings: {error}") from None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["graceful_timeout"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, int)
        ):
            return node.value.value
    raise K8sError(f"{path}: no literal `graceful_timeout = <seconds>`")


def seconds(duration: str) -> int:
    """A plan duration (`10s`, `500ms`, `1m`) in whole seconds, rounded up."""
    match = _DURATION.fullmatch(duration)
    if match is None:
        raise K8sError(f"not a duration: {duration!r}")
    value = int(match.group(1)) * _SECONDS[match.group(2)]
    return int(-(-value // 1))
