"""`zeronas search` and `zeronas compare`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zeronas.cli._docs import docs_epilog
from zeronas.errors import ZeronasError
from zeronas.inputs import INPUT_KINDS

if TYPE_CHECKING:
    from zeronas.groundtruth import GroundTruthLocation
    from zeronas.inputs import ProxyInput

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

S = argparse.SUPPRESS


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="FILE", default=S, help="YAML or TOML file of flag values (flags on the command line win)"
    )
    p.add_argument("--space", default=S, help="search space: tss (default), sss or darts")
    p.add_argument("--dataset", default=S, help="cifar10 (default), cifar100, imagenet16")
    p.add_argument(
        "--proxy", default=S, help="objective: a proxy (meco, default) or weighted ranks, e.g. meco:1,synflow:0.5"
    )
    p.add_argument(
        "--objective",
        choices=["proxy", "predictor"],
        default=S,
        help="maximise --proxy (default) or the accuracy a random forest predicts from --proxy and "
        "--extra-proxies, trained on benchmark validation lookups (needs --benchmark)",
    )
    p.add_argument(
        "--label-budget",
        type=int,
        default=S,
        help="--objective predictor: validation lookups per search to train on (default 50)",
    )
    p.add_argument(
        "--label-every",
        type=int,
        default=S,
        help="--objective predictor: label 2 archs after every N evaluations (default 10)",
    )
    p.add_argument(
        "--extra-proxies", default=S, metavar="LIST", help="more proxies to compute and log, not used by the search"
    )
    p.add_argument("--budget", default=S, help="per search: proxy evaluations (1000, default) or time (120s, 5m)")
    p.add_argument("--top-k", type=int, default=S, help="validation lookups per search (default 10)")
    p.add_argument(
        "--top-k-distance",
        type=int,
        default=S,
        metavar="D",
        help="diverse top-k: each candidate differs from the others in at least D decisions (default 0: off)",
    )
    p.add_argument(
        "--validate-on",
        default=S,
        metavar="DATASET",
        help="the dataset whose validation accuracy the lookups read (default --dataset; RoBoT reads cifar10)",
    )
    p.add_argument(
        "--scores-from",
        default=S,
        metavar="DIR",
        help="take proxy values from this 'zeronas score' table (same protocol, else an error; the proxy seed "
        "is the table's); archs not in it are scored",
    )
    p.add_argument(
        "--benchmark",
        default=S,
        metavar="PATH",
        help="ground truth: NATS-Bench table (CSV/Parquet) or fast-mode directory (default: the directory "
        "under $TORCH_HOME, else the table `zeronas benchmark export` wrote to $ZERONAS_HOME)",
    )
    p.add_argument(
        "--metric",
        choices=["valid", "test"],
        default=S,
        help="validation signal: the benchmark's valid (default) accuracy; test needs --select-on-test",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=S,
        help="training epochs of the validation signal (ground-truth fidelity; default 12)",
    )
    p.add_argument(
        "--select-on-test",
        action="store_true",
        default=S,
        help="allow --metric test (reports then say 'selected on test')",
    )
    p.add_argument(
        "--train-epochs", type=int, default=S, help="stage 3: short-train the top candidates for E epochs (0 = off)"
    )
    p.add_argument("--train-top-k", type=int, default=S, help="how many of the top-k to train (default: all)")
    p.add_argument(
        "--train-simulate",
        action="store_true",
        default=S,
        help="stage 3 from the benchmark's 12-epoch results instead of training",
    )
    p.add_argument(
        "--train-samples",
        type=int,
        default=S,
        help="train on a random subset of N training images (drawn with the search seed)",
    )
    p.add_argument(
        "--train-holdout",
        type=_count_or_fraction,
        default=S,
        metavar="N|F",
        help="stage 3 validates (for ASHA and the selection) on N training images, or that fraction, held out of "
        "training (default 0.1: 5,000 of CIFAR's 50,000); the test split is used once, on the selected arch",
    )
    p.add_argument(
        "--train-holdout-seed",
        type=int,
        default=S,
        help="seed of the held-out split, the same for every arch of the run (default 0)",
    )
    p.add_argument(
        "--train-channels", type=int, default=S, help="darts: initial channels of the trained network (default 36)"
    )
    p.add_argument("--train-layers", type=int, default=S, help="darts: cells of the trained network (default 20)")
    p.add_argument(
        "--supernet-epochs",
        type=int,
        default=S,
        help="rarts, darts-1st, milenas: epochs of supernet training (default: the paper's, tss 100, darts 50; "
        "its other settings: --algo-option rarts.KEY=VALUE, see docs/rarts.md)",
    )
    p.add_argument(
        "--data",
        default=S,
        metavar="DIR",
        help="CIFAR python batches (or an image folder for proxies); default: a copy found in $ZERONAS_DATA, "
        "$ZERONAS_HOME/data (`zeronas data download`), ./data, ~/data or ~/.torch",
    )
    p.add_argument(
        "--input",
        default=S,
        choices=INPUT_KINDS,
        help="proxy input: auto (real images when a copy is found, else Gaussian noise; default), "
        "real (fail without a copy) or noise (data-free)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=S,
        help="scorer actors (default: one per GPU the cluster has or can launch, else one per CPU)",
    )
    p.add_argument(
        "--gpus-per-worker",
        type=float,
        default=S,
        help="GPU share per scorer (default 1 if the cluster has or can launch GPUs; 0.25 packs 4 per GPU)",
    )
    p.add_argument(
        "--wait-for-workers",
        default=S,
        metavar="DURATION",
        help="give up when no scorer worker has been up this long (default 10m; e.g. 90s, 30m)",
    )
    p.add_argument(
        "--cpus-per-worker", type=float, default=S, help="logical CPUs Ray reserves per scorer (default 0.5)"
    )
    p.add_argument(
        "--ask-batch",
        type=int,
        default=S,
        help="archs each search proposes before it hears their scores (default 4); a larger batch lets one driver "
        "keep more GPUs busy (16: ~34, 64: ~54 at 260 arch/s each) at some cost in what REA/TPE learn per ask",
    )
    p.add_argument("--threads-per-worker", type=int, default=S, help="torch threads per scorer (default 1)")
    p.add_argument("--address", default=S, help="Ray cluster to join, e.g. auto (default: start a local Ray)")
    p.add_argument(
        "--device",
        default=S,
        choices=["auto", "cpu", "cuda"],
        help="where workers compute: auto (default) = the GPU Ray gives them, else CPU; a worker given a "
        "GPU that torch cannot use is an error. cpu = keep the GPU placement, compute on the CPU",
    )
    p.add_argument("--out", default=S, metavar="DIR", help="log root (default ./zeronas-runs)")
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=S,
        metavar="RUN_ID",
        help="continue the newest (or the given) run in --out",
    )
    p.add_argument("--dedup-isomorphic", action="store_true", default=S, help="never propose two isomorphic TSS cells")
    p.add_argument(
        "--algo-option",
        dest="algo_option",
        action="append",
        default=S,
        metavar="[ALGO.]KEY=VALUE",
        help="search algorithm option, e.g. population_size=32 or rea.sample_size=8 (repeatable)",
    )
    p.add_argument(
        "--allow-repeats",
        action="store_true",
        default=S,
        help="let the algorithm re-propose archs it has seen (answered from memory, not rescored)",
    )
    p.add_argument(
        "--proxy-seed",
        type=int,
        default=S,
        help="pin the seed of network init and proxy inputs (default: each search's seed)",
    )
    p.add_argument(
        "--proxy-option",
        dest="proxy_option",
        action="append",
        default=S,
        metavar="PROXY.KEY=VALUE",
        help="proxy constructor option, e.g. meco_opt.n=16 (repeatable)",
    )
    p.add_argument("--batch-size", type=int, default=S, help="mini-batch size for proxies that use one (default 64)")
    p.add_argument(
        "--plugin",
        dest="plugins",
        action="append",
        default=S,
        metavar="MODULE_OR_FILE",
        help="import a module / .py file that registers extra proxies, spaces or algorithms (repeatable)",
    )
    p.add_argument("--quiet", action="store_true", default=S, help="no progress bar")
    p.add_argument("--json", action="store_true", default=S, help="print the result as JSON instead of tables")


def add_parser(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser(
        "search",
        help="run one search (proxy proposal -> top-k validation -> optional training)",
        epilog=docs_epilog("guide/pipeline.md"),
    )
    _common(search)
    search.add_argument(
        "--algo",
        default=S,
        help="search algorithm (rea default; random, tpe, nsga2, robot, optuna:<Sampler>; "
        "supernet training: rarts, darts-1st, milenas)",
    )
    search.add_argument("--seed", type=int, default=S, help="search seed (default 0)")
    search.set_defaults(func=run_search_cmd)

    compare = sub.add_parser(
        "compare",
        help="several algorithms x seeds under one proxy, one shared scorer pool, one log",
        epilog=docs_epilog("guide/pipeline.md"),
    )
    _common(compare)
    compare.add_argument("--algos", default=S, help="comma list, e.g. random,rea,tpe or rea,rarts")
    compare.add_argument("--seeds", default=S, help="number of seeds (5 → 0..4) or a comma list")
    compare.set_defaults(func=run_compare_cmd)


def _load_config(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ZeronasError(f"--config {path}: no such file")
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(p.read_text())
        else:
            import yaml

            data = yaml.safe_load(p.read_text()) or {}
    except Exception as err:
        raise ZeronasError(f"--config {path}: cannot parse it ({type(err).__name__}: {err})") from None
    if not isinstance(data, dict):
        raise ZeronasError(f"--config {path}: expected a mapping of flag names to values")
    return {k.replace("-", "_"): v for k, v in data.items()}


def _options(args: argparse.Namespace) -> dict[str, Any]:
    given = {k: v for k, v in vars(args).items() if k not in ("func", "command")}
    config = _load_config(given.pop("config")) if "config" in given else {}
    return {**config, **given}


def _as_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _seeds(value: Any) -> list[int]:
    items = _as_list(value)
    try:
        if len(items) == 1 and "," not in str(value) and not isinstance(value, (list, tuple)):
            n = int(items[0])
            if n < 1:
                raise ZeronasError(f"--seeds must be >= 1, got {n}")
            return list(range(n))
        return [int(v) for v in items]
    except ValueError:
        raise ZeronasError(f"bad --seeds {value!r}: a count (5) or a comma list (0,1,2)") from None


def _key_values(
    items: Any, flag: str = "--algo-option", usage: str = "KEY=VALUE or ALGO.KEY=VALUE, e.g. population_size=32"
) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in [items] if isinstance(items, str) else items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise ZeronasError(f"bad {flag} {item!r}: use {usage}")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else value
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def parse_proxy_options(items: Any) -> dict[str, dict[str, Any]]:
    """``--proxy-option PROXY.KEY=VALUE`` flags as ``{proxy: {key: value}}`` (values read as YAML)."""
    usage = "PROXY.KEY=VALUE, e.g. meco_opt.n=16"
    options: dict[str, dict[str, Any]] = {}
    for key, value in _key_values(items, "--proxy-option", usage).items():
        proxy, dot, option = key.partition(".")
        if not dot or not proxy or not option:
            raise ZeronasError(f"bad --proxy-option {key}={value}: use {usage}")
        options.setdefault(proxy, {})[option] = value
    return options


def _count_or_fraction(text: str) -> int | float:
    """``5000`` -> 5000 images, ``0.1`` -> a tenth of them."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a number of images (5000) or a fraction (0.1), not {text!r}") from None


