"""Every option has one home: the defaults of pico.config, and who takes them from there."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import pytest

import pico
from pico import cli as cli_module
from pico.config import (
    CHECK_DEFAULTS,
    DEFAULTS,
    FILE_DEFAULTS,
    GROUPS,
    TRAINING_OPTIONS,
    CleanOptions,
    cli_name,
    option_name,
)
from pico.corrector import IterativeCorrector
from pico.run import CLEAN_OPTIONS, clean_to_directory, make_checker

#: IterativeCorrector's own defaults, where a scikit-learn estimator's convention differs
#: from clean's: one process and no fixed seed unless asked.
CORRECTOR_OWN = {"n_jobs": 1, "random_state": None}


def _cli_defaults(name: str, *args: str) -> dict[str, Any]:
    """What ``pico NAME ARGS`` passes its command for every option not given."""
    command = cli_module.cli.commands[name]
    assert isinstance(command, click.Command)
    with command.make_context(name, list(args)) as ctx:
        return dict(ctx.params)


def test_every_option_has_a_group_and_the_groups_cover_them() -> None:
    names = [f.name for f in fields(CleanOptions)]
    grouped = [name for group in GROUPS for name in DEFAULTS.group(group)]
    assert sorted(grouped) == sorted(names) and len(set(grouped)) == len(grouped)
    assert set(TRAINING_OPTIONS) <= set(names)
    with pytest.raises(ValueError, match="unknown group"):
        DEFAULTS.group("engines")


def test_cli_names_round_trip() -> None:
    for name in DEFAULTS.to_dict():
        assert option_name(cli_name(name)) == name
    assert cli_name("relabel_threshold") == "threshold" and option_name("seed") == "random_state"


def test_clean_takes_every_option_with_the_configured_default() -> None:
    params = inspect.signature(pico.clean).parameters
    options = {n: p.default for n, p in params.items() if n in DEFAULTS.to_dict()}
    assert options == DEFAULTS.to_dict()  # every option, each default from the config
    own = set(params) - set(options)
    assert own == {"data", "labels", "text_column", "label_column", "pred_probs", "classes"}


def test_cleaner_takes_the_options_of_clean() -> None:
    assert pico.Cleaner().get_params(deep=False) == DEFAULTS.to_dict()
    with pytest.raises(TypeError, match="unexpected keyword arguments n_iteration"):
        pico.Cleaner(n_iteration=2)


def test_the_corrector_takes_the_configured_defaults() -> None:
    params = inspect.signature(IterativeCorrector).parameters
    shared = [n for n in params if n in DEFAULTS.to_dict()]
    assert len(shared) >= 15
    for name in shared:
        expected = CORRECTOR_OWN.get(name, getattr(DEFAULTS, name))
        assert params[name].default == expected, name


def test_check_takes_the_configured_defaults() -> None:
    params = inspect.signature(pico.check).parameters
    for f in fields(CHECK_DEFAULTS):
        assert params[f.name].default == getattr(CHECK_DEFAULTS, f.name), f.name
    # the trigger is the check: one threshold, and the clean's own input defaults
    assert CHECK_DEFAULTS.noise_threshold == DEFAULTS.trigger_threshold
    for name in ("top_k", "merge_duplicates", "max_text_chars", "catch_all", "n_jobs"):
        assert getattr(CHECK_DEFAULTS, name) == getattr(DEFAULTS, name)


def test_every_clean_cli_default_is_the_configured_one() -> None:
    defaults = _cli_defaults("clean")
    arguments = cli_module._run_arguments(
        {k: v for k, v in defaults.items() if k not in ("resume", "quiet")}
    )
    compared = 0
    for name, value in arguments.items():
        if name == "data":
            assert value is None
        elif name == "checker":  # the default checker by name: clean's default, built
            assert value == FILE_DEFAULTS.checker and DEFAULTS.checker is None
            assert type(make_checker(value)).__name__ == "SoftmaxRegression"
        elif name in CLEAN_OPTIONS:
            assert value == getattr(DEFAULTS, name), name
        else:
            assert value == getattr(FILE_DEFAULTS, name), name
        compared += 1
    # every option of clean_to_directory the command line has is compared
    run_params = set(inspect.signature(clean_to_directory).parameters) - {
        "data", "resume", "progress", "options"
    }
    assert run_params <= set(arguments)
    cli_only = {"training_odds", "review_threshold", "top_k", "confidence_scale",
                "merge_duplicates"}  # Python-only options, at clean's defaults on the CLI
    assert set(CLEAN_OPTIONS) - set(arguments) == cli_only
    assert compared == len(arguments)


def test_every_check_cli_default_is_the_configured_one() -> None:
    defaults = _cli_defaults("check", "data.csv")
    for param, name in cli_module._CHECK_NAMES.items():
        source = CHECK_DEFAULTS if hasattr(CHECK_DEFAULTS, name) else FILE_DEFAULTS
        assert defaults[param] == getattr(source, name), param
    assert defaults["noise_threshold"] == CHECK_DEFAULTS.noise_threshold
    assert defaults["max_text_chars"] == CHECK_DEFAULTS.max_text_chars
    for name in ("text_column", "label_column", "encoding", "language", "feature_columns"):
        assert defaults[name] == getattr(FILE_DEFAULTS, name), name


def test_the_run_layer_takes_its_defaults_from_the_config() -> None:
    params = inspect.signature(clean_to_directory).parameters
    for f in fields(FILE_DEFAULTS):
        assert params[f.name].default == getattr(FILE_DEFAULTS, f.name), f.name
    with pytest.raises(TypeError, match="unexpected options featurizer"):
        clean_to_directory(Path("x.csv"), featurizer=object())


def test_the_trigger_gets_the_same_options(monkeypatch: pytest.MonkeyPatch) -> None:
    # An option set on clean reaches both the trigger's check and the clean behind it.
    from pico import api

    seen: dict[str, Any] = {}

    def fake_check(data: Any, labels: Any, **kwargs: Any) -> Any:
        seen["check"] = kwargs
        raise RuntimeError("stop after the check")

    import pico.trigger

    monkeypatch.setattr(pico.trigger, "check", fake_check)
    texts = ["book a flight", "play jazz"] * 10
    with pytest.raises(RuntimeError, match="stop after the check"):
        api.clean(texts, ["travel", "music"] * 10, trigger=True, trigger_threshold=0.2,
                  random_state=7, n_jobs=1, catch_all=None, max_text_chars=50)
    assert seen["check"]["noise_threshold"] == 0.2
    assert seen["check"]["random_state"] == 7 and seen["check"]["n_jobs"] == 1
    assert seen["check"]["catch_all"] is None and seen["check"]["max_text_chars"] == 50
