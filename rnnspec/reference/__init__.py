"""Reference implementations: the seed's methods and step-by-step loops."""

from rnnspec.reference.loops import (
    LOOPS,
    LoopGRU,
    LoopLSTM,
    LoopRecurrent,
    LoopRNN,
    loop_from_module,
)
from rnnspec.reference.seed import (
    BiRNN,
    BuiltInRNN,
    Decoder,
    Encoder,
    GRUModel,
    LSTMModel,
    ManualRNN,
    Seq2Seq,
    StackedRNN,
    run_manual,
)

__all__ = [
    "LOOPS",
    "BiRNN",
    "BuiltInRNN",
    "Decoder",
    "Encoder",
    "GRUModel",
    "LSTMModel",
    "LoopGRU",
    "LoopLSTM",
    "LoopRNN",
    "LoopRecurrent",
    "ManualRNN",
    "Seq2Seq",
    "StackedRNN",
    "loop_from_module",
    "run_manual",
]