def build_spec(opts: dict[str, Any]):
    from zeronas.pipeline import ExperimentSpec, parse_budget
    from zeronas.pipeline._placement import parse_duration

    opts = dict(opts)
    spec = ExperimentSpec()
    known = {f for f in vars(spec)}
    if "algo" in opts:
        spec.algos = [str(opts.pop("algo"))]
    if "algos" in opts:
        spec.algos = _as_list(opts.pop("algos"))
    if "seed" in opts:
        spec.seeds = [int(opts.pop("seed"))]
    if "seeds" in opts:
        spec.seeds = _seeds(opts.pop("seeds"))
    if "budget" in opts:
        spec.budget, spec.budget_seconds = parse_budget(opts.pop("budget"))
    if "wait_for_workers" in opts:
        spec.wait_for_workers = parse_duration(opts.pop("wait_for_workers"))
    if "extra_proxies" in opts:
        spec.extra_proxies = _as_list(opts.pop("extra_proxies"))
    if "algo_options" in opts:  # from a config file: a mapping
        if not isinstance(opts["algo_options"], dict):
            raise ZeronasError("algo_options (from --config) must be a mapping, e.g. {population_size: 32}")
        spec.algo_options = dict(opts.pop("algo_options"))
    if "algo_option" in opts:
        spec.algo_options = {**spec.algo_options, **_key_values(opts.pop("algo_option"))}
    if "proxy_options" in opts:  # from a config file: {proxy: {key: value}}
        if not isinstance(opts["proxy_options"], dict):
            raise ZeronasError("proxy_options (from --config) must be a mapping, e.g. {meco_opt: {n: 16}}")
        spec.proxy_options = {str(k): dict(v) for k, v in opts.pop("proxy_options").items()}
    if "proxy_option" in opts:
        for proxy, options in parse_proxy_options(opts.pop("proxy_option")).items():
            spec.proxy_options.setdefault(proxy, {}).update(options)
    opts.pop("resume", None)
    opts.pop("json", None)
    for key, value in opts.items():
        if key not in known:
            raise ZeronasError(f"unknown setting {key!r} (from --config); see `zeronas search --help`")
        setattr(spec, key, value)
    return spec


