"""Hypothesis strategies for recurrent networks (public API).

Named with plural nouns for what they generate; every bound is keyword-only and
validated when the strategy is built, not when it is drawn from.  Sizes, flags
and seeds are drawn; tensors are made from the drawn seed (``rnnspec.config``),
so drawing stays fast and shrinking goes to the smallest sizes and seed 0.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st
from torch import Tensor

from rnnspec.config import DTYPE_NAMES, KINDS, NONLINEARITIES, Example, RNNConfig
from rnnspec.scope import Scope

T = TypeVar("T")

__all__ = [
    "examples",
    "initial_states",
    "lengths",
    "rnn_configs",
    "seeds",
    "sequence_lengths",
    "sequences",
]


def _check_range(name: str, low: int, high: int, floor: int = 1) -> None:
    for label, value in ((f"min_{name}", low), (f"max_{name}", high)):
        if not isinstance(value, int) or isinstance(value, bool) or value < floor:
            raise ValueError(f"{label} must be an integer >= {floor}, got {value!r}")
    if low > high:
        raise ValueError(f"min_{name}={low} must not exceed max_{name}={high}")


def _check_choices(name: str, given: Sequence[object], allowed: Sequence[object]) -> tuple:
    given = tuple(given)
    if not given:
        raise ValueError(f"{name} must name at least one of {tuple(allowed)}")
    unknown = [
        g for g in given if not any(g is a or (g == a and type(g) is type(a)) for a in allowed)
    ]
    if unknown:
        raise ValueError(f"{name} has unknown values {unknown}; allowed: {tuple(allowed)}")
    return given


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``torch.Generator``; they shrink towards 0."""
    return st.integers(0, 2**31 - 1)


_TABLE = 32
"""The most entries of a one-choice table (:func:`_weighted`); a wider range takes two
choices.  Hypothesis draws integers that appear in the source code (0, 1, 100 ...) more
often than others, which would shift a long table's weights."""


def _weighted(*groups: tuple[Sequence[T], int]) -> st.SearchStrategy[T]:
    """Each value of each ``(values, weight)`` group, ``weight`` times: one choice, not one a
    group.  Hypothesis shrinks a choice towards the first entry, so the simplest comes first.

    Every choice costs the engine tens of microseconds per example, and the checker draws
    thousands of examples: one table draw replaces a branch (``st.one_of``) and its value.
    """
    return st.sampled_from([v for values, weight in groups for v in values for _ in range(weight)])


def _sizes(low: int, high: int) -> st.SearchStrategy[int]:
    """Sizes that favour the edges (``low``, 1, small) without losing the whole range.

    One choice from a table of ``low`` to ``low + 4``, the edges and the whole range, so
    that the small sizes and the edges come up more often than the rest; a range too wide
    for one table draws one of the three groups, then a size from it.
    """
    small = range(low, min(high, low + 4) + 1)
    edges = sorted({low, min(high, max(low, 1)), high})
    whole = range(low, high + 1)
    if len(small) + len(edges) + len(whole) <= _TABLE:
        return _weighted((small, 1), (edges, 1), (whole, 1))
    return st.one_of(st.integers(low, small[-1]), st.sampled_from(edges), st.integers(low, high))


def _flags(*choices: Sequence[T]) -> st.SearchStrategy[tuple[T, ...]]:
    """One value from each of ``choices``, as one choice: the combinations in the order of
    a number whose digits are the values' positions, the first choice's the lowest digit.

    Hypothesis shrinks the choice as an integer, and an integer shrinks digit by digit, so
    each value still shrinks to its choice's first on its own, and so does a pair of
    values that a bug needs together.  (Ordered by how many values are not their choice's
    first, a case that needed one or two of them shrank to a neighbour with another value
    changed too in 1 to 6 runs in 10.)
    """
    return st.sampled_from([combo[::-1] for combo in itertools.product(*choices[::-1])])


