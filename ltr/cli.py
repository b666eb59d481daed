"""The ``ltr`` command: parses arguments, calls one verb of the library, prints.

Verbs: ``evaluate`` (TREC qrels + run -> metrics), ``train`` / ``predict`` (LETOR files), ``export`` (a
model for serving: ONNX + manifest), ``explain`` (TreeSHAP: why a query's top documents rank where they do),
``run`` (an experiment), ``report`` (rebuild an experiment's reports), ``compare`` (two finished
experiments), ``info`` (registered objectives, metrics, extractors), ``clicks simulate|fit|summary|report``
(click logs). Every error ltr raises on purpose is printed as one line and
exits with status 2; nothing else is caught, so a bug still shows its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from ltr.errors import ConfigError, LTRError


#: ``ltr evaluate`` reads files up to this size (qrels + run) with numpy alone: importing pandas and loading
#: the numba kernels costs more than evaluating them (benchmarks/bench_cli.py). Larger ones take the frame
#: path (ltr.io readers, numba kernels). Both give the same bytes (tests/test_cli.py).
QUICK_MAX_BYTES = 8 << 20
_DEFAULT_METRICS = ("nDCG@10", "AP", "RR", "P@10")


def _quick_table(path, fields: int, number: int):
    """(qid, docid) as numpy byte strings and field ``number`` as float64 of a TREC file in the plain form
    (every line ``fields`` fields, UTF-8, numbers in decimal notation, no NUL or BOM), or None: then the
    ltr.io reader reads it, which also names the file and line of anything malformed."""
    import re
    from pathlib import Path

    import numpy as np
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    if b"\x00" in raw or raw.startswith(b"\xef\xbb\xbf"):
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # every non-blank line (lines end at LF; other ASCII whitespace separates fields) has `fields` fields
    buf = np.frombuffer(raw, dtype=np.uint8)
    space = np.zeros(256, dtype=bool)
    space[list(b" \t\n\r\x0b\x0c")] = True
    is_tok = ~space[buf]
    starts = np.flatnonzero(is_tok & ~np.r_[False, is_tok[:-1]])
    per_line = np.bincount(np.cumsum(buf == 10)[starts], minlength=1) if len(starts) else np.zeros(1, int)
    if ((per_line != 0) & (per_line != fields)).any():
        return None
    rows = np.array(raw.split(), dtype=object).reshape(-1, fields)
    plain = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
    numbers = rows[:, number].tolist()
    if not all(map(plain.fullmatch, numbers)):
        return None
    qids = rows[:, 0].astype("S")
    docids = rows[:, 2].astype("S")
    return qids, docids, np.array(list(map(float, numbers)), dtype=np.float64)


def _evaluate_quick(qrels_path, run_path, metrics, zero):
    """(qids, values of shape (n_queries, n_metrics)) with numpy alone, or None (then the frame path runs)."""
    import os

    import numpy as np
    try:
        if os.path.getsize(qrels_path) + os.path.getsize(run_path) > QUICK_MAX_BYTES:
            return None
    except OSError:
        return None
    qrels = _quick_table(qrels_path, 4, 3)
    run = _quick_table(run_path, 6, 4) if qrels is not None else None
    if run is None:
        return None
    from ltr.metrics.arrays import Unsupported, evaluate_arrays
    try:
        qids, values = evaluate_arrays(qrels[0], qrels[1], qrels[2], run[0], run[1], run[2], metrics, zero=zero)
    except Unsupported:
        return None
    return [q.decode("utf-8") for q in qids.tolist()], np.column_stack(values)


def _evaluate_frames(qrels_path, run_path, names, zero):
    from ltr.io import read_qrels, read_run
    from ltr.metrics import evaluate

    per_query = evaluate(read_qrels(qrels_path), read_run(run_path), names,
                         missing_queries="zero" if zero else "skip")
    qids = per_query["qid"].to_numpy()[::len(names)].tolist()
    return qids, per_query["value"].to_numpy().reshape(len(qids), len(names))


def _cmd_evaluate(args) -> int:
    import math

    from ltr.metrics import parse_metrics
    metrics = parse_metrics(args.metric or list(_DEFAULT_METRICS), what="ltr evaluate")
    names = list(metrics)
    quick = _evaluate_quick(args.qrels, args.run, list(metrics.values()), args.complete)
    qids, values = quick if quick is not None else _evaluate_frames(args.qrels, args.run, names, args.complete)
    # one mean for both paths, exactly rounded (fsum), so the output does not depend on the path taken
    means = {name: math.fsum(values[:, j].tolist()) / len(qids) for j, name in enumerate(names)}
    if args.json:
        out = {"num_q": len(qids), "aggregate": means}
        if args.per_query:
            out["per_query"] = {q: {name: float(values[i, j]) for j, name in enumerate(names)}
                                for i, q in enumerate(qids)}
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    # trec_eval's layout: measure, qid (or "all"), value
    lines = []
    if args.per_query:
        lines += [f"{name:<22}\t{q}\t{values[i, j]:.4f}" for i, q in enumerate(qids) for j, name in enumerate(names)]
    lines.append(f"{'num_q':<22}\tall\t{len(qids)}")
    lines += [f"{name:<22}\tall\t{means[name]:.4f}" for name in names]
    print("\n".join(lines))
    return 0


def _params(pairs: list[str]) -> dict:
    from ltr.naming import parse_spec
    params = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param expects key=value, got {item!r}")
        params.update(parse_spec(f"p({key}={value})", what="--param").params)
    return params


def _protocol_settings(backend: str) -> dict:
    """The experiment protocol's training settings (``ltr run`` without tuning) for ``backend``."""
    from ltr.experiment.spec import TrainingSpec
    return TrainingSpec().ranker_kwargs(backend, seed=0)


