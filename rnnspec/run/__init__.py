"""The conformance runner: checking a subject against the laws, and what a run reports.

``checker`` runs the laws (``rnnspec.check``), ``report`` holds their results,
``candidates`` names the built-in subjects (torch's modules, the seed's loops),
``causes`` and ``diagnosis`` explain a failure.
"""
