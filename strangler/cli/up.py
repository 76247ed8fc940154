"""Prepare nginx's prefix and the config of the recorded step (the plan's first on a fresh
install) before nginx starts; when nginx already runs, make that config live."""

from __future__ import annotations

import argparse

from .context import Context

HELP = "prepare the recorded step's config (before nginx starts)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Context) -> None:
    site = ctx.site
    outcome = ctx.controller.up()
    ctx.out.line(f"proxy {site.options.public_url}: {outcome.describe()} (config {site.conf_path})")
