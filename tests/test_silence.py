"""rnnspec.silence: warning filters changed for a block, and put back only while still its own.

A block entered on a worker thread that rnnspec abandons past its deadline ends when
the hung call returns, perhaps tens of seconds later; putting back the filters it saw
on entry would then clobber those of whatever runs at that moment (in a serial pytest
run, a later test's ``ignore`` filters vanished and its warning became an error).
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

import pytest

from rnnspec import check
from rnnspec.silence import ignored, silenced


def test_the_blocks_ignore_what_they_say_and_restore_the_filters() -> None:
    before = warnings.filters
    with ignored():
        warnings.warn("anything", UserWarning, stacklevel=1)
    with silenced([(UserWarning, "listed")]):
        warnings.warn("listed here", UserWarning, stacklevel=1)
        with pytest.warns(UserWarning, match="other"):
            warnings.warn("other", UserWarning, stacklevel=1)
    assert warnings.filters is before


def test_a_block_that_ends_late_on_another_thread_leaves_later_filters_alone() -> None:
    entered, release = threading.Event(), threading.Event()

    def late() -> None:
        with ignored():
            entered.set()
            release.wait(10)

    with warnings.catch_warnings():  # the caller's block, gone before the thread's ends
        thread = threading.Thread(target=late)
        thread.start()
        assert entered.wait(10)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "probe", DeprecationWarning)
        mine = warnings.filters
        release.set()
        thread.join(10)
        assert warnings.filters is mine
        warnings.warn("probe", DeprecationWarning, stacklevel=1)  # still ignored


def test_an_abandoned_candidate_call_leaves_later_filters_alone() -> None:
    release, workers = threading.Event(), []

    def factory(reference: Any) -> Any:
        def candidate(*args: Any) -> Any:
            workers.append(threading.current_thread())
            release.wait(10)

        return candidate

    report = check(factory, "rnn", max_examples=2, seed=0, deadline=0.2, laws=["equivalence"])
    assert "did not return within 0.2 s" in report.results[0].message
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "probe", DeprecationWarning)
        mine = warnings.filters
        release.set()
        for worker in workers:
            worker.join(10)
        assert warnings.filters is mine
        warnings.warn("probe", DeprecationWarning, stacklevel=1)
