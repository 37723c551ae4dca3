"""Candidate hygiene: a pure function of its arguments, answering on their device and dtype,
leaving torch's process-wide settings as it found them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor

from rnnspec.laws._core import law
from rnnspec.laws._repro import forward_case
from rnnspec.laws.trial import Trial
from rnnspec.state import State, state_tensors
from rnnspec.torchstate import TorchState


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


class _StateWatch:
    """Wraps calls so that each compares torch's settings before and after it, on the
    thread that runs it, and puts back what it changed."""

    def __init__(self) -> None:
        self.changed: list[str] = []

    def around(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn``, watched: a change is kept in ``changed`` and undone at once."""

        def watched(*args: Any) -> Any:
            before = TorchState.capture()
            try:
                return fn(*args)
            finally:
                changed = before.changes(TorchState.capture())
                if changed:
                    left = before.restore()
                    self.changed += changed
                    self.changed += [f"(could not put back: {line})" for line in left]

        return watched

    def verdict(self, trial: Trial, call: str) -> None:
        """Fail ``trial`` if the watched ``call`` changed a setting, naming each one."""
        if self.changed:
            trial.fail(f"{call} changed torch's process-wide state: {'; '.join(self.changed)}")


@law(
    "global-state",
    "Calling the candidate (and its factory) leaves torch's process-wide state as it found "
    "it: default dtype, grad mode, number of threads, deterministic-algorithms mode, and the "
    "oneDNN/cuDNN/TF32 flags.",
)
def global_state(trial: Trial) -> None:
    example = trial.draw_example()
    reference = example.reference()
    watch = _StateWatch()
    try:
        candidate = trial.invoke(watch.around(trial.subject.factory), reference, who="factory")
    except Exception as exc:  # noqa: BLE001 - any factory error is the candidate's
        trial.fail(f"the factory raised {type(exc).__name__}: {exc}")
    watch.verdict(trial, "the factory")
    args = _args(*example.inputs())
    for grad in (True, False):  # a candidate may turn grad mode off, or on
        with torch.set_grad_enabled(grad):
            trial.call(watch.around(candidate), *args)
        watch.verdict(trial, f"calling the candidate with grad {'enabled' if grad else 'disabled'}")
