"""A candidate's parameters, and how a factory may say they map onto torch's.

Two optional attributes of a factory, both read here:

``factory.candidate_parameters(candidate) -> {name: tensor}``
    The tensors that are the candidate's parameters, for a candidate that is not an
    ``nn.Module`` (or to choose among a module's).  Each must be a leaf that requires
    grad and that the candidate reads when called (the laws perturb it in place and
    restore it).  Default: ``candidate.named_parameters()`` that require grad.

``factory.parameter_map(reference_parameters) -> {candidate name: tensor}``
    The candidate's parameters computed from the torch reference's
    (``dict(reference.named_parameters())``) with differentiable torch operations,
    e.g. ``{"weights.0": torch.cat([p["weight_ih_l0"], p["weight_hh_l0"]], dim=1)}``.
    With it the ``gradients`` law compares weight gradients with torch's: by the chain
    rule, torch's gradient of each reference weight must equal the candidate's
    gradients pulled back through the map (a vector-Jacobian product).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from rnnspec.laws.trial import Trial

__all__ = ["candidate_parameters", "mapped_gradients"]


def candidate_parameters(trial: Trial, candidate: Any) -> dict[str, Tensor]:
    """The candidate's parameters by name: declared by the factory, else a module's own."""
    declared = getattr(trial.subject.factory, "candidate_parameters", None)
    if declared is None:
        if isinstance(candidate, nn.Module):
            return {n: p for n, p in candidate.named_parameters() if p.requires_grad}
        return {}
    try:
        named = dict(declared(candidate))
    except Exception as exc:  # noqa: BLE001 - the factory's declaration is the candidate's
        trial.fail(f"the factory's candidate_parameters raised {type(exc).__name__}: {exc}")
    for name, tensor in named.items():
        if not isinstance(tensor, Tensor) or not tensor.requires_grad:
            trial.fail(f"declared parameter {name!r} is not a tensor that requires grad")
    return named


def mapped_gradients(
    trial: Trial, reference: nn.Module, candidate: Any, grads: Mapping[str, Tensor | None]
) -> dict[str, Tensor]:
    """torch's weight gradients as the candidate's imply them, by ``factory.parameter_map``.

    ``grads`` holds the candidate's gradients under ``"weight <candidate name>"``; the
    result holds the implied gradients under ``"weight <torch name>"`` (empty when the
    factory declares no map).  A map that does not reproduce the candidate's values
    fails the law: its gradients would mean nothing.
    """
    mapping = getattr(trial.subject.factory, "parameter_map", None)
    if mapping is None:
        return {}
    leaves = {n: p.detach().clone().requires_grad_(True) for n, p in reference.named_parameters()}
    try:
        with torch.enable_grad():
            mapped = dict(mapping(dict(leaves)))
    except Exception as exc:  # noqa: BLE001 - the factory's declaration is the candidate's
        trial.fail(f"the factory's parameter_map raised {type(exc).__name__}: {exc}")
    own = candidate_parameters(trial, candidate)
    outputs, cotangents = [], []
    for name, value in mapped.items():
        if name not in own:
            have = ", ".join(own) or "none"
            trial.fail(f"parameter_map gives {name!r}, not a parameter of the candidate ({have})")
        problem = trial.mismatch(own[name].detach(), value.detach(), f"parameter_map[{name!r}]")
        if problem:
            trial.fail(f"parameter_map does not give the candidate's values: {problem}")
        if value.requires_grad:
            grad = grads.get(f"weight {name}")
            outputs.append(value)
            cotangents.append(torch.zeros_like(value) if grad is None else grad.to(value.dtype))
    pulled: tuple[Tensor | None, ...] = (None,) * len(leaves)
    if outputs:
        pulled = torch.autograd.grad(outputs, list(leaves.values()), cotangents, allow_unused=True)
    return {
        f"weight {n}": torch.zeros_like(leaf) if g is None else g
        for (n, leaf), g in zip(leaves.items(), pulled, strict=True)
    }