@dataclass(frozen=True)
class Sources:
    """Where a run's ground truth and proxy input come from."""

    truth: GroundTruthLocation
    proxy_input: ProxyInput

    def lines(self) -> list[str]:
        return [self.truth.describe() if self.truth.path else "ground truth: none", self.proxy_input.describe()]


def resolve_sources(spec, input_kind: str = "auto") -> Sources:
    """Fill ``spec.benchmark`` and ``spec.data`` from what is found without flags (see
    :func:`~zeronas.groundtruth.locate_ground_truth` and :func:`~zeronas.inputs.resolve_proxy_input`)."""
    from zeronas.groundtruth import locate_ground_truth
    from zeronas.inputs import resolve_proxy_input

    truth = locate_ground_truth(spec.benchmark, spec.space)
    if truth.path is not None:
        spec.benchmark = str(truth.path)
    proxy_input = resolve_proxy_input(spec.data, spec.dataset, input_kind)
    if proxy_input.kind == "noise" and spec.data:
        if spec.train_epochs and not spec.train_simulate:
            # one --data serves proxies and training in the pipeline today
            raise ZeronasError(
                "--input noise with --data and --train-epochs: the proxies would see --data too; "
                "drop --input noise or use --train-simulate"
            )
        spec.data = None
    elif proxy_input.kind == "real":
        spec.data = proxy_input.data
    return Sources(truth, proxy_input)


