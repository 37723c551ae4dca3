"""Dropout acts only in training, only between layers; the seed's clipping tip holds.

A candidate is handed a reference with dropout p > 0 only where its scope says it
accepts one: ``Scope(dropout=False)`` means no p > 0 at all (in any mode), and
``Scope(max_dropout=...)`` bounds every p a law draws or constructs with.
"""

from __future__ import annotations

import warnings

import torch
from hypothesis import strategies as st
from torch import nn

from rnnspec.laws._capabilities import DROPOUT, FULL_DROPOUT, GRADIENTS, LAYERS
from rnnspec.laws._core import Subject, law
from rnnspec.laws._failure import LawFailure
from rnnspec.laws._repro import factory_name, preamble
from rnnspec.laws.equivalence import expected_outcome
from rnnspec.laws.structure import state_rows, sub_reference
from rnnspec.laws.trial import Trial
from rnnspec.scope import Scope

MAX_NORM = 5.0
"""The seed's training tip: ``nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)``."""


def dropout_probabilities(scope: Scope, least: float) -> st.SearchStrategy[float]:
    """Dropout probabilities p > 0 the scope accepts: from ``least`` (or less, where the
    scope's ``max_dropout`` is below it) up to ``max_dropout``."""
    return st.floats(min(least, scope.max_dropout), scope.max_dropout)


def _cases(p: float | None) -> list[tuple[str, float, bool]]:
    """(label, p, training) of each case: the drawn p in eval mode (None: not drawn, out of
    scope), and p = 0 in training mode."""
    eval_mode = [] if p is None else [(f"eval mode, p={p:g}", p, False)]
    return [*eval_mode, ("train mode, p=0", 0.0, True)]


def _inactive_repro(failure: LawFailure) -> list[str]:
    """Build the candidate with the drawn p in eval mode, and with p=0 in training mode."""
    cases = _cases(failure.draws.get("p"))
    factory = factory_name(failure)
    return [
        *preamble(failure),
        "float64 = example.reference(torch.float64)",
        "with torch.no_grad():",
        "    expected = replay.call(float64, x.double(), replay.to(hx, torch.float64))",
        "same = True",
        f"for label, p, training in {tuple(cases)!r}:",
        "    config = example.config.replace(dropout=p)",
        "    reference = example.replace(config=config).reference().train(training)",
        f"    candidate = {factory}(reference)",
        "    with torch.no_grad():",
        "        for call in ('first', 'second'):",
        "            actual = candidate(*args)",
        "            what = f'{label}, {call} call vs no dropout'",
        "            same = replay.compare(what, actual, expected, rtol, atol) and same",
        "replay.finish(same)",
    ]


@law(
    "dropout-inactive",
    "With dropout p > 0 in eval mode, or p = 0 in training mode, the network is "
    "deterministic and equals the network without dropout.",
    repro=_inactive_repro,
    compares_with_torch=True,
)
def dropout_inactive(trial: Trial) -> None:
    """p is drawn within the scope's range; under ``Scope(dropout=False)`` only p = 0 in
    training mode is checked (the candidate is never handed a p > 0)."""
    example = trial.draw_example(unbatched=False)
    p = trial.draw(dropout_probabilities(trial.scope, 0.1), "p") if trial.scope.dropout else None
    x, hx = example.inputs()
    args = (x,) if hx is None else (x, hx)
    expected = expected_outcome(trial, x, hx)
    for label, prob, training in _cases(p):
        reference = example.replace(config=example.config.replace(dropout=prob)).reference()
        reference.train(training)
        candidate = trial.candidate(reference)
        with torch.no_grad():
            first = trial.call(candidate, *args)
            second = trial.call(candidate, *args)
        trial.equal_outcomes(first, expected, f"{label}, first call vs no dropout")
        trial.equal_outcomes(second, expected, f"{label}, second call vs no dropout")


