"""zeronas analyze: every figure checked against an independent computation here."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from zeronas.analysis import analyze, export_joined, render, write_plots
from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.logs import LogWriter

ALGORITHMS = {"random": 0.0, "rea": 0.6, "tpe": 0.3}  # how strongly each leans to good archs
SEEDS = (0, 1, 2)
EVALS = 60
TOP_K = 5
RESAMPLES = 100
T0 = 1_780_000_000.0
WORKERS = {"w0": "node-a", "w1": "node-a", "w2": "node-b"}


@pytest.fixture(scope="module")
def tss_csv(request, tmp_path_factory) -> Path:
    """The shared NATS-Bench table, or a stand-in with the same columns over every TSS arch."""
    try:
        return request.getfixturevalue("shared_data") / "nats_tss" / "cifar10.csv"
    except pytest.skip.Exception:
        from zeronas.spaces import get_space

        archs = list(get_space("tss").enumerate())
        acc = 10 + 84.37 * np.random.default_rng(0).beta(8, 1.2, len(archs))
        path = tmp_path_factory.mktemp("gt") / "cifar10.csv"
        pacsv.write_csv(pa.table({"index": np.arange(len(archs)), "arch": archs, "cifar10_test_acc_200ep": acc}), path)
        return path


@pytest.fixture(scope="module")
def truth(tss_csv: Path) -> dict[str, float]:
    table = pacsv.read_csv(
        tss_csv, convert_options=pacsv.ConvertOptions(include_columns=["arch", "cifar10_test_acc_200ep"])
    )
    return dict(zip(table.column("arch").to_pylist(), table.column("cifar10_test_acc_200ep").to_pylist()))


def _proxy_values(arch_index: int, acc: float) -> tuple[float, float | None]:
    """Deterministic per arch (like real proxies): meco tracks accuracy, synflow spans decades."""
    r = np.random.default_rng(arch_index)
    meco = acc + r.normal(0, 4.0)
    synflow = float(np.exp(acc / 8 + r.normal(0, 0.5)))
    return meco, (None if arch_index % 31 == 0 else synflow)


def _search_rows(archs: list[str], accs: np.ndarray, algo: str, seed: int, with_validate: bool, start: float):
    """One search's rows; the searches of a run follow each other, sharing three workers."""
    rng = np.random.default_rng([seed, len(algo)])
    lean = ALGORITHMS[algo]
    weights = np.exp(lean * (accs - accs.max()))
    weights /= weights.sum()
    seen, rows, proposed, elapsed = set(), [], 0, 0.0
    while len(rows) < EVALS:
        i = int(rng.choice(len(archs), p=weights))
        proposed += 1
        if i in seen:
            continue
        seen.add(i)
        meco, synflow = _proxy_values(i, accs[i])
        busy = float(rng.uniform(0.05, 0.2))
        elapsed += busy / 2
        worker = f"w{len(rows) % 3}"
        rows.append({
            "search_id": f"{algo}-s{seed}", "algorithm": algo, "seed": seed, "space": "tss", "dataset": "cifar10",
            "stage": "proxy", "arch": archs[i], "index": i, "canonical": f"c{i // 2}", "score": meco,
            "proxy_meco": meco, "proxy_synflow": synflow, "proxy_seconds": busy, "worker_id": worker,
            "node": WORKERS[worker], "device": "cpu", "iteration": len(rows) + 1, "n_proposed": proposed,
            "elapsed": elapsed, "timestamp": start + elapsed,
            "error": "synflow: non-finite value (inf)" if synflow is None else None,
        })  # fmt: skip
    if with_validate:
        top = sorted(rows, key=lambda r: (-r["score"], r["iteration"]))[:TOP_K]
        validated = []
        for rank, r in enumerate(top, start=1):
            validated.append({
                "search_id": r["search_id"], "algorithm": algo, "seed": seed, "space": "tss", "dataset": "cifar10",
                "stage": "validate", "arch": r["arch"], "index": r["index"],
                "accuracy": _validation(r["index"], accs[r["index"]]), "accuracy_source": "cifar10_valid_acc_12ep",
                "iteration": rank, "elapsed": elapsed + 0.01 * rank, "timestamp": start + elapsed + 0.01 * rank,
            })  # fmt: skip
        chosen = max(validated, key=lambda r: (r["accuracy"], -r["iteration"]))
        rows += validated + [
            {**chosen, "stage": "test", "accuracy": accs[chosen["index"]], "accuracy_source": "cifar10_test_acc_200ep"}
        ]
    return rows


