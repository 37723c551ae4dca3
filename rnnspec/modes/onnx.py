"""Torch's export to ONNX, run in ONNX Runtime: the modes ``onnx-legacy`` and ``onnx-dynamo``.

A model that leaves PyTorch through ``torch.onnx.export`` meets two more implementations
of nn.RNN / nn.LSTM / nn.GRU: the exporter's translation into ONNX operators, and ONNX
Runtime's kernels for them.  ``rnnspec.modes.onnx_candidate.candidate`` exports the
reference with the inputs a law calls it with, opens an ONNX Runtime CPU session on the
result and answers like the module, with torch tensors.  It exports as a user would:

- ``legacy`` (``dynamo=False``, the TorchScript-based exporter): ``dynamic_axes`` on
  the batch and time axes, so one export serves every batch size and length of a call
  structure; a PackedSequence is exported as users export it, inside a module that packs
  its padded input, runs the RNN and pads the result (:class:`PaddedRNN`).
- ``dynamo`` (``dynamo=True``, torch's default exporter): ``dynamic_shapes`` on the
  batch axis; not on the time axis, which this exporter refuses (or, on a process's
  first export only, accepts and still bakes in: docs/modes.md, O4), so there is one
  export per length.  It refuses :class:`PaddedRNN` too, so a variable-length batch is
  given to the exported RNN / GRU / LSTM nodes as ONNX's ``sequence_lens``
  (:func:`with_sequence_lens`).

An export is reused for a later call only while the ONNX model's declared input shapes
admit it (a named dimension admits any size); otherwise the reference is exported again
with the new inputs.

The functions :func:`onnx_inputs`, :func:`export_onnx`, :func:`with_sequence_lens`,
:func:`ort_session`, :func:`run_session` and :func:`run_onnx` (and :class:`PaddedRNN`)
use only torch, onnx, onnxruntime and numpy (not even rnnspec.state's helpers): a
repro script carries their source (:func:`preamble`), so it runs exactly what the mode
ran.  ``onnx``, ``onnxscript``
and ``onnxruntime`` come with the optional extra ``rnnspec[onnx]``; without them the
modes are unavailable (:func:`missing`), and nothing here imports them before use.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
import re
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = [
    "REQUIREMENTS",
    "PaddedRNN",
    "export_onnx",
    "missing",
    "onnx_inputs",
    "ort_session",
    "preamble",
    "run_onnx",
    "run_session",
    "with_sequence_lens",
]

REQUIREMENTS = {"onnx": "1.17", "onnxscript": "0.6", "onnxruntime": "1.18"}
"""The extra ``rnnspec[onnx]``: each package and the oldest version these modes run with
(with torch 2.13: onnxscript 0.6 is the first with its torch 2.11 API; onnxruntime 1.17
refuses the dynamo exporter's IR version 10; onnxscript 0.6 needs onnx 1.17)."""

Edit = Callable[[Any], Any]
"""``edit(model) -> model``: a change to the exported ONNX model before it runs (tests)."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def missing() -> str | None:
    """Why the ONNX modes cannot run here (the extra is absent or too old), or None."""
    for name, least in REQUIREMENTS.items():
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = None
        if version is None or importlib.util.find_spec(name) is None:
            return f"needs {name}>={least} (pip install 'rnnspec[onnx]')"
        if _version(version) < _version(least):
            return f"needs {name}>={least}, found {version} (pip install 'rnnspec[onnx]')"
    return None


# -- the export and the run, as a repro script carries them ----------------------------
class PaddedRNN(torch.nn.Module):
    """What users export for variable-length batches: pack the padded input, run, pad."""

    def __init__(self, rnn: torch.nn.RNNBase, enforce_sorted: bool) -> None:
        super().__init__()
        self.rnn = rnn
        self.enforce_sorted = enforce_sorted

    def forward(self, x: Tensor, lengths: Tensor, hx: Any = None) -> Any:
        first = self.rnn.batch_first
        packed = pack_padded_sequence(x, lengths, first, self.enforce_sorted)
        output, state = self.rnn(packed, hx)
        output, _ = pad_packed_sequence(output, first, total_length=x.shape[1 if first else 0])
        return output, state


def onnx_inputs(module: torch.nn.RNNBase, args: tuple[Any, ...]) -> list[Tensor]:
    """The tensors an exported model takes for ``module(*args)``: the input (padded when
    packed), the lengths when packed, then h0 (and c0)."""
    x = args[0]
    hx = args[1] if len(args) > 1 else None
    states = [] if hx is None else list(hx) if isinstance(hx, tuple | list) else [hx]
    if isinstance(x, PackedSequence):
        padded, lengths = pad_packed_sequence(x, batch_first=module.batch_first)
        return [padded, lengths, *states]
    return [x, *states]


def export_onnx(module: torch.nn.RNNBase, args: tuple[Any, ...], dynamo: bool) -> Any:
    """``module`` exported to ONNX (an ``onnx.ModelProto``) for calls like ``module(*args)``.

    ``dynamo=False``: the TorchScript-based exporter, batch and time axes dynamic, a
    PackedSequence exported through :class:`PaddedRNN`.  ``dynamo=True``: the default
    exporter, the batch axis dynamic, a PackedSequence given as ``sequence_lens``.
    """
    import io

    import onnx

    x, *rest = onnx_inputs(module, args)
    packed = isinstance(args[0], PackedSequence)
    lengths = rest.pop(0) if packed else None
    hx = None if not rest else tuple(rest) if len(rest) == 2 else rest[0]
    batched = x.dim() == 3
    time, batch = (1, 0) if module.batch_first and batched else (0, 1)
    state_axes = {1: "batch"} if batched else None
    if dynamo:
        shapes: list[Any] = [{batch: "batch"} if batched else None]
        if hx is not None:
            shapes.append((state_axes, state_axes) if isinstance(hx, tuple) else state_axes)
        call: tuple[Any, ...] = (x,) if hx is None else (x, hx)
        dynamic = tuple(shapes) if batched else None
        program = torch.onnx.export(
            module, call, dynamo=True, dynamic_shapes=dynamic, verbose=False
        )
        assert program is not None  # dynamo=True returns the ONNXProgram
        return with_sequence_lens(program.model_proto) if packed else program.model_proto
    sequence = {time: "time", batch: "batch"} if batched else {0: "time"}
    names = ["input", *(["lengths"] if packed else []), *["h0", "c0"][: len(rest)]]
    outputs = ["output", "h_n", "c_n"][: 3 if isinstance(module, torch.nn.LSTM) else 2]
    axes: dict[str, Any] = {"input": sequence, "output": sequence, "lengths": {0: "batch"}}
    axes.update({name: state_axes for name in ("h0", "c0", "h_n", "c_n")})
    axes = {k: v for k, v in axes.items() if v and k in names + outputs}
    model = PaddedRNN(module, args[0].sorted_indices is None) if packed else module
    call = (x, lengths) if packed else (x,)
    call = call if hx is None else (*call, hx)
    buffer: Any = io.BytesIO()
    torch.onnx.export(
        model, call, buffer, dynamo=False, input_names=names, output_names=outputs,
        dynamic_axes=axes,
    )  # fmt: skip
    return onnx.load_from_string(buffer.getvalue())


def with_sequence_lens(model: Any) -> Any:
    """``model`` with a graph input ``lengths`` (int32, one per sample) given to every
    RNN, GRU and LSTM node as its ``sequence_lens``."""
    import onnx

    nodes = [node for node in model.graph.node if node.op_type in ("RNN", "GRU", "LSTM")]
    if not nodes:
        ops = ", ".join(sorted({node.op_type for node in model.graph.node}))
        raise RuntimeError(
            f"the exported graph has no RNN, GRU or LSTM node to give sequence_lens to "
            f"(its operators: {ops})"
        )
    inputs = list(model.graph.input)
    lengths = onnx.helper.make_tensor_value_info("lengths", onnx.TensorProto.INT32, ["batch"])
    del model.graph.input[:]
    model.graph.input.extend([inputs[0], lengths, *inputs[1:]])
    for node in nodes:
        node.input.extend([""] * (5 - len(node.input)))
        node.input[4] = "lengths"
    return model


def ort_session(model: Any) -> Any:
    """An ONNX Runtime CPU session for ``model``: one thread; errors raised, not logged."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # as rnnspec runs torch: tiny tensors, a shared CPU
    options.log_severity_level = 4  # failures come back as exceptions; no log lines too
    data = model.SerializeToString()
    return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def run_session(session: Any, module: torch.nn.RNNBase, args: tuple[Any, ...]) -> Any:
    """Call the exported model like ``module(*args)``: torch tensors in, torch tensors out."""
    import numpy as np

    inputs = onnx_inputs(module, args)
    declared = session.get_inputs()
    if len(declared) != len(inputs):
        names = ", ".join(d.name for d in declared)
        raise RuntimeError(
            f"the ONNX model takes {len(declared)} inputs ({names}), not {len(inputs)}"
        )
    feeds = {}
    for want, tensor in zip(declared, inputs, strict=True):
        value = tensor.detach().cpu().numpy()
        feeds[want.name] = np.ascontiguousarray(
            value.astype(np.int32) if "int32" in want.type else value
        )
    results = [torch.from_numpy(r) for r in session.run(None, feeds)]
    expected = 3 if isinstance(module, torch.nn.LSTM) else 2
    if len(results) != expected:
        raise RuntimeError(f"the ONNX model gives {len(results)} outputs, not {expected}")
    output: Any = results[0]
    if isinstance(args[0], PackedSequence):  # padded as it came; packed as eager answers
        sort = args[0].sorted_indices is None
        output = pack_padded_sequence(output, inputs[1], module.batch_first, enforce_sorted=sort)
    return output, tuple(results[1:]) if expected == 3 else results[1]


def run_onnx(module: torch.nn.RNNBase, args: tuple[Any, ...], dynamo: bool) -> Any:
    """``module(*args)`` through torch.onnx.export and ONNX Runtime, in one call."""
    return run_session(ort_session(export_onnx(module, args, dynamo)), module, args)


_SHARED = (PaddedRNN, onnx_inputs, export_onnx, with_sequence_lens, ort_session, run_session)


def preamble() -> str:
    """The repro script's copy of the export and the run, with the versions it was written on."""
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in REQUIREMENTS)
    lines = [
        f"# The ONNX path, as rnnspec's onnx modes run it ({versions}).",
        "from typing import Any",
        "from torch.nn.utils.rnn import pad_packed_sequence",
        "",
    ]
    sources = [inspect.getsource(item) for item in (*_SHARED, run_onnx)]
    return "\n".join(lines) + "\n\n".join(sources) + "\n"
