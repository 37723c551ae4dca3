"""The converting peers' shared parts (rnnspec.peers._kernel): torch only.

``Functional`` is what OpenVINO and ExecuTorch convert, so it must compute what torch's
module computes, with the weights passed in; ``Programs`` keeps the conversions.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from rnnspec.config import module_class
from rnnspec.peers._kernel import Functional, Programs, program_key
from rnnspec.peers._port import Spec


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("rnn", {"nonlinearity": "relu", "num_layers": 2}),
        ("rnn", {"bidirectional": True, "bias": False}),
        ("lstm", {"num_layers": 2, "bidirectional": True}),
        ("lstm", {"proj_size": 2}),
        ("gru", {"num_layers": 3, "bias": False}),
    ],
)
def test_the_functional_kernel_computes_what_the_module_does(
    kind: str, config: dict[str, Any]
) -> None:
    torch.manual_seed(0)
    module = module_class(kind)(3, 4, batch_first=True, **config).double().eval()
    spec = Spec.of(module)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    layers = spec.num_layers * spec.directions
    h0 = torch.randn(layers, 2, spec.out_size, dtype=torch.float64)
    states = [h0, torch.randn(layers, 2, 4, dtype=torch.float64)] if kind == "lstm" else [h0]
    weights = [getattr(module, name) for name in module._flat_weights_names]
    with torch.no_grad():
        actual = Functional(spec)(x, *states, *weights)
        expected = module(x, tuple(states) if kind == "lstm" else h0)
    torch.testing.assert_close(actual[0], expected[0], rtol=0, atol=0)
    finals = expected[1] if kind == "lstm" else (expected[1],)
    for a, e in zip(actual[1:], finals, strict=True):
        torch.testing.assert_close(a, e, rtol=0, atol=0)


def test_programs_are_made_once_per_key_and_the_oldest_dropped() -> None:
    made: list[str] = []

    def maker(name: str) -> Any:
        return lambda: made.append(name) or name

    programs = Programs(2)
    assert programs.get(("a",), maker("a")) == "a"
    assert programs.get(("b",), maker("b")) == "b"
    assert programs.get(("a",), maker("a again")) == "a"  # kept; now the newest
    assert programs.newest() == "a"
    programs.get(("c",), maker("c"))  # past the size: "b", the least recently used, goes
    assert len(programs) == 2
    programs.get(("b",), maker("b again"))
    assert made == ["a", "b", "c", "b again"]


def test_a_program_key_changes_with_anything_a_conversion_depends_on() -> None:
    gru = Spec.of(module_class("gru")(3, 4))
    shapes = [(2, 5, 3), (1, 2, 4)]
    key = program_key(gru, shapes, "xnnpack")
    assert key == program_key(gru, [list(s) for s in shapes], "xnnpack")
    assert key != program_key(gru, shapes, "portable")
    assert key != program_key(gru, [(2, 6, 3), (1, 2, 4)], "xnnpack")
    assert key != program_key(Spec.of(module_class("gru")(3, 4).double()), shapes, "xnnpack")
    assert key != program_key(Spec.of(module_class("gru")(3, 4, bias=False)), shapes, "xnnpack")