def _default_differences() -> list[tuple[str, str, str, list]]:
    """(setting, Ranker default, protocol default, backends) for every setting whose two defaults train
    differently on some backend: read from the Ranker's signature, the protocol's TrainingSpec and the
    native parameters each backend derives from them (never written by hand). ``reg_lambda`` None and 0.0
    are the same on LightGBM (its default is 0) and differ on XGBoost (its default is 1)."""
    import inspect

    import numpy as np

    from ltr.models import Ranker
    from ltr.models.backends import available_backends, get_backend
    from ltr.objectives import get_objective
    ranker = {k: p.default for k, p in inspect.signature(Ranker.__init__).parameters.items()
              if p.default is not inspect.Parameter.empty}
    objective = get_objective(ranker["objective"])

    def native(backend, settings):
        return backend.native_params(settings, objective, labels=np.array([0.0, 1.0]),
                                     group_sizes=np.array([2]))[0]

    rows: dict = {}
    for name in available_backends():
        backend = get_backend(name)
        base = native(backend, ranker)
        for key, value in _protocol_settings(name).items():
            if key in ranker and ranker[key] != value and native(backend, {**ranker, key: value}) != base:
                rows.setdefault((key, repr(ranker[key]), repr(value)), []).append(name)
    return [(key, r, p, backends) for (key, r, p), backends in sorted(rows.items())]