def rnn_configs(
    *,
    kinds: Sequence[str] = KINDS,
    min_input: int = 1,
    max_input: int = Scope.max_input,
    min_hidden: int = 1,
    max_hidden: int = Scope.max_hidden,
    min_layers: int = 1,
    max_layers: int = Scope.max_layers,
    batch_first: Sequence[bool] = Scope.batch_first,
    bidirectional: Sequence[bool] = Scope.bidirectional,
    bias: Sequence[bool] = Scope.bias,
    nonlinearities: Sequence[str] = NONLINEARITIES,
    proj_size: bool = Scope.proj_size,
) -> st.SearchStrategy[RNNConfig]:
    """Constructor configs for nn.RNN / nn.LSTM / nn.GRU within the given bounds.

    Reaches hidden 1, input != hidden, 3 layers, both layouts and directions, bias
    on and off, tanh and relu, and LSTM ``proj_size`` (always < hidden_size).
    """
    kinds = _check_choices("kinds", kinds, KINDS)
    _check_range("input", min_input, max_input)
    _check_range("hidden", min_hidden, max_hidden)
    _check_range("layers", min_layers, max_layers)
    batch_first = _check_choices("batch_first", batch_first, (False, True))
    bidirectional = _check_choices("bidirectional", bidirectional, (False, True))
    bias = _check_choices("bias", bias, (True, False))
    nonlinearities = _check_choices("nonlinearities", nonlinearities, NONLINEARITIES)

    draw_config = _config_drawer(
        kinds,
        (min_input, max_input),
        (min_hidden, max_hidden),
        (min_layers, max_layers),
        (bias, batch_first, bidirectional, nonlinearities),
        proj_size,
    )
    strategy = _composite(draw_config)
    _INLINE[strategy] = draw_config
    return strategy


_INLINE: weakref.WeakKeyDictionary[st.SearchStrategy[RNNConfig], Callable[[st.DrawFn], RNNConfig]]
_INLINE = weakref.WeakKeyDictionary()
"""The function behind each strategy :func:`rnn_configs` returned: :func:`examples` calls
it inline instead of drawing from the strategy (each draw from a strategy costs the
engine a span and some calls, and the checker draws thousands of examples)."""


def _composite(draw_from: Callable[[st.DrawFn], T]) -> st.SearchStrategy[T]:
    """The strategy that draws ``draw_from(draw)``."""

    @st.composite
    def build(draw: st.DrawFn) -> T:
        return draw_from(draw)

    return build()


def _config_drawer(
    kinds: tuple[str, ...],
    inputs: tuple[int, int],
    hiddens: tuple[int, int],
    layers: tuple[int, int],
    flags: tuple[tuple[Any, ...], ...],
    proj_size: bool,
) -> Callable[[st.DrawFn], RNNConfig]:
    """What :func:`rnn_configs` draws, as a function of ``draw`` (see ``_INLINE``)."""
    # Every strategy is built once here, not per draw: building one (and validating it
    # on its first draw) costs more than drawing from it.
    kind_of = st.sampled_from(kinds)
    hidden_of = _sizes(*hiddens)
    input_of = _sizes(*inputs)
    bias, batch_first, bidirectional, nonlinearities = flags
    # the nonlinearity too, whatever the kind (only an RNN's is used): the choices do not
    # depend on the kind, so a case shrinks across kinds
    flags_of = _flags(
        bias, batch_first, bidirectional, nonlinearities if "rnn" in kinds else ("tanh",)
    )
    layers_of = st.integers(*layers)
    proj_of: dict[int, st.SearchStrategy[int]] = {}  # by hidden size, filled as drawn

    def draw_config(draw: st.DrawFn) -> RNNConfig:
        kind = draw(kind_of) if len(kinds) > 1 else kinds[0]  # one kind: no draw, no span
        hidden = draw(hidden_of)
        proj = 0
        if kind == "lstm" and proj_size and hidden > 1:
            if hidden not in proj_of:  # half of them none, the rest 1 to hidden - 1
                proj_of[hidden] = (
                    _weighted(([0], hidden - 1), (range(1, hidden), 1))
                    if 2 * (hidden - 1) <= _TABLE
                    else st.one_of(st.just(0), st.integers(1, hidden - 1))
                )
            proj = draw(proj_of[hidden])
        bias_, batch_first_, bidirectional_, nonlinearity = draw(flags_of)
        return RNNConfig(
            kind=kind,
            input_size=draw(input_of),
            hidden_size=hidden,
            num_layers=draw(layers_of),
            bias=bias_,
            batch_first=batch_first_,
            bidirectional=bidirectional_,
            nonlinearity=nonlinearity if kind == "rnn" else "tanh",
            proj_size=proj,
        )

    return draw_config


