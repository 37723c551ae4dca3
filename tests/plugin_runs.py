"""Run the pytest plugin end to end in a fresh interpreter, as a user's project would.

The run's directory is ``tmp_path`` (its own ``pytest.ini``, rootdir and only test path),
so rnnspec's own configuration and conftest stay out of it; the working directory is the
repository, so ``tests.mutants`` and ``examples`` import.  Candidates written to
``tmp_path`` import too: it is on the run's PYTHONPATH (and so on pytest-xdist workers').
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_plugin(
    tmp_path: Path,
    *args: str,
    seed: int | None = 0,
    max_examples: int = 5,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` on ``tmp_path`` with ``args``; ``seed=None`` lets the run draw one."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(tmp_path / "pytest.ini"),
        "--rootdir",
        str(tmp_path),
        str(tmp_path),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",  # the runs assert the order of their lines
        "--rnnspec-max-examples",
        str(max_examples),
        *([] if seed is None else ["--rnnspec-seed", str(seed)]),
        *args,
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    for name in list(env):  # under pytest-xdist, the inner run is no worker of ours
        if name.startswith("PYTEST_XDIST_") or name in ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"):
            del env[name]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=env
    )
