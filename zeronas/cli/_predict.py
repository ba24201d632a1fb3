"""``zeronas predict``: fit an accuracy predictor on logged proxies and judge it on held-out archs."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from zeronas.cli._docs import docs_epilog
from zeronas.errors import ZeronasError

FORMATS = ("table", "csv", "json", "markdown")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="fit / evaluate accuracy predictors on proxy scores",
        description="Accuracy predictors from proxy vectors (GreenFactory-style). 'fit' trains a model on N "
        "labelled archs of a score file or run directory; 'eval' reports Kendall τ, Spearman ρ and top-5 %% "
        "precision on the archs the model was not trained on.",
        epilog=docs_epilog("guide/predictors.md"),
    )
    sub = parser.add_subparsers(dest="predict_command", metavar="ACTION", required=True)
    fit = sub.add_parser("fit", help="fit a predictor and save it", epilog=docs_epilog("guide/predictors.md"))
    _add_data_args(fit)
    fit.add_argument("--train-size", type=int, required=True, metavar="N", help="labelled archs to train on")
    fit.add_argument("--features", help="comma-separated proxy names (default: every proxy in --scores)")
    fit.add_argument("--encoding", action="store_true", help="add the one-hot 'choices' encoding of each arch")
    fit.add_argument("--paths", action="store_true", help="add the path encoding of each arch (TSS)")
    fit.add_argument(
        "--learner",
        default="rf",
        help="rf (random forest, default), gbt (scikit-learn gradient-boosted trees) or lgbm (LightGBM)",
    )
    fit.add_argument(
        "--learner-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="scikit-learn estimator setting, e.g. n_estimators=100 (repeatable)",
    )
    fit.add_argument("--seed", type=int, default=0, help="training-sample draw and learner seed (default 0)")
    fit.add_argument("--out", type=Path, required=True, metavar="MODEL", help="directory to save the model in")
    fit.set_defaults(func=run_fit)
    ev = sub.add_parser(
        "eval",
        help="rank correlation of a saved predictor on the held-out archs",
        epilog=docs_epilog("guide/predictors.md"),
    )
    ev.add_argument("model", type=Path, metavar="MODEL")
    _add_data_args(ev)
    ev.add_argument("--bootstrap", type=int, default=200, metavar="N", help="bootstrap resamples (default 200)")
    ev.add_argument("--seed", type=int, default=0, help="seed of the bootstrap resampling")
    ev.add_argument("--format", choices=FORMATS, default="table", help="output format (default: rich tables)")
    ev.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    ev.set_defaults(func=run_eval)


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scores",
        required=True,
        type=Path,
        nargs="+",
        metavar="SCORES_OR_RUN_DIR",
        help="what 'zeronas score' wrote (its --out directory or one Parquet file) or a search output / run "
        "directory; several join on the archs they all scored, and a proxy scored under several --seed values "
        "becomes its mean and <proxy>@std (its spread over network inits)",
    )
    parser.add_argument("--benchmark", required=True, metavar="TABLE", help="ground truth table or NATS-Bench dir")
    parser.add_argument("--metric", choices=("test", "valid"), default="test", help="ground-truth split (default test)")
    parser.add_argument("--epochs", type=int, help="ground-truth epochs (default: the full schedule)")


def _labelled(args: argparse.Namespace):
    from zeronas.predictors import load_scores, load_truth

    scores = load_scores(args.scores)
    truth, source = load_truth(args.benchmark, scores.protocol.space, scores.protocol.dataset, args.metric, args.epochs)
    keep = [i for i, a in enumerate(scores.archs) if a in truth]
    if not keep:
        raise ZeronasError(f"none of the {len(scores.archs)} archs in {scores.source} is in {args.benchmark}")
    archs = [scores.archs[i] for i in keep]
    rows = [scores.rows[i] for i in keep]
    return scores, archs, rows, np.array([truth[a] for a in archs]), source


def _learner_options(pairs: list[str]) -> dict:
    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ZeronasError(f"--learner-option {pair!r} must look like KEY=VALUE, e.g. n_estimators=100")
        try:
            options[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            options[key.strip()] = text
    return options


def run_fit(args: argparse.Namespace) -> int:
    from zeronas.predictors import ENCODING, PATHS, AccuracyPredictor

    scores, archs, rows, accs, source = _labelled(args)
    if args.features:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
        unknown = [f for f in features if f not in scores.names]
        if unknown:
            have = ", ".join(scores.names)
            raise ZeronasError(f"--features {', '.join(unknown)} not in {scores.source}; it has {have}")
    else:
        features = list(scores.names)
    if args.encoding:
        features.append(ENCODING)
    if args.paths:
        features.append(PATHS)
    if not 2 <= args.train_size < len(archs):
        raise ZeronasError(
            f"--train-size must be between 2 and {len(archs) - 1} (labelled archs: {len(archs)}), got {args.train_size}"
        )
    train = np.sort(np.random.default_rng(args.seed).choice(len(archs), size=args.train_size, replace=False))
    model = AccuracyPredictor(
        features, scores.protocol, learner=args.learner, seed=args.seed, options=_learner_options(args.learner_option)
    )
    model.fit([rows[i] for i in train], accs[train], [archs[i] for i in train], label=source)
    path = model.save(args.out)
    print(
        f"fitted {args.learner} on {len(train)} archs x {len(features)} features ({', '.join(features)}); "
        f"label {source}; saved to {path}"
    )
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from zeronas.analysis import AnalysisReport, ReportTable, render
    from zeronas.analysis._export import write_text
    from zeronas.analysis._quality import QUALITY_COLUMNS, proxy_quality, quality_cells
    from zeronas.predictors import AccuracyPredictor

    if args.bootstrap < 0:
        raise ZeronasError(f"--bootstrap must be 0 (no intervals) or more, got {args.bootstrap}")
    model = AccuracyPredictor.load(args.model)
    scores, archs, rows, accs, source = _labelled(args)
    model.check_protocol(scores.protocol, f"the proxies in {scores.source}")
    missing = [f for f in model.proxies if f not in scores.names]
    if missing:
        raise ZeronasError(f"{scores.source} lacks the model's features {', '.join(missing)}")
    if not model.train_archs:
        raise ZeronasError(
            f"{args.model} does not list the archs it was fitted on, so none can be held out; "
            "fit it with 'zeronas predict fit' or AccuracyPredictor.fit(..., archs)"
        )
    trained = set(model.train_archs)
    held = [i for i, a in enumerate(archs) if a not in trained]
    if len(held) < 2:
        raise ZeronasError(f"only {len(held)} archs of {scores.source} were not used to train the model")
    held_rows, held_archs, truth = [rows[i] for i in held], [archs[i] for i in held], accs[held]
    predicted = model.predict(held_rows, held_archs)
    title = f"Predictor quality on held-out archs ({model.protocol.space}/{model.protocol.dataset})"
    table = ReportTable("predictor quality", title, QUALITY_COLUMNS)
    candidates = {"predicted_acc": predicted}
    candidates.update({f: np.array([np.nan if r.get(f) is None else r[f] for r in held_rows]) for f in model.proxies})
    for name, values in candidates.items():
        result = proxy_quality(values, truth, n_resamples=args.bootstrap, rng=np.random.default_rng(args.seed))
        table.rows.append([name] + quality_cells(result))
    intervals = (
        f"95 % percentile-bootstrap intervals ({args.bootstrap} resamples)"
        if args.bootstrap
        else "no intervals (--bootstrap 0)"
    )
    p = model.protocol
    table.notes += [
        f"truth: {source}; model: {model.learner} on {model.n_train} archs ({model.label}); "
        f"features: {', '.join(model.features)}",
        f"held out: {len(held)} archs of {scores.source} not used for training; the proxies alone on the same archs "
        f"for comparison; top5 = share of the true top 5 % among the top 5 % by the row; {intervals}",
        f"protocol: {p.input_kind} inputs, batch {p.batch_size}, seed policy {p.seed_policy} (seed {p.seed})",
    ]
    width = shutil.get_terminal_size((160, 24)).columns if sys.stdout.isatty() and not args.output else 160
    text = render(AnalysisReport(tables=[table]), args.format, width=width)
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def load_for_scoring(model_path: Path, protocol, proxies: list[str]):
    """The model ``zeronas score --predictor`` uses, checked before any scoring: same protocol, features scored."""
    from zeronas.predictors import AccuracyPredictor

    model = AccuracyPredictor.load(model_path)
    model.check_protocol(protocol, "the proxies being scored")
    missing = [f for f in model.proxies if f not in proxies]
    if missing:
        raise ZeronasError(f"--predictor {model_path} needs the proxies {', '.join(missing)}; add them to --proxies")
    return model
