"""Weight gradients of candidates that name their parameters their own way.

Two routes: the ``finite-differences`` law needs no names at all, and the
``gradients`` law compares with torch through a factory's ``parameter_map``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from examples.custom_lstm import FusedLSTM, factory, parameter_map
from mutants.zoo import GRUOwnNamesDetachedWhh
from rnnspec.laws import LAWS, Subject
from rnnspec.run.lawrun import run_law
from rnnspec.run.report import LawResult
from rnnspec.scope import Scope


def _run(law_id: str, candidate_factory: Any, kind: str, scope: Scope | None = None) -> LawResult:
    scope = scope or getattr(candidate_factory, "scope", Scope())
    subject = Subject(kind, candidate_factory, scope, getattr(candidate_factory, "__name__", "f"))
    return run_law(LAWS[law_id], subject, max_examples=30, seed=0, shrink=False)


# -- a fused LSTM whose hand-written backward loses the bias gradient ---------------------
def lost_bias_gradient(reference: torch.nn.LSTM) -> FusedLSTM:
    """The worked example with a backward hook that zeroes the fused bias's gradient."""
    model = factory(reference)
    for bias in model.biases:
        bias.register_hook(torch.zeros_like)
    return model


lost_bias_gradient.scope = factory.scope  # type: ignore[attr-defined]


def lost_bias_gradient_mapped(reference: torch.nn.LSTM) -> FusedLSTM:
    return lost_bias_gradient(reference)


lost_bias_gradient_mapped.scope = factory.scope  # type: ignore[attr-defined]
lost_bias_gradient_mapped.parameter_map = parameter_map  # type: ignore[attr-defined]


def test_the_parameter_map_lets_the_gradients_law_see_fused_weights() -> None:
    # without a map the bias is never compared with torch's; with it, the loss shows
    assert _run("gradients", lost_bias_gradient, "lstm").status == "passed"
    result = _run("gradients", lost_bias_gradient_mapped, "lstm")
    assert result.status == "failed", result
    assert "grad weight bias_ih_l0" in result.message, result.message


def test_finite_differences_names_the_fused_bias_without_any_map() -> None:
    result = _run("finite-differences", lost_bias_gradient, "lstm")
    assert result.status == "failed", result
    assert "parameter 'biases.0': autograd gives a zero gradient" in result.message


def test_the_worked_example_passes_both_gradient_laws() -> None:
    for law_id in ("gradients", "finite-differences"):
        assert _run(law_id, factory, "lstm").status == "passed", law_id


def wrong_map(params: dict[str, Tensor]) -> dict[str, Tensor]:
    fused = parameter_map(params)
    return {name: -value if name == "weights.0" else value for name, value in fused.items()}


def factory_with_wrong_map(reference: torch.nn.LSTM) -> FusedLSTM:
    return factory(reference)


factory_with_wrong_map.scope = factory.scope  # type: ignore[attr-defined]
factory_with_wrong_map.parameter_map = wrong_map  # type: ignore[attr-defined]


def test_a_map_that_does_not_describe_the_candidate_fails_with_its_reason() -> None:
    result = _run("gradients", factory_with_wrong_map, "lstm")
    assert result.status == "failed"
    assert "parameter_map does not give the candidate's values" in result.message
    assert "parameter_map['weights.0']" in result.message


# -- the detached-weight GRU of the zoo, as a module and as a plain function --------------
def test_the_detached_weight_gru_fails_naming_the_parameter() -> None:
    result = _run("finite-differences", GRUOwnNamesDetachedWhh.from_module, "gru")
    assert result.status == "failed", result
    assert "parameter 'w_hh': autograd gives no gradient (None)" in result.message


def detached_gru_as_a_function(reference: torch.nn.GRU) -> Any:
    """The same GRU behind a plain function: rnnspec sees parameters only if declared."""
    module = GRUOwnNamesDetachedWhh.from_module(reference)

    def candidate(x: Tensor, hx: Tensor | None = None) -> Any:
        return module(x, hx)

    candidate.module = module  # type: ignore[attr-defined]
    return candidate


def declared_detached_gru(reference: torch.nn.GRU) -> Any:
    return detached_gru_as_a_function(reference)


declared_detached_gru.candidate_parameters = (  # type: ignore[attr-defined]
    lambda candidate: dict(candidate.module.named_parameters())
)


def test_a_function_candidate_is_checked_on_the_parameters_its_factory_declares() -> None:
    assert _run("finite-differences", detached_gru_as_a_function, "gru").status == "passed"
    result = _run("finite-differences", declared_detached_gru, "gru")
    assert result.status == "failed", result
    assert "parameter 'w_hh'" in result.message


def test_a_candidate_with_a_wrong_backward_fails_even_where_no_gradient_is_zero() -> None:
    # the truncated-backprop GRU has every gradient, but wrong ones: the joint check sees it
    # (without hx: given one, it would also give hx no gradient at all, a failure of its own)
    from mutants.law_mutants import GRUTruncatedBackprop

    no_hx = Scope(initial_state=False)
    result = _run("finite-differences", GRUTruncatedBackprop.from_module, "gru", no_hx)
    assert result.status == "failed", result
    assert "differs from finite differences" in result.message


def test_float32_only_candidates_are_skipped_with_the_reason() -> None:
    subject = Subject("gru", GRUOwnNamesDetachedWhh.from_module, Scope(dtypes=(torch.float32,)))
    reason = LAWS["finite-differences"].skip_reason(subject)
    assert reason is not None
    assert "float64 is out of scope" in reason