@law(
    "dropout-between-layers",
    "In training mode with p = 1, dropout zeroes each layer's output before the next layer "
    "and nothing else: layer 0's final states are untouched, and the top layer sees zeros.",
    capability=(DROPOUT, LAYERS, FULL_DROPOUT),
    compares_with_torch=True,
)
def dropout_between_layers(trial: Trial) -> None:
    example = trial.draw_example(configs={"min_layers": 2})
    c = example.config
    x, hx = example.inputs()
    reference = example.replace(config=c.replace(dropout=1.0)).reference().train()
    candidate = trial.candidate(reference)
    with torch.no_grad():
        dropped = trial.run(candidate, x, hx)
    expected = expected_outcome(trial, x, hx)
    first = slice(0, c.directions)
    for got, want, name in zip(dropped.states, expected.states, ("h_n", "c_n"), strict=False):
        trial.close(got[first], want[first].to(got.dtype), f"layer 0 {name} with p=1 vs p=0")
    top = c.num_layers - 1
    top_module = sub_reference(reference, example, top, tuple(range(c.directions))).eval()
    top_candidate = trial.candidate(top_module)
    rows = state_rows(hx, top * c.directions, (top + 1) * c.directions)
    zeros = x.new_zeros(*x.shape[:-1], c.directions * c.out_size)
    with torch.no_grad():
        alone = trial.run(top_candidate, zeros, rows)
    trial.close(dropped.output, alone.output, "top layer output with p=1 vs top layer on zeros")


def _needs_constructor(subject: Subject) -> str | None:
    return None if subject.constructor is not None else "needs a constructor (Subject.constructor)"


@law(
    "dropout-single-layer-warns",
    "Constructing a one-layer network with dropout > 0 warns (dropout would act on nothing); "
    "with two layers it does not.",
    needs=_needs_constructor,
    capability=DROPOUT,
)
def dropout_single_layer_warns(trial: Trial) -> None:
    constructor = trial.subject.constructor
    assert constructor is not None
    sizes = trial.draw(st.tuples(st.integers(1, 6), st.integers(1, 6)), "input, hidden")
    p = trial.draw(dropout_probabilities(trial.scope, 0.05), "p")
    trial.note(f"input_size, hidden_size = {sizes}, dropout = {p}")
    for layers, should_warn in ((1, True), (2, False)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                constructor(*sizes, num_layers=layers, dropout=p)
            except Exception as exc:  # noqa: BLE001 - the constructor's error fails the law
                trial.fail(f"constructing with num_layers={layers} raised {exc!r}")
        warned = any(
            issubclass(w.category, UserWarning) and "dropout" in str(w.message) for w in caught
        )
        if warned != should_warn:
            trial.fail(
                f"num_layers={layers}, dropout={p}: "
                + ("no warning" if should_warn else "an unexpected warning")
            )


@law(
    "clip-grad-norm",
    "The seed's training tip holds: after backward, the parameters have finite gradients and "
    "clip_grad_norm_(parameters, max_norm=5.0) leaves a total gradient norm <= 5.",
    capability=GRADIENTS,
)
def clip_grad_norm(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False)
    _, candidate = trial.build(training=True)  # dropout 0; cuDNN's backward needs training
    if not isinstance(candidate, nn.Module):
        trial.skip(
            f"the candidate is a {type(candidate).__name__}, not an nn.Module: no parameters"
        )
    if not any(True for _ in candidate.parameters()):
        trial.skip("the candidate has no parameters to clip")
    x, hx = example.inputs()
    out = trial.run(candidate, x, hx)
    loss = 1e3 * sum(t.pow(2).sum() for _, t in out.tensors())
    try:
        loss.backward()  # type: ignore[union-attr]
    except RuntimeError as exc:
        trial.fail(f"backward raised: {exc}")
    params = [p for p in candidate.parameters() if p.grad is not None]
    if not params:
        trial.fail("no parameter got a gradient: the result does not depend on them")
    bad = [
        n
        for n, p in candidate.named_parameters()
        if p.grad is not None and not p.grad.isfinite().all()
    ]
    if bad:
        trial.fail(f"non-finite gradients in {bad}")
    before = float(nn.utils.clip_grad_norm_(params, max_norm=MAX_NORM))
    after = float(
        torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params if p.grad is not None]))
    )
    trial.note(f"total gradient norm before clipping: {before:.4g}, after: {after:.4g}")
    if not after <= MAX_NORM * (1 + 1e-5):
        trial.fail(f"total gradient norm after clipping is {after:.6g} > {MAX_NORM}")
