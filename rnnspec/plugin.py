"""pytest plugin: ``pytest --rnnspec-impl MODULE:FACTORY --rnnspec-kind lstm``.

Collects one test item per law, with stable ids ``rnnspec::<kind>::<law>``, so a
project can run rnnspec's laws in its own test suite, select them with ``-k`` and
xfail one with ``--rnnspec-xfail LAW``.  The options are those of ``rnnspec check``
(``rnnspec.options``).  Nothing here imports torch unless ``--rnnspec-impl`` is given.
"""

from __future__ import annotations

from typing import Any

import pytest

from rnnspec.options import UsageError, add_options, load_object, parse_laws

PREFIX = "rnnspec-"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rnnspec", "rnnspec conformance checking")
    group.addoption(
        f"--{PREFIX}impl",
        dest="rnnspec_impl",
        metavar="MODULE:FACTORY",
        help="check this factory's candidates against rnnspec's laws",
    )
    add_options(group.addoption, PREFIX)
    group.addoption(
        f"--{PREFIX}xfail",
        dest="rnnspec_xfail",
        action="append",
        default=[],
        metavar="LAW",
        help="expect this law to fail (repeatable)",
    )


class LawItem(pytest.Item):
    """One law run against the candidate through rnnspec.check's runner."""

    def __init__(self, *, law: Any, subject: Any, max_examples: int, seed: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.law, self.subject = law, subject
        self.max_examples, self.seed = max_examples, seed

    def runtest(self) -> None:
        from rnnspec.checker import run_law

        result = run_law(self.law, self.subject, max_examples=self.max_examples, seed=self.seed)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            raise LawFailed(result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, LawFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int, str]:
        return self.law.module, 0, f"rnnspec law {self.law.id}"


class LawFailed(Exception):
    """Raised by a LawItem whose law failed; its message is the law's report."""


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    spec = config.getoption("rnnspec_impl")
    if not spec:
        return
    try:
        items.extend(_law_items(session, config, spec))
    except UsageError as exc:
        raise pytest.UsageError(f"rnnspec: {exc}") from None


def _law_items(session: pytest.Session, config: pytest.Config, spec: str) -> list[pytest.Item]:
    import random

    from hypothesis import settings

    from rnnspec.checker import CANDIDATE_KINDS
    from rnnspec.laws import LAWS, Subject
    from rnnspec.scope import Scope

    kind = config.getoption("rnnspec_kind")
    if kind not in CANDIDATE_KINDS:
        raise UsageError("--rnnspec-kind is required with --rnnspec-impl (rnn, lstm or gru)")
    factory = load_object(spec, "--rnnspec-impl")
    if not callable(factory):
        raise UsageError(f"{spec} is a {type(factory).__name__}, not a callable factory")
    scope_spec = config.getoption("rnnspec_scope")
    scope = (
        load_object(scope_spec, "--rnnspec-scope")
        if scope_spec
        else getattr(factory, "scope", None)
    )
    scope = scope or Scope()
    if not isinstance(scope, Scope):
        raise UsageError(f"the scope is a {type(scope).__name__}, not an rnnspec.Scope")
    subject = Subject(kind, factory, scope, spec, deadline=config.getoption("rnnspec_deadline"))
    max_examples = config.getoption("rnnspec_max_examples") or settings().max_examples
    seed = config.getoption("rnnspec_seed")
    seed = seed if seed is not None else random.randrange(2**32)
    wanted = parse_laws(config.getoption("rnnspec_laws"))
    xfail = set(config.getoption("rnnspec_xfail"))
    unknown = (set(wanted or ()) | xfail) - set(LAWS)
    if unknown:
        raise UsageError(f"unknown law ids {sorted(unknown)}; see `rnnspec laws`")
    items: list[pytest.Item] = []
    for law in LAWS.values():
        if kind not in law.kinds or (wanted and law.id not in wanted):
            continue
        item = LawItem.from_parent(
            session,
            name=f"rnnspec::{kind}::{law.id}",
            law=law,
            subject=subject,
            max_examples=max_examples,
            seed=seed,
        )
        if law.id in xfail:
            item.add_marker(pytest.mark.xfail(reason="--rnnspec-xfail", strict=True))
        items.append(item)
    return items