def _run(args: argparse.Namespace) -> int:
    from zeronas.pipeline import run_experiment

    opts = _options(args)
    resume = opts.get("resume", False)
    input_kind = str(opts.pop("input", "auto"))
    spec = build_spec(opts)
    sources = None if resume else resolve_sources(spec, input_kind)
    if sources:
        for line in sources.lines():
            print(line, file=sys.stderr if opts.get("json") else sys.stdout)
    result = run_experiment(spec, resume=resume)
    if opts.get("json"):
        record = _jsonable(result)
        if sources:
            record["ground_truth"] = spec.benchmark
            record["proxy_input"] = sources.proxy_input.record()
        print(json.dumps(record, indent=2, default=str))
    else:
        _print_result(result, spec)
        if sources and sources.truth.path is None:
            print(sources.truth.describe())
    return 0


run_search_cmd = _run
run_compare_cmd = _run


def _jsonable(result) -> dict[str, Any]:
    keep = (
        "arch",
        "index",
        "score",
        "accuracy",
        "accuracy_source",
        "trained_accuracy",
        "trained_epochs",
        "params",
        "flops",
    )
    return {
        "run_id": result.run_id,
        "run_dir": str(result.run_dir),
        "seconds": round(result.seconds, 2),
        "pool": result.pool_stats,
        "returned": result.returned,
        "top": {sid: [{k: r.get(k) for k in keep} for r in rows] for sid, rows in result.top.items()},
    }


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def _mean_std(values: list[float]) -> str:
    import statistics

    if not values:
        return "-"
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.2f} ± {std:.2f} (n={len(values)})"


