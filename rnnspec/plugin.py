"""pytest plugin: ``pytest --rnnspec-impl MODULE:FACTORY --rnnspec-kind lstm``.

Collects one test item per law under a collector of its own, with node ids
``rnnspec::<kind>::<law>``: they count in ``collected N items``, and select like any
pytest node: ``-k``, ``--deselect rnnspec::lstm::packed``, and as positional arguments
(``pytest --rnnspec-impl ... rnnspec::lstm::shape``; ``rnnspec::lstm`` selects them all).
With ``--rnnspec-impl`` and no test path the law items run alone (not the project's
``testpaths``); name paths to run them beside your tests.  ``--rnnspec-xfail LAW``
expects a law to fail.  The header names the run's seed; a failure carries its
Hypothesis blob and the command that replays it.  The options are those of
``rnnspec check`` (``rnnspec.cli.options``).  Nothing here imports torch unless
``--rnnspec-impl`` is given.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from rnnspec.cli.options import UsageError, add_options, load_object, parse_laws
from rnnspec.run.misspelled import MisspelledScopeWarning

PREFIX = "rnnspec-"
ROOT = "rnnspec"  # the collector's name: node ids are rnnspec::<kind>::<law>


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


@dataclass
class _Run:
    """What the plugin checks in this session, decided once at configure time.

    ``plan`` is what rnnspec's one door (``rnnspec.run.checker.resolve``) made of the
    options; ``laws`` are those of its laws that get an item (of the kind, selected).
    """

    spec: str
    kind: str
    plan: Any
    laws: list[Any]
    xfail: set[str]
    selectors: list[str]
    alone: bool
    failed: set[str] = field(default_factory=set)  # law ids failed so far in this process

    @property
    def seed(self) -> int:
        return int(self.plan.seed)

    @property
    def max_examples(self) -> int:
        return int(self.plan.max_examples)

    def nodeid(self, law_id: str) -> str:
        return f"{ROOT}::{self.kind}::{law_id}"

    @property
    def group(self) -> str:
        """The pytest-xdist group of the laws that compare equivalence's forward."""
        return f"{ROOT}-{self.kind}-equivalence"

    def replay(self, law_id: str) -> str:
        """The command that reruns one law on the same examples."""
        return (
            f"pytest --{PREFIX}impl {self.spec} --{PREFIX}kind {self.kind} "
            f"--{PREFIX}seed {self.seed} --{PREFIX}max-examples {self.max_examples} "
            f"{self.nodeid(law_id)}"
        )


_RUN = pytest.StashKey[_Run]()


def pytest_configure(config: pytest.Config) -> None:
    spec = config.getoption("rnnspec_impl")
    selectors = [a for a in config.args if a.startswith(f"{ROOT}::")]
    if not spec:
        if selectors:
            raise pytest.UsageError(f"rnnspec: {selectors[0]} names a law item: add --rnnspec-impl")
        return
    # pytest fills in testpaths or the current directory when no argument names a path
    given = config.args_source is pytest.Config.ArgsSource.ARGS
    paths = [a for a in config.args if not a.startswith(f"{ROOT}::")]
    alone = not given or not paths
    try:
        run = _prepare(config, spec, selectors, alone)
    except UsageError as exc:
        raise pytest.UsageError(f"rnnspec: {exc}") from None
    if alone:
        config.args[:] = []  # no test path: only the law items are collected
    else:
        config.args[:] = paths
    config.stash[_RUN] = run


def _prepare(config: pytest.Config, spec: str, selectors: list[str], alone: bool) -> _Run:
    from hypothesis import settings

    from rnnspec.laws import LAWS
    from rnnspec.run.checker import resolve

    kind = config.getoption("rnnspec_kind")
    if kind is None:
        raise UsageError("--rnnspec-kind is required with --rnnspec-impl (rnn, lstm or gru)")
    factory = load_object(spec, "--rnnspec-impl")
    scope_spec = config.getoption("rnnspec_scope")
    scope = load_object(scope_spec, "--rnnspec-scope") if scope_spec else None
    seed = config.getoption("rnnspec_seed")
    if seed is None:  # a pytest-xdist worker runs with its controller's seed
        seed = getattr(config, "workerinput", {}).get("rnnspec_seed")
    try:  # the one door: it validates all of it, as for rnnspec.check()
        plan = resolve(
            factory,
            kind,
            scope=scope,
            max_examples=config.getoption("rnnspec_max_examples") or settings().max_examples,
            seed=seed,
            laws=parse_laws(config.getoption("rnnspec_laws")),
            deadline=config.getoption("rnnspec_deadline"),
            name=spec,
            isolate=config.getoption("rnnspec_isolate"),
            max_memory=config.getoption("rnnspec_max_memory"),
        )
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    if plan.misspelled_scope:
        config.issue_config_time_warning(MisspelledScopeWarning(plan.misspelled_scope), 2)
    xfail = set(config.getoption("rnnspec_xfail"))
    unknown = xfail - set(LAWS)
    if unknown:
        raise UsageError(f"unknown law ids {sorted(unknown)} for --rnnspec-xfail")
    chosen = {law.id for law in plan.laws}
    laws = [law for law in LAWS.values() if kind in law.kinds and law.id in chosen]
    run = _Run(
        spec=spec,
        kind=kind,
        plan=plan,
        laws=laws,
        xfail=xfail,
        selectors=selectors,
        alone=alone,
    )
    ids = [run.nodeid(law.id) for law in laws]
    for selector in selectors:
        if not any(i == selector or i.startswith(f"{selector}::") for i in ids):
            raise UsageError(f"not found: {selector} (the law items are {ROOT}::{kind}::<law>)")
    if selectors:
        run.laws = [
            law
            for law, i in zip(laws, ids, strict=True)
            if any(i == s or i.startswith(f"{s}::") for s in selectors)
        ]
    return run


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: hand the controller's seed to each worker."""
    run = node.config.stash.get(_RUN, None)
    if run is not None:
        node.workerinput["rnnspec_seed"] = run.seed


