"""PaddlePaddle's SimpleRNN / LSTM / GRU without biases: more than one cell fails to build,
one cell builds and then crashes the process (SIGSEGV) in its forward, and the flat
parameter names point at the wrong tensors. No rnnspec, no torch.

Run: python docs/peers/paddle_no_bias.py
"""

import warnings

warnings.filterwarnings("ignore")  # Paddle's start-up notes (ccache)

import numpy as np  # noqa: E402
import paddle  # noqa: E402

print("paddle", paddle.__version__)
no_bias = {"bias_ih_attr": False, "bias_hh_attr": False}
for cls in (paddle.nn.SimpleRNN, paddle.nn.LSTM, paddle.nn.GRU):
    for layers, direction in ((1, "forward"), (2, "forward"), (1, "bidirect")):
        try:
            cls(3, 4, num_layers=layers, direction=direction, **no_bias)
            print(f"{cls.__name__}(num_layers={layers}, direction={direction!r}): built")
        except Exception as exc:
            print(
                f"{cls.__name__}(num_layers={layers}, direction={direction!r}): "
                f"{type(exc).__name__}: {exc}"
            )

# One cell builds, but the frozen zero biases Paddle creates anyway are still counted.
rnn = paddle.nn.SimpleRNN(3, 4, **no_bias)
print("named_parameters:", [(name, list(p.shape)) for name, p in rnn.named_parameters()])
print("  (4 parameters, but only the first two get the flat names the fused kernel is fed)")

# With a projection (five parameters a cell), the flat aliases name the wrong tensors too.
lstm = paddle.nn.LSTM(3, 4, num_layers=2, proj_size=2)
print(
    "LSTM(proj_size=2) weight_ih_l1 is",
    list(lstm.weight_ih_l1.shape),
    "but layer 1's cell weight_ih is",
    list(lstm[1].cell.weight_ih.shape),
)

# One cell, no bias, against NumPy: h_t = tanh(W_ih x_t + W_hh h_{t-1}).
# (It builds; its forward hands the fused kernel two weights where it reads four.)
rng = np.random.default_rng(0)
w_ih, w_hh = rng.standard_normal((4, 3)), rng.standard_normal((4, 4))
rnn.weight_ih_l0.set_value(w_ih.astype("float32"))
rnn.weight_hh_l0.set_value(w_hh.astype("float32"))
x = rng.standard_normal((1, 5, 3))
h = np.zeros(4)
for t in range(5):
    h = np.tanh(w_ih @ x[0, t] + w_hh @ h)
print("calling the one-cell SimpleRNN without biases...", flush=True)
out, _ = rnn(paddle.to_tensor(x.astype("float32")))
print(f"1 cell, no bias: max |paddle - numpy| = {np.abs(out.numpy()[0, -1] - h).max():.2g}")
