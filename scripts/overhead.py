"""The checker's overhead: a whole check of torch's own module against the torch work in it.

``overhead`` is a check's total time over the seconds spent inside torch's RNN forwards,
``torch.autograd.grad`` and ``Tensor.backward`` (:func:`rnnspec.bench.torch_seconds`): the
candidate's and the reference's calls, which a checker cannot avoid.  Issue 13 set a goal
of at most 2x for LSTM and GRU at 100 examples a law (the identity factory).

    python scripts/overhead.py [--examples N] [--seeds S ...] [--cpu] [--warm-up] [--laws]
                               [--profile PATH] [KIND ...]

With several ``--seeds`` each kind is checked once per seed and the overhead is the sum
of the totals over the sum of the torch seconds: the examples of one seed vary a lot in
size, so one seed's overhead moves with its examples.  ``--cpu`` times in process CPU
time (steadier on a busy machine: the laws run on a worker thread while the caller
waits); ``--warm-up`` first runs an untimed check of 5 examples a law, so that what a
process does once (imports: meta-shapes' first call imports torch._dynamo, inside a
forward) is in no timed check; ``--laws`` adds each law's seconds; ``--profile PATH``
writes a cProfile of the checks.
"""

from __future__ import annotations

import argparse
import cProfile
import time

from rnnspec.bench.timing import torch_seconds
from rnnspec.run.candidates import torch_module
from rnnspec.run.checker import check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kinds", nargs="*", default=["lstm", "gru", "rnn"])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--cpu", action="store_true", help="time in process CPU time")
    parser.add_argument("--warm-up", action="store_true", help="first an untimed small check")
    parser.add_argument("--laws", action="store_true", help="print each law's seconds")
    parser.add_argument("--profile", metavar="PATH", help="write a cProfile of the checks")
    args = parser.parse_args()
    profiler = cProfile.Profile() if args.profile else None
    clock = time.process_time if args.cpu else time.perf_counter
    for kind in args.kinds:
        if args.warm_up:
            check(torch_module, kind, max_examples=5, seed=99)
        totals, insides = [], []
        for seed in args.seeds:
            start = clock()
            with torch_seconds(clock) as inside:
                if profiler:
                    profiler.enable()
                report = check(torch_module, kind, max_examples=args.examples, seed=seed)
                if profiler:
                    profiler.disable()
            totals.append(clock() - start)
            insides.append(inside[0])
            if not report.ok:
                raise SystemExit(report.summary())
            print(
                f"{kind} seed {seed}: {args.examples} examples a law, {totals[-1]:.2f} s in all, "
                f"{insides[-1]:.2f} s inside torch's RNN calls and autograd: "
                f"overhead {totals[-1] / insides[-1]:.2f}x",
                flush=True,
            )
            if args.laws:
                for result in sorted(report.results, key=lambda r: -r.seconds):
                    print(f"    {result.law:<28} {result.seconds:6.2f} s  {result.examples} ex")
        if len(args.seeds) > 1:
            ratios = sorted(t / i for t, i in zip(totals, insides, strict=True))
            print(
                f"{kind}, {len(args.seeds)} seeds: {sum(totals):.2f} s in all, "
                f"{sum(insides):.2f} s inside: overhead {sum(totals) / sum(insides):.2f}x "
                f"(one seed: {ratios[0]:.2f}x to {ratios[-1]:.2f}x)",
                flush=True,
            )
    if profiler:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