@pytest.hookimpl(optionalhook=True)
def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: Any) -> None:
    """pytest-xdist: a worker died while running a law item (the candidate segfaulted,
    aborted, called ``os._exit``, was killed).  xdist fails the item with one line; add
    what rnnspec knows: the law, where to look, and the command that replays it."""
    config = getattr(sched, "config", None)  # every xdist scheduler keeps the controller's
    run = config.stash.get(_RUN, None) if config is not None else None
    law_id = crashitem.split("@")[0].removeprefix(f"{ROOT}::")  # loadgroup's "@group"
    if run is None or not law_id.startswith(f"{run.kind}::"):
        return
    law_id = law_id.split("::", 1)[1]
    report.location = (report.location[0], None, f"rnnspec law {law_id}")
    report.longrepr = "\n".join(
        [
            str(report.longrepr),
            f"  law '{law_id}' took its worker process down: the candidate or its factory "
            "ended it (a fatal signal such as SIGSEGV, an abort, os._exit, a kill)",
            "  for a fatal signal, the worker's faulthandler traceback on stderr names the line",
            f"  seed {run.seed}; replay: {run.replay(law_id)}",
        ]
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = config.stash.get(_RUN, None)
    if run is None:
        return []
    lines = [
        f"rnnspec: {run.spec} as {run.kind}, seed {run.seed}, {run.max_examples} examples "
        f"per law (replay with --{PREFIX}seed {run.seed} --{PREFIX}max-examples "
        f"{run.max_examples})"
    ]
    if run.alone:
        lines.append("rnnspec: no test path given, so only the law items run")
    return lines


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, None]:
    """Add the laws' collector to the session's, so the items are collected like any."""
    outcome = yield
    if not isinstance(collector, pytest.Session):
        return
    run = collector.config.stash.get(_RUN, None)
    report = outcome.get_result()
    if run is not None and report.passed and run.laws:
        report.result.append(LawsCollector.from_parent(collector, name=ROOT, nodeid=ROOT))


class LawsCollector(pytest.Collector):
    """``rnnspec``: holds one collector per kind (one kind per run)."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        run = self.config.stash[_RUN]
        return [KindCollector.from_parent(self, name=run.kind)]


class KindCollector(pytest.Collector):
    """``rnnspec::<kind>``: one item per law of the kind."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        from rnnspec.run.causes import COMPARES_WITH_TORCH
        from rnnspec.run.causes import ROOT as CAUSE

        run = self.config.stash[_RUN]
        # pytest-xdist: under --dist loadgroup, the laws whose failures are traced to
        # equivalence run on one worker, in order, so a failure there is marked
        # "probably the same cause" as in a serial run; every other law goes anywhere
        grouped = self.config.pluginmanager.hasplugin("xdist")
        same_forward = COMPARES_WITH_TORCH | {CAUSE}
        items: list[pytest.Item | pytest.Collector] = []
        for law in run.laws:
            item = LawItem.from_parent(self, name=law.id, law=law, run=run)
            if law.id in run.xfail:
                item.add_marker(pytest.mark.xfail(reason="--rnnspec-xfail", strict=True))
            if grouped and law.id in same_forward:
                item.add_marker(pytest.mark.xdist_group(run.group))
            items.append(item)
        return items


class LawItem(pytest.Item):
    """One law run against the candidate as rnnspec.check runs it (``run_one``)."""

    def __init__(self, *, law: Any, run: _Run, **kw: Any) -> None:
        super().__init__(**kw)
        self.law, self.run = law, run

    def runtest(self) -> None:
        from rnnspec.run.causes import probable_cause
        from rnnspec.run.checker import run_one

        result = run_one(self.run.plan, self.law)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            self.run.failed.add(self.law.id)
            cause = probable_cause(self.law.id, self.run.failed)
            raise LawFailed(self._message(result, cause))

    def _message(self, result: Any, cause: str | None) -> str:
        text = result.failure_text(self.run.nodeid(cause) if cause else None)
        return f"{text}\n  seed {self.run.seed}; replay: {self.run.replay(self.law.id)}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, LawFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[str, int, str]:
        return self.law.module, 0, f"rnnspec law {self.law.id}"


class LawFailed(Exception):
    """Raised by a LawItem whose law failed; its message is the law's report."""
