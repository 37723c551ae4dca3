"""OpenVINO's CPU plugin takes a float64 model and float64 inputs, returns float64, and
computes in float32 (or, by default on a CPU with bf16 instructions, in bf16): its
capabilities list no FP64.  No rnnspec: torch's nn.LSTM converted as it is.

Run: python docs/peers/openvino_float64.py
"""

import warnings

import numpy as np
import openvino
import torch

warnings.filterwarnings("ignore", category=DeprecationWarning)  # torch.jit.trace's
print("openvino", openvino.__version__, "torch", torch.__version__)
print("CPU capabilities:", openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
torch.manual_seed(0)
reference = torch.nn.LSTM(3, 5, num_layers=2).double().eval()
x = torch.randn(7, 2, 3, dtype=torch.float64)
with torch.no_grad():
    expected = reference(x)[0].numpy()
model = openvino.convert_model(reference, example_input=(x,))
for config in ({}, {"INFERENCE_PRECISION_HINT": "f32"}):
    compiled = openvino.compile_model(model, "CPU", config)
    output = compiled([x.numpy()])[0]
    precision = compiled.get_property("INFERENCE_PRECISION_HINT")
    print(
        f"config {config}: inference precision {precision}, output {output.dtype}, "
        f"max |openvino - torch float64| = {np.abs(output - expected).max():.2e}"
    )
print("(float64 rounding is ~1e-16, float32's ~6e-8, bf16's ~4e-3)")
