"""Self-contained repro scripts, in plain torch, for a failed law of an execution mode.

:func:`repro_script` writes a few dozen lines that rebuild the shrunk example (the
module with its seeded weights, the inputs), run eager and the mode side by side and
print the difference: something to attach to a bug report upstream, no rnnspec needed.
The mode's name and summary go into the script only inside string literals (escaped)
and as a function name made a valid identifier, so any name gives a script that runs.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Sequence
from string import Template

import torch

from rnnspec.config import Example, class_name
from rnnspec.modes.table import Mode
from rnnspec.tolerance import tolerance

__all__ = ["repro_script"]


_BAD_ARGS = {
    "error-input-size": "args = (torch.cat([x, x[..., :1]], dim=-1),)  # one feature too many",
    "error-input-rank": "args = (x.reshape(-1) if x.dim() == 2 else x.unsqueeze(0),)",
    "error-dtype": "args = (x.to(torch.float32 if x.dtype == torch.float64 else torch.float64),)",
    "error-empty-sequence": "args = (x.narrow($t, 0, 0),)  # a sequence of length 0",
    "error-hx-shape": "args = (x, $bad_hx)  # the batch size off by one",
}
_GRAD_LAWS = ("gradients", "clip-grad-norm", "eval-backward")
_TRAINING = ("gradients", "clip-grad-norm")
"""Laws whose gradients are taken in training mode (dropout 0: the eval-mode function)."""
_PACK = """lengths = $lengths
packed = pack_padded_sequence(
    x, torch.tensor(lengths), batch_first=$batch_first,
    enforce_sorted=lengths == sorted(lengths, reverse=True),
)
args = (packed, *args[1:])"""
_GRADS = """
if same:  # gradients of one weighted sum, w.r.t. the weights$and_inputs
    tensors = lambda v: [t for a in v for t in tensors(a)] if type(v) is tuple else [v]
    inputs = [a.requires_grad_(True) for a in tensors($inputs)]
    leaves = [*inputs, *module.parameters()]
    names = ["input", *["hx"] * (len(inputs) - 1), *(n for n, _ in module.named_parameters())]
    weights = [torch.rand(e.shape, generator=torch.Generator().manual_seed(0),
                          dtype=torch.float64).to(e.dtype) for e in flat(expected)]

    def grads(run):
        loss = sum((t * w).sum() for t, w in zip(flat(run()), weights))
        return torch.autograd.grad(loss, leaves, allow_unused=True)

    try:
        got = grads($run)
    except Exception as exc:
        print("with autograd on, $mode raised:", repr(exc))
        got, same = [], False
    pairs = [(f"grad {n}", g, w) for n, g, w in zip(names, got, grads(eager))
             if g is not None and w is not None]
    same = compare(pairs) and same