def _validation(arch_index: int, acc: float) -> float:
    """A short-training validation figure: below the test accuracy, noisy, deterministic per arch."""
    return acc - 3.0 + float(np.random.default_rng(100_000 + arch_index).normal(0, 1.0))


def write_log(root: Path, truth: dict[str, float], *, algorithms=ALGORITHMS, seeds=SEEDS, with_validate=True,
              run_id="run1") -> Path:  # fmt: skip
    archs = list(truth)
    accs = np.array([truth[a] for a in archs])
    with LogWriter(root, run_id, ["meco", "synflow"], flush_rows=100, config={"top_k": TOP_K}) as writer:
        for j, (algo, seed) in enumerate(itertools.product(algorithms, seeds)):
            writer.extend(_search_rows(archs, accs, algo, seed, with_validate, start=T0 + 4.0 * j))
    return root


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory, truth) -> Path:
    return write_log(tmp_path_factory.mktemp("log"), truth)


@pytest.fixture(scope="module")
def report(log_dir, tss_csv):
    return analyze([log_dir], benchmark=tss_csv, top_k=TOP_K, n_resamples=RESAMPLES)


@pytest.fixture(scope="module")
def rows(log_dir) -> list[dict]:
    return pq.read_table(next(log_dir.glob("run=*"))).to_pylist()


# -- independent reference computations ---------------------------------------------------
def avg_ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    values, counts = np.unique(x, return_counts=True)
    for v in values[counts > 1]:
        ranks[x == v] = ranks[x == v].mean()
    return ranks


def ref_spearman(x, y) -> float:
    return float(np.corrcoef(avg_ranks(x), avg_ranks(y))[0, 1])


def ref_kendall_b(x, y) -> float:
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(len(x), 1)
    dx, dy = dx[iu], dy[iu]
    concordant_minus_discordant = np.sum(dx * dy)
    return float(concordant_minus_discordant / math.sqrt(np.sum(dx != 0) * np.sum(dy != 0)))


def ref_top_precision(x, y, fraction=0.05) -> float:
    m = max(1, math.ceil(fraction * len(x)))
    top_x = set(sorted(range(len(x)), key=lambda i: (-x[i], i))[:m])
    top_y = set(sorted(range(len(y)), key=lambda i: (-y[i], i))[:m])
    return len(top_x & top_y) / m


def ref_anytime(search_rows: list[dict], truth: dict, k: int) -> list[float]:
    out = []
    ordered = sorted(search_rows, key=lambda r: r["iteration"])
    for n in range(1, len(ordered) + 1):
        top = sorted(ordered[:n], key=lambda r: (-r["score"], r["iteration"]))[:k]
        out.append(max(truth[r["arch"]] for r in top))
    return out


def ref_wilcoxon_p(diffs: list[float]) -> float:
    """Exact two-sided p by enumerating every sign flip (no zero or tied |d| in our data)."""
    ranks = avg_ranks(np.abs(np.array(diffs)))
    w_plus = ranks[np.array(diffs) > 0].sum()
    observed = min(w_plus, ranks.sum() - w_plus)
    flips = list(itertools.product([0, 1], repeat=len(diffs)))
    extreme = sum(min(s, ranks.sum() - s) <= observed + 1e-12 for s in (np.dot(f, ranks) for f in flips))
    return extreme / len(flips)


