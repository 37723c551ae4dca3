"""Structure: stacking and bidirectionality are compositions of simpler runs."""

from __future__ import annotations

from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor, nn

from rnnspec.config import Example
from rnnspec.laws._capabilities import (
    BIDIRECTIONAL,
    INITIAL_STATE,
    LAYERS,
    STEPS,
    UNIDIRECTIONAL,
)
from rnnspec.laws._core import law
from rnnspec.laws._failure import LawFailure
from rnnspec.laws._repro import preamble
from rnnspec.laws.equivalence import expected_outcome
from rnnspec.laws.trial import Outcome, Trial
from rnnspec.state import State, as_state, map_state


def state_rows(hx: State, start: int, stop: int) -> State:
    """Rows ``start:stop`` (layer-direction pairs) of an initial state, or None."""
    return map_state(lambda h: h[start:stop], hx)


def sub_reference(
    reference: nn.RNNBase, example: Example, layer: int, directions: tuple[int, ...]
) -> nn.RNNBase:
    """A one-layer module holding ``layer``'s weights for the given directions."""
    c = example.config
    layer_in = c.input_size if layer == 0 else c.directions * c.out_size
    sub = c.replace(num_layers=1, input_size=layer_in, bidirectional=len(directions) == 2)
    module = sub.build(dtype=next(reference.parameters()).dtype)
    suffixes = ("", "_reverse")
    with torch.no_grad():
        for name, param in module.named_parameters():  # e.g. weight_hh_l0_reverse
            base, _, suffix = name.rpartition("_l0")
            direction = directions[suffixes.index(suffix)]
            source = getattr(reference, f"{base}_l{layer}{suffixes[direction]}")
            if source.shape != param.shape:  # copy_ would broadcast
                raise ValueError(f"{name}: shape {list(source.shape)} != {list(param.shape)}")
            param.copy_(source)
    return module


def _run(trial: Trial, candidate: Any, x: Tensor, hx: State) -> Outcome:
    with torch.no_grad():
        return trial.run(candidate, x, hx)


@law(
    "stacked-composition",
    "An L-layer network equals L one-layer networks with the same weights, each fed the "
    "previous one's output; h_n stacks their final states.",
    capability=LAYERS,
)
def stacked_composition(trial: Trial) -> None:
    example = trial.draw_example(configs={"min_layers": 2})
    reference, candidate = trial.build()
    x, hx = example.inputs()
    whole = _run(trial, candidate, x, hx)
    c = example.config
    layer_input, states = x, []
    for layer in range(c.num_layers):
        sub = trial.candidate(sub_reference(reference, example, layer, tuple(range(c.directions))))
        rows = state_rows(hx, layer * c.directions, (layer + 1) * c.directions)
        part = _run(trial, sub, layer_input, rows)
        layer_input = part.output
        states.append(part.states)
    for name, parts in zip(("h_n", "c_n"), zip(*states, strict=True), strict=False):
        if any(p.dim() != parts[0].dim() or p.shape[1:] != parts[0].shape[1:] for p in parts):
            shapes = ", ".join(str(list(p.shape)) for p in parts)
            trial.fail(f"the one-layer runs' {name} cannot be stacked: shapes {shapes}")
    stacked = tuple(torch.cat(parts) for parts in zip(*states, strict=True))
    trial.equal_outcomes(whole, Outcome(layer_input, stacked), "stacked vs layer by layer")


@law(
    "bidirectional-composition",
    "A bidirectional layer's output is the forward run concatenated with the time-flipped "
    "run of the reverse weights on the time-flipped input.",
    capability=(BIDIRECTIONAL, UNIDIRECTIONAL),  # each direction alone is a one-way layer
)
def bidirectional_composition(trial: Trial) -> None:
    example = trial.draw_example(configs={"bidirectional": (True,), "max_layers": 1})
    reference, candidate = trial.build()
    x, hx = example.inputs()
    whole = _run(trial, candidate, x, hx)
    t = example.time_axis
    forward = trial.candidate(sub_reference(reference, example, 0, (0,)))
    backward = trial.candidate(sub_reference(reference, example, 0, (1,)))
    fwd = _run(trial, forward, x, state_rows(hx, 0, 1))
    bwd = _run(trial, backward, x.flip(t), state_rows(hx, 1, 2))
    output = torch.cat([fwd.output, bwd.output.flip(t)], dim=-1)  # (.., 2*H_out)
    states = tuple(torch.cat([f, b]) for f, b in zip(fwd.states, bwd.states, strict=True))
    trial.equal_outcomes(whole, Outcome(output, states), "bidirectional vs two runs")


@law(
    "bidirectional-ends",
    "In the last layer, output at the last step, forward half, equals h_n[-2], and output "
    "at the FIRST step, reverse half, equals h_n[-1]: the reverse direction ends at t=0.",
    capability=BIDIRECTIONAL,
)
def bidirectional_ends(trial: Trial) -> None:
    example = trial.draw_example(configs={"bidirectional": (True,)})
    _, candidate = trial.build()
    x, hx = example.inputs()
    out = _run(trial, candidate, x, hx)
    steps = out.output.movedim(example.time_axis, 0)  # (T, [B,] 2*H_out)
    half = example.config.out_size
    h_n = out.states[0]
    trial.close(steps[-1][..., :half], h_n[-2], "output[last step, forward half] vs h_n[-2]")
    trial.close(steps[0][..., half:], h_n[-1], "output[first step, reverse half] vs h_n[-1]")


