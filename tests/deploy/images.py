"""What a Dockerfile puts in its image, read without building it: stages, the environment, the
working directory and which repository path each image path comes from."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import dockerfile
from docker.utils.build import exclude_paths

# The instructions whose arguments Docker substitutes $NAME and ${NAME} in at build time, with the
# ARG and ENV values declared so far; RUN, CMD, ENTRYPOINT and HEALTHCHECK commands are expanded
# by the shell, if any, when they run.
SUBSTITUTED = frozenset(
    {
        "ADD",
        "ARG",
        "COPY",
        "ENV",
        "EXPOSE",
        "FROM",
        "LABEL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


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


@dataclass(frozen=True)
class Image:
    """An image as it is built: a Dockerfile and the build arguments it is given."""

    name: str
    dockerfile: str
    build_args: tuple[tuple[str, str], ...] = ()

    def stages(self, repo_root: Path) -> list[Stage]:
        return parse_stages(repo_root / self.dockerfile, build_args=dict(self.build_args))


def substitute(text: str, values: Mapping[str, str]) -> str:
    """$NAME and ${NAME} replaced by their values; a name without one is left as written (e.g.
    $PATH in ENV, the base image's own)."""

    def value(match: re.Match[str]) -> str:
        return values.get(match["braced"] or match["plain"], match[0])

    return _REFERENCE.sub(value, text)


def _substituted(command: dockerfile.Command, values: Mapping[str, str]) -> dockerfile.Command:
    if command.cmd not in SUBSTITUTED:
        return command
    return command._replace(value=tuple(substitute(part, values) for part in command.value))


def parse_stages(path: Path, *, build_args: Mapping[str, str] | None = None) -> list[Stage]:
    """Split a Dockerfile into stages, with Docker's build-time substitutions made: an ARG takes
    the build argument of its name, else its default; one declared before the first FROM is seen
    by the FROM lines, and inside a stage once that stage declares it again; a stage's ENV values
    are seen by the instructions after them. A build argument that no ARG declares is an error
    here (Docker only warns that it was not consumed)."""
    given = dict(build_args or {})
    declared: set[str] = set()
    global_args: dict[str, str] = {}
    scope: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[dockerfile.Command] = []
    header: tuple[str, str | None] | None = None
    for parsed in dockerfile.parse_file(str(path)):
        if parsed.cmd == "FROM":
            if header is not None:
                stages.append(Stage(header[0], header[1], tuple(current)))
            command = _substituted(parsed, global_args)
            alias = command.value[2] if len(command.value) == 3 else None
            header, current, scope = (command.value[0], alias), [], {}
            continue
        values = global_args if header is None else scope
        command = _substituted(parsed, values)
        if command.cmd == "ARG":
            for declaration in command.value:
                name, has_default, default = declaration.partition("=")
                declared.add(name)
                if name in given:
                    values[name] = given[name]
                elif has_default:
                    values[name] = default
                elif header is not None and name in global_args:
                    values[name] = global_args[name]
        elif command.cmd == "ENV":
            scope |= _env_pairs(command)
        if header is not None:
            current.append(command)
    if header is not None:
        stages.append(Stage(header[0], header[1], tuple(current)))
    unused = sorted(set(given) - declared)
    if unused:
        raise ValueError(f"{path}: no ARG declares the build arguments {unused}")
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


def _env_pairs(command: dockerfile.Command) -> dict[str, str]:
    pairs = command.value
    return {
        name: " ".join(shlex.split(raw)) if raw else raw
        for name, raw in zip(pairs[::2], pairs[1::2], strict=True)
    }


def environment(stage: Stage) -> dict[str, str]:
    """The stage's ENV values as a container sees them (`$NAME` references to values the
    Dockerfile does not set left as written)."""
    values: dict[str, str] = {}
    for command in stage.all("ENV"):
        values |= _env_pairs(command)
    return values


def run_argv(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """What an exec-form command (CMD, a healthcheck's CMD) runs: itself, or, for
    `/bin/sh -c "exec ..."` (how an image puts values of its environment into a command), the
    command the shell execs, expanded by a real shell with `env`."""
    if list(argv[:2]) != ["/bin/sh", "-c"]:
        return list(argv)
    script = argv[2]
    assert script.startswith("exec "), f"the shell must replace itself with the command: {script}"
    # The same words, printed instead of run: one NUL-terminated word each.
    printed = subprocess.run(
        ["/bin/sh", "-c", "printf '%s\\0' " + script.removeprefix("exec ")],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return printed.stdout.split("\0")[:-1]


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


def copy_image_files(stage: Stage, repo_root: Path, image_root: Path) -> None:
    """Put under image_root what the stage's COPY instructions take from the build context."""
    context = build_context_files(repo_root)
    for target, source in copies(stage).items():
        destination = image_root / target.relative_to("/")
        if (repo_root / source).is_file():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo_root / source, destination)
            continue
        for relative in sorted(context):
            if relative.startswith(f"{source}/") and (repo_root / relative).is_file():
                copied = destination / Path(relative).relative_to(source)
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(repo_root / relative, copied)


def relocate(value: str, image_workdir: PurePosixPath, image_root: Path) -> str:
    """An image path under the working directory, as a path of the copy under image_root."""
    prefix = str(image_workdir)
    if value == prefix or value.startswith(f"{prefix}/"):
        return str(image_root) + value
    return value