def returned_test(rows, search_id) -> float:
    """Independent pick: the best validation figure of the search's validated archs, its test accuracy."""
    validated = [r for r in rows if r["search_id"] == search_id and r["stage"] == "validate"]
    best = max(validated, key=lambda r: (r["accuracy"], -r["iteration"]))
    return _truth_of(best)


def _truth_of(row) -> float:
    return row["accuracy"] + 3.0 - float(np.random.default_rng(100_000 + row["index"]).normal(0, 1.0))


def proxy_rows(rows, search_id=None):
    return [r for r in rows if r["stage"] == "proxy" and (search_id is None or r["search_id"] == search_id)]


# -- proxy quality -------------------------------------------------------------------------------
def test_proxy_quality_matches_reference(report, rows, truth):
    table = report.table("Proxy quality on distinct archs")
    per_arch = {}
    for r in proxy_rows(rows):
        per_arch[r["arch"]] = (r["proxy_meco"], r["proxy_synflow"])
    for column, proxy in ((0, "meco"), (1, "synflow")):
        pairs = [(v[column], truth[a]) for a, v in per_arch.items() if v[column] is not None]
        x, y = np.array(pairs).T
        got = table.find(proxy=proxy)
        assert got["n"] == len(x)
        assert got["spearman"] == pytest.approx(ref_spearman(x, y), abs=1e-12)
        assert got["kendall"] == pytest.approx(ref_kendall_b(x, y), abs=1e-12)
        assert got["top5"] == pytest.approx(ref_top_precision(x, y))
        for stat in ("spearman", "kendall", "top5"):
            assert got[f"{stat}_lo"] <= got[stat] + 1e-9 and got[stat] <= got[f"{stat}_hi"] + 1e-9
    assert table.find(proxy="meco")["spearman"] > 0.3  # the synthetic proxy tracks accuracy
    assert table.find(proxy="meco")["spearman_hi"] - table.find(proxy="meco")["spearman_lo"] < 0.3


def test_proxy_quality_per_search(report, rows, truth):
    table = report.table("Proxy quality per search")
    assert len(table.rows) == len(ALGORITHMS) * len(SEEDS) * 2
    sr = proxy_rows(rows, "rea-s1")
    x = np.array([r["proxy_meco"] for r in sr])
    y = np.array([truth[r["arch"]] for r in sr])
    got = table.find(search="rea-s1", proxy="meco")
    assert got["spearman"] == pytest.approx(ref_spearman(x, y), abs=1e-12)
    assert got["kendall"] == pytest.approx(ref_kendall_b(x, y), abs=1e-12)


def test_bootstrap_is_seeded(log_dir, tss_csv, report):
    again = analyze([log_dir], benchmark=tss_csv, top_k=TOP_K, n_resamples=RESAMPLES)
    assert again.table("Proxy quality on").rows == report.table("Proxy quality on").rows


# -- search quality and anytime --------------------------------------------------------------------
def test_search_quality_matches_reference(report, rows, truth):
    table = report.table("Search quality")
    budget = report.table("Search budget")
    best_known = max(truth.values())
    for algo, seed in itertools.product(ALGORITHMS, SEEDS):
        sid = f"{algo}-s{seed}"
        sr = proxy_rows(rows, sid)
        got = table.find(search=sid) | budget.find(search=sid)
        final = ref_anytime(sr, truth, TOP_K)[-1]
        proposed = max(r["n_proposed"] for r in sr)
        canon = [r["canonical"] for r in sr]
        validated = [r["accuracy"] for r in rows if r["search_id"] == sid and r["stage"] == "validate"]
        assert got["evals"] == EVALS and got["proposed"] == proposed
        assert got["dup_share"] == pytest.approx((proposed - EVALS) / proposed)
        assert got["iso_share"] == pytest.approx(1 - len(set(canon)) / len(canon))
        assert got["best_score"] == pytest.approx(max(r["score"] for r in sr))
        assert got[f"oracle_top{TOP_K}_acc"] == pytest.approx(final)
        assert got["best_validated"] == pytest.approx(max(validated))
        assert got["returned_test"] == pytest.approx(returned_test(rows, sid))
        assert got["returned_test"] <= final  # the oracle pick bounds what a search can return
        assert got["regret"] == pytest.approx(best_known - got["returned_test"])
        assert got["lookups"] == TOP_K and got["proxy_evals"] == EVALS and got["train_epochs"] == 0
        assert got["wall_s"] == pytest.approx(max(r["elapsed"] for r in rows if r["search_id"] == sid))
        assert got["evals_per_s"] == pytest.approx(EVALS / max(r["elapsed"] for r in sr))
        assert got["objective"] == "meco"


