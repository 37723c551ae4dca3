"""Candidate hygiene: a pure function of its arguments, answering on their device and dtype."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor

from rnnspec.laws._core import law
from rnnspec.laws._repro import forward_case
from rnnspec.laws.trial import Trial
from rnnspec.state import State, state_tensors


def _args(x: Tensor, hx: State) -> tuple[Any, ...]:
    return (x,) if hx is None else (x, hx)


def _copies(args: tuple[Any, ...]) -> list[Tensor]:
    x, *hx = args
    return [t.clone() for t in (x, *state_tensors(hx[0] if hx else None))]


@law("no-input-mutation", "Calling the candidate leaves its input and initial state unchanged.")
def no_input_mutation(trial: Trial) -> None:
    example = trial.draw_example()
    _, candidate = trial.build()
    args = _args(*example.inputs())
    before = _copies(args)
    with torch.no_grad():
        trial.call(candidate, *args)
    for i, (old, new) in enumerate(zip(before, _copies(args), strict=True)):
        if not torch.equal(old, new):
            trial.fail(f"argument {i} ({'input' if i == 0 else 'hx'}) was modified in place")


@law(
    "repeatable",
    "Calling the candidate twice with the same arguments gives the same result.",
    repro=forward_case(
        "second call vs first",
        ["first = candidate(*args)", "second = candidate(*args)"],
        "second",
        "first",
    ),
)
def repeatable(trial: Trial) -> None:
    example = trial.draw_example()
    _, candidate = trial.build()
    args = _args(*example.inputs())
    with torch.no_grad():
        first = trial.call(candidate, *args)
        second = trial.call(candidate, *args)
    trial.equal_outcomes(second, first, "second call vs first")


@law(
    "stateless",
    "The candidate keeps no state between calls: a call on input A gives the same result "
    "before and after a call on another input B.",
    repro=forward_case(
        "A after B vs A",
        [
            "first = candidate(*args)",
            "other = example.replace(seed=example.seed + 7).inputs()",
            "candidate(*[a for a in other if a is not None])  # B",
            "again = candidate(*args)",
        ],
        "again",
        "first",
    ),
)
def stateless(trial: Trial) -> None:
    example = trial.draw_example()
    _, candidate = trial.build()
    args = _args(*example.inputs())
    other = _args(*example.replace(seed=example.seed + 7).inputs())
    with torch.no_grad():
        first = trial.call(candidate, *args)
        trial.call(candidate, *other)
        again = trial.call(candidate, *args)
    trial.equal_outcomes(again, first, "A after B vs A")


@law(
    "output-dtype-device",
    "Every tensor the candidate returns has the input's dtype and device, and is finite.",
)
def output_dtype_device(trial: Trial) -> None:
    dtype = trial.draw(st.sampled_from(trial.scope.dtype_names), "dtype")
    example = trial.draw_example(dtypes=(dtype,))
    _, candidate = trial.build()
    x, hx = example.inputs()
    with torch.no_grad():
        outcome = trial.call(candidate, *_args(x, hx))
    for name, tensor in outcome.tensors():
        if tensor.dtype != x.dtype or tensor.device != x.device:
            trial.fail(
                f"{name} is {tensor.dtype} on {tensor.device}; the input is {x.dtype} on {x.device}"
            )
        if not bool(torch.isfinite(tensor).all()):
            trial.fail(f"{name} has non-finite values (NaN or inf) for a finite input")
