"""The candidate's own gradients agree with finite differences of the candidate itself.

The ``gradients`` law compares weight gradients with torch's by parameter name, so a
candidate that names its parameters its own way (a fused kernel, a port, a custom
autograd Function with a hand-written backward) has its weights compared only when
its factory declares a ``parameter_map``.  This law needs no names: it differentiates
the candidate numerically, in float64, and asks autograd to agree.

Cost: one forward and backward, then two forward calls for a central difference along
one random direction in all inputs and parameters at once.  Only a tensor whose
autograd gradient is missing or zero, or every tensor when the joint check fails, gets
a direction of its own (two more calls each, those with no gradient first), so a failure
names the tensor; the checking stops at the sixth tensor found wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from rnnspec.laws._capabilities import FLOAT64, GRADIENTS
from rnnspec.laws._core import law
from rnnspec.laws._params import candidate_parameters
from rnnspec.laws.trial import Trial
from rnnspec.state import as_state, state_tensors

STEP = 1e-6
"""Central-difference step along a unit direction (float64)."""

MAX_PROBLEMS = 6
"""A failure names at most this many tensors (each costs two to four more calls)."""

RTOL = 1e-6
ROUNDING = 1e4 * 2.0**-53
"""Tolerance: ``|fd - ad| <= RTOL * |ad| + ROUNDING * scale / step``.