def test_anytime_curves_match_reference(report, rows, truth):
    table = report.table("Anytime oracle top-5 accuracy vs proxy evaluations")
    panel = next(p for p in report.plot_data["anytime"] if p.what == "oracle")
    eval_bands, time_bands = panel.eval_bands, panel.time_bands
    assert "top-5" in panel.title and "Oracle" in panel.title and {b.label for b in eval_bands} == set(ALGORITHMS)
    for band in eval_bands:
        curves = np.array([ref_anytime(proxy_rows(rows, f"{band.label}-s{s}"), truth, TOP_K) for s in SEEDS])
        np.testing.assert_allclose(band.mean, curves.mean(axis=0))
        np.testing.assert_allclose(band.std, curves.std(axis=0, ddof=1))
        assert table.find(algorithm=band.label, evaluations=EVALS)["accuracy"] == pytest.approx(curves[:, -1].mean())
        assert table.find(algorithm=band.label, evaluations=10)["accuracy"] == pytest.approx(curves[:, 9].mean())
    rea_time = next(b for b in time_bands if b.label == "rea")
    # at the end of the time grid every search has finished: equals the final values
    finals = [ref_anytime(proxy_rows(rows, f"rea-s{s}"), truth, TOP_K)[-1] for s in SEEDS]
    assert rea_time.mean[-1] == pytest.approx(np.mean(finals))
    assert np.isnan(rea_time.mean[0])  # nothing evaluated at t = 0


def ref_returned(search_rows: list[dict], valid: dict, test: dict, k: int) -> tuple[list[float], list[float]]:
    """After each evaluation: the top-k by score so far (ties: earlier), then the best validated of them
    (ties: higher score, then earlier), as the search's selection picks."""
    out_valid, out_test = [], []
    for n in range(1, len(search_rows) + 1):
        seen = [(r["score"], -i, r["arch"]) for i, r in enumerate(search_rows[:n])]
        top = sorted(seen, reverse=True)[:k]
        best = max(top, key=lambda t: (valid[t[2]], t[0], t[1]))
        out_valid.append(valid[best[2]])
        out_test.append(test[best[2]])
    return out_valid, out_test


