"""The strategies reach the edges where implementations break, and refuse bad bounds."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from torch import nn

from rnnspec.config import Example, RNNConfig, class_name, module_class
from rnnspec.strategies import (
    examples,
    initial_states,
    lengths,
    rnn_configs,
    seeds,
    sequence_lengths,
    sequences,
)

EDGES: dict[str, Callable[[Example], bool]] = {
    "batch 1": lambda e: e.batch_size == 1,
    "unbatched": lambda e: e.batch_size is None,
    "sequence length 1": lambda e: e.seq_len == 1,
    "64+ steps": lambda e: e.seq_len >= 64,
    "input != hidden": lambda e: e.config.input_size != e.config.hidden_size,
    "hidden 1": lambda e: e.config.hidden_size == 1,
    "3 layers": lambda e: e.config.num_layers == 3,
    "batch_first": lambda e: e.config.batch_first,
    "time first": lambda e: not e.config.batch_first,
    "no bias": lambda e: not e.config.bias,
    "relu": lambda e: e.config.nonlinearity == "relu",
    "tanh rnn": lambda e: e.config.kind == "rnn" and e.config.nonlinearity == "tanh",
    "lstm proj_size": lambda e: e.config.proj_size > 0,
    "bidirectional": lambda e: e.config.bidirectional,
    "gru": lambda e: e.config.kind == "gru",
    "initial state": lambda e: e.with_hx,
    "bidirectional lstm with proj, 3 layers, hx": lambda e: (
        e.config.proj_size > 0 and e.config.bidirectional and e.config.num_layers == 3 and e.with_hx
    ),
}


def test_examples_reach_every_edge() -> None:
    """400 derandomized draws (generation only, no shrinking) hit every edge."""
    seen: set[str] = set()

    @settings(max_examples=400, derandomize=True, database=None, phases=[Phase.generate])
    @given(example=examples())
    def draw(example: Example) -> None:
        seen.update(edge for edge, holds in EDGES.items() if holds(example))

    draw()
    assert seen == set(EDGES), f"never drawn: {sorted(set(EDGES) - seen)}"


@given(example=examples(rnn_configs(kinds=("lstm",), max_hidden=4), max_len=9))
def test_examples_stay_within_bounds(example: Example) -> None:
    c = example.config
    assert c.kind == "lstm"
    assert 1 <= c.hidden_size <= 4
    assert 0 <= c.proj_size < c.hidden_size
    assert 1 <= example.seq_len <= 9


@given(data=st.data())
def test_tensors_match_their_config(data: st.DataObject) -> None:
    config = data.draw(rnn_configs(), label="config")
    x = data.draw(sequences(config, batch_size=3, max_len=5), label="x")
    hx = data.draw(initial_states(config, batch_size=3), label="hx")
    batch_dim = 0 if config.batch_first else 1
    assert x.shape[batch_dim] == 3
    assert x.shape[-1] == config.input_size
    states = hx if isinstance(hx, tuple) else (hx,)
    assert [tuple(s.shape) for s in states] == [
        (config.num_layers * config.directions, 3, size) for size in config.state_sizes
    ]
    assert all(bool(s.abs().sum() > 0) for s in states)


@given(values=lengths(batch_size=4, max_len=7))
def test_lengths_include_the_longest(values: list[int]) -> None:
    assert len(values) == 4
    assert max(values) == 7
    assert min(values) >= 1


def test_lengths_can_be_sorted() -> None:
    found = find(lengths(batch_size=3, max_len=5, sorted_=True), lambda v: len(set(v)) == 3)
    assert found == sorted(found, reverse=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: rnn_configs(kinds=("cnn",)), "kinds has unknown values"),
        (lambda: rnn_configs(kinds=()), "kinds must name at least one"),
        (lambda: rnn_configs(max_hidden=0), "max_hidden must be an integer >= 1"),
        (lambda: rnn_configs(min_input=5, max_input=2), "min_input=5 must not exceed"),
        (lambda: rnn_configs(bias=(1,)), "bias has unknown values"),
        (lambda: examples(max_len=0), "max_len must be an integer >= 1"),
        (lambda: examples(dtypes=("int8",)), "dtypes has unknown values"),
        (lambda: sequence_lengths(min_len=3, max_len=2), "must not exceed"),
        (lambda: lengths(batch_size=0, max_len=3), "max_batch must be an integer >= 1"),
        (lambda: sequences(RNNConfig("rnn", 1, 1), batch_size=0), "must be an integer >= 1"),
    ],
)
def test_bad_bounds_are_refused_when_the_strategy_is_built(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


def test_config_refuses_projection_outside_lstm() -> None:
    with pytest.raises(ValueError, match="proj_size=2 needs kind='lstm'"):
        RNNConfig("gru", 3, 4, proj_size=2)


def _spec_weights(config: RNNConfig, seed: int, dtype: torch.dtype) -> list[torch.Tensor]:
    """What RNNConfig.build promises, written out: each parameter in order, drawn from
    U(-1/sqrt(H), 1/sqrt(H)) in float64, rounded to the default dtype, then to ``dtype``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dropout with one layer
        module = getattr(nn, class_name(config.kind))(**config.kwargs())
    generator = torch.Generator().manual_seed(seed)
    bound = config.hidden_size**-0.5
    return [
        torch.empty(p.shape, dtype=torch.float64)
        .uniform_(-bound, bound, generator=generator)
        .to(torch.get_default_dtype())
        .to(dtype)
        for p in module.parameters()
    ]


