"""The ``ltr`` command: parses arguments, calls one verb of the library, prints.

Verbs: ``evaluate`` (TREC qrels + run -> metrics), ``train`` / ``predict`` (LETOR files), ``run`` (an
experiment), ``report`` (rebuild an experiment's reports), ``compare`` (two finished experiments), ``info``
(registered objectives, metrics, extractors), ``clicks simulate|fit|summary|report`` (click logs). Every error ltr raises on purpose is printed as one line and
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