A central difference ``(L(t + s v) - L(t - s v)) / 2s`` along a unit ``v`` errs by
truncation, about ``s**2 / 6`` times a third derivative (some 1e-12 relative at
s = 1e-6, which RTOL covers with room), and by rounding: each float64 evaluation of
the loss is off by a few ulps of ``scale``, the sum of the magnitudes of the loss's
terms, and the difference divides that by ``s``.  Measured on torch's modules, the
loop references and the seed's ManualRNN (300 examples each, up to 72 steps and three
layers): at most 7 ulps of ``scale / s``.  ROUNDING allows 1e4 ulps, so the bound is
about 1e-6 of ``scale`` at ``STEP`` (1e-5 at the confirming step): far below the
directional derivative of a weight that really moves the output.
"""


@law(
    "finite-differences",
    "The candidate's own autograd gradients with respect to the input, the initial state "
    "and every parameter it has agree with finite differences of the candidate itself in "
    "float64: a parameter the output depends on has a gradient.",
    capability=(GRADIENTS, FLOAT64),  # finite differences need float64
)
def finite_differences(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False, dtypes=("float64",))
    # training mode (dropout 0: the same function), as the gradients law: cuDNN refuses
    # backward in eval mode, and eval-backward says so alone
    _, candidate = trial.build(training=True)
    x, hx = example.inputs()
    states = state_tensors(hx)
    named: dict[str, Tensor] = {"input": x.clone().requires_grad_(True)}
    named.update({f"hx[{i}]": h.clone().requires_grad_(True) for i, h in enumerate(states)})
    # A first call before reading the parameters: a candidate may build what it runs (and
    # its parameters) on its first call, as the execution modes do.
    trial.run(candidate, x, hx)
    params = candidate_parameters(trial, candidate)
    named.update({f"parameter {n!r}": p for n, p in params.items()})
    loss = _Loss(trial, candidate, named, has_hx=hx is not None)

    value = loss.evaluate()
    grads: list[Tensor | None] = [None] * len(named)
    if value.requires_grad:
        try:
            grads = list(torch.autograd.grad(value, list(named.values()), allow_unused=True))
        except RuntimeError as exc:
            trial.fail(f"backward through the candidate raised: {exc}")

    generator = torch.Generator().manual_seed(example.seed + 3)
    directions = [
        torch.randn(t.shape, dtype=torch.float64, generator=generator) for t in named.values()
    ]
    joint = _unit(directions)
    joint_problem = loss.disagreement(grads, joint, "along a random direction in all of them")
    # the tensors with no or a zero gradient first (the likeliest culprits), then, when the
    # joint check failed, every other; the first six problems found are enough to report
    suspects = [i for i, g in enumerate(grads) if _zero(g)]
    others = [i for i in range(len(named)) if i not in suspects] if joint_problem else []
    problems: list[str] = []
    checked = 0
    names = list(named)
    for i in suspects + others:
        if len(problems) == MAX_PROBLEMS:
            break
        checked += 1
        alone = [d if j == i else torch.zeros_like(d) for j, d in enumerate(directions)]
        problem = loss.disagreement(grads, _unit(alone), names[i], missing=_zero(grads[i]))
        if problem:
            problems.append(problem)
    if problems:
        unchecked = len(suspects) + len(others) - checked
        trial.fail("; ".join(problems) + (f"; {unchecked} more not checked" if unchecked else ""))
    if joint_problem:
        trial.fail(joint_problem)


class _Loss:
    """A fixed weighted sum of every tensor the candidate returns, as a function of ``named``."""

    def __init__(
        self,
        trial: Trial,
        candidate: Callable[..., Any],
        named: dict[str, Tensor],
        *,
        has_hx: bool,
    ) -> None:
        self.trial, self.candidate, self.named = trial, candidate, named
        self.has_hx = has_hx
        self.weights: list[Tensor] | None = None
        self.scale = 0.0

    def evaluate(self) -> Tensor:
        tensors = list(self.named.values())
        x = tensors[0].clone()
        states = [t.clone() for n, t in self.named.items() if n.startswith("hx[")]
        hx = as_state(self.trial.kind, states) if self.has_hx else None
        outcome = self.trial.run(self.candidate, x, hx)
        outputs = [t for _, t in outcome.tensors()]
        if self.weights is None:
            generator = torch.Generator().manual_seed(self.trial.drawn().seed + 2)
            self.weights = [
                torch.randn(t.shape, dtype=torch.float64, generator=generator) for t in outputs
            ]
            self.scale = float(
                sum(
                    (w * t.detach()).abs().sum() for w, t in zip(self.weights, outputs, strict=True)
                )
            )
        shapes = [tuple(t.shape) for t in outputs]
        if shapes != [tuple(w.shape) for w in self.weights]:
            self.trial.fail(f"the candidate's result changed shape between calls: {shapes}")
        terms = [(w.to(t.dtype) * t).sum() for w, t in zip(self.weights, outputs, strict=True)]
        return torch.stack(terms).sum()

    def difference(self, direction: list[Tensor], step: float) -> float:
        """The central difference of the loss along ``direction`` with ``step``."""
        tensors = list(self.named.values())
        saved = [t.detach().clone() for t in tensors]
        values = []
        try:
            for sign in (1.0, -1.0):
                with torch.no_grad():
                    for t, s, d in zip(tensors, saved, direction, strict=True):
                        t.copy_(s + sign * step * d.to(t))  # the parameter's dtype and device
                # with autograd on, as for the gradients: a candidate may run another
                # artifact (with other parameters) without it, as the execution modes do
                values.append(float(self.evaluate().detach()))
        finally:
            with torch.no_grad():
                for t, s in zip(tensors, saved, strict=True):
                    t.copy_(s)
        return (values[0] - values[1]) / (2 * step)

    def disagreement(
        self, grads: list[Tensor | None], direction: list[Tensor], what: str, missing: bool = False
    ) -> str | None:
        """How autograd and finite differences disagree along ``direction``, or None.

        A mismatch at ``STEP`` is confirmed at ``STEP / 10``, so that a relu kink that
        happens to lie within one step does not fail a correct candidate.
        """
        autograd = float(
            sum(
                (
                    (g.double().cpu() * d).sum()
                    for g, d in zip(grads, direction, strict=True)
                    if g is not None
                ),
                0.0,
            )
        )
        numeric = 0.0
        for step in (STEP, STEP / 10):
            numeric = self.difference(direction, step)
            bound = RTOL * abs(autograd) + ROUNDING * self.scale / step
            if abs(numeric - autograd) <= bound:  # NaN never passes
                return None
        if missing:
            none = all(g is None for g, d in zip(grads, direction, strict=True) if d.any())
            gives = "no gradient (None)" if none else "a zero gradient"
            return (
                f"{what}: autograd gives {gives}, but the output depends on it: finite "
                f"differences give a directional derivative of {numeric:.6g} along a "
                f"random unit direction"
            )
        return (
            f"{what}: autograd's directional derivative {autograd:.6g} differs from finite "
            f"differences' {numeric:.6g} (|difference| {abs(numeric - autograd):.3g}, "
            f"bound {bound:.3g})"
        )


def _zero(grad: Tensor | None) -> bool:
    return grad is None or not bool(grad.any())


def _unit(directions: list[Tensor]) -> list[Tensor]:
    norm = math.sqrt(sum(float((d * d).sum()) for d in directions))
    return [d / norm if norm > 0 else d for d in directions]
