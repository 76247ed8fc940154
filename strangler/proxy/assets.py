"""The files the package ships for nginx: the config template and the Lua runtime.

They are package data (pyproject.toml), so an installed `strangler` renders and runs the proxy
without the repository. nginx loads the Lua from its prefix (`lua_package_path` in the
template), where `Nginx.prepare` copies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

PACKAGE = "strangler.proxy"
TEMPLATES = "templates"
LUA = "lua"


def lua_root() -> Traversable:
    return files(PACKAGE) / LUA


@cache
def lua_sources() -> tuple[tuple[str, str], ...]:
    """(path relative to the Lua root, text) of every Lua module, in a stable order."""
    return tuple(sorted(_walk(lua_root(), "")))


def _walk(folder: Traversable, prefix: str) -> Iterator[tuple[str, str]]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".lua"):
            yield f"{prefix}{entry.name}", entry.read_text(encoding="utf-8")
