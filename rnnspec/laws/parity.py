"""Parity: the same network in another dtype, CPU backend or device gives the same result."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from hypothesis import strategies as st
from torch.autograd.profiler_legacy import profile

from rnnspec.config import Example
from rnnspec.devices import OFF as TF32_OFF
from rnnspec.devices import available_devices, cuda_precision
from rnnspec.laws._capabilities import DEVICES, FLOAT64, META
from rnnspec.laws._core import Subject, law
from rnnspec.laws.shapes import expected_shapes
from rnnspec.laws.trial import Outcome, Trial
from rnnspec.state import map_state


def _needs_two_dtypes(subject: Subject) -> str | None:
    need = {torch.float32, torch.float64}
    return None if need <= set(subject.scope.dtypes) else "needs float32 and float64 in scope"


@law(
    "dtype-parity",
    "The network in float32 agrees with the same weights in float64 within the float32 "
    "tolerance, which grows with sequence length.",
    needs=_needs_two_dtypes,
    capability=FLOAT64,
)
def dtype_parity(trial: Trial) -> None:
    example = trial.draw_example(dtypes=("float32",))
    wide = example.replace(dtype="float64")
    outcomes = []
    for ex in (example, wide):
        _, candidate = trial.build(ex)
        x, hx = ex.inputs()
        with torch.no_grad():
            outcomes.append(trial.run(candidate, x, hx))
    trial.equal_outcomes(outcomes[0], outcomes[1], "float32 vs float64")


def _needs_onednn(subject: Subject) -> str | None:
    if not torch.backends.mkldnn.is_available():
        return "oneDNN is not available in this torch build"
    return None


RNN_KERNELS = frozenset(
    {"aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu", "aten::mkldnn_rnn_layer"}
)
"""torch's recurrent kernels: the calls whose backend torch.backends.mkldnn chooses."""

_REACHES: dict[Subject, bool] = {}
"""Whether the oneDNN flag reaches a subject's candidate, decided on its first example."""


def _kernels(fn: Callable[..., Any], seen: set[str]) -> Callable[..., Any]:
    """``fn``, adding to ``seen`` the torch RNN kernels it calls (on the thread it runs on)."""

    def watched(*args: Any) -> Any:
        try:
            profiler = profile()
            profiler.__enter__()
        except RuntimeError:  # a profiler already runs: assume the flag reaches the candidate
            seen.add("unknown (a profiler was already running)")
            return fn(*args)
        try:
            return fn(*args)
        finally:
            profiler.__exit__(None, None, None)
            events = profiler.function_events or ()
            seen.update(e.name for e in events if e.name in RNN_KERNELS)

    return watched


def _identical(a: Outcome, b: Outcome) -> bool:
    return all(
        x.shape == y.shape and torch.equal(x, y)
        for (_, x), (_, y) in zip(a.tensors(), b.tensors(), strict=True)
    )


@law(
    "backend-parity",
    "On CPU, the result with oneDNN enabled equals the result with the native backend "
    "(torch.backends.mkldnn.flags(enabled=False)).",
    needs=_needs_onednn,
)
def backend_parity(trial: Trial) -> None:
    """Not applicable to a candidate the flag cannot reach (a port to another framework,
    a loop of its own): one that calls none of torch's RNN kernels (:data:`RNN_KERNELS`,
    watched with torch's profiler) and gives bitwise the same results either way.  That
    is decided once per subject, on its first example with a bias where the scope has
    one (so that a path only the flag takes, which drops a bias, shows)."""
    dtype = "float32" if torch.float32 in trial.scope.dtypes else trial.scope.dtype_names[-1]
    example = trial.draw_example(dtypes=(dtype,))
    if trial.subject not in _REACHES:
        biased = True in trial.scope.bias
        probe = example.replace(config=example.config.replace(bias=True)) if biased else example
        if len(_REACHES) > 256:
            _REACHES.clear()
        _REACHES[trial.subject] = _reaches(trial, probe)
    if not _REACHES[trial.subject]:
        trial.skip(
            "the candidate calls none of torch's RNN kernels and gives the same result with "
            "oneDNN on and off: torch.backends.mkldnn does not reach it"
        )
    fast, native = _both(trial, example)
    trial.equal_outcomes(fast, native, "oneDNN vs native")


