"""The child process of one cell of the peers' table (a peer, a kind).

``python -m rnnspec.peers.child SPEC OUT`` (started by
:func:`rnnspec.peers.table.cell_in_child`): SPEC is the peer and the run as JSON, OUT
where the child writes the cell as JSON.  A framework that kills the interpreter (a
segmentation fault, an abort) ends this process only.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rnnspec.peers import Peer
from rnnspec.peers.table import law_progress, run_cell

__all__ = ["main"]


def _tuples(value: Any) -> Any:
    """JSON's lists back into the tuples a Peer holds."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def main(argv: list[str]) -> int:
    spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    peer = Peer(**{key: _tuples(value) for key, value in spec["peer"].items()})
    cell = run_cell(
        peer,
        spec["kind"],
        spec["max_examples"],
        spec["seed"],
        law_progress if spec["verbose"] else None,
    )
    Path(out_path).write_text(json.dumps(asdict(cell)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
