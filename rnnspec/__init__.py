"""rnnspec: an executable specification of recurrent networks in PyTorch.

``rnnspec.check(factory, kind="lstm")`` runs the specification's laws against your
own implementation; ``rnnspec.LAWS`` lists them.  Importing rnnspec imports torch.
"""

from rnnspec.check import check
from rnnspec.laws import LAWS, Law, LawFailure
from rnnspec.report import LawResult, Report
from rnnspec.scope import Scope
from rnnspec.tolerance import Tolerance, tolerance

__version__ = "0.1.0"

__all__ = [
    "LAWS",
    "Law",
    "LawFailure",
    "LawResult",
    "Report",
    "Scope",
    "Tolerance",
    "__version__",
    "check",
    "tolerance",
]
