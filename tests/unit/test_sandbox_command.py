"""The shipped CLI offers only what the image runs; the bed's command has the sandbox's flags."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from upskill_operator import cli
from upskill_sandbox import cli as sandbox_cli


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name for action in actions for name in action.choices}


def test_the_shipped_cli_has_no_sandbox_command() -> None:
    commands = _commands(cli._parser())
    assert {"run", "crds", "migrate", "check", "iam-policy"} <= commands
    assert "sandbox" not in commands
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["sandbox", "--once"])


def test_upskill_sandbox_takes_the_sandbox_flags() -> None:
    ports = ["--kube-port", "1", "--aws-port", "2", "--metrics-port", "0"]
    args = sandbox_cli._parser().parse_args(["--once", "--timeout", "30", *ports, "--workdir", "w", "--manifests", "m"])
    assert (args.once, args.timeout, args.kube_port, args.aws_port, args.metrics_port) == (True, 30.0, 1, 2, 0)
    assert (args.workdir, args.manifests) == (Path("w"), Path("m"))
    defaults = sandbox_cli._parser().parse_args([])
    assert (defaults.once, defaults.timeout, defaults.kube_port, defaults.aws_port) == (False, 180.0, 16443, 14566)
    assert (defaults.metrics_port, defaults.workdir, defaults.manifests) == (19090, Path(".sandbox"), None)