def _both(trial: Trial, example: Example, seen: set[str] | None = None) -> tuple[Outcome, Outcome]:
    """The candidate's results on ``example`` with oneDNN enabled, then disabled; with
    ``seen``, the torch RNN kernels the first call ran are added to it."""
    _, candidate = trial.build(example)
    x, hx = example.inputs()
    args = (x,) if hx is None else (x, hx)
    with torch.no_grad(), warnings.catch_warnings():
        # torch 2.13 warns on every flags() call that oneDNN TF32 needs an Intel GPU.
        warnings.filterwarnings("ignore", "TF32 acceleration on top of oneDNN", UserWarning)
        with torch.backends.mkldnn.flags(enabled=True):
            fast = trial.call(candidate if seen is None else _kernels(candidate, seen), *args)
        with torch.backends.mkldnn.flags(enabled=False):
            native = trial.call(candidate, *args)
    return fast, native


def _reaches(trial: Trial, probe: Example) -> bool:
    """Whether torch.backends.mkldnn can change what the candidate computes on ``probe``."""
    seen: set[str] = set()
    fast, native = _both(trial, probe, seen)
    return bool(seen) or not _identical(fast, native)


@law(
    "meta-shapes",
    "On the meta device the network computes nothing but returns the same shapes.",
    capability=META,
    expensive=True,  # torch's Python decompositions run on meta: ~1000x slower per op
)
def meta_shapes(trial: Trial) -> None:
    # On meta every op runs through Python decompositions, ~1000x slower than CPU:
    # keep sequences short (the shapes depend on the length only through T).
    example = trial.draw_example(max_len=3)
    reference = example.reference().to("meta")
    candidate = trial.candidate(reference)
    x, hx = example.inputs()
    args = (x.to("meta"),) if hx is None else (x.to("meta"), map_state(lambda h: h.to("meta"), hx))
    with torch.no_grad():
        outcome = trial.call(candidate, *args)
    for (name, tensor), want in zip(
        outcome.tensors(), expected_shapes(example).values(), strict=True
    ):
        if tensor.device.type != "meta":
            trial.fail(f"{name} is on {tensor.device}, not meta")
        if tuple(tensor.shape) != want:
            trial.fail(f"{name} has shape {list(tensor.shape)} on meta, expected {list(want)}")


def _other_devices(subject: Subject) -> list[str]:
    present = available_devices()
    return [d for d in subject.scope.devices if d != "cpu" and d in present]


def _needs_accelerator(subject: Subject) -> str | None:
    if _other_devices(subject):
        return None
    present = [d for d in available_devices() if d != "cpu"]
    if not present:
        return "no CUDA or MPS device on this machine"
    return f"{', '.join(present)} present but not in Scope.devices"


@law(
    "device-parity",
    "The network on CUDA or MPS (TF32 off) agrees with the CPU within the tolerance table.",
    needs=_needs_accelerator,
    capability=DEVICES,
)
def device_parity(trial: Trial) -> None:
    devices = _other_devices(trial.subject)
    device = trial.draw(st.sampled_from(devices), "device")
    dtypes = ("float32",) if device == "mps" else trial.scope.dtype_names
    example = trial.draw_example(dtypes=dtypes)
    results = []
    with cuda_precision(TF32_OFF):
        for ex in (example, example.replace(device=device)):
            _, candidate = trial.build(ex)
            x, hx = ex.inputs()
            with torch.no_grad():
                results.append(trial.run(candidate, x, hx))
    for _, tensor in results[1].tensors():
        if tensor.device.type != device:
            trial.fail(f"the result is on {tensor.device}, not {device}")
    trial.equal_outcomes(results[1], results[0], f"{device} vs cpu")
