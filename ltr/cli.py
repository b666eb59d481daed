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
