"""The execution-mode matrix: torch's own modules run another way, checked as candidates.

``wrappers`` holds the factory wrappers (TorchScript, compile, export, quantization,
devices), ``onnx`` the ONNX export run in ONNX Runtime, ``table`` the :class:`Mode`
rows, ``matrix`` runs them (:func:`run_matrix`) and ``repro`` writes a plain-torch
script for each disagreement.
"""

from __future__ import annotations

from rnnspec.modes.matrix import Matrix, run_matrix
from rnnspec.modes.repro import repro_script
from rnnspec.modes.table import DEFAULT_MODES, MODES, Mode, get_mode

__all__ = ["DEFAULT_MODES", "MODES", "Matrix", "Mode", "get_mode", "repro_script", "run_matrix"]
