"""The error contract: bad input raises what torch raises, with a message that says why.

Messages differ between torch versions, so each is matched by a regular expression
that torch's own message must match too (if torch changes its wording, the law
reports that this table is out of date rather than blaming the candidate).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from rnnspec.config import Example
from rnnspec.laws._capabilities import ERRORS, INITIAL_STATE, Capability
from rnnspec.laws._core import law
from rnnspec.laws._failure import LawFailure
from rnnspec.laws._repro import preamble
from rnnspec.laws.trial import Trial
from rnnspec.state import State, as_state, time_axis

BadInput = Callable[[Example, Tensor, Any], tuple[Any, ...]]


@dataclass(frozen=True)
class ErrorCase:
    law_id: str
    sentence: str
    pattern: str
    make: BadInput
    code: str  # the bad arguments as Python, from ``example``, ``x`` and ``hx`` (for repros)
    also: tuple[Capability, ...] = ()  # what the bad call needs besides the error contract


def _wrong_width(example: Example, x: Tensor, hx: State) -> tuple[Any, ...]:
    return (torch.cat([x, x[..., :1]], dim=-1),)  # one feature too many


def _wrong_hx(example: Example, x: Tensor, hx: State) -> tuple[Any, ...]:
    c = example.config
    batch = example.batch_size or 1
    rows = c.num_layers * c.directions
    bad = tuple(x.new_zeros(rows, batch + 1, size) for size in c.state_sizes)  # batch off by one
    return (x, as_state(c.kind, bad))


def _wrong_rank(example: Example, x: Tensor, hx: State) -> tuple[Any, ...]:
    return (x.reshape(-1) if x.dim() == 2 else x.unsqueeze(0),)  # 1-D, or 4-D


def _wrong_dtype(example: Example, x: Tensor, hx: State) -> tuple[Any, ...]:
    other = torch.float32 if x.dtype == torch.float64 else torch.float64
    return (x.to(other),)


def _empty(example: Example, x: Tensor, hx: State) -> tuple[Any, ...]:
    t = time_axis(example.config.batch_first, x.dim() == 3)
    return (x.narrow(t, 0, 0),)


CASES = (
    ErrorCase(
        "error-input-size",
        "An input whose feature size is not input_size raises RuntimeError naming input_size.",
        r"input\.size\(-1\) must be equal to input_size|input_size",
        _wrong_width,
        "args = (torch.cat([x, x[..., :1]], dim=-1),)  # one feature too many",
    ),
    ErrorCase(
        "error-hx-shape",
        "An initial state of the wrong shape raises RuntimeError naming the expected hidden size.",
        r"[Ee]xpected hidden(\[\d\])? size",
        _wrong_hx,
        "rows, batch = example.config.num_layers * example.config.directions, x.shape[1 - t]\n"
        "bad = tuple(x.new_zeros(rows, batch + 1, s) for s in example.config.state_sizes)\n"
        "args = (x, bad if example.config.kind == 'lstm' else bad[0])  # batch off by one",
        also=(INITIAL_STATE,),
    ),
    ErrorCase(
        "error-input-rank",
        "A 1-D or 4-D input raises ValueError: the input must be 2-D or 3-D.",
        r"[Ee]xpected input to be 2D or 3D",
        _wrong_rank,
        "args = (x.reshape(-1) if x.dim() == 2 else x.unsqueeze(0),)  # 1-D, or 4-D",
    ),
    ErrorCase(
        "error-dtype",
        "An input whose dtype differs from the weights' raises ValueError naming the dtypes.",
        r"dtype|must have the type",
        _wrong_dtype,
        "args = (x.to(torch.float32 if x.dtype == torch.float64 else torch.float64),)",
    ),
    ErrorCase(
        "error-empty-sequence",
        "A sequence of length 0 raises RuntimeError: the length must be larger than 0.",
        r"[Ss]equence length.*larger than 0|length.*> ?0",
        _empty,
        "args = (x.narrow(t, 0, 0),)  # a sequence of length 0",
    ),
)


def _raised(trial: Trial, fn: Any, args: tuple[Any, ...], who: str) -> BaseException | None:
    try:
        with torch.no_grad():
            trial.invoke(fn, *args, who=who)
    except LawFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - which exception is what we check
        return exc
    return None


def _register(case: ErrorCase) -> None:
    def check(trial: Trial) -> None:
        if case.law_id == "error-hx-shape":  # needs a batch to be wrong about
            example = trial.draw_example(unbatched=False)
        else:  # the state must not be the first thing found wrong
            example = trial.draw_example(initial_state=False)
        reference, candidate = trial.build()
        x, hx = example.inputs()
        args = case.make(example, x, hx)
        expected = _raised(trial, reference, args, "reference")
        if expected is None or not re.search(case.pattern, str(expected)):
            trial.fail(
                f"torch itself raised {expected!r}: the regex {case.pattern!r} is out of date"
            )
        got = _raised(trial, candidate, args, "candidate")
        if got is None:
            trial.fail(
                f"the candidate accepted the bad input; torch raises "
                f"{type(expected).__name__}: {expected}"
            )
        if not isinstance(got, type(expected)):
            trial.fail(
                f"the candidate raised {type(got).__name__}: {got}; "
                f"torch raises {type(expected).__name__}: {expected}"
            )
        if not re.search(case.pattern, str(got)):
            trial.fail(f"the candidate's message {str(got)!r} does not match {case.pattern!r}")

    def repro(failure: LawFailure) -> list[str]:
        return [
            "import re",
            *preamble(failure),
            "t = 1 if example.config.batch_first and x.dim() == 3 else 0",
            *case.code.splitlines(),
            "expected = replay.raised(reference, *args)",
            "got = replay.raised(candidate, *args)",
            f"replay.finish(replay.same_error(got, expected, {case.pattern!r}))",
        ]

    check.__name__ = case.law_id.replace("-", "_")
    law(case.law_id, case.sentence, repro=repro, capability=(ERRORS, *case.also))(check)


for _case in CASES:
    _register(_case)
