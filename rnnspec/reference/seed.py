"""The seed notebook's seven methods, written as the seed wrote them.

The heads are kept exactly (``rnn_out[:, -1, :]`` everywhere, even for the
bidirectional model): the laws and the claims ledger judge them, so they must
not be silently fixed here.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = [
    "BiRNN",
    "BuiltInRNN",
    "Decoder",
    "Encoder",
    "GRUModel",
    "LSTMModel",
    "ManualRNN",
    "Seq2Seq",
    "StackedRNN",
    "run_manual",
]


class ManualRNN(nn.Module):
    """Method 1: one step per call, i2h / i2o over the concatenation [x, h]."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)

    def forward(self, input: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        combined = torch.cat((input, hidden), 1)  # (B, I+H)
        hidden = torch.tanh(self.i2h(combined))  # (B, H)
        output = self.i2o(combined)  # (B, O)
        return output, hidden

    def init_hidden(self, batch_size: int = 1) -> Tensor:
        return torch.zeros(batch_size, self.hidden_size)


def run_manual(
    model: ManualRNN, x: Tensor, hidden: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Drive ``model`` over a batch-first sequence the seed's way: one call per step.

    Returns ``(output, hidden, hiddens)``: the last step's output ``(B, O)``, the
    last hidden state ``(B, H)`` and every step's hidden state ``(B, T, H)``.
    """
    if hidden is None:
        hidden = model.init_hidden(x.shape[0]).to(device=x.device, dtype=x.dtype)
    output = None
    hiddens = []
    for t in range(x.shape[1]):
        output, hidden = model(x[:, t, :], hidden)
        hiddens.append(hidden)
    if output is None:
        raise ValueError("run_manual needs a sequence of at least one step")
    return output, hidden, torch.stack(hiddens, dim=1)  # (B, T, H)


class BuiltInRNN(nn.Module):
    """Method 2: nn.RNN over the whole sequence, a linear head on the last step."""

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1
    ) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        rnn_out, hidden = self.rnn(x)  # (B, T, H)
        output = self.fc(rnn_out[:, -1, :])  # (B, O)
        return output


class LSTMModel(nn.Module):
    """Method 3a: nn.LSTM, a linear head on the last step."""

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        lstm_out, (hidden, cell) = self.lstm(x)  # (B, T, H)
        output = self.fc(lstm_out[:, -1, :])  # (B, O)
        return output


class GRUModel(nn.Module):
    """Method 3b: nn.GRU, a linear head on the last step."""

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1
    ) -> None:
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        gru_out, hidden = self.gru(x)  # (B, T, H)
        output = self.fc(gru_out[:, -1, :])  # (B, O)
        return output


class BiRNN(nn.Module):
    """Method 4: bidirectional nn.RNN; the head reads ``rnn_out[:, -1, :]`` as the seed does."""

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, num_layers: int = 1
    ) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x: Tensor) -> Tensor:
        rnn_out, hidden = self.rnn(x)  # (B, T, 2H)
        output = self.fc(rnn_out[:, -1, :])  # (B, O)
        return output


class StackedRNN(nn.Module):
    """Method 5: a three-layer nn.RNN by default, a linear head on the last step."""

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, num_layers: int = 3
    ) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor) -> Tensor:
        rnn_out, hidden = self.rnn(x)  # (B, T, H)
        output = self.fc(rnn_out[:, -1, :])  # (B, O)
        return output


class Encoder(nn.Module):
    """Method 6a: returns only the final hidden state, the context."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        _, hidden = self.rnn(x)  # (1, B, H)
        return hidden


class Decoder(nn.Module):
    """Method 6b: an nn.RNN started from the context, a linear head on every step."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: Tensor, hidden: Tensor) -> tuple[Tensor, Tensor]:
        rnn_out, hidden = self.rnn(x, hidden)  # (B, T_tgt, H)
        output = self.fc(rnn_out)  # (B, T_tgt, O)
        return output, hidden


class Seq2Seq(nn.Module):
    """Method 6: encoder context handed to a decoder fed the target sequence."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.encoder = Encoder(input_size, hidden_size)
        self.decoder = Decoder(output_size, hidden_size, output_size)

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        context = self.encoder(src)  # (1, B, H)
        output, _ = self.decoder(tgt, context)  # (B, T_tgt, O)
        return output
