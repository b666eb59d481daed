"""Ablations: the same system under several variants of an experiment, compared on the same test queries.

Each variant is a full :class:`~ltr.experiment.spec.Experiment` run into ``out_dir/<label>`` (resumable like
any run); the comparison pools each variant's per-query values of one system and tests every variant against
the first one with the experiments' paired test and correction. Used by the hard-negative and feature-group
ablations in ``experiments/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ltr.errors import ConfigError
from ltr.experiment.reporting import pooled_per_query, read_metrics
from ltr.experiment.runner import run_experiment
from ltr.experiment.spec import Experiment
from ltr.atomic import atomic_write


def run_ablation(variants: dict[str, Experiment], out_dir, *, system: str | None = None, progress: bool = True,
                 overwrite: bool = False):
    """Run every variant, then compare ``system`` across them (the first variant is the baseline).

    Parameters
    ----------
    variants : dict of label -> Experiment
        The variants, in the order of the report; the first is the reference.
    out_dir : path
        Each variant runs into ``out_dir/<label>``; the comparison is written to ``out_dir/report.*``.
    system : str, optional
        ``backend/objective`` compared across variants (default: the first variant's baseline).

    Returns
    -------
    ltr.report.Report
    """
    from ltr.report import compare
    if not variants:
        raise ConfigError("run_ablation needs at least one variant")
    out = Path(out_dir)
    labels = list(variants)
    first = variants[labels[0]]
    system = system or first.baseline
    frames = []
    for label, exp in variants.items():
        names = [s.name for s in exp.systems()]
        if system not in names:
            raise ConfigError(f"variant {label!r} does not run system {system!r}; it runs {names}")
        run_dir = run_experiment(exp, out / label, progress=progress, overwrite=overwrite)
        per_query = pooled_per_query(read_metrics(run_dir))
        frames.append(per_query[per_query["system"] == system].assign(system=label))
    report = compare(pd.concat(frames, ignore_index=True), baseline=labels[0], metrics=list(first.metrics),
                     test=first.test, correction=first.correction, alpha=first.alpha, missing="error",
                     title=f"Ablation of {system}: {', '.join(labels)}")
    report.save(out)
    with atomic_write(out / "variants.txt") as handle:
        for label, exp in variants.items():
            handle.write(f"[{label}] -> {label}/manifest.json\n{exp.to_toml()}\n")
    return report