def test_returned_arch_curves_match_reference(report, rows, truth, tss_csv):
    table = report.table("Anytime returned arch vs proxy evaluations")
    panels = report.plot_data["anytime"]
    columns = pacsv.read_csv(tss_csv).column_names
    if "cifar10_valid_acc_12ep" not in columns:
        assert not table.rows and "--benchmark" in table.notes[0]
        assert [p.what for p in panels] == ["oracle"]
        return
    assert [p.what for p in panels] == ["returned", "validated", "oracle"]  # the honest curve first
    bench = pacsv.read_csv(
        tss_csv, convert_options=pacsv.ConvertOptions(include_columns=["arch", "cifar10_valid_acc_12ep"])
    )
    valid = dict(zip(bench.column("arch").to_pylist(), bench.column("cifar10_valid_acc_12ep").to_pylist()))
    returned, validated = panels[0], panels[1]
    for band_t, band_v in zip(returned.eval_bands, validated.eval_bands):
        ref = [ref_returned(proxy_rows(rows, f"{band_t.label}-s{s}"), valid, truth, TOP_K) for s in SEEDS]
        ref_v, ref_t = np.array([r[0] for r in ref]), np.array([r[1] for r in ref])
        np.testing.assert_allclose(band_v.median, np.median(ref_v, axis=0))
        np.testing.assert_allclose(band_t.median, np.median(ref_t, axis=0))
        np.testing.assert_allclose(band_t.q_lo, np.quantile(ref_t, 0.25, axis=0))
        # the spread stays inside the seeds' values (a mean ± std band did not)
        assert np.all(band_t.q_lo >= ref_t.min(axis=0)) and np.all(band_t.q_hi <= ref_t.max(axis=0))
        assert np.all(band_t.q_hi <= max(truth.values()))
        got = table.find(algorithm=band_t.label, evaluations=EVALS)
        assert got["returned_test"] == pytest.approx(np.median(ref_t[:, -1]))
        assert got["best_validated"] == pytest.approx(np.median(ref_v[:, -1]))


# -- algorithm comparison ---------------------------------------------------------------------------
def test_algorithm_comparison(report, rows, truth):
    summary = report.table("Algorithms under objective meco")
    finals = {a: {s: returned_test(rows, f"{a}-s{s}") for s in SEEDS} for a in ALGORITHMS}
    for algo, values in finals.items():
        got = summary.find(algorithm=algo)
        v = np.array(list(values.values()))
        oracle = [ref_anytime(proxy_rows(rows, f"{algo}-s{s}"), truth, TOP_K)[-1] for s in SEEDS]
        assert got["seeds"] == 3
        assert got["returned_test"] == pytest.approx(v.mean())
        assert got["returned_test_std"] == pytest.approx(v.std(ddof=1))
        assert got["returned_test_median"] == pytest.approx(np.median(v))
        assert got["regret"] == pytest.approx(max(truth.values()) - v.mean())
        assert got[f"oracle_top{TOP_K}_acc"] == pytest.approx(np.mean(oracle))
        assert (got["lookups"], got["proxy_evals"]) == (TOP_K, EVALS)
    tests = report.table("Paired Wilcoxon tests on returned_test")
    assert len(tests.rows) == 3
    got = tests.find(algorithm_a="random", algorithm_b="rea")
    diffs = [finals["random"][s] - finals["rea"][s] for s in SEEDS]
    assert got["pairs"] == 3
    assert got["mean_diff"] == pytest.approx(np.mean(diffs))
    if all(d != 0 for d in diffs):
        assert got["p_value"] == pytest.approx(ref_wilcoxon_p(diffs))
    assert "little power" in got["note"]


# -- workers --------------------------------------------------------------------------------------------
def test_worker_view(report, rows):
    pr = proxy_rows(rows)
    start = min(r["timestamp"].timestamp() - r["elapsed"] for r in pr)  # when the searches started
    span = max(r["timestamp"].timestamp() for r in pr) - start
    workers = report.table("Workers")
    for w, node in WORKERS.items():
        mine = [r for r in pr if r["worker_id"] == w]
        got = workers.find(worker=w)
        assert got["node"] == node and got["archs"] == len(mine)
        assert got["span_s"] == pytest.approx(span, abs=2e-3)
        assert got["archs_per_s"] == pytest.approx(len(mine) / span, rel=1e-4)
        assert got["idle_share"] == pytest.approx(1 - sum(r["proxy_seconds"] for r in mine) / span, rel=1e-4)
    node_a = report.table("Nodes").find(node="node-a")
    mine = [r for r in pr if r["node"] == "node-a"]
    assert node_a["workers"] == 2 and node_a["archs"] == len(mine)
    assert node_a["idle_share"] == pytest.approx(1 - sum(r["proxy_seconds"] for r in mine) / (2 * span), rel=1e-4)
    errors = report.table("Errors by reason").find(reason="synflow: non-finite value (inf)")
    assert errors["count"] == sum(r["error"] is not None for r in pr)


