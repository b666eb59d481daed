"""Reports of a finished (or partly finished) experiment folder: ``ltr report DIR`` and ``ltr compare A B``.

Numbers come from the folder's files, never from memory of the run:

- the summary table pools the per-query values of all test queries over folds (each query is tested in one
  fold), a system's value for a query being its mean over seeds; paired tests against the baseline with the
  experiment's correction across the non-baseline systems of each metric;
- the spread over seeds and folds is a separate table: the mean of each (fold, seed) cell, then their mean,
  standard deviation, minimum and maximum;
- metric@k curves are recomputed from the TREC run files and the saved test qrels by the harness.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ltr.errors import ConfigError, DataError
from ltr.experiment import integrity
from ltr.experiment.spec import Experiment
from ltr.experiment.systems import parse_system
from ltr.schema import QID

CURVE_CUTOFFS = (1, 3, 5, 10, 20)


def read_metrics(out: Path) -> pd.DataFrame:
    """metrics.csv with a ``system`` column (``backend/objective``); ids as str."""
    path = Path(out) / "metrics.csv"
    if not path.is_file():
        raise ConfigError(f"{out} has no metrics.csv yet: finish the run with `ltr run` first")
    frame = integrity.read_csv(path, dtype={QID: str, "fold": str, "objective": str, "backend": str},
                               keep_default_na=False)
    missing = [c for c in ("fold", "objective", "backend", "seed", QID, "metric", "value") if c not in frame]
    if missing:
        raise DataError(f"{path} lacks the columns {missing} that `ltr run` writes; run it again to recompute it")
    frame["system"] = frame["backend"] + "/" + frame["objective"]
    return frame


def experiment_cells(out: Path, manifest: dict) -> list[tuple[Path, dict]]:
    """The verified cells of the manifest's systems and seeds (cells of systems an extension dropped, or of
    another identity, stay on disk but are not reported)."""
    systems, seeds = set(manifest["systems"]), set(manifest["seeds"])
    return [(d, info) for d, info in integrity.cells(out, manifest)
            if info.get("system") in systems and (info.get("seed") is None or info.get("seed") in seeds)]


def pooled_per_query(metrics: pd.DataFrame) -> pd.DataFrame:
    """``system, qid, metric, value``: each test query once (pooled over folds), averaged over seeds.

    Qids that appear in several folds' test sets (not the case for LETOR folds or k-fold splits) are kept
    apart as ``fold:qid``."""
    per = metrics.groupby(["system", "fold", QID, "metric"], sort=False)["value"].mean().reset_index()
    counts = per.groupby(["system", "metric", QID])["fold"].transform("nunique")
    per[QID] = np.where(counts > 1, per["fold"] + ":" + per[QID], per[QID])
    return per[["system", QID, "metric", "value"]]


def seed_fold_spread(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean of each (fold, seed) cell, then mean / std / min / max over cells, per system and metric."""
    cells = metrics.groupby(["system", "metric", "fold", "seed"], sort=False)["value"].mean().reset_index()
    spread = cells.groupby(["system", "metric"], sort=False)["value"].agg(
        cells="size", mean="mean", std=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
        min="min", max="max").reset_index()
    return spread


def seeds_without_effect(metrics: pd.DataFrame) -> list[str]:
    """Systems whose per-query values are identical for every seed in every fold (a seed changed nothing)."""
    out = []
    if metrics["seed"].nunique() < 2:
        return out
    for system, sub in metrics.groupby("system", sort=False):
        spread = sub.groupby(["fold", QID, "metric"])["value"].agg(lambda v: v.max() - v.min())
        if (spread == 0).all():
            out.append(system)
    return out


