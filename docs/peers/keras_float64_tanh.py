"""Keras 3 on JAX computes tanh in float32 for a float64 tensor, so its float64 RNN layers
are float32 inside (LSTM, GRU) or fail (SimpleRNN with tanh). No rnnspec, no torch.

Run: KERAS_BACKEND=jax python docs/peers/keras_float64_tanh.py   (or =tensorflow, where
keras 3.15.1 keeps float64: result_type's 64-to-32-bit demotion spares that backend)
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
if os.environ["KERAS_BACKEND"] == "jax":
    import jax

    jax.config.update("jax_enable_x64", True)  # JAX's float64 switch

import keras
import numpy as np

print("keras", keras.__version__, "on", keras.backend.backend())
x = np.full((1, 3), 0.5, dtype=np.float64)
print("keras.ops.tanh(float64).dtype    :", keras.ops.tanh(x).dtype)
print("keras.ops.sigmoid(float64).dtype :", keras.ops.sigmoid(x).dtype)
print("keras.backend.result_type('float64'):", keras.backend.result_type("float64"))


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


# An LSTM in float64, one step from zeros, against the same step in NumPy float64.
rng = np.random.default_rng(0)
inputs = rng.standard_normal((1, 1, 3))
layer = keras.layers.LSTM(4, dtype="float64")
layer.build((None, None, 3))
kernel, recurrent, bias = (rng.standard_normal(w.shape) for w in layer.get_weights())
layer.set_weights([kernel, recurrent, bias])
z = inputs[0, 0] @ kernel + bias  # h0 = 0, so the recurrent term vanishes
i, f, g, o = np.split(z, 4)
c = sigmoid(i) * np.tanh(g)
expected = sigmoid(o) * np.tanh(c)
actual = np.asarray(layer(inputs))[0]
print("LSTM float64 output dtype:", actual.dtype)
print(f"LSTM float64 max |keras - numpy float64|: {np.abs(actual - expected).max():.3g}")
print("  (float64 rounding is ~1e-16; float32's is ~6e-8)")

try:
    out = keras.layers.SimpleRNN(4, dtype="float64")(inputs)
    print("SimpleRNN(tanh) float64 output dtype:", np.asarray(out).dtype)
except Exception as exc:  # on JAX: lax.scan refuses a carry that changes dtype
    lines = [line.strip() for line in str(exc).splitlines() if "float32" in line]
    print("SimpleRNN(tanh) float64 raised", type(exc).__name__ + ":", (lines or [str(exc)])[0])
