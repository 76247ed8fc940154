"""`strangle`: drive the migration plan on a running system.

One module per subcommand (`strangler.cli.<name>`, `-` written `_`), each with `HELP`,
`add_arguments(parser)` and `run(args, ctx)`. The console script (`strangle`, or
`python -m strangler.cli`) and `./manage.py strangle` build the same parser and dispatch the
same way; they differ in how Django is set up and in how a failure ends:

- `strangle` prints one line on stderr (`strangle: <message>`) and exits 1, never a
  traceback unless `--traceback` is given;
- `./manage.py strangle` raises CommandError, which Django prints as one line.

Every failure an operator can act on is a StranglerError (ProxyError, PlanError, SyncError);
an OSError or an HTTP error is shown as its type and message; anything else is unexpected and
says to rerun with --traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

import httpx

from strangler.errors import StranglerError

from . import bootstrap
from .context import Context

SUBCOMMANDS = (
    "status",
    "diff",
    "apply",
    "rollback",
    "routes",
    "verify",
    "up",
    "wait",
    "render",
    "shadow",
    "shadow-report",
    "backfill",
    "parity",
    "k8s",
)
DESCRIPTION = "Drive the migration plan: " + ", ".join(SUBCOMMANDS) + "."


def subcommand(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")


def add_subcommands(parser: argparse.ArgumentParser) -> None:
    """One subparser per subcommand module; `args.subcommand` names the one chosen."""
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
    for name in SUBCOMMANDS:
        module = subcommand(name)
        child = sub.add_parser(
            name,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(child)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="strangle",
        description=DESCRIPTION,
        epilog="Without DJANGO_SETTINGS_MODULE (or --settings) the framework's own settings "
        "are used (STRANGLER_* environment variables); `routes` needs the project's.",
    )
    parser.add_argument(
        "--settings", help="the project's settings module (else DJANGO_SETTINGS_MODULE)"
    )
    parser.add_argument("--pythonpath", help="a folder to add to the Python path first")
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=(0, 1, 2, 3),
        default=1,
        help="2 and more: report each stage of apply/rollback/up",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="raise errors with their full traceback"
    )
    add_subcommands(parser)
    return parser


def dispatch(args: argparse.Namespace, ctx: Context) -> None:
    """Run the chosen subcommand; failures propagate (see one_line)."""
    # httpx logs every request at INFO; the command's own output says what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("strangler.service.http").setLevel(logging.WARNING)
    module = subcommand(args.subcommand)
    if ctx.standalone and getattr(module, "NEEDS_PROJECT", False):
        raise StranglerError(
            f"`strangle {args.subcommand}` reads the monolith's URLconf: set "
            "DJANGO_SETTINGS_MODULE (or --settings), or run "
            f"`./manage.py strangle {args.subcommand}`"
        )
    module.run(args, ctx)


# Failures an operator can act on from their message alone.
EXPECTED = (StranglerError, OSError, httpx.HTTPError)


def one_line(error: BaseException) -> str:
    """What an operator reads about a failure."""
    if isinstance(error, StranglerError):
        return str(error)
    if isinstance(error, EXPECTED):
        return f"{type(error).__name__}: {error}"
    return f"unexpected {type(error).__name__}: {error} (rerun with --traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: exit status 0, 1 on a failure (one line on stderr), 2 on usage."""
    args = build_parser().parse_args(argv)
    try:
        standalone = bootstrap.configure(settings_module=args.settings, pythonpath=args.pythonpath)
        dispatch(args, Context(verbosity=args.verbosity, standalone=standalone))
    except Exception as error:
        if args.traceback:
            raise
        sys.stdout.flush()
        print(f"strangle: {one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print("strangle: interrupted", file=sys.stderr)
        return 130
    return 0