def _cells(cells: list[tuple[Path, dict]], name: str) -> pd.DataFrame:
    frames = []
    for folder, cell in cells:
        path = folder / name
        if path.is_file():
            frame = integrity.read_csv(path)
            frames.append(frame.assign(system=cell["system"], fold=cell["fold"], seed=cell["seed"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def metric_at_k(out: Path, cells: list[tuple[Path, dict]], cutoffs=CURVE_CUTOFFS,
                family: str = "nDCG") -> pd.DataFrame:
    """``system, qid, metric, value`` for ``family@k`` at each cutoff, recomputed from the run files and the
    saved test qrels (pooled over folds, mean over seeds)."""
    from ltr.io import read_qrels, read_run
    from ltr.metrics import evaluate
    frames = []
    metrics = [f"{family}@{k}" for k in cutoffs]
    qrels_by_fold = {}
    for _, cell in cells:
        run_file = next((out / rel for rel in cell["files"] if rel.endswith(".trec")), None)
        if run_file is None:
            continue
        if cell["fold"] not in qrels_by_fold:
            qrels_by_fold[cell["fold"]] = read_qrels(out / "qrels" / f"{cell['fold']}.qrels")
        values = evaluate(qrels_by_fold[cell["fold"]], read_run(run_file), metrics)
        frames.append(values.assign(system=cell["system"], fold=cell["fold"], seed=cell["seed"]))
    if not frames:
        return pd.DataFrame(columns=["system", QID, "metric", "value"])
    return pooled_per_query(pd.concat(frames, ignore_index=True))


def _configurations(exp: Experiment, systems: list[str]) -> list[str]:
    """One line per system: the exact backend objective and settings it used (``Objective.describe``)."""
    fixed = {f.name for f in exp.fixed_systems()}
    lines = []
    for name in systems:
        if name in fixed:
            text = "a fixed run (the first stage's own ranking, not trained)"
        else:
            system = parse_system(name)
            text = system.objective.describe(system.backend)
        lines.append(f"{name}: " + "; ".join(line.strip() for line in text.splitlines() if line.strip()))
    return lines


def _tuning(out: Path, manifest: dict) -> pd.DataFrame:
    rows = []
    systems = set(manifest["systems"])
    for path in sorted((out / "tuning").glob("*/*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path} is damaged ({exc}); run `ltr run` again to recompute it") from None
        if info.get("system") not in systems or info.get("identity") != manifest.get("identity"):
            continue
        system = parse_system(info["system"])
        config = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in system.own_settings(info["config"]).items())
        best = info["trials"][info["best"]]["valid_score"]
        rows.append({"fold": info["fold"], "system": info["system"], "trials": len(info["trials"]),
                     f"best valid {info['metric']}": np.nan if best is None else float(best),
                     "chosen configuration": config})
    return pd.DataFrame(rows)


def build_report(out_dir, *, plots: bool = True) -> list[Path]:
    """(Re)build ``report.md``, ``report.html``, ``report.tex`` and ``summary.csv`` of an experiment folder."""
    from ltr.report import compare
    from ltr.report import plots as P

    out = Path(out_dir)
    manifest = integrity.read_manifest(out)
    integrity.check_recorded(out, manifest)
    cells = experiment_cells(out, manifest)
    exp = Experiment.from_dict(manifest["experiment"], source=str(out / "manifest.json"))
    metrics = read_metrics(out)
    if metrics.empty:
        raise DataError(f"{out}/metrics.csv holds no values yet")
    systems = [s for s in manifest["systems"] if s in set(metrics["system"])]
    baseline = manifest["experiment"]["baseline"]
    if baseline not in systems:
        baseline = systems[0]
    per_query = pooled_per_query(metrics)
    report = compare(per_query, baseline=baseline, metrics=list(exp.metrics), test=exp.test,
                     correction=exp.correction, alpha=exp.alpha, seed=0,
                     title=f"{exp.name}: objective comparison")
    if manifest.get("status") != "finished":
        report.warnings = report.warnings + (f"the run is not finished (status {manifest.get('status')!r}): "
                                             f"tables cover the cells done so far",)
    # Figures from the folder's files, drawn together below (in parallel processes)
    if plots:
        controls = [c.name for c in exp.control_systems() if c.name in systems]
        report.add_lead_figure(exp.primary, controls=controls)
        at_k = metric_at_k(out, cells)
        if not at_k.empty:
            drawn = set(at_k["system"])      # systems with run files (an A/A control keeps none)
            report.add_figure("nDCG@k", P.figure_job("plot_metric_at_k", per_query=at_k,
                                                     systems=[s for s in systems if s in drawn]),
                              caption="Mean nDCG@k (trec_eval conventions) per system, recomputed from the run "
                                      "files; pooled over folds, mean over seeds.")
        curves = _cells(cells, "curves.csv")
        if not curves.empty:
            first = curves[(curves["fold"] == curves["fold"].iloc[0]) & (curves["seed"] == exp.seeds[0])]
            report.add_figure("Training and validation curves", P.figure_job(
                "plot_training_curves", curves=first[["system", "iteration", "split", "metric", "value"]],
                weight=2),
                caption=f"Per-iteration metric of each system (fold {first['fold'].iloc[0]}, seed "
                        f"{exp.seeds[0]}), computed by ltr on the candidate sets.")
        importance = _cells(cells, "importance.csv")
        if not importance.empty:
            imp = importance.groupby(["system", "feature"], sort=False)["importance"].mean().reset_index()
            report.add_figure("Feature importance", P.figure_job("plot_feature_importance", importance=imp, top_k=15,
                                                                    weight=2),
                              caption="Total split gain per feature (share of each model's total), mean over "
                                      "folds and seeds.")
        recall_path = out / "tables" / "first_stage_recall.csv"
        if recall_path.is_file():
            report.add_figure("First-stage recall@k", P.figure_job("plot_recall_at_k",
                                                                  recall=integrity.read_csv(recall_path)),
                              caption="Recall of the relevant documents in the first stage's top k: the "
                                      "ceiling no re-ranker can pass.")
        stage_path = out / "tables" / "stage_cost.csv"
        if stage_path.is_file():
            cost = integrity.read_csv(stage_path)
            scoring = [info.get("predict_seconds_per_query") for _, info in cells]
            scoring = [v for v in scoring if v is not None]   # trained cells only
            cost.loc[len(cost) - 1, "seconds_per_query"] += float(np.mean(scoring)) if scoring else 0.0
            report.add_figure("Per-stage cost", P.figure_job("plot_stage_cost", cost=cost),
                              caption="Time per query of each stage (the re-ranking stage: its features plus the "
                                      "GBDT's scoring) and the number of feature values computed per query.")
    # Sections of our own around the comparison
    spread = seed_fold_spread(metrics)
    spread = spread[spread["metric"].isin(exp.metrics)]
    no_effect = [s for s in seeds_without_effect(metrics) if s not in {f.name for f in exp.fixed_systems()}]
    sections = [("Spread over folds and seeds", spread, "Mean of each (fold, seed) cell's metric; the paired "
                 "tests above use the pooled per-query values instead.")]
    tuning = _tuning(out, manifest) if exp.tuning.budget > 1 else pd.DataFrame()
    if not tuning.empty:
        sections.append(("Tuning", tuning, f"Random search, {exp.tuning.budget} configurations per fold and "
                                           f"system on the validation data (the first is the defaults)."))
    notes = list(manifest.get("data_notes", []))
    if exp.tuning.budget == 1:
        notes.append("No tuning (tuning.budget = 1): every system trained with the training settings as "
                     "declared.")
    if no_effect:
        notes.append(f"The seed changed nothing for {no_effect}: their training is deterministic without "
                     f"subsampling, so every seed gives the same model.")
    if manifest.get("skipped"):
        notes.append(f"Not run (the backend does not offer the objective): {manifest['skipped']}.")
    n_queries = per_query.groupby("system")[QID].nunique().max()
    notes.insert(0, f"{n_queries} test queries pooled over {len(manifest['folds'])} fold(s) "
                    f"({', '.join(manifest['folds'])}); seeds {manifest['seeds']}.")
    notes += queries_without_relevant(out, manifest["folds"], exp.metrics)
    report.add_section("Data and protocol", notes=notes)
    report.add_section("Backend configurations", notes=_configurations(exp, systems),
                       caption="The exact backend objective and settings of each system.")
    for title, frame, caption in sections:
        report.add_section(title, table=frame, caption=caption)
    report.draw_figures(plots=plots, processes=None)
    paths = report.save(out, plots=plots)
    return [paths["report.md"], paths["report.html"], paths["report.tex"], paths["summary.csv"]]


def queries_without_relevant(out: Path, folds: list[str], metrics) -> list[str]:
    """Per fold, the test queries without a relevant document and how each metric scores them (its ``norel``
    rule: trec_eval's 0, LightGBM's 1), so that no query is scored by a rule the reader was not told."""
    from ltr.io import read_qrels
    from ltr.metrics import parse_metric
    rules = {}
    for m in metrics:
        norel = (getattr(parse_metric(m), "params", {}) or {}).get("norel")
        if norel is not None:
            rules.setdefault(int(norel), []).append(m)
    lines = []
    for fold in folds:
        path = out / "qrels" / f"{fold}.qrels"
        if not path.is_file():
            continue
        qrels = read_qrels(path)
        relevant = qrels.groupby(QID, sort=False)["label"].max()
        empty = relevant.index[relevant.to_numpy() <= 0].tolist()
        if empty:
            shown = ", ".join(empty[:8]) + (f" and {len(empty) - 8} more" if len(empty) > 8 else "")
            how = "; ".join(f"{', '.join(ms)} score them {v}" for v, ms in sorted(rules.items()))
            lines.append(f"Fold {fold}: {len(empty)} of {len(relevant)} test queries have no relevant document "
                         f"({shown}); {how or 'no metric here has a rule for them'} (the metric's norel rule).")
    return lines


def compare_dirs(dir_a, dir_b, *, out=None):
    """Compare two finished experiments on their common queries and metrics (``ltr compare A B``)."""
    from ltr.report import compare_experiments
    a, b = Path(dir_a), Path(dir_b)
    for folder in (a, b):
        integrity.check_recorded(folder, integrity.read_manifest(folder))
    per_a, per_b = pooled_per_query(read_metrics(a)), pooled_per_query(read_metrics(b))
    report = compare_experiments(per_a, per_b, labels=(a.name or str(a), b.name or str(b)))
    if out is not None:
        report.save(out)
    return report
