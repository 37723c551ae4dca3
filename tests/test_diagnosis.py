"""Diagnosis: a failing candidate is named by the known bug it reproduces, or by none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from torch import Tensor

from mutants.zoo import MUTANTS
from rnnspec import Scope, check
from rnnspec.config import Example, RNNConfig
from rnnspec.laws import Subject
from rnnspec.reference import LOOPS, LoopRNN
from rnnspec.reference.loops import State, Weights, linear
from rnnspec.run.candidates import torch_module
from rnnspec.run.diagnosis import NO_MATCH, SYMPTOMS, VARIANTS, diagnose
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
