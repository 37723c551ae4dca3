"""Diagnosis: a failing candidate is named by the known bug it reproduces, or by none."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from torch import Tensor

from mutants.zoo import MUTANTS
from rnnspec import Scope, check
from rnnspec.config import Example, RNNConfig, kind_of
from rnnspec.laws import Subject
from rnnspec.reference import LOOPS, LoopRNN
from rnnspec.reference.loops import State, Weights, linear
from rnnspec.run.candidates import torch_module
from rnnspec.run.diagnosis import NO_MATCH, SYMPTOMS, VARIANTS, Variant, diagnose
from rnnspec.state import map_state
from rnnspec.strategies import examples, rnn_configs

ROOT = Path(__file__).resolve().parents[1]
ZOO = {m.name: m for m in MUTANTS}


def test_the_table_is_data_with_unique_ids_and_sentences() -> None:
    ids = [v.id for v in VARIANTS] + [s.id for s in SYMPTOMS]
    assert len(ids) == len(set(ids))
    for variant in VARIANTS:
        assert variant.sentence
        assert not variant.sentence.endswith(".")
        assert set(variant.kinds) <= {"rnn", "lstm", "gru"}


@pytest.mark.parametrize(
    ("mutant", "expected"),
    [
        ("lstm_gates_igfo", "lstm-gates-igfo"),
        ("gru_reset_before_matmul", "gru-reset-before-matmul"),
        ("rnn_drops_b_hh", "drops-b-hh"),
        ("lstm_swaps_h_c", "lstm-h-c-swapped"),
        ("gru_reverse_not_flipped_back", "reverse-not-flipped-back"),
        ("rnn_mutates_input", "mutates-input"),
    ],
)
def test_zoo_mutants_are_named_on_their_shrunk_example(mutant: str, expected: str) -> None:
    m = ZOO[mutant]
    report = check(m.factory, m.kind, seed=0, laws=["equivalence"], max_examples=50)
    (result,) = report.results
    assert result.status == "failed"
    assert result.diagnosis == (expected,), result.message
    assert f"diagnosis [{expected}]:" in result.message
    # the diagnosis sits before the repro, after the example
    assert result.message.index("diagnosis") < result.message.index("repro:")


class _HalfRecurrence(LoopRNN):
    """A bug outside the table: the recurrent term ``W_hh h + b_hh`` is halved."""

    dropped_b_hh = False

    def cell(self, x: Tensor, state: State, w: Weights) -> tuple[Tensor, State]:
        (h,) = state
        b_hh = None if self.dropped_b_hh else w["bias_hh"]
        pre = linear(x, w["weight_ih"], w["bias_ih"]) + 0.5 * linear(h, w["weight_hh"], b_hh)
        h = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return h, (h,)


class _HalfRecurrenceNoBHH(_HalfRecurrence):
    """Halves ``W_hh h`` and drops b_hh: with a zero state only the dropped b_hh shows."""

    dropped_b_hh = True


def test_a_bug_outside_the_table_is_named_by_none_and_the_json_carries_it() -> None:
    report = check(_HalfRecurrence.from_module, "rnn", seed=0, laws=["equivalence"])
    (result,) = report.results
    assert result.status == "failed"
    assert result.diagnosis == ()
    assert f"diagnosis: {NO_MATCH}" in result.message
    data = json.loads(report.to_json())
    assert data["results"][0]["diagnosis"] == []


def test_a_match_must_hold_with_an_initial_state_too() -> None:
    # one step from a zero state: W_hh h vanishes and the candidate computes exactly
    # drops-b-hh; the confirming example with an initial state shows the rest of the bug
    example = Example(RNNConfig("rnn", 2, 2), 1, 1)
    assert diagnose(_subject("rnn", _HalfRecurrenceNoBHH.from_module), example) == ()
    assert diagnose(_subject("rnn", ZOO["rnn_drops_b_hh"].factory), example) == ("drops-b-hh",)


def test_the_json_carries_the_ids_and_passing_laws_have_none() -> None:
    m = ZOO["gru_z_flipped"]
    report = check(m.factory, "gru", seed=1, laws=["equivalence", "shape"], max_examples=20)
    data = json.loads(report.to_json())
    by_law = {r["law"]: r for r in data["results"]}
    assert by_law["equivalence"]["diagnosis"] == ["gru-update-gate-flipped"]
    assert by_law["shape"]["status"] == "passed"
    assert by_law["shape"]["diagnosis"] is None


def _subject(kind: str, factory: Any) -> Subject:
    return Subject(kind, factory, Scope(), "correct", deadline=10.0)


def _never_diagnosed(kind: str, implementation: str, count: int) -> None:
    factory = torch_module if implementation == "torch" else LOOPS[kind].from_module
    subject = _subject(kind, factory)

    @settings(
        max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(example=examples(rnn_configs(kinds=(kind,)), dtypes=("float64", "float32")))
    def never(example: Example) -> None:
        assert diagnose(subject, example) == ()

    never()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("implementation", ["torch", "loop"])
def test_correct_implementations_are_never_diagnosed(kind: str, implementation: str) -> None:
    _never_diagnosed(kind, implementation, 8)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("implementation", ["torch", "loop"])
def test_correct_implementations_are_never_diagnosed_on_many_examples(
    kind: str, implementation: str
) -> None:
    _never_diagnosed(kind, implementation, 300)


def test_a_tiny_coincidence_is_told_apart_on_a_wider_example() -> None:
    # one hidden unit, one step, no hx: the paper GRU and b_hn outside the reset gate
    # compute the same thing; a wider, longer example tells them apart
    example = Example(RNNConfig("gru", 1, 1), None, 1)
    subject = _subject("gru", ZOO["gru_reset_before_matmul"].factory)
    assert diagnose(subject, example) == ("gru-reset-before-matmul",)


@pytest.mark.slow  # a subprocess importing torch; the message it prints is tested above
def test_the_plugin_shows_the_diagnosis(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    command = [
        sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"),
        "--rootdir", str(tmp_path), str(tmp_path), "-p", "no:cacheprovider",
        "--rnnspec-impl", "tests.mutants.zoo:LSTMSwapsHC.from_module",
        "--rnnspec-kind", "lstm", "--rnnspec-laws", "equivalence",
        "--rnnspec-max-examples", "20", "--rnnspec-seed", "0",
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "diagnosis [lstm-h-c-swapped]: the final state is returned as (c_n, h_n)" in proc.stdout


def _example_for(variant: Variant, kind: str) -> Example:
    """A rich example where ``variant``'s bug can show: three bidirectional layers,
    batch-first, an initial state (not for batch-first-ignored: its batch is the time)."""
    hx = variant.id != "batch-first-ignored"
    for nonlinearity in ("tanh", "relu"):
        for batch in (3, None):
            config = RNNConfig(
                kind, 3, 4, num_layers=3, bidirectional=True, batch_first=True,
                nonlinearity=nonlinearity, proj_size=2 if kind == "lstm" else 0,
            )  # fmt: skip
            example = Example(config, batch, 4, seed=5, with_hx=hx)
            if variant.applies(example):
                return example
    raise AssertionError(f"no example for {variant.id}")


@pytest.mark.parametrize(
    ("variant", "kind"),
    [(v, kind) for v in VARIANTS for kind in v.kinds],
    ids=[f"{v.id}-{kind}" for v in VARIANTS for kind in v.kinds],
)
def test_every_variant_is_named_by_itself_and_nothing_else(variant: Variant, kind: str) -> None:
    example = _example_for(variant, kind)
    subject = _subject(kind, variant.build)
    if not example.with_hx:  # nor on the confirming examples: with one, B steps mismatch it
        subject = replace(subject, scope=Scope(initial_state=False))
    assert diagnose(subject, example) == (variant.id,)


# -- zoo-like implementations of the bugs added with issue 19, written independently ----------
def _float32_loop(reference: Any) -> Any:
    """The loop reference run in float32 whatever the call's dtype (as MLX computes a
    float64 LSTM: within 5e-9 of float32)."""
    low = LOOPS[kind_of(reference)].from_module(copy.deepcopy(reference).float())

    def candidate(x: Tensor, hx: Any = None) -> Any:
        cast = (lambda t: t.float()) if x.dtype == torch.float64 else (lambda t: t)
        output, state = low(cast(x)) if hx is None else low(cast(x), map_state(cast, hx))
        return output.to(x.dtype), map_state(lambda t: t.to(x.dtype), state)

    return candidate


def _unprojected_lstm(reference: Any) -> Any:
    """A one-direction, time-major LSTM whose recurrence and layers use the projection,
    but whose output and h_n are h before it."""
    p = dict(reference.named_parameters())
    layers, hidden, proj = reference.num_layers, reference.hidden_size, reference.proj_size

    def candidate(x: Tensor, hx: Any = None) -> Any:
        steps, batch = x.shape[:2]
        h0 = x.new_zeros(layers, batch, proj) if hx is None else hx[0]
        c0 = x.new_zeros(layers, batch, hidden) if hx is None else hx[1]
        h_n, c_n, inputs = [], [], x
        for k in range(layers):
            h, c, projected, plain = h0[k], c0[k], [], []
            for t in range(steps):
                gates = inputs[t] @ p[f"weight_ih_l{k}"].T + h @ p[f"weight_hh_l{k}"].T
                gates = gates + p[f"bias_ih_l{k}"] + p[f"bias_hh_l{k}"]
                i, f, g, o = gates.chunk(4, dim=1)
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                u = o.sigmoid() * c.tanh()
                h = u @ p[f"weight_hr_l{k}"].T
                projected.append(h)
                plain.append(u)
            inputs = torch.stack(projected)
            h_n.append(plain[-1])
            c_n.append(c)
        return torch.stack(plain), (torch.stack(h_n), torch.stack(c_n))

    return candidate


def _first_hx_for_all(reference: Any) -> Any:
    """Each sample run alone, every one from the first sample's initial state."""

    def candidate(x: Tensor, hx: Any = None) -> Any:
        first = map_state(lambda h: h[:, :1], hx)
        runs = [reference(x[:, b : b + 1], first) for b in range(x.shape[1])]
        output = torch.cat([r[0] for r in runs], dim=1)
        states = [r[1] for r in runs]
        if isinstance(states[0], tuple):
            return output, tuple(torch.cat(s, dim=1) for s in zip(*states, strict=True))
        return output, torch.cat(states, dim=1)

    return candidate


