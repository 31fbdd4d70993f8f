"""The command line a newcomer meets: --version, help on every argument, one parser for all."""

from __future__ import annotations

import argparse
import subprocess
from importlib.metadata import version

from db import __version__
from scripts.cli import build_parser
from tests.utils.db import ROOT, navigator_cmd


def test_version_is_the_package_version() -> None:
    result = subprocess.run([*navigator_cmd(), "--version"], cwd=ROOT, text=True, capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"navigator {__version__}"
    assert version("insurance-navigator") == __version__


def parsers(parser: argparse.ArgumentParser, path: str = "navigator") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                assert helps.get(name), f"{path} {name} has no help"
                found += parsers(sub, f"{path} {name}")
    return found


def test_every_argument_of_every_command_has_help() -> None:
    missing = [f"{path} {action.option_strings or action.dest}"
               for path, parser in parsers(build_parser()) for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction) and not action.help]
    assert not missing, f"arguments without help: {missing}"