@law(
    "bidirectional-not-causal",
    "A bidirectional output at step 0 depends on the input at step 1: it needs the whole "
    "sequence first, so it cannot be used for streaming.",
    capability=(BIDIRECTIONAL, STEPS),
)
def bidirectional_not_causal(trial: Trial) -> None:
    """Step 1's input is nudged; the candidate's output at step 0 must move wherever the
    tolerance obliges it to: where torch's own output there moves by more than the
    tolerance allows on the two runs together (``|d| > 2 atol + rtol (|a| + |b|)`` for
    some element), every candidate within tolerance of torch moves too, so the candidate
    must move at all (by more than 0: one that never reads step 1 for step 0 moves by
    exactly 0).  Other examples demand nothing (a dead relu unit, a tolerance as wide
    as the move).  A tolerance so loose that a bounded output cannot move by more than it
    (``2 (atol + rtol) >= 1`` at two steps) makes the law not applicable."""
    loosest = trial.tolerance(trial.scope.widest_dtype, steps=2)
    if 2 * (loosest.atol + loosest.rtol) >= 1:
        trial.skip(f"the tolerance ({loosest}) is too loose to tell a move at step 0")
    example = trial.draw_example(configs={"bidirectional": (True,)}, min_len=2)
    _, candidate = trial.build()
    x, hx = example.inputs()
    t = example.time_axis
    nudged = x.clone()
    nudged.select(t, 1).add_(1.0)
    before = expected_outcome(trial, x, hx).output.select(t, 0)
    after = expected_outcome(trial, nudged, hx).output.select(t, 0)
    tol = trial.tolerance(x.dtype)
    slack = 2 * tol.atol + tol.rtol * (before.abs() + after.abs())
    if not bool(((before - after).abs() > slack).any()):
        return  # torch's move is within what the tolerance allows: nothing to demand
    base = _run(trial, candidate, x, hx).output.select(t, 0)
    moved = _run(trial, candidate, nudged, hx).output.select(t, 0)
    change = float((base - moved).abs().max())
    if not change > 0:
        torch_change = float((before - after).abs().max())
        trial.fail(
            f"output at step 0 did not move when step 1 changed; torch's moved by "
            f"{torch_change:.3g}, more than the tolerance ({tol}) allows"
        )


def _draw_cut(trial: Trial) -> tuple[Example, int]:
    """A unidirectional example of two steps or more, and a step ``cut`` in 1..T-1."""
    example = trial.draw_example(configs={"bidirectional": (False,)}, min_len=2)
    return example, trial.draw(st.integers(1, example.seq_len - 1), "cut")


@law(
    "causality",
    "A unidirectional output at step t ignores every input after t.",
    capability=(UNIDIRECTIONAL, STEPS),
)
def causality(trial: Trial) -> None:
    example, cut = _draw_cut(trial)
    _, candidate = trial.build()
    x, hx = example.inputs()
    t = example.time_axis
    changed = x.clone()
    future = changed.narrow(t, cut, example.seq_len - cut)
    future.copy_(
        torch.randn(
            future.shape,
            generator=torch.Generator().manual_seed(example.seed + 3),
            dtype=torch.float64,
        ).to(x.dtype)
    )
    before = _run(trial, candidate, x, hx).output.narrow(t, 0, cut)
    after = _run(trial, candidate, changed, hx).output.narrow(t, 0, cut)
    trial.close(
        after,
        before,
        f"output before step {cut} after changing the inputs from {cut} on",
        time_dim=t,
    )


def _streaming_repro(failure: LawFailure) -> list[str]:
    """Run the two chunks, carrying the state across, and the whole sequence; compare."""
    assert failure.example is not None
    cut = failure.draws["cut"]
    return [
        *preamble(failure),
        f"t, cut = {failure.example.time_axis}, {cut!r}",
        "with torch.no_grad():",
        "    whole = replay.call(candidate, x, hx)",
        "    first = replay.call(candidate, x.narrow(t, 0, cut), hx)",
        "    second = candidate(x.narrow(t, cut, example.seq_len - cut), first[1])",
        "joined = (torch.cat([first[0], second[0]], dim=t), second[1])",
        f"what = 'two chunks split at step {cut} vs whole'",
        "replay.finish(replay.compare(what, joined, whole, rtol, atol))",
    ]


@law(
    "streaming",
    "A unidirectional network run on a sequence in two chunks, carrying the state across, "
    "equals the run on the whole sequence.",
    capability=(INITIAL_STATE, UNIDIRECTIONAL, STEPS),
    repro=_streaming_repro,
)
def streaming(trial: Trial) -> None:
    example, cut = _draw_cut(trial)
    _, candidate = trial.build()
    x, hx = example.inputs()
    t = example.time_axis
    whole = _run(trial, candidate, x, hx)
    first = _run(trial, candidate, x.narrow(t, 0, cut), hx)
    carried = as_state(example.config.kind, first.states)
    second = _run(trial, candidate, x.narrow(t, cut, example.seq_len - cut), carried)
    joined = Outcome(torch.cat([first.output, second.output], dim=t), second.states)
    trial.equal_outcomes(joined, whole, f"two chunks split at step {cut} vs whole")