"""
_SCRIPT = '''"""torch $torch: nn.$cls in eager mode vs $mode ($summary).
rnnspec's law '$law' failed; the shrunk example: $example
"""
import copy, math, sys
from typing import Optional, Tuple
import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
$preamble
module = torch.nn.$cls($kwargs)
generator = torch.Generator().manual_seed($seed)
bound = 1.0 / math.sqrt($hidden)
with torch.no_grad():  # weights U(-1/sqrt(H), 1/sqrt(H)) from the seed
    for p in module.parameters():
        weight = torch.empty(p.shape, dtype=torch.float64)
        p.copy_(weight.uniform_(-bound, bound, generator=generator))
module = module.to($dtype).train($training)
generator = torch.Generator().manual_seed($seed1)
x = torch.randn($shape, dtype=torch.float64, generator=generator).to($dtype)
$inputs
rtol, atol = $rtol, $atol  # rnnspec's tolerance for this dtype and length


def eager():
    return module(*args)


def $run():
$mode_lines
    return actual


def flat(result):
    output, state = result
    output = output[0] if isinstance(output, tuple) else output  # a PackedSequence's data
    return [output, *(state if isinstance(state, tuple) else (state,))]


def compare(pairs):
    same = True
    for name, a, e in pairs:
        a, e = a.detach().double().cpu(), e.detach().double().cpu()
        if a.shape != e.shape:
            print(f"{name}: shape {list(a.shape)}, eager {list(e.shape)}")
            same = False
            continue
        diff = (a - e).abs()
        ok = bool((diff <= atol + rtol * e.abs()).all())
        print(f"{name}: max |difference| {diff.max().item():.3g}", "" if ok else "(too large)")
        same = same and ok
    return same


with torch.no_grad():
    try:
        expected = eager()
    except Exception as exc:
        expected = exc
    try:
        actual = $run()
    except Exception as exc:
        actual = exc
if isinstance(expected, Exception) or isinstance(actual, Exception):
    print("eager raised:", repr(expected) if isinstance(expected, Exception) else "nothing")
    print("$mode raised:", repr(actual) if isinstance(actual, Exception) else "nothing")
    same = type(expected) is type(actual)
else:
    same = type(actual[0]) is type(expected[0])
    if not same:
        name = lambda value: f"{type(value).__module__}.{type(value).__qualname__}"  # noqa: E731
        print(f"output is a {name(actual[0])}; eager gives a {name(expected[0])}")
    same = compare(zip(("output", "h_n", "c_n"), flat(actual), flat(expected))) and same
$grads
print("$mode agrees with eager" if same else "$mode DISAGREES with eager")
sys.exit(0 if same else 1)
'''


def repro_script(
    mode: Mode,
    example: Example,
    law: str = "equivalence",
    lengths: Sequence[int] | None = None,
) -> str:
    """A self-contained script, plain torch only: ``example`` through eager and ``mode``.

    The module and inputs are built as ``RNNConfig.build`` and ``Example.inputs`` do
    (bad inputs for the error laws; for ``packed``, the batch packed with the drawn
    ``lengths``, which the failure's data gives); the script prints
    each result's max |difference|, or what each side raised, and exits 1 when they
    disagree beyond the mode's tolerance.
    """
    c, dtype = example.config, f"torch.{example.dtype}"
    batch = () if example.batch_size is None else (example.batch_size,)
    lead = (c.num_layers * c.directions, *batch)
    inputs = [
        f"h{i} = (0.5 * torch.randn({(*lead, size)}, dtype=torch.float64, "
        f"generator=generator)).to({dtype})"
        for i, size in enumerate(c.state_sizes)
    ]
    inputs.append(f"args = (x, {'(h0, h1)' if c.kind == 'lstm' else 'h0'})")
    if not example.with_hx:
        inputs = ["args = (x,)"]
    if law in _BAD_ARGS:
        rows, wrong = lead[0], (example.batch_size or 1) + 1
        zeros = [f"x.new_zeros({(rows, wrong, s)})" for s in c.state_sizes]
        bad = f"({', '.join(zeros)})" if c.kind == "lstm" else zeros[0]
        t = example.time_axis
        inputs.append(Template(_BAD_ARGS[law]).substitute(t=t, bad_hx=bad))
    if law == "packed" and lengths is not None:
        pack = Template(_PACK).substitute(lengths=list(lengths), batch_first=c.batch_first)
        inputs.append(pack)
    tol = tolerance(example.torch_dtype, example.seq_len, mode.scope.tolerances)
    state = "Tuple[Tensor, Tensor]" if c.kind == "lstm" else "Tensor"
    run = _identifier(mode.name)
    return Template(_SCRIPT).substitute(
        torch=torch.__version__,
        cls=class_name(c.kind),
        mode=_quoted(mode.name),
        summary=_quoted(mode.summary),
        law=_quoted(law),
        training=law in _TRAINING,
        example=_quoted(repr(example)),
        kwargs=", ".join(f"{k}={v!r}" for k, v in c.kwargs().items()),
        seed=example.seed,
        seed1=example.seed + 1,
        hidden=c.hidden_size,
        dtype=dtype,
        shape=example.input_shape(),
        inputs="\n".join(inputs),
        rtol=f"{tol.rtol:.3g}",
        atol=f"{tol.atol:.3g}",
        run=run,
        mode_lines="\n".join("    " + line.replace("{state}", state) for line in mode.repro),
        grads=_grads(law, run, _quoted(mode.name)),
        preamble=f"\n{mode.preamble()}\n" if mode.preamble else "",
    )


def _grads(law: str, run: str, mode: str) -> str:
    """The backward pass of a gradient law; all but ``clip-grad-norm`` make the inputs leaves."""
    if law not in _GRAD_LAWS:
        return ""
    inputs = "()" if law == "clip-grad-norm" else "(x, *args[1:])"
    words = " (the inputs need none)" if law == "clip-grad-norm" else " and the inputs"
    return Template(_GRADS).substitute(run=run, mode=mode, inputs=inputs, and_inputs=words)


def _identifier(name: str) -> str:
    """``name`` as a Python function name: other characters become ``_``, and a name that
    starts with a digit, is empty or is a keyword gets a ``run_`` prefix."""
    text = re.sub(r"\W", "_", name)
    if not text.isidentifier() or keyword.iskeyword(text):
        text = f"run_{text}"
    return text


def _quoted(text: str) -> str:
    """``text`` escaped for the inside of a double-quoted (or triple-quoted) string literal."""
    return json.dumps(text)[1:-1]
