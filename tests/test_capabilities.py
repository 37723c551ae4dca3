"""Capabilities: each law declares the Scope field that puts it out of scope, once, with it."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
import torch
from torch import nn

from rnnspec import LAWS, Scope, check
from rnnspec.devices import available_devices
from rnnspec.laws import CAPABILITIES, Subject

KINDS = ("rnn", "lstm", "gru")

# Scopes that each leave one capability out; every law they put out of scope is mapped.
NARROWER = [
    {"gradients": False},
    {"bidirectional": (False,)},
    {"max_layers": 1},
    {"initial_state": False},
    {"unbatched": False},
    {"packed": False},
    {"dropout": False},
    {"max_dropout": 0.5},
    {"bidirectional": (True,)},
    {"max_len": 1},
    {"max_batch": 1},
    {"dtypes": (torch.float32,)},
    {"meta": False},
    {"devices": ("cpu",)},
]


def _skipped(scope: Scope) -> set[str]:
    subjects = [Subject(kind, lambda r: r, scope) for kind in KINDS]
    return {
        law.id
        for law in LAWS.values()
        for s in subjects
        if s.kind in law.kinds and law.skip_reason(s)
    }


def test_every_entry_is_a_law_and_a_scope_field() -> None:
    assert set(CAPABILITIES) <= set(LAWS)
    names = {f.name for f in fields(Scope)}
    assert {c.field for c in CAPABILITIES.values()} <= names


@pytest.mark.parametrize("law_id", sorted(CAPABILITIES))
def test_declaring_the_field_puts_the_law_out_of_scope(law_id: str) -> None:
    for capability in LAWS[law_id].capabilities:
        scope = Scope(**{capability.field: capability.value})
        assert law_id in _skipped(scope), capability
        assert capability.declaration == f"Scope({capability.field}={capability.value!r})"
        assert capability.missing(scope) == capability.reason
        assert capability.missing(Scope(errors=True, devices=("cpu", "cuda"))) is None


def test_the_derived_tables_follow_the_declarations() -> None:
    from rnnspec.run.causes import COMPARES_WITH_TORCH
    from rnnspec.run.diagnosis import DIAGNOSED_LAWS

    assert set(CAPABILITIES) == {i for i, law in LAWS.items() if law.capabilities}
    assert COMPARES_WITH_TORCH == {i for i, law in LAWS.items() if law.compares_with_torch}
    assert DIAGNOSED_LAWS == ("equivalence", "oracle")
    assert {"gradients", "oracle", "dropout-inactive", "dropout-between-layers"} == set(
        COMPARES_WITH_TORCH
    )


@pytest.mark.parametrize("narrow", NARROWER, ids=lambda n: next(iter(n)))
def test_every_law_a_narrower_scope_skips_is_mapped(narrow: dict[str, Any]) -> None:
    present = available_devices()
    if "devices" in narrow and present == ("cpu",):
        pytest.skip("no accelerator here: device-parity is skipped whatever the scope")
    baseline = _skipped(Scope(errors=True, devices=present))
    newly = _skipped(Scope(errors=True, **{"devices": present, **narrow})) - baseline
    assert newly, f"Scope({narrow}) skips nothing: drop it from NARROWER"
    assert newly <= set(CAPABILITIES)


def test_the_error_contract_is_mapped_to_errors() -> None:
    errors = {law_id for law_id in LAWS if law_id.startswith("error-")}
    assert errors == {k for k, c in CAPABILITIES.items() if c.field == "errors"}
    assert errors <= _skipped(Scope()) - _skipped(Scope(errors=True))


def _no_meta(reference: nn.Module) -> Any:
    def candidate(x: torch.Tensor, *rest: Any) -> Any:
        if x.device.type == "meta":
            raise NotImplementedError("no meta kernels here")
        return reference(x, *rest)

    return candidate


def test_a_capability_failure_names_the_scope_field_that_declares_it() -> None:
    report = check(_no_meta, "gru", max_examples=2, seed=0, laws=["meta-shapes", "shape"])
    failed = {r.law: r for r in report.failed}
    assert set(failed) == {"meta-shapes"}, report.summary()
    message = failed["meta-shapes"].message
    hint = "(if your implementation does not support meta tensors, declare Scope(meta=False))"
    assert hint in message
    assert LAWS["meta-shapes"].scope_hint() == hint


def test_a_forward_failure_names_no_scope_field() -> None:
    def wrong(reference: nn.Module) -> Any:
        return lambda *args: (2 * reference(*args)[0], reference(*args)[1])

    report = check(wrong, "rnn", max_examples=2, seed=0, laws=["equivalence"])
    assert [r.law for r in report.failed] == ["equivalence"]
    assert "declare Scope(" not in report.failed[0].message
    assert LAWS["equivalence"].scope_hint() is None
