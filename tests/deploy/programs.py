"""The processes `make up` runs on one machine: the supervisor programs in
deploy/supervisor/programs/*.conf, with their commands split into argv."""

from __future__ import annotations

import configparser
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Stands for %(ENV_SHOP_ROOT)s, so that paths in a program read as repository paths.
ROOT = PurePosixPath("/shop-root")


@dataclass(frozen=True)
class Program:
    name: str
    argv: tuple[str, ...]
    directory: PurePosixPath

    @property
    def executable(self) -> str:
        return PurePosixPath(self.argv[0]).name

    def repository_path(self, path: str) -> str:
        """A path of the command (absolute, or relative to the program's directory) as a path
        inside the repository."""
        absolute = PurePosixPath(path)
        if not absolute.is_absolute():
            absolute = self.directory / absolute
        return str(absolute.relative_to(ROOT))


class _Expansions(dict):
    """Supervisor's names for %(name)s expansion: %(ENV_SHOP_ROOT)s stands for ROOT, any other
    %(ENV_X)s for ${X}."""

    def __missing__(self, key: str) -> str:
        if key.startswith("ENV_"):
            return str(ROOT) if key == "ENV_SHOP_ROOT" else "${" + key.removeprefix("ENV_") + "}"
        raise KeyError(key)


def _expand(value: str, **names: object) -> str:
    # Supervisor's own expansion: Python %-formatting over the environment (ENV_X), the
    # program's name and the process number, with %% for a literal %.
    return value % _Expansions(names)


def load_programs(repo_root: Path) -> dict[str, Program]:
    """One Program per process supervisor starts: a program with `numprocs` greater than one
    becomes one Program per process, named by its `process_name`. A program whose numprocs comes
    from the environment (a backend's <NAME>_INSTANCES: copies of one process, which compose
    would scale its own way) is one Program, named after the program."""
    parser = configparser.RawConfigParser(strict=True)
    files = sorted((repo_root / "deploy" / "supervisor" / "programs").glob("*.conf"))
    assert files, "no supervisor programs"
    parser.read(files)
    programs: dict[str, Program] = {}
    for section in parser.sections():
        kind, _, program_name = section.partition(":")
        if kind != "program":
            continue
        options = parser[section]
        start = int(options.get("numprocs_start", "0"))
        numprocs = _expand(options.get("numprocs", "1"))
        copies = not numprocs.isdigit()
        for process_num in range(start, start + (1 if copies else int(numprocs))):
            names = {
                "program_name": program_name,
                "group_name": program_name,
                "process_num": process_num,
            }
            process_name = "%(program_name)s" if copies else options.get("process_name")
            name = _expand(process_name or "%(program_name)s", **names)
            assert name not in programs, f"two processes named {name}"
            programs[name] = Program(
                name=name,
                argv=tuple(shlex.split(_expand(options["command"], **names))),
                directory=PurePosixPath(_expand(options.get("directory", str(ROOT)), **names)),
            )
    return programs


def option(argv: tuple[str, ...] | list[str], *names: str) -> str | None:
    """The value of the first of `names` in argv (`--queues a` or `--queues=a`), else None."""
    for index, argument in enumerate(argv):
        for name in names:
            if argument == name and index + 1 < len(argv):
                return argv[index + 1]
            if argument.startswith(f"{name}="):
                return argument.partition("=")[2]
    return None
