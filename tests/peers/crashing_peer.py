"""A peer whose factory kills its process, as a framework's crashing kernel does."""

import os


def lstm(reference: object) -> object:
    os.abort()  # SIGABRT: no exception, no cleanup, the interpreter is gone
