"""A peer that kills its process as soon as it is loaded, as a framework's crashing
native code does (before rnnspec's own worker processes could contain it)."""

import os

os.abort()  # SIGABRT: no exception, no cleanup, the interpreter is gone