def examples(
    configs: st.SearchStrategy[RNNConfig] | None = None,
    *,
    min_batch: int = 1,
    max_batch: int = Scope.max_batch,
    min_len: int = 1,
    max_len: int = Scope.max_len,
    unbatched: bool = Scope.unbatched,
    initial_state: bool = Scope.initial_state,
    dtypes: Sequence[str] = ("float64",),
    device: str = "cpu",
) -> st.SearchStrategy[Example]:
    """Whole cases: a config, batch size (or unbatched), sequence length, hx or not, a seed.

    Long sequences (up to ``max_len``, 64+ by default) are drawn with small sizes
    often enough to find bugs that appear only after many steps.
    """
    _check_range("batch", min_batch, max_batch)
    _check_range("len", min_len, max_len)
    dtypes = _check_choices("dtypes", dtypes, DTYPE_NAMES)
    configs = configs if configs is not None else rnn_configs()
    # a strategy of rnn_configs is drawn inline, as a function: one span less an example
    draw_config = _INLINE.get(configs) or (lambda draw: draw(configs))

    # built once, not per draw (see rnn_configs)
    batch_of = _sizes(min_batch, max_batch)
    draw_seq_len = _seq_len_drawer(min_len, max_len)
    seed_of, dtype_of = seeds(), st.sampled_from(dtypes)
    # (unbatched, with hx) as one choice: unbatched one time in eight, hx one in two.
    # Unbatched comes first (the smallest input, where shrinking ends, as it did when it
    # was a choice of its own): at the end of the table, Hypothesis 6.100 drew it in none
    # of the first 100 examples of some seeds.
    shapes_of = _weighted(
        *(
            group
            for hx in ((False, True) if initial_state else (False,))
            for group in (([(True, hx)] if unbatched else [], 1), ([(False, hx)], 7))
        )
    )

    def draw_example(draw: st.DrawFn) -> Example:
        unbatched_, with_hx = draw(shapes_of)
        return Example(
            config=draw_config(draw),
            batch_size=None if unbatched_ else draw(batch_of),
            seq_len=draw_seq_len(draw),
            seed=draw(seed_of),
            dtype=draw(dtype_of) if len(dtypes) > 1 else dtypes[0],
            with_hx=with_hx,
            device=device,
        )

    return _composite(draw_example)


def sequence_lengths(*, min_len: int = 1, max_len: int = Scope.max_len) -> st.SearchStrategy[int]:
    """Sequence lengths: mostly short (cheap, and where shrinking ends), one in eight long.

    The long branch draws from the top dozen steps, so bugs that appear only after
    many steps (64+ by default) are reached in every run of a few dozen examples.
    """
    _check_range("len", min_len, max_len)
    return _composite(_seq_len_drawer(min_len, max_len))


def _seq_len_drawer(min_len: int, max_len: int) -> Callable[[st.DrawFn], int]:
    short = st.integers(min_len, min(max_len, min_len + 7))
    long = st.integers(max(min_len, max_len - 12), max_len)
    eighth = st.integers(0, 7)

    def draw_seq_len(draw: st.DrawFn) -> int:
        return draw(long if draw(eighth) == 7 else short)

    return draw_seq_len


def sequences(
    config: RNNConfig,
    *,
    batch_size: int | None = 2,
    min_len: int = 1,
    max_len: int = Scope.max_len,
    dtype: str = "float64",
) -> st.SearchStrategy[Tensor]:
    """Input tensors for ``config`` (``batch_size=None``: unbatched), values from a drawn seed."""
    if batch_size is not None:
        _check_range("batch", batch_size, batch_size)
    _check_choices("dtype", (dtype,), DTYPE_NAMES)
    return st.builds(
        lambda length, seed: Example(config, batch_size, length, seed, dtype).inputs()[0],
        sequence_lengths(min_len=min_len, max_len=max_len),
        seeds(),
    )


def initial_states(
    config: RNNConfig, *, batch_size: int | None = 2, dtype: str = "float64"
) -> st.SearchStrategy[Any]:
    """Non-zero initial states ``hx`` for ``config``: a tensor, or ``(h_0, c_0)`` for LSTM."""
    if batch_size is not None:
        _check_range("batch", batch_size, batch_size)
    _check_choices("dtype", (dtype,), DTYPE_NAMES)
    return seeds().map(
        lambda seed: Example(config, batch_size, 1, seed, dtype, with_hx=True).inputs()[1]
    )


def lengths(
    *, batch_size: int, max_len: int, sorted_: bool | None = None
) -> st.SearchStrategy[list[int]]:
    """Per-sequence lengths for a packed batch; the longest equals ``max_len``.

    ``sorted_=True`` gives non-increasing lengths, ``False`` leaves them in any order
    (``enforce_sorted=False``), ``None`` draws either.
    """
    _check_range("len", 1, max_len)
    _check_range("batch", 1, batch_size)
    return _lengths(batch_size, max_len, sorted_)


@st.composite
def _lengths(draw: st.DrawFn, batch_size: int, max_len: int, sorted_: bool | None) -> list[int]:
    # decorated once (st.composite reads the function's source): the packed laws draw
    # a new strategy per example
    values = draw(st.lists(st.integers(1, max_len), min_size=batch_size, max_size=batch_size))
    values[draw(st.integers(0, batch_size - 1))] = max_len
    order = sorted_ if sorted_ is not None else draw(st.booleans())
    return sorted(values, reverse=True) if order else values
