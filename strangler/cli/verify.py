"""Run the contract suite (tests/contract) against the proxy and print a one-line verdict:
PASS or FAIL, pytest's summary and the first failure; a failure exits non-zero.

A run through the proxy's public URL is recorded for the step it ran at
(var/strangler/contract.json): leaving a step needs its last result there to be a PASS
(strangler.gates.contract; `strangle status` shows it). A run against another --base-url is
not recorded."""

from __future__ import annotations

import argparse

from strangler.errors import StranglerError
from strangler.gates import contract
from strangler.proxy.verify import run_contract_suite

from .context import Context

HELP = "run the contract suite through the proxy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="default: the proxy's public URL")
    parser.add_argument(
        "-x", "--exitfirst", action="store_true", help="stop at the first failing test"
    )


def run(args: argparse.Namespace, ctx: Context) -> None:
    site = ctx.site
    state = ctx.controller.state()
    url = args.base_url or site.options.public_url
    extra = ("-x",) if args.exitfirst else ()
    verdict = run_contract_suite(root=site.root, base_url=url, extra_args=extra)
    line = verdict.line(step=state.step or "(none applied)", base_url=url)
    if url == site.options.public_url and state.step:
        contract.record(site, state=state, outcome=verdict, base_url=url)
    if not verdict.ok:
        raise StranglerError(line)
    ctx.out.line(line)
