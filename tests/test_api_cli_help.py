"""``--help`` a person can read: options in sections, examples after them."""

from __future__ import annotations

import click
from click.testing import CliRunner

from pico.cli import cli


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    return result.output


def test_clean_options_are_grouped_in_order() -> None:
    text = _help("clean")
    titles = ["Input:", "Correction:", "Engines:", "Run directory:", "Output:", "Examples:"]
    positions = [text.index(f"\n{title}\n") for title in titles]
    assert positions == sorted(positions)
    assert "Other options:" not in text  # every option has its section
    input_part = text[positions[0]:positions[1]]
    assert "--text-column" in input_part and "--pred-probs" in input_part
    assert "--engine" in text[positions[2]:positions[3]]
    assert "--resume" in text[positions[3]:positions[4]]


def test_every_grouped_command_places_every_option() -> None:
    for name, command in cli.commands.items():
        groups = getattr(command, "option_groups", ())
        if not groups:
            continue
        placed = {option for _, names in groups for option in names}
        options = {p.name for p in command.params if isinstance(p, click.Option)}
        assert options - placed == set(), name


def test_every_command_has_two_or_three_examples() -> None:
    for name, command in cli.commands.items():
        examples = getattr(command, "examples", ())
        assert 2 <= len(examples) <= 3, name
        text = _help(name)
        for _, line in examples:
            assert line.startswith(f"pico {name} ")
            assert line in text  # shown whole, never rewrapped


def test_defaults_are_shown() -> None:
    text = " ".join(_help("clean").split())  # help lines wrap anywhere
    for shown in ("[default: label]", "[default: 3]", "[default: 0.6]", "[default: 7.0]",
                  "[default: local]", "[default: 10 from 1,000"):
        assert shown in text