def _protocol(result, spec) -> str:
    """How the figures were obtained: the validation signal, the test figure, the proxy seeds."""
    r = next(iter(result.returned.values()), {})
    if not r.get("validation_source"):
        return (
            "no ground truth (pass --benchmark PATH): each search returns its proxy's best; "
            "validation and test accuracy unknown"
        )
    selected = "SELECTED ON TEST: " if r.get("selected_on_test") else ""
    recorded = json.loads((Path(result.run_dir) / "_run.json").read_text())["config"]["run"]["proxy_protocol"]
    seed = "each search's seed" if recorded["seed"] == "search seed" else recorded["seed"]
    table = f"; proxy values from {recorded['scores_from']} where it holds them" if recorded.get("scores_from") else ""
    from zeronas.search_algos import is_training_search

    chosen = "by proxy" + ("; robot's by BO over proxy weights" if "robot" in spec.algos else "")
    training = [a for a in spec.algos if is_training_search(a)]
    if training:
        chosen += f"; {', '.join(training)}: the one arch derived from its trained supernet"
    return (
        f"{selected}returned = best {r['validation_source']} of each search's {spec.top_k} lookups ({chosen}); "
        f"test = {r.get('test_source') or 'unknown'}, looked up once for the returned arch; proxy seed: {seed}{table}"
    )


def _truth_coverage(rows: list[dict[str, Any]], spec) -> str | None:
    """How many of the validated archs the benchmark holds: a random DARTS genotype is almost never
    among NAS-Bench-301's 725 cells, so a '-' there means 'not in the benchmark', not a failure."""
    if not spec.benchmark:
        return None
    found = sum(r.get("accuracy") is not None for r in rows)
    if found == len(rows):
        return None
    return f"ground truth for {found} of {len(rows)} archs; the others are not in the benchmark ({spec.benchmark})"


def _objective_text(spec) -> str:
    from zeronas.search_algos import is_training_search

    if all(is_training_search(a) for a in spec.algos):
        return "supernet training"
    if spec.objective == "predictor":
        return f"predicted accuracy from {', '.join([spec.proxy, *spec.extra_proxies])}"
    return spec.proxy


def _print_trained(console, sid: str, trained: dict[str, Any] | None) -> None:
    """Stage 3's answer: selected on held-out training images, tested once."""
    if not trained:
        return
    console.print(
        f"trained by {sid} (stage 3): {trained['arch']} (index {_fmt(trained['index'])}), selected on "
        f"{trained['validation_source']} {_fmt(trained['validation_accuracy'], 4)} % after {trained['epochs']} ep; "
        f"test {_fmt(trained['test_accuracy'], 4)} % ({trained['test_source']}, evaluated once)"
        + (f"  [{trained['error']}]" if trained.get("error") else "")
    )


def _training_cost(ret: dict[str, Any]) -> str:
    """What a supernet-training search spent: seconds on its device (GPU-seconds on a GPU)."""
    if ret.get("train_device_seconds") is None:
        return ""
    return f"  supernet training {ret['train_device_seconds']:.1f} s on {ret['train_device']}"


