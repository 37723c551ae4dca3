"""What TF32 does to torch's RNNs on CUDA: max |float32 on CUDA - float64 on CPU|.

1. Each of nn.RNN, nn.LSTM and nn.GRU at the seed's sizes and 100 steps (batch 32, input
   50, hidden 128; weights and input drawn from a seed), run in float32 on CUDA twice, with
   TF32 off and with torch's defaults (TF32 on for cuDNN), against the same network in
   float64 on the CPU.
2. The tolerance the ``cuda-tf32`` mode needs: over random examples of the laws' sizes, the
   smallest ``t`` with ``|a - b| <= t (1 + |b|) (1 + T/16)`` for the forward (against
   float64 on the CPU, as ``equivalence`` compares) and for the gradients (against float32
   on the CPU, as ``gradients`` compares), under torch's defaults.

Used by scripts/gpu-check; prints Markdown, --json PATH also saves the numbers.
"""

from __future__ import annotations

import argparse
import json
import random
from typing import Any

import torch

from rnnspec.config import Example, RNNConfig
from rnnspec.devices import DEFAULTS, OFF, Tf32, cuda_precision
from rnnspec.modes.table import TF32_TOLERANCE


def worst(example: Example, tf32: Tf32) -> float:
    reference = example.reference(torch.float64)
    x, _ = example.inputs(torch.float64)
    with torch.no_grad():
        expected, _ = reference(x)
        with cuda_precision(tf32):
            actual, _ = example.replace(device="cuda").reference(torch.float32)(x.float().cuda())
    return float((actual.double().cpu() - expected).abs().max())


def _flat(result: Any) -> list[torch.Tensor]:
    output, state = result
    return [output, *(state if isinstance(state, tuple) else (state,))]


def _needed(actual: list[torch.Tensor], expected: list[torch.Tensor], steps: int) -> float:
    worst = 0.0
    for a, b in zip(actual, expected, strict=True):
        a, b = a.detach().double().cpu(), b.detach().double().cpu()
        worst = max(worst, float(((a - b).abs() / (1 + b.abs())).max()))
    return worst / (1 + steps / 16)


def _grads(module: torch.nn.Module, x: torch.Tensor, seed: int) -> list[torch.Tensor]:
    x = x.clone().requires_grad_(True)
    outputs = _flat(module(x))
    generator = torch.Generator().manual_seed(seed)
    loss = sum((t * torch.randn(t.shape, generator=generator).to(t)).sum() for t in outputs)
    return list(torch.autograd.grad(loss, [x, *module.parameters()]))


def needed_tolerance(kind: str, count: int, tf32: Tf32) -> dict[str, float]:
    """Forward and gradient tolerances over ``count`` random law-sized examples, on CUDA
    in float32 under ``tf32``."""
    rng = random.Random(kind)
    forward = backward = 0.0
    for _ in range(count):
        nonlinearity = rng.choice(("tanh", "relu")) if kind == "rnn" else "tanh"
        config = RNNConfig(kind, rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 3),
                           bidirectional=rng.random() < 0.5, nonlinearity=nonlinearity)  # fmt: skip
        steps = rng.choice((rng.randint(1, 8), rng.randint(60, 72)))
        example = Example(config, rng.randint(1, 4), steps, rng.randrange(2**31), "float32")
        x, _ = example.inputs()
        on_gpu = example.replace(device="cuda").reference(torch.float32).train()
        with cuda_precision(tf32):
            with torch.no_grad():
                actual = _flat(on_gpu(x.cuda()))
            grads = _grads(on_gpu, x.cuda(), example.seed)
        with torch.no_grad():
            exact = _flat(example.reference(torch.float64)(x.double()))
        forward = max(forward, _needed(actual, exact, steps))
        cpu_grads = _grads(example.reference(torch.float32).train(), x, example.seed)
        backward = max(backward, _needed(grads, cpu_grads, steps))
    return {"forward": forward, "gradients": backward, "examples": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--examples", type=int, default=200, help="per kind, for part 2")
    args = parser.parse_args()
    rows = []
    for kind in ("rnn", "lstm", "gru"):
        config = RNNConfig(kind, input_size=50, hidden_size=128, batch_first=True)
        example = Example(config, batch_size=32, seq_len=100, seed=0, dtype="float32")
        rows.append({"kind": kind, "tf32_off": worst(example, OFF),
                     "torch_defaults": worst(example, DEFAULTS)})  # fmt: skip
    where = f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    print(
        f"{where}, cuDNN {torch.backends.cudnn.version()}; batch 32, 100 steps, 50 in, 128 hidden"
    )
    print("| module | TF32 off | torch's defaults (cuDNN TF32 on) |\n|---|---|---|")
    for r in rows:
        print(f"| nn.{r['kind'].upper()} | {r['tf32_off']:.2g} | {r['torch_defaults']:.2g} |")
    needed = {
        name: {kind: needed_tolerance(kind, args.examples, tf32) for kind in ("rnn", "lstm", "gru")}
        for name, tf32 in (("tf32_off", OFF), ("torch_defaults", DEFAULTS))
    }
    print(
        f"\nTolerance needed (t in |a - b| <= t (1 + |b|) (1 + T/16)), worst of "
        f"{args.examples} random examples per kind; cuda-tf32 declares {TF32_TOLERANCE.rtol:g}"
    )
    print("| module | forward vs float64, TF32 off / on | gradients vs CPU float32, off / on |")
    print("|---|---|---|")
    for kind in ("rnn", "lstm", "gru"):
        off, on = needed["tf32_off"][kind], needed["torch_defaults"][kind]
        print(
            f"| nn.{kind.upper()} | {off['forward']:.2g} / {on['forward']:.2g} | "
            f"{off['gradients']:.2g} / {on['gradients']:.2g} |"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                       "rows": rows, "needed": needed}, handle, indent=2)  # fmt: skip


if __name__ == "__main__":
    main()
