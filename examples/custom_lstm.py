"""A small hand-written LSTM and the factory that lets rnnspec check it.

The LSTM keeps its weights fused (one ``(4H, I+H)`` matrix per layer, as many
ports from other frameworks do), supports layers, batch_first and initial states,
but not bidirectional, projections, packed or unbatched input, nor dropout: its
``scope`` says so, and rnnspec draws nothing outside it.

Its parameters are named its own way (``weights.0``, ``biases.0``, ...), so the factory
also declares ``parameter_map``: how they are computed from torch's.  With it the
``gradients`` law compares the weight gradients with torch's; without it only the
input's and the initial state's would be, and the ``finite-differences`` law, which
needs no names, would still check every parameter's gradient against the candidate's
own finite differences.

Run it::

    python -m examples.custom_lstm
    rnnspec check examples.custom_lstm:factory --kind lstm
    pytest --rnnspec-impl examples.custom_lstm:factory --rnnspec-kind lstm -p no:cacheprovider
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnspec import Scope


class FusedLSTM(nn.Module):
    """An LSTM with one fused weight matrix per layer over the concatenation [x, h]."""

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, batch_first: bool = False
    ) -> None:
        super().__init__()
        self.hidden_size, self.num_layers, self.batch_first = hidden_size, num_layers, batch_first
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(4 * hidden_size, size + hidden_size)) for size in sizes
        )
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(4 * hidden_size)) for _ in sizes)

    def forward(
        self, x: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, I)
        steps, batch, _ = x.shape
        if hx is None:
            zeros = x.new_zeros(self.num_layers, batch, self.hidden_size)
            hx = (zeros, zeros)
        h_n, c_n = [], []
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h, c = hx[0][layer], hx[1][layer]
            outputs = []
            for t in range(steps):
                gates = torch.cat([x[t], h], dim=1) @ weight.t() + bias  # (B, 4H)
                i, f, g, o = gates.chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                outputs.append(h)
            x = torch.stack(outputs)  # (T, B, H)
            h_n.append(h)
            c_n.append(c)
        output = x.transpose(0, 1) if self.batch_first else x
        return output, (torch.stack(h_n), torch.stack(c_n))


def parameter_map(params: dict[str, Tensor]) -> dict[str, Tensor]:
    """FusedLSTM's parameters computed from nn.LSTM's: W = [W_ih | W_hh], b = b_ih + b_hh.

    Written with differentiable torch operations, it serves twice: the factory builds
    the candidate with it, and rnnspec's ``gradients`` law pulls the candidate's weight
    gradients back through it to compare them with torch's (dL/dW_ih and dL/dW_hh are
    the two halves of dL/dW; dL/db_ih = dL/db_hh = dL/db).
    """
    fused = {}
    layer = 0
    while f"weight_ih_l{layer}" in params:
        w_ih, w_hh = params[f"weight_ih_l{layer}"], params[f"weight_hh_l{layer}"]
        fused[f"weights.{layer}"] = torch.cat([w_ih, w_hh], dim=1)
        if f"bias_ih_l{layer}" in params:
            fused[f"biases.{layer}"] = params[f"bias_ih_l{layer}"] + params[f"bias_hh_l{layer}"]
        else:  # bias=False: the fused bias stays zero
            fused[f"biases.{layer}"] = w_ih.new_zeros(w_ih.shape[0])
        layer += 1
    return fused


@torch.no_grad()
def factory(reference: nn.LSTM) -> FusedLSTM:
    """Build a FusedLSTM holding ``reference``'s weights, as ``parameter_map`` gives them."""
    model = FusedLSTM(
        reference.input_size, reference.hidden_size, reference.num_layers, reference.batch_first
    )
    weight = next(reference.parameters())
    model.to(device=weight.device, dtype=weight.dtype)
    model.load_state_dict(parameter_map(dict(reference.named_parameters())))
    return model


factory.parameter_map = parameter_map  # type: ignore[attr-defined]


factory.scope = Scope(  # type: ignore[attr-defined]
    bidirectional=(False,),
    proj_size=False,
    unbatched=False,
    packed=False,
    dropout=False,
)


if __name__ == "__main__":
    import rnnspec

    report = rnnspec.check(factory, kind="lstm", max_examples=50)
    print(report.summary())
