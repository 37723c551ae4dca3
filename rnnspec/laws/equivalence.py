"""The candidate computes what torch computes: outputs, final states and gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from rnnspec.laws._capabilities import FLOAT64, GRADIENTS, INITIAL_STATE
from rnnspec.laws._core import law
from rnnspec.laws._params import candidate_parameters, mapped_gradients
from rnnspec.laws._repro import factory_name, forward_case, preamble
from rnnspec.laws.trial import Outcome, Trial
from rnnspec.reference.oracle import oracle_forward
from rnnspec.state import State, as_state, map_state, state_tensors


def expected_outcome(trial: Trial, x: Tensor, hx: State) -> Outcome:
    """What the torch reference returns for ``x`` and ``hx``, computed in float64."""
    example = trial.example
    assert example is not None
    reference = example.reference(torch.float64)
    hx64 = map_state(lambda h: h.double(), hx)
    with torch.no_grad():
        return trial.outcome(
            reference(x.double(), hx64) if hx is not None else reference(x.double()), "reference"
        )


@law(
    "equivalence",
    "The candidate's output and final states equal the torch module's for every config, "
    "with or without an initial state, batched or unbatched, within the tolerance table.",
    repro=forward_case(
        "forward",
        [
            "actual = candidate(*args)",
            "float64 = example.reference(torch.float64)",
            "expected = replay.call(float64, x.double(), replay.to(hx, torch.float64))",
        ],
        "actual",
        "expected",
    ),
    diagnosed=True,
)
def equivalence(trial: Trial) -> None:
    # every dtype in scope, the widest first (where shrinking ends): a float32 kernel that
    # rounds like TF32 fails here, against the float64 reference
    example = trial.draw_example(dtypes=trial.scope.dtype_names_widest_first)
    _, candidate = trial.build()
    x, hx = example.inputs()
    args = (x,) if hx is None else (x, hx)
    with torch.no_grad():
        actual = trial.call(candidate, *args)
    trial.equal_outcomes(actual, expected_outcome(trial, x, hx), "forward")


@law(
    "gradients",
    "Gradients of a loss through the candidate, with respect to the input, the initial "
    "state and every weight, equal those through the torch module (both in training mode "
    "with dropout 0, which computes the eval-mode function).",
    capability=GRADIENTS,
    compares_with_torch=True,
    repro=lambda failure: [
        *preamble(failure, training=True),
        "expected = replay.gradients(reference, x, hx, example.seed, 'reference')",
        "actual = replay.gradients(candidate, x, hx, example.seed, 'candidate')",
        "replay.finish(replay.compare_gradients(actual, expected, rtol, atol))",
    ],
)
def gradients(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False)
    # Training mode: cuDNN refuses backward in eval mode (law eval-backward says so alone).
    reference, candidate = trial.build(training=True)
    x, hx = example.inputs()
    grads = {
        "reference": _gradients(trial, reference, x, hx, "reference", _named_parameters),
        "candidate": _gradients(
            trial, candidate, x, hx, "candidate", lambda fn: candidate_parameters(trial, fn)
        ),
    }
    # a candidate with its own weight names: compared through factory.parameter_map if any
    grads["candidate"].update(mapped_gradients(trial, reference, candidate, grads["candidate"]))
    problems = []
    for name, expected in grads["reference"].items():
        if name not in grads["candidate"] or expected is None:
            continue  # its own weight names and no parameter_map: compared on inputs only
        actual = grads["candidate"][name]
        if actual is None:
            problems.append(f"grad {name}: the candidate's result does not depend on it")
            continue
        problems.append(trial.mismatch(actual, expected, f"grad {name}") or "")
    _fail_on(trial, problems)


@law(
    "eval-backward",
    "Backward works in eval mode too, and gives the gradients of training mode with "
    "dropout 0: a module in eval mode is still differentiable (as on the CPU).",
    capability=GRADIENTS,
    repro=lambda failure: [
        *preamble(failure, training=True),
        "training = replay.gradients(candidate, x, hx, example.seed, 'candidate in training mode')",
        "candidate = " + factory_name(failure) + "(reference.eval())",
        "in_eval = replay.gradients(candidate, x, hx, example.seed, 'candidate in eval mode')",
        "replay.finish(replay.compare_gradients(in_eval, training, rtol, atol))",
    ],
)
def eval_backward(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False)
    x, hx = example.inputs()
    grads = {}
    for mode in ("training", "eval"):
        _, candidate = trial.build(training=mode == "training")
        grads[mode] = _gradients(
            trial, candidate, x, hx, f"candidate in {mode} mode",
            lambda fn: candidate_parameters(trial, fn),
        )  # fmt: skip
    problems = []
    for name, expected in grads["training"].items():
        actual = grads["eval"][name]
        if (actual is None) != (expected is None):
            present = {True: "missing", False: "present"}
            problems.append(
                f"grad {name}: {present[actual is None]} in eval mode but "
                f"{present[expected is None]} in training mode"
            )
        elif actual is not None and expected is not None:
            problems.append(trial.mismatch(actual, expected, f"eval vs training grad {name}") or "")
    _fail_on(trial, problems)


def _gradients(
    trial: Trial,
    fn: Any,
    x: Tensor,
    hx: State,
    who: str,
    parameters: Callable[[Any], dict[str, Tensor]],
) -> dict[str, Any]:
    """d(weighted sum of every result) / d(input, hx, each of ``parameters(fn)``).

    The parameters are read after the call: a candidate may build what it runs (and so
    its parameters) on its first call, as the execution modes do.
    """
    xr = x.clone().requires_grad_(True)
    hr = map_state(lambda h: h.clone().requires_grad_(True), hx)
    outcome = trial.run(fn, xr, hr, who=who)
    loss = _weighted_sum(outcome, trial.drawn().seed)
    params = parameters(fn)
    inputs = [xr, *state_tensors(hr), *params.values()]
    try:
        found = torch.autograd.grad(loss, inputs, allow_unused=True)
    except RuntimeError as exc:
        trial.fail(f"backward through the {who} raised: {exc}")
    names = ["input", *[f"hx[{i}]" for i in range(len(state_tensors(hr)))]]
    names += [f"weight {n}" for n in params]
    return dict(zip(names, found, strict=True))


def _fail_on(trial: Trial, problems: list[str]) -> None:
    """Fail with every problem found (the weights' say which gate block), six at most."""
    problems = [p for p in problems if p]
    if problems:
        more = f"; and {len(problems) - 6} more" if len(problems) > 6 else ""
        trial.fail("; ".join(problems[:6]) + more)


def _named_parameters(fn: Any) -> dict[str, Tensor]:
    if isinstance(fn, torch.nn.Module):
        return {n: p for n, p in fn.named_parameters() if p.requires_grad}
    return {}


def _weighted_sum(outcome: Outcome, seed: int) -> Tensor:
    """A loss that weighs every element differently, so no gradient is trivially symmetric."""
    generator = torch.Generator().manual_seed(seed + 2)
    total = outcome.output.new_zeros(())
    for _, tensor in outcome.tensors():
        weights = torch.randn(tensor.shape, generator=generator, dtype=torch.float64)
        total = total + (tensor * weights.to(tensor.dtype)).sum()
    return total


@law(
    "hx-none-is-zeros",
    "Calling without an initial state equals calling with zeros.",
    repro=forward_case(
        "hx=None vs zeros",
        [
            "_, h = example.replace(with_hx=True).inputs()",
            "zeros = tuple(map(torch.zeros_like, h)) if isinstance(h, tuple) else 0 * h",
            "implicit = candidate(x)",
            "explicit = candidate(x, zeros)",
        ],
        "implicit",
        "explicit",
    ),
    capability=INITIAL_STATE,
)
def hx_none_is_zeros(trial: Trial) -> None:
    example = trial.draw_example(initial_state=False)
    _, candidate = trial.build()
    x, _ = example.inputs()
    c = example.config
    lead = (c.num_layers * c.directions,) + (
        () if example.batch_size is None else (example.batch_size,)
    )
    zeros = tuple(x.new_zeros(*lead, size) for size in c.state_sizes)
    with torch.no_grad():
        implicit = trial.call(candidate, x)
        explicit = trial.call(candidate, x, as_state(c.kind, zeros))
    trial.equal_outcomes(implicit, explicit, "hx=None vs zeros")


@law(
    "oracle",
    "The candidate agrees with rnnspec's NumPy float64 implementation, which shares no "
    "code with torch.",
    capability=FLOAT64,
    compares_with_torch=True,
    diagnosed=True,
)
def oracle(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False, dtypes=("float64",))
    reference, candidate = trial.build()
    x, hx = example.inputs()
    c = example.config
    with torch.no_grad():
        actual = trial.run(candidate, x, hx)
    time_first = x.movedim(example.time_axis, 0)
    states = [s.numpy() for s in state_tensors(hx)] if hx is not None else [None, None]
    weights = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    output, h_n, c_n = oracle_forward(
        c.kind,
        weights,
        time_first.numpy(),
        num_layers=c.num_layers,
        bidirectional=c.bidirectional,
        nonlinearity=c.nonlinearity,
        h0=states[0],
        c0=states[1] if len(states) > 1 else None,
    )
    out = torch.from_numpy(output)
    out = out.movedim(0, example.time_axis)
    expected_states = (torch.from_numpy(h_n),) + (() if c_n is None else (torch.from_numpy(c_n),))
    trial.equal_outcomes(actual, Outcome(out, expected_states), "vs NumPy oracle")
