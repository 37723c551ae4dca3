"""The batch dimension is a loop over independent samples, and unbatched input is one of them."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from rnnspec.laws._capabilities import SAMPLES, UNBATCHED
from rnnspec.laws._core import law
from rnnspec.laws._failure import LawFailure
from rnnspec.laws._repro import preamble
from rnnspec.laws.trial import Outcome, Trial
from rnnspec.state import batch_axis, map_state, select_samples


def _select(outcome: Outcome, index: torch.Tensor, batch_dim: int) -> Outcome:
    """The samples ``index`` of an outcome (states have batch on dim 1)."""
    return Outcome(
        outcome.output.index_select(batch_dim, index),
        tuple(s.index_select(1, index) for s in outcome.states),
    )


def _draw_batch(trial: Trial) -> int:
    """Draw a batched example of two samples or more; its batch size."""
    example = trial.draw_example(unbatched=False, min_batch=2)
    assert example.batch_size is not None
    return example.batch_size


def _compare_samples(trial: Trial, index: list[int], what: str) -> None:
    """Running the samples ``index`` of the drawn batch equals those rows of the whole run."""
    _, candidate = trial.build()
    x, hx = trial.drawn().inputs()
    rows, b = torch.tensor(index), batch_axis(trial.drawn().config.batch_first)
    with torch.no_grad():
        whole = trial.run(candidate, x, hx)
        part = trial.run(candidate, x.index_select(b, rows), select_samples(hx, rows))
    trial.equal_outcomes(part, _select(whole, rows, b), what)


def _samples_repro(failure: LawFailure) -> list[str]:
    """Run the drawn samples alone (or permuted) and compare with their rows of the batch."""
    assert failure.example is not None
    draws = failure.draws
    index = list(draws["permutation"]) if "permutation" in draws else [draws["sample"]]
    return [
        *preamble(failure),
        f"index, b = torch.tensor({index!r}), {0 if failure.example.config.batch_first else 1}",
        "with torch.no_grad():",
        "    whole = replay.call(candidate, x, hx)",
        "    part = replay.call(candidate, x.index_select(b, index), replay.rows(hx, index))",
        "rows = (whole[0].index_select(b, index), replay.rows(whole[1], index))",
        f"replay.finish(replay.compare({failure.compared or 'samples'!r}, part, rows, rtol, atol))",
    ]


@law(
    "batch-permutation",
    "Permuting the samples of a batch (input and initial state) permutes the output and "
    "final states the same way.",
    repro=_samples_repro,
    capability=SAMPLES,
)
def batch_permutation(trial: Trial) -> None:
    order = trial.draw(st.permutations(range(_draw_batch(trial))), "permutation")
    _compare_samples(trial, list(order), f"batch permuted by {order}")


@law(
    "batch-independence",
    "A sample's result does not depend on its neighbours: running it alone gives its row "
    "of the batched result (within tolerance; CPU kernels may differ bitwise by batch split).",
    repro=_samples_repro,
    capability=SAMPLES,
)
def batch_independence(trial: Trial) -> None:
    sample = trial.draw(st.integers(0, _draw_batch(trial) - 1), "sample")
    _compare_samples(trial, [sample], f"sample {sample} alone vs in the batch")


@law(
    "unbatched",
    "An unbatched (T, I) input gives the batch-of-one result with the batch dimension removed.",
    capability=UNBATCHED,
)
def unbatched(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False, min_batch=1, max_batch=1)
    _, candidate = trial.build()
    x, hx = example.inputs()
    b = batch_axis(example.config.batch_first)
    with torch.no_grad():
        batched = trial.run(candidate, x, hx)
        ux = x.squeeze(b)
        uhx = map_state(lambda h: h.squeeze(1), hx)
        single = trial.run(candidate, ux, uhx)
    squeezed = Outcome(batched.output.squeeze(b), tuple(s.squeeze(1) for s in batched.states))
    trial.equal_outcomes(single, squeezed, "unbatched vs batch of one")