def _print_result(result, spec) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=200)  # in a log, one line per arch beats rich's 80-column wrap
    if len(result.top) == 1:
        for sid, rows in result.top.items():
            table = Table(
                title=f"top-{len(rows)} of {sid} ({_objective_text(spec)})",
                title_justify="left",
                caption_justify="left",
            )
            table.add_column("rank", justify="right")
            table.add_column("index", justify="right")
            table.add_column("arch", overflow="fold")
            table.add_column("score", justify="right")
            table.add_column("validation %", justify="right")
            if spec.train_epochs:
                table.add_column("trained %", justify="right")
            table.add_column("params M", justify="right")
            for rank, r in enumerate(rows, start=1):
                cells = [str(rank), _fmt(r.get("index")), r["arch"], _fmt(r.get("score")), _fmt(r.get("accuracy"), 5)]
                if spec.train_epochs:
                    epochs = r.get("trained_epochs")
                    cells.append(f"{_fmt(r.get('trained_accuracy'), 4)} ({epochs} ep)" if epochs else "-")
                cells.append(_fmt((r.get("params") or 0) / 1e6, 3))
                table.add_row(*cells)
            table.caption = _truth_coverage(rows, spec)
            console.print(table)
            ret = result.returned[sid]
            console.print(f"returned by {sid}: {ret['arch']} (index {_fmt(ret['index'])})")
            console.print(
                f"  validation {_fmt(ret['validation_accuracy'], 5)} %  test {_fmt(ret['test_accuracy'], 5)} %  "
                f"params {_fmt((ret['params'] or 0) / 1e6, 3)} M  FLOPs {_fmt(ret['flops'], 4)} M  "
                f"validation lookups {ret['lookups']}  proxy evaluations {ret['proxy_evals']}" + _training_cost(ret)
            )
            _print_trained(console, sid, ret.get("trained"))
    else:
        table = Table(
            title=f"{len(result.top)} searches under {_objective_text(spec)}: the architecture each returns",
            title_justify="left",
        )
        for name in ("search", "index", "validation %", "test %", "params M", "lookups", "proxy evals", "train s"):
            table.add_column(name, justify="left" if name == "search" else "right")
        for sid, ret in result.returned.items():
            table.add_row(
                sid,
                _fmt(ret["index"]),
                _fmt(ret["validation_accuracy"], 5),
                _fmt(ret["test_accuracy"], 5),
                _fmt((ret["params"] or 0) / 1e6, 3),
                str(ret["lookups"]),
                str(ret["proxy_evals"]),
                _fmt(ret["train_device_seconds"], 4),
            )
        table.caption = _truth_coverage([r for rows in result.top.values() for r in rows], spec)
        console.print(table)
        for sid, ret in result.returned.items():
            _print_trained(console, sid, ret.get("trained"))
        by_algo: dict[str, list[dict[str, Any]]] = {}
        for sid, ret in result.returned.items():
            by_algo.setdefault(sid.rsplit("-s", 1)[0], []).append(ret)
        summary = Table(title="per algorithm: mean ± std over seeds", title_justify="left")
        for name in ("algorithm", "test % of the returned arch", "validation %", "lookups", "proxy evals", "train s"):
            summary.add_column(name, justify="left" if name == "algorithm" else "right")
        for algo, rets in by_algo.items():
            trained = [r["train_device_seconds"] for r in rets if r["train_device_seconds"] is not None]
            summary.add_row(
                algo,
                _mean_std([r["test_accuracy"] for r in rets if r["test_accuracy"] is not None]),
                _mean_std([r["validation_accuracy"] for r in rets if r["validation_accuracy"] is not None]),
                f"{sum(r['lookups'] for r in rets) / len(rets):g}",
                f"{sum(r['proxy_evals'] for r in rets) / len(rets):g}",
                f"{sum(trained) / len(trained):.4g}" if trained else "-",
            )
        console.print(summary)
    console.print(_protocol(result, spec))
    stats = result.pool_stats
    workers, nodes = len(stats.get("per_worker", {})), len(stats.get("per_node", {}))
    console.print(
        f"run {result.run_id}: {stats.get('scored', 0)} archs scored by {workers} worker{'s' * (workers != 1)}"
        + (f" on {nodes} nodes" if nodes > 1 else "")
        + f" in {result.seconds:.1f} s; log: {result.run_dir}"
    )
    benchmark = f" --benchmark {spec.benchmark}" if spec.benchmark else ""
    console.print(f"analyse it: zeronas analyze {result.run_dir.parent}{benchmark}")
    console.print(f"report: zeronas report {result.run_dir}{benchmark} --out {result.run_dir.parent / 'report.html'}")
