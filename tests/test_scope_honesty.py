"""Scope honesty: a candidate that supports exactly its declared Scope is never failed.

The candidate here is torch's own module, made strict: it raises NotImplementedError on
anything outside the Scope it is checked with (a configuration at construction, an
input or a backward at call time), as a third-party RNN wrapped with an honest Scope
does.  Any law that hands it more than the scope fails it, so "never failed" says that
every law draws and builds within the scope.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from mutants.law_mutants import LAW_MUTANTS
from rnnspec import LAWS, Scope, check
from rnnspec.config import KINDS, module_class
from rnnspec.laws import Subject
from rnnspec.reference import loops
from rnnspec.run.candidates import torch_module
from rnnspec.run.lawrun import run_law
from rnnspec.tolerance import Tolerance


class _NoBackward(torch.autograd.Function):
    """The identity, whose backward raises: a candidate without gradients."""

    @staticmethod
    def forward(ctx: Any, t: Tensor) -> Tensor:
        return t.view_as(t)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        raise NotImplementedError("this implementation has no backward")


def _refuse(what: str) -> None:
    raise NotImplementedError(f"this implementation does not support {what}")


def _check_config(module: nn.RNNBase, scope: Scope) -> None:
    """Raise on a constructed configuration outside ``scope`` (the sizes are bounds on what
    is drawn, not capabilities: a later layer's input is wider than any drawn input)."""
    weight = next(module.parameters())
    checks = {
        f"batch_first={module.batch_first}": module.batch_first in scope.batch_first,
        f"bidirectional={module.bidirectional}": module.bidirectional in scope.bidirectional,
        f"{module.num_layers} layers": module.num_layers <= scope.max_layers,
        f"bias={module.bias}": module.bias in scope.bias,
        f"proj_size={module.proj_size}": scope.proj_size or not module.proj_size,
        f"dropout={module.dropout}": (scope.dropout or not module.dropout)
        and module.dropout <= scope.max_dropout,
        f"dtype {weight.dtype}": weight.dtype in scope.dtypes,
        "the meta device": scope.meta or weight.device.type != "meta",
        f"device {weight.device}": weight.device.type in (*scope.devices, "meta"),
    }
    if isinstance(module, nn.RNN):
        checks[f"nonlinearity={module.nonlinearity}"] = module.nonlinearity in scope.nonlinearities
    for what, ok in checks.items():
        if not ok:
            _refuse(what)


def strict(scope: Scope) -> Any:
    """A factory: torch's own module, refusing everything outside ``scope``."""

    def factory(reference: nn.RNNBase) -> nn.RNNBase:
        _check_config(reference, scope)
        candidate = copy.deepcopy(reference)  # the law's reference stays torch's own
        inner = candidate.forward

        def forward(x: Any, hx: Any = None) -> Any:
            if isinstance(x, PackedSequence):
                if not scope.packed:
                    _refuse("packed sequences")
                batch, steps = int(x.batch_sizes[0]), len(x.batch_sizes)
            elif x.dim() in (2, 3):  # other ranks are the error contract's: torch raises
                if x.dim() == 2 and not scope.unbatched:
                    _refuse("unbatched input")
                batched = x.dim() == 3
                steps = x.shape[1 if reference.batch_first and batched else 0]
                batch = x.shape[0 if reference.batch_first else 1] if batched else 1
            else:
                steps = batch = 1
            if hx is not None and not scope.initial_state:
                _refuse("an initial state")
            if steps > scope.max_len or batch > scope.max_batch:
                _refuse(f"{steps} steps of {batch} samples")
            output, state = inner(x) if hx is None else inner(x, hx)
            if scope.gradients or isinstance(output, PackedSequence):
                return output, state
            wrap = _NoBackward.apply
            states = tuple(map(wrap, state)) if isinstance(state, tuple) else wrap(state)
            return wrap(output), states

        candidate.forward = forward  # type: ignore[method-assign]
        return candidate

    return factory


def strict_constructor(kind: str, scope: Scope) -> Any:
    """torch's constructor, refusing a dropout outside ``scope``."""

    def construct(*args: Any, **kwargs: Any) -> nn.Module:
        p = kwargs.get("dropout", 0.0)
        if p and (not scope.dropout or p > scope.max_dropout):
            _refuse(f"dropout={p}")
        return module_class(kind)(*args, **kwargs)

    return construct


def _subject(kind: str, scope: Scope) -> Subject:
    return Subject(kind, strict(scope), scope, f"strict {kind}", strict_constructor(kind, scope))


def _run(kind: str, scope: Scope, laws: list[str], max_examples: int = 20) -> dict[str, Any]:
    subject = _subject(kind, scope)
    return {i: run_law(LAWS[i], subject, max_examples=max_examples, seed=0) for i in laws}


def _tuples(values: tuple[Any, ...]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True).map(
        tuple
    )


scopes = st.builds(
    Scope,
    batch_first=_tuples((False, True)),
    bidirectional=_tuples((False, True)),
    max_layers=st.integers(1, 3),
    bias=_tuples((True, False)),
    proj_size=st.booleans(),
    nonlinearities=_tuples(("tanh", "relu")),
    initial_state=st.booleans(),
    unbatched=st.booleans(),
    packed=st.booleans(),
    gradients=st.booleans(),
    dropout=st.booleans(),
    max_dropout=st.sampled_from([1.0, 0.9, 0.5]),
    dtypes=_tuples((torch.float32, torch.float64)),
    meta=st.booleans(),
    errors=st.booleans(),
    max_input=st.integers(1, 6),
    max_hidden=st.integers(1, 6),
    max_batch=st.integers(1, 4),
    max_len=st.integers(1, 12),
)


def _never_failed(kind: str, scope: Scope, max_examples: int) -> None:
    report = check(
        strict(scope),
        kind,
        scope=scope,
        max_examples=max_examples,
        seed=0,
        constructor=strict_constructor(kind, scope),
    )
    assert not report.failed, f"{scope}\n" + "\n".join(r.message for r in report.failed)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(scope=scopes, kind=st.sampled_from(KINDS))
def test_no_law_fails_a_candidate_that_supports_exactly_its_scope(scope: Scope, kind: str) -> None:
    _never_failed(kind, scope, max_examples=3)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(scope=scopes, kind=st.sampled_from(KINDS))
def test_no_law_fails_a_candidate_that_supports_exactly_its_scope_fuller(
    scope: Scope, kind: str
) -> None:
    _never_failed(kind, scope, max_examples=15)


# -- the false alarms of issue 19, one by one --------------------------------------------


def test_bidirectional_not_causal_draws_the_scopes_nonlinearity() -> None:
    scope = Scope(nonlinearities=("relu",))
    result = _run("rnn", scope, ["bidirectional-not-causal"], max_examples=60)
    assert result["bidirectional-not-causal"].status == "passed", result


def test_no_dropout_in_scope_hands_no_dropout() -> None:
    laws = ["dropout-inactive", "dropout-between-layers", "dropout-single-layer-warns"]
    results = _run("gru", Scope(dropout=False), laws)
    assert results["dropout-inactive"].status == "passed", results  # p = 0 in training mode
    for law_id in laws[1:]:
        assert results[law_id].status == "skipped", results[law_id]
        assert results[law_id].message == "out of scope: dropout is out of scope"


def test_a_dropout_range_below_one_is_respected() -> None:
    laws = ["dropout-inactive", "dropout-between-layers", "dropout-single-layer-warns"]
    results = _run("lstm", Scope(max_dropout=0.9), laws, max_examples=50)
    assert results["dropout-inactive"].status == "passed", results
    assert results["dropout-single-layer-warns"].status == "passed", results
    assert results["dropout-between-layers"].status == "skipped"
    assert "max_dropout" in results["dropout-between-layers"].message


def test_scope_max_dropout_is_validated_and_reported() -> None:
    for bad in (0, 0.0, 1.5, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match=r"^Scope.max_dropout must be a number in \(0, 1\]"):
            Scope(max_dropout=bad)
    assert Scope(max_dropout=0.5).as_dict()["max_dropout"] == 0.5


def test_hx_none_is_zeros_needs_an_initial_state() -> None:
    result = _run("rnn", Scope(initial_state=False), ["hx-none-is-zeros"])["hx-none-is-zeros"]
    assert result.status == "skipped"
    assert result.message == "out of scope: initial states are out of scope"


def test_backend_parity_is_not_applicable_where_the_flag_cannot_reach() -> None:
    law = LAWS["backend-parity"]
    for cls in (loops.LoopLSTM, loops.LoopGRU, loops.LoopRNN):
        subject = Subject(cls.kind, cls.from_module, Scope(), cls.__name__)
        result = run_law(law, subject, max_examples=10, seed=0)
        assert result.status == "skipped", result
        assert result.message.startswith("not applicable: the candidate calls none of torch's")
    for kind in KINDS:  # torch's own module runs the law in full
        result = run_law(law, Subject(kind, torch_module), max_examples=10, seed=0)
        assert result.status == "passed", result
        assert result.examples >= 10
    mutant = run_law(law, LAW_MUTANTS["backend-parity"], max_examples=100, seed=0)
    assert mutant.status == "failed", mutant  # a loop that reads the flag is reached


def _quantized(step: float) -> Any:
    """torch's module with every result rounded to multiples of ``step`` (an int8-like kernel)."""

    def factory(reference: nn.RNNBase) -> Any:
        def candidate(*args: Any) -> Any:
            output, state = reference(*args)
            q = lambda t: torch.round(t / step) * step  # noqa: E731
            return q(output), tuple(map(q, state)) if isinstance(state, tuple) else q(state)

        return candidate

    return factory


@pytest.mark.parametrize(("step", "status"), [(0.25, "skipped"), (0.02, "passed")])
def test_bidirectional_not_causal_under_a_loose_tolerance(step: float, status: str) -> None:
    scope = Scope(dtypes=(torch.float32,), tolerances={torch.float32: Tolerance(step, step)})
    subject = Subject("gru", _quantized(step), scope, "quantized")
    result = run_law(LAWS["bidirectional-not-causal"], subject, max_examples=60, seed=0)
    assert result.status == status, result
    assert run_law(LAWS["equivalence"], subject, max_examples=30, seed=0).status == "passed"


def test_bidirectional_not_causal_still_fails_its_mutant_under_a_loose_tolerance() -> None:
    mutant = LAW_MUTANTS["bidirectional-not-causal"]
    scope = Scope(tolerances={torch.float64: Tolerance(0.02, 0.02)})
    subject = Subject(mutant.kind, mutant.factory, scope, mutant.name)
    result = run_law(LAWS["bidirectional-not-causal"], subject, max_examples=100, seed=0)
    assert result.status == "failed", result
    assert "did not move" in result.message


@pytest.mark.parametrize("kind", KINDS)
def test_bidirectional_not_causal_still_runs_for_torchs_module(kind: str) -> None:
    result = run_law(
        LAWS["bidirectional-not-causal"], Subject(kind, torch_module), max_examples=20, seed=0
    )
    assert result.status == "passed", result
    assert result.examples >= 20


def test_law_keeps_its_keyword_arguments() -> None:
    from rnnspec.laws._core import Law, law

    def needs(subject: Subject) -> str | None:
        return "never"

    def check_nothing(trial: Any) -> None:
        raise AssertionError("not run")

    registered = law("scratch-law", "A sentence.", ("gru",), needs, True, None)(check_nothing)
    try:
        made: Law = LAWS["scratch-law"]
        assert registered is check_nothing
        assert (made.kinds, made.expensive, made.capabilities) == (("gru",), True, ())
        assert made.skip_reason(Subject("gru", torch_module)) == "never"
        assert not made.compares_with_torch
        assert not made.diagnosed
    finally:
        del LAWS["scratch-law"]
