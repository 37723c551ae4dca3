"""What TF32 does to torch's RNNs on CUDA: max |float32 on CUDA - float64 on CPU|.

Each of nn.RNN, nn.LSTM and nn.GRU at the seed's sizes and 100 steps (batch 32, input 50,
hidden 128; weights and input drawn from a seed), run in float32 on CUDA twice, with TF32
off and with torch's defaults (TF32 on for cuDNN), against the same network in float64 on
the CPU.  Used by scripts/gpu-check; prints a Markdown table, --json PATH also saves it.
"""

from __future__ import annotations

import argparse
import json

import torch

from rnnspec.config import Example, RNNConfig
from rnnspec.devices import DEFAULTS, OFF, Tf32, cuda_precision


def worst(example: Example, tf32: Tf32) -> float:
    reference = example.reference(torch.float64)
    x, _ = example.inputs(torch.float64)
    with torch.no_grad():
        expected, _ = reference(x)
        with cuda_precision(tf32):
            actual, _ = example.replace(device="cuda").reference(torch.float32)(x.float().cuda())
    return float((actual.double().cpu() - expected).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH")
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
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                       "rows": rows}, handle, indent=2)  # fmt: skip


if __name__ == "__main__":
    main()
