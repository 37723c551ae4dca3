"""Shapes: what torch documents for output, h_n and c_n, and the bidirectional doubling."""

from __future__ import annotations

import torch
from torch import nn

from rnnspec.config import Example
from rnnspec.laws._capabilities import BIDIRECTIONAL, UNIDIRECTIONAL
from rnnspec.laws._core import law
from rnnspec.laws.trial import Trial
from rnnspec.seed.weights import recurrent_parameters


def expected_shapes(example: Example) -> dict[str, tuple[int, ...]]:
    """``output`` (B, T, D*H_out) / (T, B, D*H_out) / (T, D*H_out); states (D*L, [B,] H_state)."""
    c, b, t = example.config, example.batch_size, example.seq_len
    width = c.directions * c.out_size
    if b is None:
        output: tuple[int, ...] = (t, width)
    else:
        output = (b, t, width) if c.batch_first else (t, b, width)
    lead = (c.num_layers * c.directions,) + (() if b is None else (b,))
    shapes = {"output": output, "h_n": (*lead, c.state_sizes[0])}
    if c.kind == "lstm":
        shapes["c_n"] = (*lead, c.state_sizes[1])
    return shapes


@law(
    "shape",
    "output is (B, T, D*H_out) with batch_first, (T, B, D*H_out) without, (T, D*H_out) "
    "unbatched; h_n is (D*L, B, H_out) and c_n (D*L, B, H), without B when unbatched.",
)
def shape(trial: Trial) -> None:
    example = trial.draw_example()
    _, candidate = trial.build()
    x, hx = example.inputs()
    with torch.no_grad():
        outcome = trial.run(candidate, x, hx)
    for (name, tensor), (_, want) in zip(
        outcome.tensors(), expected_shapes(example).items(), strict=True
    ):
        if tuple(tensor.shape) != want:
            trial.fail(f"{name} has shape {list(tensor.shape)}, expected {list(want)}")


@law(
    "bidirectional-doubling",
    "bidirectional=True doubles the output's feature width and h_n's first dimension, and "
    "doubles the first layer's parameter count.",
    capability=(BIDIRECTIONAL, UNIDIRECTIONAL),
)
def bidirectional_doubling(trial: Trial) -> None:
    example = trial.draw_example(configs={"bidirectional": (True,)}, unbatched=False)
    uni = example.replace(config=example.config.replace(bidirectional=False))
    outcomes = {}
    for name, ex in (("bidirectional", example), ("unidirectional", uni)):
        _, candidate = trial.build(ex)
        x, hx = ex.inputs()
        with torch.no_grad():
            outcomes[name] = trial.run(candidate, x, hx)
    bi, one = outcomes["bidirectional"], outcomes["unidirectional"]
    if bi.output.shape[-1] != 2 * one.output.shape[-1]:
        trial.fail(f"output width {bi.output.shape[-1]} is not twice {one.output.shape[-1]}")
    if bi.states[0].shape[0] != 2 * one.states[0].shape[0]:
        trial.fail(f"h_n has {bi.states[0].shape[0]} rows, not twice {one.states[0].shape[0]}")
    c = example.config
    sizes = (c.kind, c.input_size, c.hidden_size, 1, c.bias)
    two = recurrent_parameters(*sizes, bidirectional=True, proj_size=c.proj_size)
    if two != 2 * recurrent_parameters(*sizes, proj_size=c.proj_size):
        trial.fail(f"one bidirectional layer has {two} parameters, not twice the unidirectional")


@law(
    "param-count",
    "A module's parameters number exactly the closed form of rnnspec.seed.weights for its config "
    "(checked on torch's module, and on a candidate that names its parameters as torch does).",
)
def param_count(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False)
    reference, candidate = trial.build()
    c = example.config
    formula = recurrent_parameters(
        c.kind, c.input_size, c.hidden_size, c.num_layers, c.bias, c.bidirectional, c.proj_size
    )
    count = sum(p.numel() for p in reference.parameters())
    if count != formula:
        trial.fail(f"torch's module has {count} parameters, the closed form says {formula}")
    if not isinstance(candidate, nn.Module):
        trial.skip(
            f"the candidate is a {type(candidate).__name__}, not an nn.Module: "
            "only torch's module was counted"
        )
    names = {n for n, _ in candidate.named_parameters()}
    if not names & set(reference.state_dict()):  # its own layout (e.g. fused weights)
        trial.skip(
            "the candidate names none of its parameters as torch does: only torch's was counted"
        )
    count = sum(p.numel() for p in candidate.parameters())
    if count != formula:
        extra = sorted(names - set(reference.state_dict()))
        trial.fail(
            f"the candidate has {count} parameters, the closed form says {formula}; "
            f"names torch does not have: {extra}"
        )
