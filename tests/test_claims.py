"""The claims ledger: exact quotes, computed verdicts, and the ``rnnspec claims`` command.

Everything here is fast: measurements are either replaced (monkeypatched) to see a verdict
follow its numbers, or run at tiny sizes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from rnnspec.bench import timing as bench
from rnnspec.bench.gradients import GradientCurve
from rnnspec.claims import model as claims_model
from rnnspec.claims import structural as claims_checks
from rnnspec.claims.judge import all_claims, run_claims
from rnnspec.claims.measured import holds_from
from rnnspec.claims.model import (
    ADVICE,
    CLAIM_KINDS,
    HOLDS,
    HOLDS_HERE,
    REFUTED,
    REFUTED_HERE,
    Claim,
    Context,
    Outcome,
    Settings,
)
from rnnspec.cli import claims as claims_cli
from rnnspec.cli.main import _Parser
from rnnspec.seed.errata import ERRATA
from rnnspec.seed.methods import SEED_SIZES, MethodRow, Sizes, measure_methods

CLAIMS = all_claims()
BY_ID = {c.id: c for c in CLAIMS}
TINY = Sizes(batch_size=2, seq_len=3, input_size=4, hidden_size=6, output_size=10)
TINY_SETTINGS = Settings(1, 0.0, (5,), (), (), (2, 4), 1)


def judge(claim_id: str, ctx: Context | None = None) -> Outcome:
    (result,) = run_claims(claims=[BY_ID[claim_id]], context=ctx or Context(quick=True))
    return result.outcome


def quoted_lines(notebook: str) -> str:
    """Every line of ``notebook`` that a claim or an erratum quotes, in order: seed_lines.txt."""
    quotes = [c.quote for c in CLAIMS] + [e.quote for e in ERRATA]
    lines = [line for line in notebook.splitlines() if any(q in line for q in quotes)]
    return "".join(line + "\n" for line in lines)


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_quote_is_verbatim_in_the_seed(claim, seed_lines):
    assert claim.quote in seed_lines, f"{claim.id}: {claim.quote!r} is not in the seed notebook"


def test_the_carried_seed_lines_are_the_seeds(seed_notebook):
    # seed_lines.txt stands in for the notebook where it is absent: it must be the
    # notebook's lines that hold a quote, no more and no less
    carried = (Path(__file__).parent / "seed_lines.txt").read_text(encoding="utf-8")
    assert carried == quoted_lines(seed_notebook), (
        "tests/seed_lines.txt is stale; regenerate it with: python tests/test_claims.py"
    )


def test_ledger_is_well_formed():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids)), "claim ids must be unique"
    assert {c.kind for c in CLAIMS} == set(CLAIM_KINDS), "every kind should have at least one claim"
    for c in CLAIMS:
        assert c.reading, f"{c.id} needs a reading: what rnnspec checks"


def test_laws_name_registered_laws():
    from rnnspec.laws import LAWS

    unknown = {c.id: c.law for c in CLAIMS if c.law is not None and c.law not in LAWS}
    assert not unknown, f"claims name laws that rnnspec.laws does not register: {unknown}"


@pytest.mark.parametrize("erratum", ERRATA, ids=[e.id for e in ERRATA])
def test_every_erratum_is_a_refuted_claim(erratum):
    (claim,) = [c for c in CLAIMS if c.erratum == erratum.id]
    assert claim.quote == erratum.quote
    outcome = judge(claim.id)
    assert outcome.verdict == REFUTED, outcome
    assert erratum.actual in outcome.measured, f"{outcome.measured!r} vs {erratum.actual!r}"


def test_advice_gets_the_advice_verdict_and_no_measurement():
    advice = [c for c in CLAIMS if c.kind == "advice"]
    assert advice, "the seed's rules of thumb belong in the ledger as advice"
    for result in run_claims(claims=advice):
        assert result.verdict == ADVICE
        assert result.outcome.measured == "-"


def test_claim_and_outcome_validate():
    with pytest.raises(ValueError, match="kind"):
        Claim("x", "s", "q", "vibes", "r", lambda ctx: Outcome(HOLDS, "", ""))
    with pytest.raises(ValueError, match="advice"):
        Claim("x", "s", "q", "advice", "r", lambda ctx: Outcome(HOLDS, "", ""))
    with pytest.raises(ValueError, match="verdict"):
        Outcome("probably", "", "")


def test_a_failing_check_is_an_error_verdict_not_a_crash(capsys):
    def broken(ctx: Context) -> Outcome:
        raise RuntimeError("boom")

    (result,) = run_claims(claims=[Claim("broken", "s", "q", "structure", "r", broken)])
    assert result.verdict == "error"
    assert "boom" in result.outcome.evidence
    assert "RuntimeError" in capsys.readouterr().err


def test_shape_parameter_and_structure_verdicts_as_measured():
    checked = [c for c in CLAIMS if c.kind in ("shape", "parameters", "structure")]
    verdicts = {r.claim.id: r.verdict for r in run_claims(claims=checked)}
    refuted = {cid for cid, v in verdicts.items() if v != HOLDS}
    assert refuted == {
        "shape-stacked-rnn",  # the seed printed (32, 10, 10); the code gives (32, 10)
        "lstm-3x-gru",  # 93,450 / 70,410 = 1.33x
        "bi-head-both-directions",  # the head's backward half has seen one step
        "decoder-generates",  # teacher forcing: it consumes the target it "generates"
    }, verdicts
    assert all(verdicts[cid] == REFUTED for cid in refuted)


# --- verdicts follow the numbers: replace a measurement, watch the verdict move --------------


def _rows_with(monkeypatch, **params: int) -> None:
    rows = measure_methods(SEED_SIZES)
    patched = [replace(r, params=params.get(r.label, r.params)) for r in rows]
    monkeypatch.setattr(claims_model, "measure_methods", lambda sizes: patched)


def test_parameter_ratio_verdict_is_computed(monkeypatch):
    assert judge("lstm-3x-gru").verdict == REFUTED
    _rows_with(monkeypatch, LSTM=3 * 70_410)
    outcome = judge("lstm-3x-gru")
    assert outcome.verdict == HOLDS
    assert "3.00x" in outcome.measured


def test_printed_count_verdict_is_computed(monkeypatch):
    _rows_with(monkeypatch, GRU=70_411)
    assert judge("params-gru").verdict == REFUTED
    assert judge("params-lstm").verdict == HOLDS


def test_printed_shape_verdict_is_computed(monkeypatch):
    rows = [
        replace(r, shape=(32, 10, 10)) if r.label == "Stacked RNN" else r
        for r in measure_methods(SEED_SIZES)
    ]
    monkeypatch.setattr(claims_model, "measure_methods", lambda sizes: rows)
    assert judge("shape-stacked-rnn").verdict == HOLDS


def test_structure_verdict_is_computed(monkeypatch):
    assert judge("bi-not-streaming").verdict == HOLDS
    monkeypatch.setattr(claims_checks, "MOVED", float("inf"))
    assert judge("bi-not-streaming").verdict == REFUTED


def _curves(flat: str) -> dict[str, GradientCurve]:
    lengths = (10, 100, 500)
    decaying = ((1e-2,), (1e-28,), (1e-140,))
    steady = ((1e-2,), (0.9e-2,), (0.8e-2,))
    return {
        kind: GradientCurve(kind, lengths, steady if kind == flat else decaying)
        for kind in ("RNN", "LSTM", "GRU")
    }


def test_vanishing_gradient_verdicts_follow_the_norms(monkeypatch):
    monkeypatch.setattr(claims_model, "gradient_curves", lambda *a, **k: _curves(flat="LSTM"))
    assert judge("lstm-solves-vanishing").verdict == HOLDS
    assert judge("rnn-vanishing").verdict == HOLDS
    monkeypatch.setattr(claims_model, "gradient_curves", lambda *a, **k: _curves(flat="RNN"))
    assert judge("lstm-solves-vanishing").verdict == REFUTED
    assert judge("rnn-vanishing").verdict == REFUTED
    assert judge("gated-long-range").verdict == REFUTED


def _fake_measure(slowdown: dict[str, float]):
    def measure(group, sizes, device="cpu", *, repeats=7, min_block_s=0.05, clock="wall", **_):
        seconds = {
            name: [1e-3 * slowdown.get(name, 1.0) * (1 + 0.01 * r) for r in range(repeats)]
            for name in group.builders
        }
        return bench.Timings(group.id, sizes, "fake device, torch x", seconds, clock)

    return measure


@pytest.mark.parametrize(("naive", "verdict"), [(20.0, HOLDS_HERE), (1.5, REFUTED_HERE)])
def test_speed_verdict_compares_the_measured_ratio_with_the_range(monkeypatch, naive, verdict):
    monkeypatch.setattr(bench, "measure", _fake_measure({"naive": naive, "premul": 0.9}))
    outcome = judge("manual-10-50x", Context(quick=True, settings=TINY_SETTINGS))
    assert outcome.verdict == verdict
    assert f"naive {naive:.2f}x" in outcome.measured
    assert "premul 0.90x" in outcome.measured
    assert "fake device, torch x" in outcome.evidence, "the device must be stated"
    assert "batch 32, seq 10, input 50, hidden 128" in outcome.evidence, "so must the sizes"
    assert "IQR" in outcome.evidence, "and the spread"
    assert "wall-clock time" in outcome.evidence, "and the clock"


def test_holds_from_is_the_length_from_which_every_longer_ratio_holds():
    assert holds_from([(10, 4.0), (100, 38.0), (1000, 156.0)], 10) == 100
    assert holds_from([(10, 12.0), (100, 8.0), (1000, 11.0)], 10) == 1000
    assert holds_from([(1000, 1.5), (10, 12.0)], 10) is None


def test_speed_verdict_says_where_the_seeds_figure_starts_to_hold(monkeypatch):
    def measure(group, sizes, device="cpu", *, repeats=7, clock="wall", **_):
        naive = sizes.seq_len / 8  # 10x slower from T=80 on
        seconds = {n: [1e-3 * (naive if n == "naive" else 1.0)] * repeats for n in group.builders}
        return bench.Timings(group.id, sizes, "cuda (fake GPU), torch x", seconds, clock)

    monkeypatch.setattr(bench, "measure", measure)
    settings = replace(TINY_SETTINGS, sweep_seq_lens=(50, 100, 1000))
    outcome = judge("manual-10-50x", Context(quick=True, settings=settings))
    assert outcome.verdict == REFUTED_HERE  # 1.25x at the seed's T=10
    assert outcome.measured.startswith("cuda: naive 1.25x")
    assert "at least 10x from T=100 on (up to T=1000)" in outcome.measured
    assert outcome.data["holds_from_seq_len"] == 100


def test_gru_speed_verdict_flips_with_the_timing(monkeypatch):
    monkeypatch.setattr(bench, "measure", _fake_measure({"LSTM": 1.3}))
    assert judge("gru-faster-training").verdict == HOLDS_HERE
    monkeypatch.setattr(bench, "measure", _fake_measure({"GRU": 1.3}))
    assert judge("gru-faster-training").verdict == REFUTED_HERE


# --- the command --------------------------------------------------------------------------


def _claims_main(argv: list[str]) -> int:
    parser = _Parser(prog="rnnspec")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    claims_cli.add_parser(sub)
    args = parser.parse_args(["claims", *argv])
    return int(args.handler(args))


TINY_FLAGS = ["--batch-size", "2", "--seq-len", "3", "--input-size", "4", "--hidden-size", "6"]


def test_size_defaults_are_the_seeds():
    assert claims_cli._SIZE_DEFAULTS == {
        k: v for k, v in vars(SEED_SIZES).items() if k != "output_size"
    }


def test_claims_command_quick_json_and_markdown(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(claims_model, "QUICK", TINY_SETTINGS)
    out = tmp_path / "ledger.json"
    assert _claims_main(["--quick", "--markdown", "--json", str(out), *TINY_FLAGS]) == 0
    printed = capsys.readouterr()
    assert "| claim | the seed says | measured | verdict |" in printed.out
    assert "`manual-10-50x`" in printed.out
    assert "[1/" in printed.err, "progress goes to stderr"
    ledger = json.loads(out.read_text(encoding="utf-8"))
    assert ledger["meta"]["torch"] == torch.__version__
    rows = ledger["claims"]
    assert [r["id"] for r in rows] == [c.id for c in CLAIMS]
    for row in rows:
        assert {"id", "quote", "kind", "verdict", "evidence", "law"} <= set(row)
    speed = next(r for r in rows if r["id"] == "manual-10-50x")
    assert speed["verdict"] in (HOLDS_HERE, REFUTED_HERE)
    assert speed["data"]["sizes"]["hidden_size"] == 6


def test_claims_command_plots(monkeypatch, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(claims_model, "QUICK", TINY_SETTINGS)
    assert _claims_main(["--quick", "--plot", str(tmp_path), *TINY_FLAGS]) == 0
    assert "measured" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gradient-norm-vs-length.png",
        "speed-ratio-vs-size.png",
        "time-vs-seq-len.png",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threads", "0"], "expected a positive integer"),
        (["--seq-len", "x"], "expected a positive integer"),
        (["--device", "tpu"], "--device"),
        (["--clock", "sundial"], "invalid choice"),
    ],
)
def test_claims_command_usage_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _claims_main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1, f"one line expected, got {err!r}"


def test_plot_without_matplotlib_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(SystemExit) as exit_info:
        _claims_main(["--plot", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "install rnnspec[plot]" in err
    assert err.count("\n") == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        _claims_main(["--device", "cuda"])
    assert exit_info.value.code == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_methodrow_fields_used_by_the_ledger_exist():
    # the ledger reads these MethodRow fields; a rename there must fail here, loudly
    assert {"label", "shape", "params", "printed_shape", "printed_params"} <= set(
        MethodRow.__dataclass_fields__
    )


def _ledger(device: str, naive: dict[int, float], verdict: str) -> dict:
    sweep = [
        {"sizes": {"seq_len": n, "batch_size": 32, "hidden_size": 128},
         "ratios": {"naive": {"median": r}, "premul": {"median": r / 2}}}
        for n, r in naive.items()
    ]  # fmt: skip
    claim = {"id": "manual-10-50x", "kind": "speed", "quote": "10-50x faster than manual RNN",
             "measured": f"{device}: naive {naive[10]:.2f}x", "verdict": verdict,
             "data": {"sizes": {"seq_len": 10, "batch_size": 32, "hidden_size": 128},
                      "sweep": sweep}}  # fmt: skip
    meta = {"device": f"{device} (a test machine), torch x", "clock": "wall", "quick": False}
    return {"meta": meta, "claims": [claim]}


def test_compare_puts_saved_ledgers_side_by_side(tmp_path, capsys):
    paths = []
    for device, naive, verdict in (("cpu", {10: 1.4, 100: 1.5}, REFUTED_HERE),
                                   ("cuda", {10: 5.1, 100: 44.7}, HOLDS_HERE)):  # fmt: skip
        paths.append(tmp_path / f"{device}.json")
        paths[-1].write_text(json.dumps(_ledger(device, naive, verdict)), encoding="utf-8")
    assert _claims_main(["--compare", *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert "| claim | the seed says | cpu | cuda |" in out
    assert "naive 1.40x (**refuted here**) | naive 5.10x (**holds here**) |" in out
    assert "| 100 | 1.50x | 44.70x | 0.75x | 22.35x |" in out


def test_compare_refuses_a_file_that_is_not_a_ledger(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        _claims_main(["--compare", str(bad)])
    assert exit_info.value.code == 2
    assert "not a ledger" in capsys.readouterr().err


if __name__ == "__main__":  # regenerate tests/seed_lines.txt from the seed notebook
    from conftest import SEED, SEED_LINES

    SEED_LINES.write_text(quoted_lines(SEED.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {SEED_LINES}")