def _plain_state(module: nn.Module) -> dict[str, object]:
    """What a module holds besides its tensors' values: every attribute, and each
    parameter's name, shape, dtype and requires_grad."""
    state = {k: v for k, v in vars(module).items() if k not in ("_parameters", "_flat_weights")}
    del state["_flat_weight_refs"]  # weak references: equal only to themselves
    state["parameters"] = [
        (name, p.shape, p.dtype, p.requires_grad) for name, p in module.named_parameters()
    ]
    return state


@settings(max_examples=40, deadline=None)
@given(
    config=rnn_configs(max_input=9, max_hidden=9),
    seeds=st.tuples(seeds(), seeds()),
    dtype=st.sampled_from([torch.float64, torch.float32, torch.bfloat16, torch.float16]),
    dropout=st.sampled_from([0.0, 0.5]),
)
def test_every_way_of_building_gives_the_promised_module(
    config: RNNConfig, seeds: tuple[int, int], dtype: torch.dtype, dropout: float
) -> None:
    """From scratch, and copied from a template made for another seed, another dropout and
    the other layout (the structure is what is reused), the first time and from the kept
    weights: all give the promised weights, and every attribute torch's constructor sets."""
    first, second = seeds
    other = config.replace(dropout=dropout, batch_first=not config.batch_first)
    other.build(seed=first, dtype=dtype)  # kept: the template
    config = config.replace(dropout=0.5 - dropout)
    built = {
        "scratch": RNNConfig._build(config, second, dtype, "cpu"),
        "build": config.build(seed=second, dtype=dtype),
        "build again": config.build(seed=second, dtype=dtype),
    }
    expected = _spec_weights(config, second, dtype)
    constructed = _plain_state(config._construct(dtype))
    for how, module in built.items():
        assert type(module) is module_class(config.kind), how
        assert _plain_state(module) == constructed, how
        assert module.dropout == config.dropout, how
        assert module.batch_first == config.batch_first, how
        assert not module.training, how
        actual = list(module.parameters())
        assert all(a is b for a, b in zip(module._flat_weights, actual, strict=True)), how
        assert all(a.dtype == dtype for a in actual), how
        assert all(torch.equal(a, e) for a, e in zip(actual, expected, strict=True)), how


def test_each_build_is_a_module_of_its_own() -> None:
    """RNNConfig.build keeps modules to copy from: what a caller does to one never shows."""
    config = RNNConfig("lstm", 3, 4, num_layers=2, bidirectional=True, proj_size=2)
    first = config.build(seed=7)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    expected = first(x)[0].detach().clone()
    with torch.no_grad():
        for p in first.parameters():
            p.add_(1.0)
    first.train()
    second = config.build(seed=7)
    assert not second.training
    assert all(
        a.data_ptr() != b.data_ptr()
        for a, b in zip(first.parameters(), second.parameters(), strict=True)
    )
    assert torch.equal(second(x)[0], expected)
    assert torch.equal(
        second(x)[0], RNNConfig._build(config, 7, torch.float64, "cpu")(x)[0]
    )  # the same weights as one built from scratch
    assert second.weight_ih_l0.dtype == torch.float64
    assert config.build(seed=7, dtype=torch.float32).weight_ih_l0.dtype == torch.float32


@pytest.mark.parametrize(
    ("needs", "differs"),
    [
        (lambda e: e.config.bidirectional, {"bidirectional": True}),
        (lambda e: not e.config.bias, {"bias": False}),
        (lambda e: e.config.batch_first and e.with_hx, {"batch_first": True, "with_hx": True}),
        (lambda e: e.batch_size is not None, {"batch_size": 1}),
        (lambda e: e.config.hidden_size >= 3, {"hidden_size": 3}),
        (lambda e: e.seq_len >= 60, {"seq_len": 60}),
        (lambda e: e.config.proj_size > 0, {"kind": "lstm", "hidden_size": 2, "proj_size": 1}),
        (lambda e: e.config.nonlinearity == "relu", {"nonlinearity": "relu"}),
        # two flags a bug needs together
        (
            lambda e: e.config.batch_first and e.config.bidirectional,
            {"batch_first": True, "bidirectional": True},
        ),
        (
            lambda e: not e.config.bias and e.config.nonlinearity == "relu",
            {"bias": False, "nonlinearity": "relu"},
        ),
        (
            lambda e: e.config.num_layers >= 2 and not e.config.bias and e.config.batch_first,
            {"num_layers": 2, "bias": False, "batch_first": True},
        ),
    ],
)
def test_a_case_shrinks_to_what_it_needs_and_nothing_more(
    needs: Callable[[Example], bool], differs: dict[str, object]
) -> None:
    """Flags drawn together (one choice) still shrink one by one, and two by two."""
    found = find(examples(max_len=72), needs, settings=settings(database=None, max_examples=2000))
    simplest = Example(RNNConfig("rnn", 1, 1), batch_size=None, seq_len=1)  # unbatched
    as_found = {**vars(found), **vars(found.config)}
    expected = {**vars(simplest), **vars(simplest.config), **differs}
    del as_found["config"], expected["config"]
    assert as_found == expected
