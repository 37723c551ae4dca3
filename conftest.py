"""Hypothesis profiles for rnnspec's own suite, chosen with ``--hypothesis-profile``.

- ``default``: 50 examples per law, random, the usual run.
- ``dev``: 10 examples, for a quick loop while editing.
- ``ci``: 50 examples, derandomized (the same examples every run), no database.
- ``thorough``: 1000 examples per law, for a long run before a release.
"""

import torch
from hypothesis import HealthCheck, settings

# The laws run many tiny tensors: one intra-op thread is faster than two fighting
# for two cores, and keeps pytest-xdist workers from oversubscribing the machine.
torch.set_num_threads(1)

_common = {
    "deadline": None,  # CPU timing on a shared machine is noise, not a bug
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("default", max_examples=50, **_common)
settings.register_profile("dev", max_examples=10, **_common)
settings.register_profile("ci", max_examples=50, derandomize=True, database=None, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile("default")
