"""Variable-length batches: a PackedSequence equals running each sequence alone."""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnspec.laws._capabilities import PACKED
from rnnspec.laws._core import law
from rnnspec.laws._failure import LawFailure
from rnnspec.laws._repro import preamble
from rnnspec.laws.trial import Outcome, Trial
from rnnspec.state import batch_axis, select_samples, time_axis
from rnnspec.strategies import lengths


def _packed_repro(failure: LawFailure) -> list[str]:
    """Pack the batch with the drawn lengths; run it, and each sequence alone; compare."""
    assert failure.example is not None
    tolerances = failure.subject.scope.tolerances
    return [
        "from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence",
        "from rnnspec.tolerance import Tolerance, tolerance",
        *preamble(failure),
        f"lengths = {failure.draws['lengths']!r}",
        "bf, t = example.config.batch_first, 1 if example.config.batch_first else 0",
        "pack = pack_padded_sequence(",
        "    x, torch.tensor(lengths), batch_first=bf,",
        "    enforce_sorted=lengths == sorted(lengths, reverse=True),",
        ")",
        "with torch.no_grad():",
        "    output, state = replay.call(candidate, pack, hx)",
        "if not isinstance(output, PackedSequence):",
        "    print('given a PackedSequence, the candidate returned', type(output).__name__)",
        "    replay.finish(False)",
        "padded, _ = pad_packed_sequence(output, batch_first=bf, total_length=example.seq_len)",
        "same = True",
        "for i, n in enumerate(lengths):  # each sequence alone, with its own length",
        "    one = torch.tensor([i])",
        "    with torch.no_grad():",
        "        alone = replay.call(",
        "            candidate, x.narrow(1 - t, i, 1).narrow(t, 0, n), replay.rows(hx, one)",
        "        )",
        "    mine = (padded.narrow(1 - t, i, 1).narrow(t, 0, n), replay.rows(state, one))",
        f"    tol = tolerance(example.torch_dtype, n, {tolerances!r})",
        "    what = f'packed sequence {i} (length {n}) vs alone'",
        "    same = replay.compare(what, mine, alone, tol.rtol, tol.atol) and same",
        "replay.finish(same)",
    ]


@law(
    "packed",
    "A packed batch of sequences of different lengths (sorted or not) gives, for each "
    "sequence, the output and final state of running it alone.",
    capability=PACKED,
    repro=_packed_repro,
)
def packed(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False)
    assert example.batch_size is not None
    lens = trial.draw(lengths(batch_size=example.batch_size, max_len=example.seq_len), "lengths")
    _, candidate = trial.build()
    x, hx = example.inputs()
    bf = example.config.batch_first
    is_sorted = lens == sorted(lens, reverse=True)
    pack = pack_padded_sequence(x, torch.tensor(lens), batch_first=bf, enforce_sorted=is_sorted)
    with torch.no_grad():
        whole = trial.run(candidate, pack, hx)
    if whole.packed is None:
        trial.fail("given a PackedSequence, the candidate returned a plain Tensor")
    padded, _ = pad_packed_sequence(whole.packed, batch_first=bf, total_length=example.seq_len)
    t, b = time_axis(bf), batch_axis(bf)
    for i, n in enumerate(lens):
        xi = x.narrow(b, i, 1).narrow(t, 0, n)  # one sequence, its own length
        hi = select_samples(hx, torch.tensor([i]))
        with torch.no_grad():
            alone = trial.run(candidate, xi, hi)
        mine = Outcome(
            padded.narrow(b, i, 1).narrow(t, 0, n),
            tuple(s[:, i : i + 1] for s in whole.states),
        )
        tol = trial.tolerance(x.dtype, steps=n)  # one sequence of n steps
        trial.equal_outcomes(mine, alone, f"packed sequence {i} (length {n}) vs alone", tol)
