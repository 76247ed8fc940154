"""The processes `make up` runs on one machine: the supervisor programs in
deploy/supervisor/programs/*.conf, with their commands split into argv."""

from __future__ import annotations

import configparser
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Stands for %(ENV_SHOP_ROOT)s, so that paths in a program read as repository paths.
ROOT = PurePosixPath("/shop-root")
SUPERVISOR_ENV = re.compile(r"%\(ENV_(?P<name>\w+)\)s")


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


def _expand(value: str) -> str:
    # Supervisor's own expansion: %(ENV_X)s from the environment and %% for a literal %.
    def variable(match: re.Match[str]) -> str:
        return str(ROOT) if match["name"] == "SHOP_ROOT" else "${" + match["name"] + "}"

    return SUPERVISOR_ENV.sub(variable, value).replace("%%", "%")


def load_programs(repo_root: Path) -> dict[str, Program]:
    parser = configparser.RawConfigParser(strict=True)
    files = sorted((repo_root / "deploy" / "supervisor" / "programs").glob("*.conf"))
    assert files, "no supervisor programs"
    parser.read(files)
    programs: dict[str, Program] = {}
    for section in parser.sections():
        kind, _, name = section.partition(":")
        if kind != "program":
            continue
        options = parser[section]
        programs[name] = Program(
            name=name,
            argv=tuple(shlex.split(_expand(options["command"]))),
            directory=PurePosixPath(_expand(options.get("directory", str(ROOT)))),
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
