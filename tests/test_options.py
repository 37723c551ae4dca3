"""rnnspec.cli.options: the options shared by ``rnnspec check`` and the plugin, defined once."""

from __future__ import annotations

import argparse

import pytest

from rnnspec.cli.options import (
    OPTIONS,
    UsageError,
    add_options,
    load_object,
    parse_laws,
    positive_float,
    positive_int,
)


def test_positive_int_and_float_refuse_in_one_line() -> None:
    assert positive_int("3") == 3
    assert positive_float("0.5") == 0.5
    for text, expected in (("0", "got 0"), ("-2", "got -2"), ("x", "got 'x'")):
        with pytest.raises(argparse.ArgumentTypeError, match=expected):
            positive_int(text)
    for text in ("0", "-1", "nan", "soon"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_float(text)


def test_the_cli_and_the_plugin_spell_the_same_options_with_a_prefix() -> None:
    plain, prefixed = argparse.ArgumentParser(), argparse.ArgumentParser()
    add_options(plain.add_argument)
    add_options(prefixed.add_argument, "rnnspec-")
    names = [o.name for o in OPTIONS]
    assert names == [
        "kind",
        "max-examples",
        "seed",
        "scope",
        "deadline",
        "laws",
        "isolate",
        "max-memory",
    ]
    a = plain.parse_args(
        ["--kind", "gru", "--max-examples", "7", "--laws", "shape,oracle", "--max-memory", "2G"]
    )
    b = prefixed.parse_args(
        ["--rnnspec-kind", "gru", "--rnnspec-max-examples", "7", "--rnnspec-laws",
         "shape,oracle", "--rnnspec-max-memory", "2G"]
    )  # fmt: skip
    assert a.max_memory == 2 * 2**30
    assert a.isolate is False
    assert vars(a) == {k.removeprefix("rnnspec_"): v for k, v in vars(b).items()}
    assert a.deadline == 10.0  # the same default in both shells
    with pytest.raises(SystemExit):
        plain.parse_args(["--kind", "cnn"])


def test_parse_laws_splits_on_commas_and_drops_blanks() -> None:
    assert parse_laws(None) is None
    assert parse_laws("") is None
    assert parse_laws(" shape, oracle ,,") == ["shape", "oracle"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rnnspec.scope", "must look like MODULE:NAME"),
        ("no_such_module_here:x", "cannot import module 'no_such_module_here'"),
        ("rnnspec.scope:Nope", "has no attribute 'Nope'"),
    ],
)
def test_load_object_names_what_went_wrong(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_object(spec, "--scope")


def test_load_object_follows_dotted_names() -> None:
    from rnnspec.scope import Scope

    assert load_object("rnnspec.scope:Scope.dtype_names", "x") is Scope.dtype_names
