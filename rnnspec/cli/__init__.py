"""The ``rnnspec`` console script (``main``) and its subcommands; ``options`` is shared
with the pytest plugin."""