# -- outputs -----------------------------------------------------------------------------------------------
def test_renderings(report):
    doc = json.loads(render(report, "json"))
    titles = [t["title"] for t in doc["tables"]]
    assert "Search quality" in titles and "Workers" in titles
    md = render(report, "markdown")
    assert "### Search quality" in md and "| search |" in md and " ± " in md
    csv_text = render(report, "csv")
    assert "# search quality: Search quality" in csv_text
    assert "rea-s0" in render(report, "table", width=200)
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "xml")


def test_plots_and_export(report, tmp_path, rows):
    paths = write_plots(report, tmp_path / "plots")
    names = {p.name for p in paths}
    returned = {"anytime_tss_cifar10_meco.png", "anytime_validated_tss_cifar10_meco.png"}
    assert names - returned == {"proxy_vs_accuracy_tss_cifar10.png", "anytime_oracle_tss_cifar10_meco.png",
                                "final_tss_cifar10_meco.png", "throughput.png"}  # fmt: skip
    assert names & returned in (set(), returned)
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    out = export_joined(report, tmp_path / "joined.parquet")
    joined = pq.read_table(out)
    assert joined.num_rows == len(proxy_rows(rows))
    assert {"gt_accuracy", "validated_accuracy", "proxy_meco", "search"} <= set(joined.column_names)
    assert (
        sum(v is not None for v in joined.column("validated_accuracy").to_pylist())
        == len(ALGORITHMS) * len(SEEDS) * TOP_K
    )
    assert not list(tmp_path.glob(".*"))  # no temp files left behind


def test_cli_end_to_end(log_dir, tss_csv, tmp_path, capsys):
    rc = main(["analyze", str(log_dir), "--benchmark", str(tss_csv), "--top-k", "5", "--bootstrap", "50",
               "--format", "json", "--plots", str(tmp_path / "p"),
               "--export", str(tmp_path / "j.parquet")])  # fmt: skip
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert any(t["title"] == "Search quality" for t in doc["tables"])
    assert (tmp_path / "j.parquet").is_file() and len(list((tmp_path / "p").glob("*.png"))) in (4, 6)


