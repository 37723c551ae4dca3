"""The names config.py holds once: kinds, torch classes, gate blocks, dtypes, run defaults."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import torch
from torch import nn

from rnnspec import config, strategies
from rnnspec.cli.options import OPTIONS
from rnnspec.config import (
    DEADLINE,
    DTYPE_NAMES,
    GATE_NAMES,
    KINDS,
    MAX_EXAMPLES,
    RNNConfig,
    class_name,
    dtype_name,
    dtype_named,
    fresh_seed,
    gate_count,
    kind_of,
    module_class,
)
from rnnspec.run.checker import check
from rnnspec.scope import Scope


def test_importing_config_does_not_import_torch() -> None:
    code = "import sys, rnnspec.config; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("kind", "cls", "gates"), [("rnn", nn.RNN, 1), ("lstm", nn.LSTM, 4), ("gru", nn.GRU, 3)]
)
def test_each_kind_names_its_torch_class_and_gates(kind: str, cls: type, gates: int) -> None:
    assert kind in KINDS
    assert module_class(kind) is cls
    assert class_name(kind) == cls.__name__
    assert gate_count(kind) == gates == len(GATE_NAMES[kind])
    module = RNNConfig(kind, 2, 3).build()
    assert kind_of(module) == kind
    assert module.weight_ih_l0.shape[0] == gates * 3  # the gate blocks torch stacks


def test_kind_of_a_relu_rnn() -> None:
    assert kind_of(nn.RNN(2, 3, nonlinearity="relu")) == "rnn"


def test_the_tables_cover_the_kinds_exactly() -> None:
    assert set(GATE_NAMES) == set(KINDS)


@pytest.mark.parametrize("call", [gate_count, class_name, module_class])
def test_an_unknown_kind_is_refused_with_the_kinds(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="kind must be one of rnn, lstm, gru; got 'cnn'"):
        call("cnn")


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_names_round_trip(name: str) -> None:
    dtype = dtype_named(name)
    assert isinstance(dtype, torch.dtype)
    assert dtype.is_floating_point
    assert dtype_name(dtype) == name


def test_dtype_names_start_with_the_widest() -> None:
    assert DTYPE_NAMES[:2] == ("float64", "float32")  # where a drawn dtype shrinks to


def test_an_unknown_dtype_name_is_refused() -> None:
    with pytest.raises(ValueError, match="dtype must be one of"):
        dtype_named("int32")


def test_the_scope_and_the_strategies_use_the_dtype_names() -> None:
    scope = Scope(dtypes=tuple(dtype_named(n) for n in DTYPE_NAMES))
    assert scope.dtype_names_widest_first == DTYPE_NAMES
    strategies.examples(dtypes=DTYPE_NAMES)  # every name accepted
    with pytest.raises(ValueError, match="unknown values"):
        strategies.examples(dtypes=("float8",))


def test_the_run_defaults_are_the_constants() -> None:
    defaults = inspect.signature(check).parameters
    assert defaults["max_examples"].default == MAX_EXAMPLES
    assert defaults["deadline"].default == DEADLINE
    deadline = next(o for o in OPTIONS if o.name == "deadline")
    assert deadline.kwargs["default"] == DEADLINE
    assert f"default {DEADLINE:g}" in deadline.help


def test_fresh_seeds_are_32_bit_and_vary() -> None:
    seeds = {fresh_seed() for _ in range(20)}
    assert len(seeds) > 1
    assert all(0 <= s < 2**32 for s in seeds)


def test_the_strategies_default_to_the_scope_bounds() -> None:
    scope = Scope()
    for fn, names in (
        (strategies.rnn_configs, ("max_input", "max_hidden", "max_layers", "batch_first")),
        (strategies.examples, ("max_batch", "max_len", "unbatched", "initial_state")),
        (strategies.sequence_lengths, ("max_len",)),
        (strategies.sequences, ("max_len",)),
    ):
        parameters = inspect.signature(fn).parameters
        for name in names:
            assert parameters[name].default == getattr(scope, name), (fn.__name__, name)
    nonlinearities = inspect.signature(strategies.rnn_configs).parameters["nonlinearities"]
    assert nonlinearities.default == scope.nonlinearities == config.NONLINEARITIES
