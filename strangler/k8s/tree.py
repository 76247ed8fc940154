"""The rendered tree on disk: what differs from a render, and writing a render out.

Only the folders the renderer writes are compared and pruned; deploy/k8s/cluster.yaml and any
other file beside them is left alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from strangler.proxy.nginx import write_atomically

RENDERED_FOLDERS = ("base", "overlays", "components")


@dataclass(frozen=True, slots=True)
class Drift:
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    stale: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.stale)

    def describe(self) -> str:
        parts = [
            f"{label}: {', '.join(paths)}"
            for label, paths in (
                ("differ", self.changed),
                ("missing", self.missing),
                ("not rendered", self.stale),
            )
            if paths
        ]
        return "; ".join(parts)


def on_disk(root: Path) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for folder in RENDERED_FOLDERS
        for path in (root / folder).rglob("*")
        if path.is_file()
    }


def drift(root: Path, files: dict[str, str]) -> Drift:
    present = on_disk(root)
    return Drift(
        changed=tuple(
            sorted(
                path
                for path in files
                if path in present and (root / path).read_text(encoding="utf-8") != files[path]
            )
        ),
        missing=tuple(sorted(set(files) - present)),
        stale=tuple(sorted(present - set(files))),
    )


def write(root: Path, files: dict[str, str]) -> Drift:
    """Make the tree under `root` the render; return what had to change."""
    found = drift(root, files)
    for path in (*found.changed, *found.missing):
        write_atomically(root / path, files[path])
    for path in found.stale:
        (root / path).unlink()
    for folder in RENDERED_FOLDERS:
        for directory in sorted((root / folder).rglob("*"), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
    return found