def test_cli_bad_input_is_one_line(tmp_path, capsys, log_dir):
    assert main(["analyze", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and "\n" not in err
    bad_export = ["analyze", str(log_dir), "--format", "csv", "--export", str(tmp_path / "x.csv")]
    assert main(bad_export) == 2
    assert "use a .parquet file name" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


# -- degraded cases ---------------------------------------------------------------------------------------
def test_without_ground_truth(tmp_path, truth):
    log = write_log(tmp_path, truth, algorithms=["rea"], seeds=[0], with_validate=False)
    rep = analyze([log], top_k=TOP_K, n_resamples=0)
    assert "no ground truth: pass --benchmark PATH" in rep.table("Proxy quality on").notes
    assert not rep.table("Proxy quality on").rows
    assert any("no ground truth" in n for n in rep.table("Search quality").notes)
    assert math.isnan(rep.table("Search quality").find(search="rea-s0")["regret"])
    assert "no ground truth" in rep.table("Anytime oracle").notes[0]
    assert "pass --benchmark" in rep.table("Anytime returned").notes[0] and not rep.plot_data["anytime"]
    tests = rep.table("Paired Wilcoxon")
    assert not tests.rows and "only one algorithm" in tests.notes[0]
    assert rep.table("Algorithms under").find(algorithm="rea")["best_score"] > 0
    md = render(rep, "markdown")  # NaN figures render as a dash, the missing ground truth as a note
    assert "| rea-s0 | rea | 0 | meco | – | – | 0 | 60 |" in md and "nan" not in md.lower()
    assert "### Proxy quality on distinct archs (tss/cifar10)\n\n*no ground truth: pass --benchmark PATH*" in md


def test_truth_from_validate_rows_only(log_dir, truth):
    rep = analyze([log_dir], top_k=TOP_K, n_resamples=0)
    table = rep.table("Proxy quality on")
    assert table.find(proxy="meco")["n"] > 0
    assert any("narrow range" in n for n in table.notes)
    sq = rep.table("Search quality").find(search="rea-s0")
    assert sq[f"oracle_top{TOP_K}_acc"] == pytest.approx(sq["best_validated"])
    assert sq["returned_test"] == pytest.approx(
        returned_test(pq.read_table(next(log_dir.glob("run=*"))).to_pylist(), "rea-s0")
    )
    assert math.isnan(sq["regret"])
    assert "covers only" in rep.table("Anytime oracle").notes[0]
    assert "pass --benchmark" in rep.table("Anytime returned").notes[0]


def test_single_seed_pairs_skipped(tmp_path, truth, tss_csv):
    log = write_log(tmp_path, truth, seeds=[0])
    rep = analyze([log], benchmark=tss_csv, top_k=TOP_K, n_resamples=0)
    row = rep.table("Paired Wilcoxon").find(algorithm_a="rea", algorithm_b="tpe")
    assert row["pairs"] == 1 and math.isnan(row["p_value"]) and "skipped" in row["note"]


def test_log_with_missing_columns(tmp_path, tss_csv, truth):
    run = tmp_path / "run=bare"
    run.mkdir()
    archs = list(truth)[:40]
    pq.write_table(pa.table({
        "search_id": ["x-s0"] * 40, "stage": ["proxy"] * 40, "arch": archs,
        "score": [truth[a] + (i % 7) for i, a in enumerate(archs)],
    }), run / "part-000000-00000000.parquet")  # fmt: skip
    rep = analyze([tmp_path], benchmark=tss_csv, top_k=3, n_resamples=0)
    assert any("pass --space" in n for n in rep.notes)
    rep = analyze([tmp_path], benchmark=tss_csv, dataset="cifar10", space="tss", top_k=3, n_resamples=0)
    assert any("lacks the columns" in n for n in rep.notes)
    assert rep.table("Proxy quality on").find(proxy="score")["n"] == 40
    assert rep.table("Search budget").find(search="x-s0")["evals"] == 40
    assert "no worker_id" in rep.table("Workers").notes[0]
    text = render(rep, "table", width=200)
    assert "lacks the columns run_id, algorithm, seed" in text
    assert re.search(r"│ x-s0 +│ \? +│ – +│ score +│ – +│ – +│ 0 +│ 40 +│", text)  # no algorithm or seed column
    assert re.search(r"│ score +│ 40 +│ 0\.\d+ +│", text)  # the score column ranked against the truth
    assert write_plots(rep, tmp_path / "plots")


def test_empty_log_and_bad_options(tmp_path, log_dir):
    (tmp_path / "run=empty").mkdir()
    with pytest.raises(ZeronasError, match="no log rows"):
        analyze([tmp_path])
    with pytest.raises(ZeronasError, match="no rows for dataset 'cifar100'"):
        analyze([log_dir], dataset="cifar100")
    with pytest.raises(ZeronasError, match="top-k"):
        analyze([log_dir], top_k=0)
    with pytest.raises(ZeronasError, match="does not exist"):
        analyze([log_dir], benchmark=tmp_path / "missing.csv")


def test_two_runs_with_different_proxies(tmp_path, truth, tss_csv, log_dir):
    other = tmp_path / "other"
    archs = list(truth)[:30]
    with LogWriter(other, "run2", ["snip"]) as w:
        for i, a in enumerate(archs):
            w.append({"search_id": "rea-s0", "algorithm": "rea", "seed": 0, "space": "tss", "dataset": "cifar10",
                      "stage": "proxy", "arch": a, "score": float(i), "proxy_snip": float(i),
                      "iteration": i + 1})  # fmt: skip
    rep = analyze([log_dir, other], benchmark=tss_csv, top_k=TOP_K, n_resamples=0)
    sq = rep.table("Search quality")
    budget = rep.table("Search budget")
    assert budget.find(search="run2/rea-s0")["evals"] == 30 and budget.find(search="run1/rea-s0")["evals"] == EVALS
    assert sq.find(search="run2/rea-s0")["objective"] == "snip"
    assert {r[0] for r in rep.table("Proxy quality on").rows} == {"meco", "synflow", "snip"}


def test_cli_formats_match_the_renderer():
    """Every format `zeronas analyze --format` accepts renders a report in that format, and the
    renderer knows no format the CLI does not offer."""
    import csv
    import io
    import json

    from zeronas.analysis._report import FORMATS, AnalysisReport, ReportTable, render
    from zeronas.cli import build_parser

    parser = build_parser()
    analyze = next(a for a in parser._subparsers._group_actions[0].choices["analyze"]._actions if a.dest == "format")
    offered = tuple(analyze.choices)
    report = AnalysisReport(tables=[ReportTable("Proxy quality", "Proxy quality", ["proxy", "rho"], [["meco", 0.88]])])
    texts = {fmt: render(report, fmt, width=100) for fmt in offered}
    assert json.loads(texts["json"])["tables"][0]["rows"] == [["meco", 0.88]]
    assert ["meco", "0.88"] in list(csv.reader(io.StringIO(texts["csv"])))
    assert "| meco | 0.88 |" in texts["markdown"]
    assert "meco" in texts["table"] and "0.88" in texts["table"]
    assert set(offered) == set(FORMATS)
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "html")


def test_nan_quantiles_equal_numpys():
    from zeronas.analysis._anytime import nan_quantiles

    rng = np.random.default_rng(0)
    values = rng.normal(size=(7, 300))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:, 3] = np.nan  # no seed there yet
    values[1:, 4] = np.nan  # one seed
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanquantile(values, [0.5, 0.25, 0.75], axis=0)
    for got, want in zip(nan_quantiles(values, (0.5, 0.25, 0.75)), expected):
        np.testing.assert_allclose(got, want, equal_nan=True)


