"""What a Dockerfile puts in its image, read without building it: stages, the environment, the
working directory and which repository path each image path comes from."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import dockerfile
from docker.utils.build import exclude_paths


@dataclass(frozen=True)
class Stage:
    """One build stage: its FROM line and the instructions under it."""

    base_image: str
    name: str | None
    commands: tuple[dockerfile.Command, ...]

    def all(self, instruction: str) -> list[dockerfile.Command]:
        return [command for command in self.commands if command.cmd == instruction]

    def last(self, instruction: str) -> dockerfile.Command | None:
        found = self.all(instruction)
        return found[-1] if found else None


def parse_stages(path: Path) -> list[Stage]:
    """Split a Dockerfile into stages, with ARG defaults declared before FROM substituted."""
    commands = dockerfile.parse_file(str(path))
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[dockerfile.Command] = []
    header: tuple[str, str | None] | None = None
    for command in commands:
        if command.cmd == "ARG" and header is None:
            name, _, default = command.value[0].partition("=")
            global_args[name] = default
        elif command.cmd == "FROM":
            if header is not None:
                stages.append(Stage(header[0], header[1], tuple(current)))
            image = command.value[0]
            for name, default in global_args.items():
                image = image.replace(f"${{{name}}}", default).replace(f"${name}", default)
            alias = command.value[2] if len(command.value) == 3 else None
            header, current = (image, alias), []
        else:
            current.append(command)
    if header is not None:
        stages.append(Stage(header[0], header[1], tuple(current)))
    return stages


def workdir(stage: Stage, *, before: dockerfile.Command | None = None) -> PurePosixPath:
    """The working directory at the end of the stage, or where `before` runs."""
    directory = PurePosixPath("/")
    for command in stage.commands:
        if command is before:
            break
        if command.cmd == "WORKDIR":
            directory = directory / command.value[0]
    return directory


def environment(stage: Stage) -> dict[str, str]:
    """The stage's ENV values as a container sees them (`$NAME` references left as written)."""
    values: dict[str, str] = {}
    for command in stage.all("ENV"):
        pairs = command.value
        for name, raw in zip(pairs[::2], pairs[1::2], strict=True):
            values[name] = " ".join(shlex.split(raw)) if raw else raw
    return values


def copies(stage: Stage) -> dict[PurePosixPath, str]:
    """Image path -> repository path (relative, no trailing slash) of each COPY from the build
    context; a directory source maps its destination directory."""
    mapping: dict[PurePosixPath, str] = {}
    for command in stage.all("COPY"):
        if any(flag.startswith("--from=") for flag in command.flags):
            continue
        *sources, destination = command.value
        target = workdir(stage, before=command) / destination
        for source in sources:
            if source.endswith("/") or len(sources) > 1 or destination.endswith(("/", ".")):
                into = target if source.endswith("/") else target / PurePosixPath(source).name
            else:
                into = target
            mapping[into] = source.rstrip("/")
    return mapping


def repository_path(stage: Stage, image_path: PurePosixPath) -> str | None:
    """The repository path an image path was copied from, or None when no COPY brings it."""
    for target, source in sorted(copies(stage).items(), key=lambda item: -len(item[0].parts)):
        if image_path == target:
            return source
        if image_path.is_relative_to(target):
            return str(PurePosixPath(source) / image_path.relative_to(target))
    return None


def build_context_files(repo_root: Path) -> set[str]:
    """Paths that `docker build .` would send, with .dockerignore applied as Docker does."""
    ignore_file = repo_root / ".dockerignore"
    lines = ignore_file.read_text().splitlines() if ignore_file.exists() else []
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return exclude_paths(str(repo_root), patterns)
