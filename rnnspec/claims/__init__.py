"""The seed notebook's claims judged: the model of a claim and its verdicts (``model``),
the ledger of quoted sentences (``ledger``), their checks (``structural`` for facts,
``measured`` for speed and gradients), the judge (``judge``), and the comparison of
ledgers across machines (``compare``, ``plots``).
"""
