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


def _cmd_evaluate(args) -> int:
    from ltr.io import read_qrels, read_run
    from ltr.metrics import aggregate, evaluate
    from ltr.report.tables import render_plain

    qrels, run = read_qrels(args.qrels), read_run(args.run)
    metrics = args.metric or ["nDCG@10", "AP", "RR", "P@10"]
    per_query = evaluate(qrels, run, metrics, missing_queries="zero" if args.complete else "skip")
    means = aggregate(per_query)
    if args.json:
        out = {"aggregate": {m: float(means[m]) for m in metrics}}
        if args.per_query:
            table = per_query.pivot(index="qid", columns="metric", values="value")
            out["per_query"] = {q: {m: float(table.at[q, m]) for m in metrics}
                                for q in per_query["qid"].drop_duplicates()}
        json.dump(out, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.per_query:
        for row in per_query.itertuples(index=False):
            print(f"{row.metric}\t{row.qid}\t{row.value:.4f}")
    rows = [[m, "all", f"{means[m]:.4f}"] for m in metrics]
    print(render_plain(["metric", "qid", "value"], rows))
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
    from ltr.experiment import Runner, load_experiment
    runner = Runner(load_experiment(args.experiment), args.out, overwrite=args.overwrite, progress=not args.quiet,
                    jobs=args.jobs)
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
    with OutputFolder(args.dir).lock(what="ltr report"):
        paths = build_report(args.dir)
    print("\n".join(str(p) for p in paths))
    return 0


def _cmd_compare(args) -> int:
    from ltr.experiment.reporting import compare_dirs
    report = compare_dirs(args.dir_a, args.dir_b, out=args.out)
    print(report)
    return 0


def _cmd_info(args) -> int:
    from features import available
    from ltr.metrics import available_metrics
    from ltr.objectives import available_objectives, get_objective
    print("objectives:")
    for name in available_objectives():
        obj = get_objective(name)
        print(f"  {name:<18} {obj.family:<10} backends={','.join(obj.backends)}")
    print("metrics: " + ", ".join(available_metrics()))
    print("feature extractors: " + ", ".join(available()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltr", description="Learning-to-rank research framework.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("evaluate", help="evaluate a TREC run against TREC qrels (trec_eval conventions)")
    p.add_argument("qrels")
    p.add_argument("run")
    p.add_argument("-m", "--metric", action="append",
                   help="metric name, e.g. nDCG@10, AP, P(rel=2)@5, \"nDCG(gain='exp')@10\" (repeatable)")
    p.add_argument("--per-query", action="store_true", help="also print the value of every query")
    p.add_argument("--json", action="store_true", help='print {"aggregate": ..., "per_query": ...} as JSON')
    p.add_argument("-c", "--complete", action="store_true",
                   help="as trec_eval -c: qrels queries missing from the run count as 0")
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
