"""Variable-length batches: a PackedSequence equals running each sequence alone."""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnspec.laws._core import Outcome, Subject, Trial, law
from rnnspec.state import batch_axis, select_samples, time_axis
from rnnspec.strategies import lengths


def _needs_packed(subject: Subject) -> str | None:
    return None if subject.scope.packed else "packed sequences are out of scope"


@law(
    "packed",
    "A packed batch of sequences of different lengths (sorted or not) gives, for each "
    "sequence, the output and final state of running it alone.",
    needs=_needs_packed,
)
def packed(trial: Trial) -> None:
    example = trial.draw_example(unbatched=False)
    assert example.batch_size is not None
    lens = trial.draw(lengths(batch_size=example.batch_size, max_len=example.seq_len), "lengths")
    trial.note(f"lengths: {lens}")
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
        trial.example = example.replace(batch_size=1, seq_len=n)
        trial.equal_outcomes(mine, alone, f"packed sequence {i} (length {n}) vs alone")
        trial.example = example
