"""Reports on the store: aging, DSO, effectiveness of syncd's own actions, the HTML report.

The maths lives in pure modules (``ledger``, ``aging``, ``dso``, ``effectiveness``) working
on plain dataclasses; ``load`` is the only module that reads the store, so every figure can be
checked against an independent computation on hand-made histories.
"""