@pytest.mark.parametrize(
    ("kind", "factory", "example", "expected"),
    [
        ("lstm", _float32_loop, Example(RNNConfig("lstm", 3, 4, 2), 2, 5, seed=2),
         "float32-inside-float64"),
        ("gru", _float32_loop, Example(RNNConfig("gru", 2, 3, bidirectional=True), None, 4),
         "float32-inside-float64"),
        ("lstm", _unprojected_lstm,
         Example(RNNConfig("lstm", 3, 4, 2, proj_size=2), 2, 3, seed=1, with_hx=True),
         "lstm-proj-size-ignored"),
        ("gru", _first_hx_for_all, Example(RNNConfig("gru", 2, 3, 2), 3, 3, with_hx=True),
         "hx-first-sample-broadcast"),
        ("lstm", _first_hx_for_all, Example(RNNConfig("lstm", 2, 3), 2, 2, with_hx=True),
         "hx-first-sample-broadcast"),
    ],
)  # fmt: skip
def test_the_new_bugs_are_named_on_implementations_of_their_own(
    kind: str, factory: Any, example: Example, expected: str
) -> None:
    assert diagnose(_subject(kind, factory), example) == (expected,)


def test_the_float32_bug_is_named_on_the_shrunk_example_of_a_check() -> None:
    report = check(_float32_loop, "gru", seed=0, laws=["equivalence"], max_examples=50)
    (result,) = report.results
    assert result.status == "failed"
    assert result.diagnosis == ("float32-inside-float64",), result.message


def test_a_factory_that_raises_gets_no_diagnosis_line() -> None:
    def factory(reference: Any) -> Any:
        raise KeyError("weight_ih_l0")

    report = check(factory, "rnn", seed=0, laws=["equivalence"], max_examples=5)
    (result,) = report.results
    assert "the factory raised KeyError" in result.message
    assert result.diagnosis is None
    assert "  diagnosis" not in result.message
    assert diagnose(_subject("rnn", factory), Example(RNNConfig("rnn", 1, 1), 1, 1)) is None
