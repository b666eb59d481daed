"""The ``ltr`` command: parses arguments, calls one verb of the library, prints.

Verbs: ``evaluate`` (TREC qrels + run -> metrics), ``train`` / ``predict`` (LETOR files), ``run`` (an
experiment), ``report`` (rebuild an experiment's reports), ``compare`` (two finished experiments), ``info``
(registered objectives, metrics, extractors). Every error ltr raises on purpose is printed as one line and
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


def _cmd_train(args) -> int:
    from ltr.models import train_files
    ranker = train_files(args.data, objective=args.objective, backend=args.backend, valid_path=args.valid,
                         out_dir=args.out, params=_params(args.param))
    print(f"trained {ranker.backend}/{ranker.objective_!r}: {ranker.best_iteration_} trees; model in {args.out}")
    return 0


def _cmd_predict(args) -> int:
    from ltr.models import predict_file
    predict_file(args.model, args.data, args.out)
    print(f"run written to {args.out}")
    return 0


def _cmd_run(args) -> int:
    from ltr.experiment import load_experiment, run_experiment
    exp = load_experiment(args.experiment)
    out = run_experiment(exp, args.out, overwrite=args.overwrite, progress=not args.quiet)
    print(f"report: {out / 'report.html'} (and report.md, report.tex; per-query values in {out / 'metrics.csv'})")
    return 0


def _cmd_report(args) -> int:
    from ltr.experiment.reporting import build_report
    paths = build_report(args.dir)
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


def _cmd_info(args) -> int:
    from ltr.metrics import available_metrics
    from ltr.objectives import available_objectives, get_objective
    print("objectives:")
    for name in available_objectives():
        obj = get_objective(name)
        print(f"  {name:<18} {obj.family:<10} backends={','.join(obj.backends)}")
    print("metrics: " + ", ".join(available_metrics()))
    print("feature extractors: " + ", ".join(extractor_names()))
    return 0


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

    p = sub.add_parser("train", help="train a ranker on a LETOR/SVMlight file")
    p.add_argument("data")
    p.add_argument("--objective", default="lambdarank")
    p.add_argument("--backend", default="lightgbm")
    p.add_argument("--valid", help="validation file for early stopping")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="Ranker setting or backend parameter, e.g. n_estimators=500 (repeatable)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("predict", help="score a LETOR/SVMlight file with a saved model, write a TREC run")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="TREC run file to write")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("run", help="run an experiment (.toml or .py); resumes an interrupted run")
    p.add_argument("experiment")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--overwrite", action="store_true", help="replace a folder that holds another experiment")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
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
