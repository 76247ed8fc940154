"""The shape of the `strangle` CLI (strangler.cli): one module per subcommand, the console
script's entry point, one error type caught at the top, no reaching into private names."""

from __future__ import annotations

import argparse
import ast
import importlib
import tomllib
from pathlib import Path

import pytest

import strangler.cli
from strangler.cli import bootstrap
from strangler.errors import StranglerError
from strangler.plan import PlanError, PlanIssue
from strangler.proxy import ProxyError
from strangler.sync.client import SyncError
from tests.migration.harness import REPO_ROOT

CLI_DIR = Path(strangler.cli.__file__).parent
EXPECTED = {
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
}


def test_the_console_script_is_strangler_cli_main():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    target = project["project"]["scripts"]["strangle"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is strangler.cli.main


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_subcommand_is_a_module_with_add_arguments_and_run(name):
    assert (CLI_DIR / f"{name.replace('-', '_')}.py").is_file()
    module = strangler.cli.subcommand(name)
    assert callable(module.add_arguments) and callable(module.run)
    assert module.HELP and module.__doc__


def test_the_parser_offers_every_subcommand_and_nothing_else():
    assert set(strangler.cli.SUBCOMMANDS) == EXPECTED
    parser = strangler.cli.build_parser()
    for name in EXPECTED:
        assert parser.parse_args([name, *(["x"] * _positionals(name))]).subcommand == name


def _positionals(name: str) -> int:
    parser = argparse.ArgumentParser()
    strangler.cli.subcommand(name).add_arguments(parser)
    return sum(1 for action in parser._actions if not action.option_strings)


def test_help_lists_the_subcommands_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as exit_:
        strangler.cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: strangle")
    assert all(name in out for name in EXPECTED)


@pytest.mark.parametrize("name", ["status", "routes", "diff", "parity", "shadow-report"])
def test_json_is_documented_in_the_help(name, capsys):
    with pytest.raises(SystemExit):
        strangler.cli.main([name, "--help"])
    out = capsys.readouterr().out
    assert "--json" in out and "one JSON object" in out


def test_render_has_no_golden_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        strangler.cli.main(["render", "1-auth", "--golden"])
    assert exit_.value.code == 2
    assert "--golden" in capsys.readouterr().err


def test_the_framework_errors_share_one_base():
    for error in (ProxyError, PlanError, SyncError):
        assert issubclass(error, StranglerError)
    issue = PlanIssue(file="plan.yaml", message="broken")
    assert strangler.cli.one_line(PlanError([issue])) == "plan.yaml: broken"
    assert strangler.cli.one_line(OSError("disk")) == "OSError: disk"


def test_an_unexpected_error_is_one_line_suggesting_traceback(monkeypatch, capsys):
    def boom(args, ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(strangler.cli.subcommand("diff"), "run", boom)
    assert strangler.cli.main(["diff", "1-auth"]) == 1
    err = capsys.readouterr().err
    assert err == "strangle: unexpected RuntimeError: boom (rerun with --traceback)\n"
    with pytest.raises(RuntimeError, match="boom"):
        strangler.cli.main(["--traceback", "diff", "1-auth"])


def test_a_strangler_error_is_one_line_and_exit_one(monkeypatch, capsys):
    def refuse(args, ctx):
        raise SyncError("auth (http://x) is unreachable")

    monkeypatch.setattr(strangler.cli.subcommand("parity"), "run", refuse)
    assert strangler.cli.main(["parity", "auth"]) == 1
    assert capsys.readouterr().err == "strangle: auth (http://x) is unreachable\n"
    with pytest.raises(SyncError):
        strangler.cli.main(["--traceback", "parity", "auth"])


def test_without_a_project_the_framework_settings_come_from_the_environment():
    values = bootstrap.framework_settings(
        {
            "STRANGLER_INTERNAL_TOKEN": "s3cret",
            "STRANGLER_ID_GAP": "50",
            "STRANGLER_FLIP_HOOKS": "a.B, c.D",
            "UNRELATED": "x",
        }
    )
    assert values["STRANGLER_INTERNAL_TOKEN"] == "s3cret"
    assert values["STRANGLER_ID_GAP"] == 50
    assert values["STRANGLER_FLIP_HOOKS"] == ["a.B", "c.D"]
    assert "STRANGLER_HANDOVER_TIMEOUT_SECONDS" not in values  # strangler.conf's default
    assert "strangler" in values["INSTALLED_APPS"]
    with pytest.raises(StranglerError, match="STRANGLER_ID_GAP"):
        bootstrap.framework_settings({"STRANGLER_ID_GAP": "many"})


def test_the_cli_calls_no_private_name_of_another_module():
    offending = []
    for path in sorted(CLI_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id == "self")
            ):
                offending.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert not offending