def test_a_trained_proxys_cost_is_counted_once_per_search_in_its_own_objective_group(tmp_path, truth, tss_csv, log_dir):
    """A bossnas search carries its checkpoint's device-seconds on every proxy row: analyze charges it once per
    search, and the search stays under its own objective (only a supernet search, with no proxy evaluation,
    joins the zero-shot searches of its space)."""
    other = tmp_path / "boss"
    archs = list(truth)[:30]
    with LogWriter(other, "run3", ["bossnas"]) as w:
        for i, a in enumerate(archs):
            w.append({"search_id": "random-s0", "algorithm": "random", "seed": 0, "space": "tss",
                      "dataset": "cifar10", "stage": "proxy", "arch": a, "score": float(i), "objective": "bossnas",
                      "proxy_bossnas": float(i), "iteration": i + 1, "train_device_seconds": 120.0})  # fmt: skip
    rep = analyze([log_dir, other], benchmark=tss_csv, top_k=TOP_K, n_resamples=0)
    row = rep.table("Search quality").find(search="run3/random-s0")
    assert row["train_device_s"] == 120.0 and row["proxy_evals"] == 30
    groups = [t for t in rep.tables if t.title.startswith("Algorithms under objective")]
    seeds = {(t.title.split()[3], r[0]): r[1] for t in groups for r in t.rows}  # (objective, algorithm) -> seeds
    assert seeds[("bossnas", "random")] == 1
    assert {n for (objective, _), n in seeds.items() if objective != "bossnas"} == {len(SEEDS)}
