"""torchrl.modules.LSTM accepts proj_size but never applies weight_hr: one step returns h
unprojected (hidden_size wide), two steps raise. No rnnspec: torch's nn.LSTM beside it.

Run: python docs/peers/torchrl_proj_size.py
"""

import torch
import torchrl
from torchrl.modules import LSTM

print("torch", torch.__version__, "torchrl", torchrl.__version__)
torch.manual_seed(0)
reference = torch.nn.LSTM(3, 4, proj_size=2, batch_first=True)
ported = LSTM(3, 4, proj_size=2, batch_first=True)
ported.load_state_dict(reference.state_dict())  # the same parameter names and shapes
print("parameters:", [(name, list(p.shape)) for name, p in ported.named_parameters()])

for steps in (1, 2):
    x = torch.randn(1, steps, 3)
    expected, (h, c) = reference(x)
    print(f"{steps} step(s): nn.LSTM output {list(expected.shape)}", end="; ")
    try:
        actual, (h2, c2) = ported(x)
        print(f"torchrl output {list(actual.shape)}")
    except RuntimeError as exc:
        print(f"torchrl raised RuntimeError: {exc}")