class _TrainHelp(argparse.Action):
    """``ltr train --help``, with the defaults table computed only when asked for (it imports the Ranker)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from ltr.models.backends import available_backends
        lines = ["defaults: `ltr train` trains with the Ranker's defaults, which are the backends' own (a plain",
                 "LightGBM or XGBoost script trains the same model). They are NOT the experiment protocol's",
                 "(`ltr run`, ltr.experiment.spec.TrainingSpec), which differ in:", ""]
        for key, ours, theirs, backends in _default_differences():
            where = "" if len(backends) == len(available_backends()) else f"  ({', '.join(backends)})"
            lines.append(f"  {key:<12} ltr train: {ours:<6} ltr run: {theirs:<5}{where}".rstrip())
        lines += ["", "Scores differ accordingly (row and feature subsampling change the trees). --protocol",
                  "trains with the protocol's settings instead (still without `ltr run`'s tuning); --param",
                  "overrides either."]
        parser.epilog = "\n".join(lines)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.print_help()
        parser.exit()


def _cmd_train(args) -> int:
    from ltr.models import train_files
    defaults = _protocol_settings(args.backend) if args.protocol else None
    ranker = train_files(args.data, objective=args.objective, backend=args.backend, valid_path=args.valid,
                         out_dir=args.out, params=_params(args.param), defaults=defaults)
    print(f"trained {ranker.backend_.name}/{ranker.objective_!r}: {ranker.best_iteration_} trees; model in "
          f"{args.out}")
    return 0


def _cmd_predict(args) -> int:
    from ltr.models import predict_file
    predict_file(args.model, args.data, args.out)
    print(f"run written to {args.out}")
    return 0


def _cmd_export(args) -> int:
    from ltr.models.export import FeatureNormalization, export_model
    normalization = "auto"
    if args.normalization_file and args.normalize:
        raise ConfigError("give either --normalize METHOD (per query) or --normalization FILE, not both")
    if args.normalize:
        normalization = FeatureNormalization(args.normalize, "query")
    elif args.normalization_file:
        from pathlib import Path
        path = Path(args.normalization_file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}: not valid JSON ({err}); expected {{\"method\": ..., \"scope\": ..., "
                              f"\"shift\": ..., \"scale\": ...}}") from None
        normalization = FeatureNormalization.from_dict(data, source=str(path))
    elif args.no_normalization:
        normalization = None
    check = None
    if args.check:
        from ltr.io import read_letor
        check = read_letor(args.check)
    result = export_model(args.model, args.out, format=args.format, normalization=normalization,
                          ml_opset=args.ml_opset, check_data=check, tolerance=args.tolerance)
    print(result)
    return 0


def _explain_payload(explanation, qid, top, n_features):
    from ltr.report.explain import query_explanation
    table = query_explanation(explanation, qid, top_k=top, n_features=n_features)
    docs = []
    for rank, block in table.groupby("rank", sort=True):
        first = block.iloc[0]
        docs.append({"rank": int(rank), "docid": str(first["docid"]),
                     "label": None if first["label"] != first["label"] else float(first["label"]),
                     "score": float(first["score"]), "score_vs_query_mean": float(first["score_vs_query_mean"]),
                     "features": [{"feature": str(r.feature), "value": float(r.value),
                                   "contribution": float(r.contribution), "vs_query_mean": float(r.vs_query_mean)}
                                  for r in block.itertuples(index=False)]})
    return table, docs


def _cmd_explain(args) -> int:
    from ltr.io import read_letor
    from ltr.models import Ranker
    from ltr.models.explain import explain
    from ltr.report.explain import choose_query, contribution_importance
    from ltr.report.tables import render_plain

    ranker = Ranker.load(args.model)
    explanation = explain(ranker, read_letor(args.data))
    qid = args.qid if args.qid is not None else choose_query(explanation, top_k=args.top)
    table, docs = _explain_payload(explanation, qid, args.top, args.features)
    importance = contribution_importance(explanation, ranker.feature_importances_).head(args.importance)
    if args.plot:
        from ltr.report.explain import plot_query_explanation
        plot_query_explanation(explanation, qid, top_k=args.top, n_features=max(args.features, 8), path=args.plot)
    source = "LightGBM pred_contrib" if explanation.backend == "lightgbm" else "XGBoost pred_contribs"
    header = (f"{explanation.backend}/{explanation.objective}, {explanation.n_trees} iterations; TreeSHAP "
              f"({source}) of {len(explanation)} documents in {explanation.rows['qid'].nunique()} queries; "
              f"max |sum of contributions + bias - raw score| = {explanation.additivity_error():.2g}")
    if args.json:
        json.dump({"model": str(args.model), "data": str(args.data), "backend": explanation.backend,
                   "objective": explanation.objective, "qid": str(qid), "chosen": args.qid is None,
                   "additivity_error": explanation.additivity_error(), "documents": docs,
                   "importance": [{k: (float(v) if not isinstance(v, str) else v) for k, v in row.items()}
                                  for row in importance.to_dict("records")]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(header)
    chosen = " (chosen: the largest query with a relevant document; pass --qid)" if args.qid is None else ""
    print(f"\nquery {qid}{chosen}: why its top {len(docs)} documents rank where they do")
    print("(vs_query_mean = contribution minus the query's mean contribution; per document these sum over all "
          "features to score_vs_query_mean)")
    rows = []
    for d in docs:
        for k, f in enumerate(d["features"]):
            lead = [str(d["rank"]), d["docid"], "" if d["label"] is None else f"{d['label']:g}",
                    f"{d['score']:.4f}", f"{d['score_vs_query_mean']:+.4f}"] if k == 0 else [""] * 5
            rows.append(lead + [f["feature"], f"{f['value']:.4g}", f"{f['contribution']:+.4f}",
                                f"{f['vs_query_mean']:+.4f}"])
    print(render_plain(["rank", "docid", "label", "score", "score_vs_query_mean", "feature", "value",
                        "contribution", "vs_query_mean"], rows, align="rllrrlrrr"))
    print(f"\nfeature importance over all {len(explanation)} documents: mean |contribution| beside split gain")
    print(render_plain(["feature", "mean |contribution|", "share", "gain share"],
                       [[r.feature, f"{r.mean_abs_contribution:.4f}", f"{r.contribution_share:.3f}",
                         f"{r.gain_share:.3f}"] for r in importance.itertuples(index=False)], align="lrrr"))
    if args.plot:
        print(f"\nplot written to {args.plot}")
    return 0


def _cmd_run(args) -> int:
    from ltr.experiment import Runner, load_experiment
    from ltr.experiment.clicks import ClickExperiment, ClickRunner
    exp = load_experiment(args.experiment)
    runner = (ClickRunner if isinstance(exp, ClickExperiment) else Runner)(
        exp, args.out, overwrite=args.overwrite, progress=not args.quiet, jobs=args.jobs)
    out = runner.run()
    for message in runner.messages:
        print(message)
    print(f"report: {out / 'report.html'} (and report.md, report.tex; per-query values in {out / 'metrics.csv'})")
    return 0


def _cmd_report(args) -> int:
    from pathlib import Path

    from ltr.experiment.folder import OutputFolder
    from ltr.experiment.reporting import build_report
    if not Path(args.dir).is_dir():
        raise ConfigError(f"{args.dir} is not a folder; give the --out folder of `ltr run`")
    from ltr.experiment.clicks import build_click_report, is_click_folder
    with OutputFolder(args.dir).lock(what="ltr report"):
        paths = (build_click_report if is_click_folder(args.dir) else build_report)(args.dir)
    print("\n".join(str(p) for p in paths))
    return 0


def _cmd_compare(args) -> int:
    from ltr.experiment.reporting import compare_dirs
    report = compare_dirs(args.dir_a, args.dir_b, out=args.out)
    print(report)
    return 0


def extractor_names() -> list[str]:
    """Names of the built-in feature extractors, read from the source of the ``features`` package.

    Importing the extractors loads scikit-learn and scipy (seconds); ``ltr info`` only prints their names,
    so it reads them where they are declared: the first ``name = "..."`` line in the body of every class
    decorated with ``@register`` in the package's modules (a line scan: parsing the modules with ``ast``
    costs more than the rest of ``ltr info``). tests/test_cli.py checks that this equals
    ``features.available()``.
    """
    import importlib.util
    import re
    from pathlib import Path

    attr = re.compile(r"""    name\s*=\s*(["'])([^"']+)\1""")
    names = []
    for path in sorted(Path(importlib.util.find_spec("features").origin).parent.glob("*.py")):
        state = None                                     # None -> "decorated" -> "class" -> None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("@register"):
                state = "decorated"
            elif state == "decorated" and line.startswith("class "):
                state = "class"
            elif state == "class":
                m = attr.match(line)
                if m:
                    names.append(m.group(2))
                    state = None
                elif line and not line[0].isspace() and not line.startswith("#"):
                    state = None                         # the class ended without a name of its own
    return sorted(names)


def info_text() -> str:
    """What ``ltr info`` prints: the registered objectives (family, backends), metrics and extractors."""
    from ltr.metrics import available_metrics
    from ltr.objectives import available_objectives, get_objective
    names = available_objectives()
    width = max(map(len, names)) + 1
    lines = ["objectives:"]
    for name in names:
        obj = get_objective(name)
        lines.append(f"  {name:<{width}}{obj.family:<10} backends={','.join(obj.backends)}")
    lines.append("metrics: " + ", ".join(available_metrics()))
    lines.append("feature extractors: " + ", ".join(extractor_names()))
    return "\n".join(lines) + "\n"


def info_cache_path():
    """Where :func:`info_text` is cached: ``$LTR_CACHE_DIR`` (else ``$XDG_CACHE_HOME/ltr``, else
    ``~/.cache/ltr``), in a file named after the interpreter, ltr's version and the size and modification
    time of every source file the registries are built from, so that any edit (or another environment) reads
    a file of its own.

    The registries are numpy code, and importing numpy is most of ``ltr info``'s cost (0.2 s of 0.34 s,
    ``python -X importtime``); the listing only changes with that source, as numba's cache only with its.
    """
    import hashlib
    import importlib.util
    import os
    from pathlib import Path

    import ltr
    root = Path(ltr.__file__).parent
    sources = sorted([*root.glob("*.py"), *(root / "metrics").glob("*.py"), *(root / "objectives").glob("*.py"),
                      *Path(importlib.util.find_spec("features").origin).parent.glob("*.py")])
    digest = hashlib.sha256(f"{sys.executable}\0{ltr.__version__}".encode())
    for path in sources:
        st = path.stat()
        digest.update(f"\0{path}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    base = os.environ.get("LTR_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "ltr")
    return Path(base) / f"info-{digest.hexdigest()[:32]}.txt"


def _cached_info_text() -> str:
    """:func:`info_text`, read from :func:`info_cache_path` when it is there, else built and stored there."""
    try:
        path = info_cache_path()
    except (RuntimeError, KeyError):          # no home folder to find the cache in
        path = None
    if path is not None:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass
    text = info_text()
    if path is not None:
        from ltr.atomic import atomic_write
        try:                                 # the cache only saves time: a read-only home still gets the listing
            with atomic_write(path) as fh:
                fh.write(text)
        except OSError:
            pass
    return text


def _cmd_info(args) -> int:
    print(_cached_info_text(), end="")
    return 0


# -- ltr clicks ... (click logs; the verbs live in ltr.clicks) ------------------------------------------
def _read_log(path, fmt):
    from ltr.clicks import read_clicks
    return read_clicks(path, format=fmt)


def _cmd_clicks_simulate(args) -> int:
    from ltr.clicks import write_clicks
    from ltr.clicks.simulate import simulate_from_qrels
    from ltr.io import read_qrels, read_run
    from ltr.naming import format_spec, parse_spec

    params = {}
    if args.eta is not None:
        if args.model not in ("pbm", "ubm"):
            raise ConfigError(f"--eta applies to the pbm and ubm users, not {args.model!r}")
        params["eta"] = args.eta
    if args.gamma is not None:
        if args.model != "dbn":
            raise ConfigError(f"--gamma applies to the dbn user, not {args.model!r}")
        params["gamma"] = args.gamma
    noise = parse_spec(args.noise, what="relevance mapping")
    if args.y_max is not None:
        noise.params["y_max"] = args.y_max
    log = simulate_from_qrels(read_run(args.run), read_qrels(args.qrels), user=format_spec(args.model, params),
                              mapping=format_spec(noise.name, noise.params), sessions=args.sessions, top=args.top,
                              seed=args.seed, intervention=args.intervention)
    write_clicks(log, args.out, format=args.format)
    s = log.summary()
    if args.json:
        json.dump({"out": args.out, **s.to_dict()}, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(f"{s.serps:,} sessions, {s.impressions:,} impressions, {s.clicks:,} clicks ({log.source}); "
              f"CTR by position: {' '.join(f'{v:.4f}' for v in s.ctr_by_position['ctr'])}; written to {args.out}")
    return 0


def _cmd_clicks_fit(args) -> int:
    import time

    from ltr.clicks.models import get_click_model
    from ltr.naming import format_spec, parse_spec

    spec = parse_spec(args.model, what="click model")
    if args.iterations is not None:
        spec.params["iterations"] = args.iterations
    model = get_click_model(format_spec(spec.name, spec.params))
    train = _read_log(args.log, args.format)
    test = _read_log(args.test, args.test_format or args.format) if args.test else train
    t0 = time.perf_counter()
    model.fit(train)
    seconds = time.perf_counter() - t0
    score = model.evaluate(test)
    ident = getattr(model, "identification_", None)
    examination = None
    relative = None
    if ident is not None and ident.identified:
        examination = [float(v) for v in model.examination_]
        relative = [float(v) for v in model.propensities()]
    out = {"model": repr(model), "fitting": model.fitting, "iterations": model.n_iterations_,
           "fit_seconds": seconds, "train": {"log": train.source, "serps": train.n_serps,
                                             "drops": train.drops.to_dict()},
           "evaluated_on": "test" if args.test else "train (no --test given)",
           "test": {"log": test.source, "serps": score.serps, "dropped_unseen_query": score.dropped_unseen_query,
                    "unseen_pairs": score.unseen_pairs, "drops": test.drops.to_dict()},
           "examination": examination, "examination_relative": relative,
           "identified": None if ident is None else ident.identified,
           "identification": ("not a position-based model: no examination per position" if ident is None
                              else ident.note),
           "log_likelihood": score.log_likelihood, "perplexity": score.perplexity,
           "perplexity_at": list(score.perplexity_at), "conditional_perplexity": score.conditional_perplexity,
           "conditional_perplexity_at": list(score.conditional_perplexity_at),
           "rank_parameters": model.rank_parameters()}
    if args.json:
        json.dump(out, sys.stdout, indent=2, default=float)
        sys.stdout.write("\n")
        return 0
    from ltr.report.tables import render_plain
    rows = [["log-likelihood", f"{score.log_likelihood:.6f}"], ["perplexity", f"{score.perplexity:.6f}"],
            ["conditional perplexity", f"{score.conditional_perplexity:.6f}"],
            ["evaluated on", f"{out['evaluated_on']}: {score.serps:,} SERPs"]]
    if ident is not None:
        rows.append(["examination", " ".join(f"{v:.4f}" for v in examination) if examination else
                     "not identified (see below)"])
    print(f"{model!r} fitted on {train.source} in {seconds:.2f} s")
    print(render_plain(["measure", "value"], rows))
    if ident is not None:
        print(ident.note)
    return 0


def _cmd_clicks_summary(args) -> int:
    s = _read_log(args.log, args.format).summary()
    if args.json:
        json.dump(s.to_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(s)
    return 0


def _cmd_clicks_report(args) -> int:
    from ltr.clicks.report import DEFAULT_MODELS, click_log_report
    train = _read_log(args.log, args.format)
    test = _read_log(args.test, args.test_format or args.format) if args.test else None
    report = click_log_report(train, test=test, models=args.model or list(DEFAULT_MODELS), progress=not args.quiet)
    paths = report.save(args.out)
    print(f"report: {paths['report.html']} (and report.md)")
    return 0


def _add_clicks(sub) -> None:
    clicks = sub.add_parser("clicks", help="click logs: simulate, fit click models, summarise, report")
    verbs = clicks.add_subparsers(dest="clicks_command", required=True)
    formats = ["tsv", "jsonl", "parquet", "yandex"]

    p = verbs.add_parser("simulate", help="simulate users clicking on the top of a TREC run (labels from qrels)")
    p.add_argument("--run", required=True, help="TREC run whose rankings are shown")
    p.add_argument("--qrels", required=True, help="TREC qrels (unjudged documents count as label 0)")
    p.add_argument("--model", required=True, choices=["pbm", "cascade", "dbn", "ubm"], help="user model")
    p.add_argument("--eta", type=float, help="position-bias exponent (pbm, ubm): examination (1/k)^eta; default 1")
    p.add_argument("--gamma", type=float, help="continuation probability of the dbn user (default 0.9)")
    p.add_argument("--noise", default="graded",
                   help="relevance -> click probability: 'graded' (eps + (1-eps)(2^y-1)/(2^ymax-1), eps=0.1; "
                        "Ai et al. 2018), 'binary' (1 if y >= 1 else 0.1; Joachims et al. 2017), with "
                        "parameters e.g. \"graded(eps=0.2)\"")
    p.add_argument("--y-max", type=float, help="y_max of the graded mapping (default: the largest label)")
    p.add_argument("--top", type=int, default=10, help="results shown per SERP (default 10)")
    p.add_argument("--sessions", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--intervention", help="'swap' (positions 1 and k, k uniform) or 'randomize' (shuffle the top)")
    p.add_argument("--out", required=True, help="log to write; format from the suffix (.parquet, .tsv, .jsonl)")
    p.add_argument("--format", choices=["tsv", "jsonl", "parquet"], help="override the suffix")
    p.add_argument("--json", action="store_true", help="print the log's summary as JSON")
    p.set_defaults(func=_cmd_clicks_simulate)

    p = verbs.add_parser("fit", help="fit a click model; log-likelihood and perplexity on --test (else on LOG)")
    p.add_argument("log", help="click log (.parquet, .tsv, .jsonl, or PyClick's Yandex sample format)")
    p.add_argument("--model", required=True,
                   help="gctr, rctr, dctr, pbm, cm, ubm, dcm, sdbn, dbn, ccm; parameters as in "
                        "\"dbn(iterations=5, convention='exact')\"")
    p.add_argument("--test", help="held-out log to evaluate on")
    p.add_argument("--iterations", type=int, help="EM iterations (default 50, PyClick's)")
    p.add_argument("--format", choices=formats, help="format of LOG (default: from the suffix or the content)")
    p.add_argument("--test-format", choices=formats, help="format of --test (default: as LOG)")
    p.add_argument("--json", action="store_true",
                   help="print model, examination, log_likelihood, perplexity, ... as one JSON object")
    p.set_defaults(func=_cmd_clicks_fit)

    p = verbs.add_parser("summary", help="sessions, queries, CTR by position and the declared rules applied")
    p.add_argument("log")
    p.add_argument("--format", choices=formats)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_clicks_summary)

    p = verbs.add_parser("report", help="click-log report (summary, CTR by position, click-model comparison)")
    p.add_argument("log", help="training log")
    p.add_argument("--test", help="held-out log: fits the click models on LOG and compares them on it")
    p.add_argument("--model", action="append", help="click model to compare (repeatable; default: PyClick's ten and the exact CM and DBN)")
    p.add_argument("--format", choices=formats)
    p.add_argument("--test-format", choices=formats)
    p.add_argument("--out", required=True, help="folder for report.md, report.html, figures/")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_clicks_report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltr", description="Learning-to-rank research framework.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("evaluate", help="evaluate a TREC run against TREC qrels (trec_eval conventions)")
    p.add_argument("qrels")
    p.add_argument("run")
    p.add_argument("-m", "--metric", action="append",
                   help="metric name, repeatable: ours (nDCG@10, AP, P(rel=2)@5, \"nDCG(gain='exp')@10\"), "
                        "trec_eval's (ndcg_cut.10, map, P.5,10) or ir_measures'; output is keyed by the names "
                        f"as given (default: {' '.join(_DEFAULT_METRICS)})")
    p.add_argument("-q", "--per-query", action="store_true", help="also print the value of every query")
    p.add_argument("--json", action="store_true",
                   help='print {"num_q": ..., "aggregate": ..., "per_query": ...} as JSON')
    p.add_argument("-c", "--complete", action="store_true",
                   help="as trec_eval -c: average over every qrels query; those the run lacks score 0")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("train", help="train a ranker on a LETOR/SVMlight file", add_help=False,
                       description="Train a Ranker on a LETOR/SVMlight file and save it as a model folder.")
    p.add_argument("-h", "--help", action=_TrainHelp, help="show this help (and how the defaults differ from "
                                                         "`ltr run`'s) and exit")
    p.add_argument("data")
    p.add_argument("--objective", default="lambdarank")
    p.add_argument("--backend", default="lightgbm")
    p.add_argument("--valid", help="validation file for early stopping")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="Ranker setting or backend parameter, e.g. n_estimators=500 (repeatable)")
    p.add_argument("--protocol", action="store_true",
                   help="train with the experiment protocol's settings (`ltr run`'s TrainingSpec: row and feature "
                        "subsampling 0.8, ...) instead of the Ranker's defaults")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help="score a LETOR/SVMlight file with a saved model, write a TREC run")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="TREC run file to write")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("export", help="export a saved model for serving (ONNX graph + manifest of the features)")
    p.add_argument("model", help="model folder written by `ltr train` / Ranker.save")
    p.add_argument("--format", default="onnx", help="onnx (the only format so far)")
    p.add_argument("--out", required=True, help="file to write, e.g. ranker.onnx (its manifest goes beside it, "
                                                "ranker.manifest.json)")
    p.add_argument("--ml-opset", type=int, default=5, choices=[5, 3],
                   help="ai.onnx.ml opset: 5 = TreeEnsemble, float64 throughout (default); 3 = "
                        "TreeEnsembleRegressor, float64 thresholds but float32 scores, for older runtimes")
    p.add_argument("--check", metavar="DATA", help="LETOR file to compare the graph with the model on (besides "
                                                    "the probe rows on the split thresholds)")
    p.add_argument("--tolerance", type=float, default=1e-5, help="largest accepted |onnx - native| (default 1e-5)")
    p.add_argument("--normalize", choices=["zscore", "minmax"],
                   help="put a per-query feature normalisation in the graph (one call = one query's documents)")
    p.add_argument("--normalization", dest="normalization_file", metavar="FILE",
                   help='JSON {"method": "zscore"|"minmax", "scope": "query"|"global", "shift": ..., "scale": ...}')
    p.add_argument("--no-normalization", action="store_true",
                   help="ignore a normalisation recorded in the model's manifest")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("explain", help="TreeSHAP: why a query's top documents rank where they do")
    p.add_argument("model", help="model folder written by `ltr train` / Ranker.save")
    p.add_argument("data", help="LETOR/SVMlight file holding the query")
    p.add_argument("--qid", help="query to explain (default: the largest query with a relevant document)")
    p.add_argument("--top", type=int, default=5, help="documents to explain (default 5)")
    p.add_argument("--features", type=int, default=5, help="features shown per document (default 5)")
    p.add_argument("--importance", type=int, default=10, help="rows of the feature-importance table (default 10)")
    p.add_argument("--plot", metavar="PNG", help="also draw the query's explanation into this PNG file")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.set_defaults(func=_cmd_explain)

    p = sub.add_parser("run", help="run an experiment (.toml or .py); resumes an interrupted run")
    p.add_argument("experiment")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh: remove the results ltr wrote in --out (refuses a folder ltr did not write)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="run independent (fold, system) tasks in N processes; each model keeps training.n_jobs "
                        "threads, so results are identical to --jobs 1 (default 1)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("report", help="(re)build report.md, report.html and report.tex of a finished run")
    p.add_argument("dir")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("compare", help="compare two finished experiments on their common queries")
    p.add_argument("dir_a")
    p.add_argument("dir_b")
    p.add_argument("--out", help="folder for the comparison report")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("info", help="list objectives, metrics and feature extractors")
    p.set_defaults(func=_cmd_info)

    _add_clicks(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LTRError as exc:
        print(f"ltr {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"ltr {args.command}: error: {exc.filename or exc}: no such file", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ltr {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
