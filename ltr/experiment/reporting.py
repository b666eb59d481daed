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

from ltr.errors import ConfigError, DataError, LTRError
from ltr.experiment import integrity
from ltr.experiment.curve import CURVE_FILE, CURVE_METRICS
from ltr.experiment.spec import Experiment
from ltr.experiment.systems import parse_system
from ltr.schema import DOCID, LABEL, QID


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


def experiment_cells(out: Path, manifest: dict, exp: Experiment) -> list[tuple[Path, dict]]:
    """The verified cells of the manifest's systems and seeds, and of the A/A control's own seeds (cells of
    systems an extension dropped, or of another identity, stay on disk but are not reported)."""
    systems, seeds = set(manifest["systems"]), {*manifest["seeds"], *exp.control_seeds()}
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
    if metrics["seed"].nunique() < 2:
        return []
    values = metrics.groupby(["system", "fold", QID, "metric"], sort=False)["value"]
    constant = (values.max() == values.min()).groupby(level="system", sort=False).all()
    return [system for system, same in constant.items() if same]


def _cells(cells: list[tuple[Path, dict]], name: str) -> pd.DataFrame:
    frames = []
    for folder, cell in cells:
        path = folder / name
        if path.is_file():
            frame = integrity.read_csv(path)
            frames.append(frame.assign(system=cell["system"], fold=cell["fold"], seed=cell["seed"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def metric_at_k(out: Path, cells: list[tuple[Path, dict]]) -> pd.DataFrame:
    """``system, qid, metric, value`` for nDCG@k at the curve's cutoffs (pooled over folds, mean over seeds):
    the values each cell saved (:data:`~ltr.experiment.curve.CURVE_FILE`), or, for cells finished before
    ``ltr`` saved them, recomputed from the run files and the saved test qrels.

    The recomputation is one :func:`~ltr.metrics.evaluate` call per fold: cell i's queries are renamed
    ``"i:qid"`` in its run (:func:`ltr.io.trec.read_runs_tagged`) and in a copy of the fold's qrels, so that
    the cells stay apart."""
    from ltr.io import read_qrels
    from ltr.io.trec import read_runs_tagged
    from ltr.metrics import evaluate
    frames, by_fold = [], {}
    for position, (folder, cell) in enumerate(cells):
        saved = folder / CURVE_FILE
        if str(saved.relative_to(out)) in cell["files"]:
            values = integrity.read_csv(saved, dtype={QID: str}, keep_default_na=False)
            frames.append(values.assign(position=position))
            continue
        run_file = next((out / rel for rel in cell["files"] if rel.endswith(".trec")), None)
        if run_file is not None:
            by_fold.setdefault(cell["fold"], []).append((position, run_file))
    for fold, entries in by_fold.items():
        qrels = read_qrels(out / "qrels" / f"{fold}.qrels")
        n, qids = len(entries), qrels[QID].tolist()
        judged = pd.DataFrame({QID: [f"{i}:{q}" for i in range(n) for q in qids],
                               DOCID: np.tile(qrels[DOCID].to_numpy(), n), LABEL: np.tile(qrels[LABEL].to_numpy(), n)})
        values = evaluate(judged, read_runs_tagged([run_file for _, run_file in entries]), list(CURVE_METRICS))
        codes, tagged = pd.factorize(values[QID])
        cell, qid = zip(*(t.split(":", 1) for t in tagged))
        position = np.array([entries[int(i)][0] for i in cell], dtype=np.int64)
        frames.append(values.assign(**{QID: np.array(qid, dtype=object)[codes], "position": position[codes]}))
    if not frames:
        return pd.DataFrame(columns=["system", QID, "metric", "value"])
    # cells in their given order (each cell's queries in evaluate's order): the seed means add up as before
    values = pd.concat(frames, ignore_index=True).sort_values("position", kind="stable", ignore_index=True)
    position = values.pop("position").to_numpy()
    values["system"] = [cells[p][1]["system"] for p in position]
    values["fold"] = [cells[p][1]["fold"] for p in position]
    values["seed"] = [cells[p][1]["seed"] for p in position]
    return pooled_per_query(values)


def _configurations(exp: Experiment, systems: list[str], trained: dict | None = None) -> list[str]:
    """One line per system: the exact backend objective and settings it used (``Objective.describe``), for
    the objective it trained with (``trained``: system -> objective spec from its tuning file, i.e. with the
    primary metric's gain when the protocol aligned it), else as declared."""
    from ltr.objectives import get_objective
    fixed = {f.name for f in exp.fixed_systems()}
    lines = []
    for name in systems:
        if name in fixed:
            text = "a fixed run (the first stage's own ranking, not trained)"
        else:
            system = exp.system(name)
            objective = system.objective
            if trained and name in trained:
                try:
                    objective = get_objective(trained[name])
                except LTRError:
                    pass   # a spec this version cannot parse: describe the declared objective
            text = objective.describe(system.backend)
        lines.append(f"{name}: " + "; ".join(line.strip() for line in text.splitlines() if line.strip()))
    return lines


def tuning_records(out: Path, manifest: dict):
    """The tuning files of this run's systems and identity, parsed, in path order (a damaged file is a
    DataError naming it)."""
    systems = set(manifest["systems"])
    for path in sorted((out / "tuning").glob("*/*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{path} is damaged ({exc}); run `ltr run` again to recompute it") from None
        if info.get("system") in systems and info.get("identity") == manifest.get("identity"):
            yield info


def _tuning(out: Path, manifest: dict) -> pd.DataFrame:
    rows = []
    for info in tuning_records(out, manifest):
        system = parse_system(info["system"])
        config = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in system.own_settings(info["config"]).items())
        best = info["trials"][info["best"]]["valid_score"]
        rows.append({"fold": info["fold"], "system": info["system"], "trials": len(info["trials"]),
                     f"best valid {info['metric']}": np.nan if best is None else float(best),
                     "chosen configuration": config})
    return pd.DataFrame(rows)


def _file_figures(out: Path, exp: Experiment, cells, systems: list[str], renderer) -> list[tuple]:
    """``(title, pending figure, caption)`` of the figures drawn from the folder's files (nDCG@k from the run
    files, training curves, feature importance, first-stage recall, stage cost), handed to ``renderer``."""
    from ltr.report import plots as P
    figures = []

    def add(title, job, caption):
        figures.append((title, renderer.submit(job), caption))

    with_runs = {cell["system"] for _, cell in cells if any(rel.endswith(".trec") for rel in cell["files"])}
    if with_runs:      # an A/A control keeps no run file; the worker that draws the curve reads the runs
        add("nDCG@k", P.figure_job("plot_metric_at_k", per_query=P.Deferred(metric_at_k, (out, cells)),
                                   systems=[s for s in systems if s in with_runs], weight=3),
            "Mean nDCG@k (trec_eval conventions) per system, computed from the run files; pooled over folds, "
            "mean over seeds.")
    curves = _cells(cells, "curves.csv")
    if not curves.empty:
        first = curves[(curves["fold"] == curves["fold"].iloc[0]) & (curves["seed"] == exp.seeds[0])]
        add("Training and validation curves",
            P.figure_job("plot_training_curves", curves=first[["system", "iteration", "split", "metric", "value"]],
                         weight=2),
            f"Per-iteration metric of each system (fold {first['fold'].iloc[0]}, seed {exp.seeds[0]}), computed "
            f"by ltr on the candidate sets.")
    importance = _cells(cells, "importance.csv")
    if not importance.empty:
        imp = importance.groupby(["system", "feature"], sort=False)["importance"].mean().reset_index()
        add("Feature importance", P.figure_job("plot_feature_importance", importance=imp, top_k=15, weight=2),
            "Total split gain per feature (share of each model's total), mean over folds and seeds.")
    recall_path = out / "tables" / "first_stage_recall.csv"
    if recall_path.is_file():
        add("First-stage recall@k", P.figure_job("plot_recall_at_k", recall=integrity.read_csv(recall_path)),
            "Recall of the relevant documents in the first stage's top k: the ceiling no re-ranker can pass.")
    stage_path = out / "tables" / "stage_cost.csv"
    if stage_path.is_file():
        cost = integrity.read_csv(stage_path)
        scoring = [info.get("predict_seconds_per_query") for _, info in cells]
        scoring = [v for v in scoring if v is not None]   # trained cells only
        cost.loc[len(cost) - 1, "seconds_per_query"] += float(np.mean(scoring)) if scoring else 0.0
        add("Per-stage cost", P.figure_job("plot_stage_cost", cost=cost),
            "Time per query of each stage (the re-ranking stage: its features plus the GBDT's scoring) and the "
            "number of feature values computed per query.")
    return figures


def build_report(out_dir, *, plots: bool = True) -> list[Path]:
    """(Re)build ``report.md``, ``report.html``, ``report.tex`` and ``summary.csv`` of an experiment folder."""
    from threadpoolctl import threadpool_limits

    from ltr.atomic import atomic_write
    from ltr.report import compare
    from ltr.report import plots as P

    out = Path(out_dir)
    manifest = integrity.read_manifest(out)
    if manifest.get("kind") == "clicks":
        raise ConfigError(f"{out} holds a click experiment: build its report with "
                          f"ltr.experiment.clicks.build_click_report({str(out)!r}) or `ltr report {out}`")
    integrity.check_recorded(out, manifest)
    exp = Experiment.from_dict(manifest["experiment"], source=str(out / "manifest.json"))
    cells = experiment_cells(out, manifest, exp)
    metrics = read_metrics(out)
    if metrics.empty:
        raise DataError(f"{out}/metrics.csv holds no values yet")
    measured = set(metrics["system"])
    systems = [s for s in manifest["systems"] if s in measured]
    baseline = manifest["experiment"]["baseline"]
    if baseline not in systems:
        baseline = systems[0]
    per_query = pooled_per_query(metrics)
    controls = [c.name for c in exp.control_systems() if c.name in systems]
    # one BLAS thread: the statistics' products are small, and the figure workers (forked at the first figure)
    # hold the other cores; a waiting OpenBLAS thread spins (with 2, the statistics took 1.7x the CPU time)
    with threadpool_limits(1, user_api="blas"), P.Renderer(processes=None if plots else 1) as renderer:
        # the figures from the folder's files first: worker processes draw them while this one compares
        file_figures = _file_figures(out, exp, cells, systems, renderer) if plots else []
        report = compare(per_query, baseline=baseline, metrics=list(exp.metrics), test=exp.test,
                         correction=exp.correction, alpha=exp.alpha, seed=0, family=exp.family,
                         primary=exp.primary, outside_family=controls, power=exp.protocol.power,
                         equivalence_margin=exp.protocol.equivalence_margin,
                         title=f"{exp.name}: objective comparison")
        if plots:
            report.add_lead_figure(exp.primary, controls=controls)
            report.start_figures(renderer)
            for title, pending, caption in file_figures:
                report.add_figure(title, pending, caption=caption)
        protocol = protocol_statistics(exp, metrics, per_query, report, controls=controls)
        report.headline = tuple(protocol["headline"])
        if manifest.get("status") != "finished":
            report.warnings = report.warnings + (f"the run is not finished (status {manifest.get('status')!r}): "
                                                 f"tables cover the cells done so far",)
        # Sections of our own around the comparison
        spread = seed_fold_spread(metrics)
        spread = spread[spread["metric"].isin(exp.metrics)]
        no_effect = [s for s in seeds_without_effect(metrics) if s not in {f.name for f in exp.fixed_systems()}]
        sections = []
        if not protocol["protocol"].empty:
            sections.append((f"Both levels of inference on the primary metric {exp.primary}", _display(protocol["protocol"]),
                             "Per comparison with the baseline: the per-query test (conditional on the trained models; "
                             "corrected p), the run-level permutation test (whole (system, seed) runs relabelled within "
                             "each fold, folds fixed blocks; corrected p, its floor = the smallest p the design can give), "
                             "the randomised Tukey HSD (all pairs, family-wise) and the MDE of each at "
                             f"{exp.protocol.power:.0%} power (per-query paired t: noncentral t; run-level and Tukey: "
                             "simulation). Rows outside the family are uncorrected."))
        runs_table = protocol["runs"]
        if not runs_table.empty:
            shown = runs_table[["metric", "system", "delta", "p_raw", "p_value", "family", "family_size", "level",
                                "p_floor", "n_runs", "n_baseline_runs", "method", "mde"]]
            sections.append(("Run-level tests, every metric", _display(shown.rename(columns={"p_value": "p (corrected)",
                                                                                           "family_size": "m"})),
                             "Across training seeds and folds, on these test queries: T = mean over folds of (mean of "
                             "the system's runs - mean of the baseline's runs); the MDE is computed for the primary "
                             "metric. Metrics other than the primary are exploratory."))
        if not protocol["tukey"].empty:
            sections.append((f"Randomised Tukey HSD on {exp.primary}", _display(protocol["tukey"]),
                             "All pairs (Carterette 2012; Sakai 2014): p-values are family-wise (compare with α "
                             "directly); the MDE (80% power, simulation) is given for the pairs with the baseline."))
        gains, effective = training_protocol(out, manifest, exp)
        if not gains.empty:
            sections.append(("Training protocol: gain, stopping metric, search", gains,
                             "The gain each system trained on (the primary metric's gain for objectives that optimise "
                             "one, protocol.align_gain), the metric it early-stopped on, and the search protocol with "
                             "the mean hessian per row at the initial scores that scales its hessian-unit regularisers."))
        sections.append(("Spread over folds and seeds", spread, "Mean of each (fold, seed) cell's metric; the paired "
                         "tests above use the pooled per-query values instead."))
        tuning = _tuning(out, manifest) if exp.tuning.budget > 1 else pd.DataFrame()
        if not tuning.empty:
            how = ("Random search" if exp.tuning.sampler == "random" else
                   "Optuna TPE (one study per fold and system, seeded)")
            sections.append(("Tuning", tuning, f"{how}, {exp.tuning.budget} configurations per fold and "
                                               f"system on the validation data (the first is the defaults)."))
        if not effective.empty:
            sections.append(("Effective backend values", effective,
                             "The values each system's chosen configuration stood for in the backend's own units, per "
                             "fold (under the scale-aware search, reg_lambda = r x mean hessian x "
                             f"{exp.protocol.reference_leaf_rows} rows and the hessian-unit minimums scaled by the mean "
                             "hessian)."))
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
        notes += protocol["notes"]
        report.add_section("Data and protocol", notes=notes)
        trained = {}
        for path in sorted((out / "tuning").glob("*/*.json")):
            try:
                info = json.loads(path.read_text(encoding="utf-8"))
                if info.get("identity") == manifest.get("identity") and "objective" in info:
                    trained.setdefault(info["system"], info["objective"])
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
        report.add_section("Backend configurations", notes=_configurations(exp, systems, trained),
                           caption="The exact backend objective and settings of each system.")
        for title, frame, caption in sections:
            report.add_section(title, table=frame, caption=caption)
        report.draw_figures(plots=plots, processes=None)
        paths = report.save(out, plots=plots)
        for name, frame in (("protocol.csv", protocol["protocol"]), ("run_level.csv", protocol["runs"]),
                            ("tukey.csv", protocol["tukey"])):
            with atomic_write(out / name) as handle:
                frame.to_csv(handle, index=False, lineterminator="\n")
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


# ------------------------------------------------------------------------------------ the protocol ---

_P_COLUMNS = ("per-query p", "run-level p", "run-level floor", "Tukey p", "TOST p", "p_raw", "p (corrected)",
              "level", "p_floor", "p_value")


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for the rendered tables: p-values and levels in p-value notation (never a misleading 0.0000)."""
    shown = frame.copy()
    for col in shown.columns:
        if col in _P_COLUMNS:
            shown[col] = [_pfmt(v) for v in shown[col]]
    return shown


def _pfmt(p) -> str:
    from ltr.report.tables import format_pvalue
    return format_pvalue(float(p)) if p is not None and not pd.isna(p) else "–"


def _word(p, delta, alpha: float, mde=None, floor=None, level=None) -> str:
    """One test's verdict in words: better / worse / not significant with its MDE (never "no difference")."""
    if p is None or pd.isna(p):
        return "not tested"
    if p <= alpha:
        return "better" if delta > 0 else "worse" if delta < 0 else "different"
    if floor is not None and level is not None and floor > level:
        return f"cannot reject (floor {floor:.2g} > level {level:.2g})"
    if mde is not None and not pd.isna(mde):
        return f"n.s., MDE {mde:.4f}" if np.isfinite(mde) else "n.s., MDE ∞"
    return "n.s."


def protocol_statistics(exp: Experiment, metrics: pd.DataFrame, per_query: pd.DataFrame, report, *,
                        controls: list[str], n_resamples: int = 10_000, n_simulations: int = 1000,
                        seed: int = 0) -> dict:
    """The comparison at both levels of inference, the all-pairs Tukey HSD and the power of each test.

    Returns ``{"runs": run-level table (every metric), "tukey": all-pairs HSD on the primary metric,
    "protocol": one row per non-baseline system on the primary metric, "headline": sentences, "notes": ...}``.
    The run-level tests are corrected over the same families as the per-query tests (``report.frame``'s
    ``family`` column), separately (one family per level of inference)."""
    from ltr import stats as S

    alpha, correction, primary, baseline = exp.alpha, exp.correction, report.primary, report.baseline
    power, margin = exp.protocol.power, exp.protocol.equivalence_margin
    systems = report.systems
    others = [s for s in systems if s != baseline]
    families = report.frame.set_index(["system", "metric"])["family"]
    notes: list[str] = []
    # Step 1: the run-level test (whole runs, folds as blocks), every metric, corrected like the per-query tests
    runs_table = pd.DataFrame()
    if exp.protocol.run_level and others:
        try:
            runs = S.run_values(metrics[metrics["system"].isin(systems)][["system", "fold", "seed", QID, "metric",
                                                                          "value"]])
            runs = runs[runs["metric"].isin(report.metrics)]
            runs_table = S.run_level_table(runs, baseline=baseline, systems=others, n_resamples=n_resamples,
                                           seed=seed)
        except (DataError, ValueError) as exc:
            notes.append(f"The run-level test could not run: {exc}")
    if not runs_table.empty:
        runs_table["family"] = [families.get((s, m), "outside") for s, m in
                                zip(runs_table["system"], runs_table["metric"])]
        runs_table = S.correct_family(runs_table, family="family", method=correction, p="p_raw", out="p_value")
        levels, mdes = [], []
        for row in runs_table.itertuples(index=False):
            level = S.per_comparison_alpha(alpha, max(int(row.family_size), 1), correction)
            levels.append(level)
            if row.metric != primary:
                mdes.append(np.nan)
                continue
            sub = runs[runs["metric"] == primary]
            a, b = sub[sub["system"] == row.system], sub[sub["system"] == baseline]
            try:
                mdes.append(S.mde_run_level(a["value"].to_numpy(), b["value"].to_numpy(),
                                            folds_a=a["fold"].to_numpy(), folds_b=b["fold"].to_numpy(),
                                            alpha=alpha, power=power, family_size=max(int(row.family_size), 1),
                                            correction=correction, n_simulations=n_simulations,
                                            n_resamples=n_resamples, seed=seed).effect)
            except DataError:
                mdes.append(np.nan)   # no (fold, system) with two runs: the seed noise cannot be estimated
        runs_table["level"] = levels
        runs_table["mde"] = mdes
    # Step 2: the all-pairs randomised Tukey HSD on the primary metric
    tukey = pd.DataFrame()
    if exp.protocol.tukey and len(systems) > 1:
        pq = report.per_query[report.per_query["metric"] == primary][["system", QID, "value"]]
        tukey = S.tukey_hsd(pq, systems=systems, n_resamples=n_resamples, seed=seed)
        pairs = [(baseline, s) for s in others]
        mde = S.mde_tukey(pq, systems=systems, pairs=pairs, alpha=alpha, power=power,
                          n_simulations=n_simulations, n_resamples=n_resamples, seed=seed)
        tukey = tukey.merge(mde, on=["system_a", "system_b"], how="left")
    # Step 3: one row per comparison on the primary metric
    frame = report.frame[(report.frame["metric"] == primary) & (report.frame["system"] != baseline)]
    rows = []
    for r in frame.itertuples(index=False):
        in_family = not str(r.family).startswith("outside")
        row = {"system": r.system, "in family": "yes" if in_family else "no (control)" if r.system in controls
               else "no", "delta": r.delta, "per-query p": r.p_value, "per-query MDE": r.mde}
        run = runs_table[(runs_table["system"] == r.system) & (runs_table["metric"] == primary)] \
            if not runs_table.empty else runs_table
        if not run.empty:
            run = run.iloc[0]
            row.update({"run-level delta": run["delta"], "run-level p": run["p_value"], "run-level MDE": run["mde"],
                        "run-level floor": run["p_floor"], "runs": f"{run['n_runs']} vs {run['n_baseline_runs']}"})
        if not tukey.empty:
            t = tukey[((tukey["system_a"] == baseline) & (tukey["system_b"] == r.system))
                      | ((tukey["system_b"] == baseline) & (tukey["system_a"] == r.system))].iloc[0]
            row.update({"Tukey p": t["p_value"], "Tukey MDE": t["mde"]})
        if margin is not None:
            row["TOST p"] = r.tost_p
        words = [f"per-query {_word(r.p_value, r.delta, alpha, r.mde)}"]
        if isinstance(run, pd.Series):
            words.append(f"run-level {_word(run['p_value'], run['delta'], alpha, run['mde'], run['p_floor'], run['level'])}")
        if not tukey.empty:
            words.append(f"Tukey {_word(row['Tukey p'], r.delta, alpha, row['Tukey MDE'])}")
        if margin is not None and not pd.isna(r.tost_p) and r.tost_p <= alpha:
            words.append(f"equivalent within ±{margin:g} (TOST)")
        row["verdict"] = "; ".join(words)
        rows.append(row)
    protocol = pd.DataFrame(rows)
    headline = _headline(exp, report, protocol, runs_table, tukey, controls, metrics)
    return {"runs": runs_table, "tukey": tukey, "protocol": protocol, "headline": headline, "notes": notes}


def _headline(exp, report, protocol: pd.DataFrame, runs_table: pd.DataFrame, tukey: pd.DataFrame,
              controls: list[str], metrics: pd.DataFrame) -> list[str]:
    """What was tested, at which level, over which family, and what it found (the report's first lines)."""
    from ltr import stats as S
    alpha, primary, baseline = exp.alpha, report.primary, report.baseline
    if protocol.empty:
        return [f"Primary metric {primary}: only the baseline {baseline} was evaluated; nothing was tested."]
    fam = protocol[protocol["in family"] == "yes"]
    corr = S.CORRECTION_LABELS[exp.correction]
    family_words = {"primary": f"{primary} across the {len(fam)} non-baseline systems",
                    "metric": f"each metric across the {len(fam)} non-baseline systems",
                    "all": f"every (system, metric): {len(fam)} systems x {len(report.metrics)} metrics"}[report.family]
    out = [f"Claim tested: is a system better than the baseline {baseline} on the primary metric {primary}? "
           f"Family: {family_words} ({corr}, α = {alpha:g})"
           + (f"; {', '.join(controls)} shown as the noise floor, outside the family." if controls else ".")]

    def tally(col, pcol):
        better = fam[(fam[pcol] <= alpha) & (fam[col] > 0)]["system"].tolist()
        worse = fam[(fam[pcol] <= alpha) & (fam[col] < 0)]["system"].tolist()
        return (f"{len(better)} of {len(fam)} significantly better" + (f" ({', '.join(better)})" if better else "")
                + f", {len(worse)} worse" + (f" ({', '.join(worse)})" if worse else ""))

    out.append(f"On these queries with these trained models ({S.describe_test(exp.test)} over "
               f"{int(report.frame['n_queries'].max())} pooled test queries, seed-averaged): {tally('delta', 'per-query p')}.")
    if "run-level p" in protocol:
        n_folds = metrics["fold"].nunique()
        seeds = len(exp.seeds)
        text = (f"Across training seeds and folds, on these test queries (whole runs permuted within each of the "
                f"{n_folds} fold{'s' if n_folds != 1 else ''}, {seeds} seeds per trained system): {tally('run-level delta', 'run-level p')}.")
        prim = runs_table[(runs_table["metric"] == primary)
                          & ~runs_table["family"].astype(str).str.startswith("outside")]
        blocked = prim[prim["p_floor"] > prim["level"]]
        fixed = {f.name for f in exp.fixed_systems()}
        untrained = blocked[blocked["system"].isin(fixed)]
        blocked = blocked[~blocked["system"].isin(fixed)]
        if not blocked.empty:
            need = S.seeds_needed(alpha, n_folds=n_folds, family_size=int(prim["family_size"].max()),
                                  correction=exp.correction)
            text += (f" Its floor: {len(blocked)} comparison(s) cannot reject at their level whatever the data "
                     f"(smallest p {blocked['p_floor'].min():.2g} > {blocked['level'].min():.2g}); "
                     f"{need} seeds per system would let it.")
        if not untrained.empty:
            text += (f" {', '.join(untrained['system'])} {'has' if len(untrained) == 1 else 'have'} one run per "
                     f"fold (not trained, no seeds), too few for this test to reject (smallest p "
                     f"{untrained['p_floor'].min():.2g}); the per-query test is the one that applies.")
        out.append(text)
    if not tukey.empty:
        sig = tukey[tukey["p_value"] <= alpha]
        out.append(f"Which systems differ at all (randomised Tukey HSD on {primary}, all {len(tukey)} pairs, "
                   f"family-wise α = {alpha:g}, on these queries with these trained models): {len(sig)} pair(s) differ.")
    for control in controls:
        row = protocol[protocol["system"] == control]
        if row.empty:
            continue
        row = row.iloc[0]
        text = (f"A/A control {control} (the baseline retrained with other seeds): Δ {row['delta']:+.4f}, "
                f"per-query p = {_pfmt(row['per-query p'])}")
        if "run-level p" in row:
            text += f", run-level p = {_pfmt(row['run-level p'])} (uncorrected)"
        text += (". A calibrated test flags such a pair about α of the time; a significant per-query p here is "
                 "seed noise the per-query test is conditional on.")
        out.append(text)
    out.append("A comparison that is not significant is reported with its MDE (at "
               f"{exp.protocol.power:.0%} power), never as \"no difference\""
               + (f"; equivalence is tested by TOST within ±{exp.protocol.equivalence_margin:g}."
                  if exp.protocol.equivalence_margin is not None else
                  " (no equivalence margin declared, so no claim of equivalence is made).")
               + (f" Metrics other than {primary} are exploratory." if report.family == "primary" else ""))
    return out


def training_protocol(out: Path, manifest: dict, exp: Experiment) -> tuple[pd.DataFrame, pd.DataFrame]:
    """From the tuning files: per system, the gain it trained on, the metric it stopped on, the search and
    its hessian scale; per (fold, system), the effective backend values of the chosen configuration."""
    per_system: dict[str, dict] = {}
    per_fold = []
    for info in tuning_records(out, manifest):
        h = info.get("hessian_scale")
        entry = per_system.setdefault(info["system"], {"system": info["system"],
                                                       "trained gain": info.get("gain", "?"),
                                                       "stopped on": info.get("metric", "?"),
                                                       "search": info.get("search", "?"), "_h": []})
        if h is not None:
            entry["_h"].append(float(h))
        values = {**(info.get("effective") or {}), **(info.get("backend_params") or {})}
        shown = {k: v for k, v in values.items() if k in ("reg_lambda", "min_child_weight", "min_sum_hessian_in_leaf",
                                                          "learning_rate", "num_leaves", "max_depth",
                                                          "min_child_samples") and v is not None}
        per_fold.append({"fold": info["fold"], "system": info["system"],
                         "mean hessian": np.nan if h is None else float(h),
                         "effective backend values": ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                               for k, v in shown.items())})
    rows = []
    for name in manifest["systems"]:
        if name not in per_system:
            continue
        entry = per_system[name]
        hs = entry.pop("_h")
        entry["mean hessian (folds)"] = ("–" if not hs else f"{min(hs):.4g}" if len(hs) == 1 or min(hs) == max(hs)
                                         else f"{min(hs):.4g}–{max(hs):.4g}")
        rows.append(entry)
    return pd.DataFrame(rows), pd.DataFrame(per_fold)
