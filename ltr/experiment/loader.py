"""Experiment files: a TOML declaration, or a Python file defining ``EXPERIMENT``.

A ``.py`` experiment runs code by design: it is trusted input, like any script you run. Relative data paths of
both kinds resolve against the file's folder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ltr.errors import ConfigError
from ltr.experiment.spec import Experiment


def load_experiment(target: str | Path):
    """An experiment from a ``.toml`` file or a Python file defining ``EXPERIMENT``: an :class:`Experiment`, or a
    :class:`ltr.experiment.clicks.ClickExperiment` when the declaration has a ``[clicks]`` table.

    A ``.py`` experiment runs code by design (it is trusted input, like a script); relative data paths of
    both kinds resolve against the file's folder."""
    path = Path(target)
    if path.suffix == ".toml":
        from ltr.experiment.clicks import ClickExperiment, is_click_declaration
        if path.is_file():
            from ltr.io.toml import read_toml
            if is_click_declaration(read_toml(path)):
                return ClickExperiment.from_toml(path)
        return Experiment.from_toml(path)
    if path.suffix == ".py":
        if not path.is_file():
            raise ConfigError(f"experiment file {path} does not exist")
        import importlib.util
        spec = importlib.util.spec_from_file_location(f"_ltr_experiment_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        exp = getattr(module, "EXPERIMENT", None)
        from ltr.experiment.clicks import ClickExperiment
        if not isinstance(exp, (Experiment, ClickExperiment)):
            raise ConfigError(f"{path} must define EXPERIMENT = Experiment(...)")
        if exp.base_dir == ".":   # relative data paths mean: next to the experiment file, as in TOML
            exp = dataclasses.replace(exp, base_dir=str(path.resolve().parent))
        return exp
    raise ConfigError(f"an experiment is a .toml or .py file, got {path}")
