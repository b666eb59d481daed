"""Bridges to the tools our users already work in (floor 7: they wrap the pipeline, models and metrics below).

- :mod:`ltr.interop.pyterrier`: our first stage, feature sets and rankers as PyTerrier transformers and
  estimators (``pip install 'ltr[pyterrier]'``), composable with PyTerrier's ``>>`` and ``**`` and evaluated by
  ``pt.Experiment``.

Importing this package is free: each bridge imports its library when it is itself imported.
"""
