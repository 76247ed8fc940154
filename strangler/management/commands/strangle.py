"""`./manage.py strangle <subcommand>`: the `strangle` console script (strangler.cli) run with
the project's settings, as Django runs commands.

The parser and the subcommands are strangler.cli's. Every failure is one line on stderr and a
non-zero exit (CommandError), never a traceback unless --traceback is given: a refused apply
says which check failed, and the running step is left as it was.
"""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError, CommandParser

from strangler import cli
from strangler.cli.context import Context
from strangler.cli.output import Output


class Command(BaseCommand):
    help = cli.DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_subcommands(parser)

    def handle(self, *args, **options) -> None:
        out = Output(lambda text: self.stdout.write(text, ending=""))
        ctx = Context(out=out, verbosity=options["verbosity"])
        try:
            cli.dispatch(argparse.Namespace(**options), ctx)
        except CommandError:
            raise
        except Exception as error:
            if options.get("traceback") and not isinstance(error, cli.EXPECTED):
                raise
            raise CommandError(cli.one_line(error)) from None
