"""``zeronas.predictors`` and ``zeronas predict fit/eval``, ``score --predictor``: fit, save, load, refuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.predictors import (
    AccuracyPredictor,
    ProxyProtocol,
    encode,
    score_file_metadata,
)
from zeronas.spaces import get_space

NOISE_B16 = ProxyProtocol("tss", "cifar10", "noise", 16, "fixed", 0)
QUICK = {"n_estimators": 40}  # small forests keep the tests fast; the defaults are for real use


def _synthetic(n: int = 300, seed: int = 0):
    """TSS archs with a made-up accuracy; ``good`` tracks it, ``junk`` is noise."""
    rng = np.random.default_rng(seed)
    space = get_space("tss")
    archs = [space.arch_at(int(i)) for i in rng.choice(space.size, n, replace=False)]
    acc = rng.uniform(10, 94, n)
    rows = [{"good": float(a + rng.normal(0, 2)), "junk": float(rng.normal())} for a in acc]
    return archs, rows, acc


def _write_scores(path: Path, archs, rows, protocol=NOISE_B16) -> Path:
    space = get_space("tss")
    table = pa.table(
        {
            "arch": archs,
            "index": [space.index_of(a) for a in archs],
            "good": [r["good"] for r in rows],
            "good_seconds": [0.0] * len(archs),
            "good_error": pa.nulls(len(archs), pa.string()),
            "junk": [r["junk"] for r in rows],
        }
    )
    pq.write_table(table.replace_schema_metadata(score_file_metadata(protocol)), path)
    return path


def _write_truth(path: Path, archs, acc) -> Path:
    pacsv.write_csv(pa.table({"arch": archs, "cifar10_test_acc_200ep": acc}), path)
    return path


def test_fit_predict_save_load_round_trip(tmp_path: Path):
    archs, rows, acc = _synthetic()
    model = AccuracyPredictor(["good", "junk", "encoding"], NOISE_B16, options=QUICK)
    model.fit(rows[:200], acc[:200], archs[:200])
    predicted = model.predict(rows[200:], archs[200:])
    assert np.corrcoef(predicted, acc[200:])[0, 1] > 0.95  # learns from the informative feature
    saved = model.save(tmp_path / "m")
    meta = json.loads((saved / "predictor.json").read_text())
    assert meta["features"] == ["good", "junk", "encoding"] and meta["protocol"]["batch_size"] == 16
    assert meta["zeronas_version"] and meta["n_train"] == 200 and meta["options"] == QUICK
    again = AccuracyPredictor.load(saved)
    assert np.array_equal(again.predict(rows[200:], archs[200:]), predicted)
    # one row, as a search trial would ask; a failed proxy (None) is a missing value, not an error
    single = again.predict([{"good": 50.0, "junk": None}], [archs[0]])
    assert single.shape == (1,) and np.isfinite(single[0])


def test_gradient_boosting_option_and_bad_input(tmp_path: Path):
    archs, rows, acc = _synthetic(120)
    gbt = AccuracyPredictor(["good"], NOISE_B16, learner="gbt", options={"max_iter": 50}).fit(rows[:80], acc[:80])
    assert type(gbt.estimator).__name__ == "HistGradientBoostingRegressor"
    assert np.corrcoef(gbt.predict(rows[80:]), acc[80:])[0, 1] > 0.9
    # synflow-sized values (beyond float32) are fine: features enter as sign(x) log(1 + |x|)
    huge = AccuracyPredictor(["good"], NOISE_B16, options=QUICK).fit([{"good": 1e45}, {"good": -1e50}], [1.0, 2.0])
    assert 1.0 <= huge.predict([{"good": 1e45}])[0] <= 2.0  # a bootstrap mix of the two labels, finite
    lgbm = AccuracyPredictor(["good", "junk"], NOISE_B16, learner="lgbm", options={"n_estimators": 50})
    assert np.corrcoef(lgbm.fit(rows[:80], acc[:80]).predict(rows[80:]), acc[80:])[0, 1] > 0.9
    with pytest.raises(ZeronasError, match="unknown learner 'svm'; choose one of: rf, gbt, lgbm"):
        AccuracyPredictor(["good"], NOISE_B16, learner="svm")
    with pytest.raises(ZeronasError, match="no values for the features junk"):
        AccuracyPredictor(["good", "junk"], NOISE_B16).fit([{"good": 1.0}, {"good": 2.0}], [1.0, 2.0])
    with pytest.raises(ZeronasError, match="not a saved predictor"):
        AccuracyPredictor.load(tmp_path)


def test_encoding_is_one_hot_per_decision():
    space = get_space("tss")
    vec = encode(space, "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|")
    assert vec.shape == (30,) and vec.sum() == 6
    assert np.flatnonzero(vec).tolist() == [0, 6, 12, 18, 24, 25]


@pytest.mark.parametrize(
    "other,message",
    [
        (ProxyProtocol("tss", "cifar10", "real", 16, "fixed", 0), "input_kind 'real' \\(model: 'noise'\\)"),
        (ProxyProtocol("tss", "cifar10", "noise", 64, "fixed", 0), "batch_size 64 \\(model: 16\\)"),
        (ProxyProtocol("tss", "cifar100", "noise", 16, "fixed", 0), "dataset 'cifar100'"),
    ],
)
def test_refuses_proxies_measured_differently(other: ProxyProtocol, message: str):
    archs, rows, acc = _synthetic(40)
    model = AccuracyPredictor(["good"], NOISE_B16, options=QUICK).fit(rows, acc)
    model.check_protocol(ProxyProtocol("tss", "cifar10", "noise", 16, "fixed", 7))  # another seed is fine
    with pytest.raises(ZeronasError, match=f"measured differently.*{message}"):
        model.check_protocol(other)


def test_predict_fit_and_eval_cli(tmp_path: Path, capsys):
    archs, rows, acc = _synthetic()
    scores = _write_scores(tmp_path / "scores.parquet", archs, rows)
    truth = _write_truth(tmp_path / "truth.csv", archs, acc)
    model = tmp_path / "model"
    assert (
        main(
            [
                "predict",
                "fit",
                "--scores",
                str(scores),
                "--benchmark",
                str(truth),
                "--train-size",
                "100",
                "--encoding",
                "--learner-option",
                "n_estimators=40",
                "--out",
                str(model),
            ]
        )
        == 0
    )
    assert json.loads((model / "predictor.json").read_text())["options"] == QUICK
    assert "fitted rf on 100 archs x 3 features (good, junk, encoding)" in capsys.readouterr().out
    assert len((model / "train_archs.txt").read_text().split()) == 100
    assert (
        main(
            [
                "predict",
                "eval",
                str(model),
                "--scores",
                str(scores),
                "--benchmark",
                str(truth),
                "--format",
                "json",
                "--bootstrap",
                "50",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    table = doc["tables"][0]
    assert table["section"] == "predictor quality" and table["columns"][:3] == ["proxy", "n", "spearman"]
    records = {r[0]: dict(zip(table["columns"], r)) for r in table["rows"]}
    assert records["predicted_acc"]["n"] == 200  # only the held-out archs
    assert records["predicted_acc"]["kendall"] > 0.8 > abs(records["junk"]["kendall"])
    assert records["predicted_acc"]["kendall_lo"] < records["predicted_acc"]["kendall"]
    # a score file measured with another batch is refused in one line, exit 2
    other = _write_scores(tmp_path / "b64.parquet", archs, rows, ProxyProtocol("tss", "cifar10", "noise", 64))
    assert main(["predict", "eval", str(model), "--scores", str(other), "--benchmark", str(truth)]) == 2
    err = capsys.readouterr().err
    assert "batch_size 64 (model: 16)" in err and err.count("\n") == 1
    assert (
        main(
            [
                "predict",
                "fit",
                "--scores",
                str(scores),
                "--benchmark",
                str(truth),
                "--train-size",
                "300",
                "--out",
                str(tmp_path / "m2"),
            ]
        )
        == 2
    )
    assert "--train-size must be between 2 and 299" in capsys.readouterr().err
    assert (
        main(
            [
                "predict",
                "fit",
                "--scores",
                str(scores),
                "--benchmark",
                str(truth),
                "--train-size",
                "10",
                "--learner-option",
                "n_trees=5",
                "--out",
                str(tmp_path / "m3"),
            ]
        )
        == 2
    )
    assert "bad option for the rf learner" in capsys.readouterr().err


def test_fit_on_real_tss_truth(tmp_path: Path, tss_csv: Path, capsys):
    """Data-free features against the real TSS table, read from what `zeronas score` writes (a directory of
    part files): the forest ranks held-out cells."""
    scores = tmp_path / "sed.parquet"
    argv = ["score", "--space", "tss", "--proxies", "sed", "--sample", "400", "--seed", "1", "--flush-rows", "100"]
    assert main([*argv, "--input", "noise", "--out", str(scores)]) == 0
    assert len(list(scores.glob("*.parquet"))) == 4
    model = tmp_path / "sed.model"
    assert (
        main(
            [
                "predict",
                "fit",
                "--scores",
                str(scores),
                "--benchmark",
                str(tss_csv),
                "--train-size",
                "200",
                "--encoding",
                "--learner-option",
                "n_estimators=40",
                "--out",
                str(model),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "predict",
                "eval",
                str(model),
                "--scores",
                str(scores),
                "--benchmark",
                str(tss_csv),
                "--format",
                "csv",
                "--bootstrap",
                "0",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    row = next(line.split(",") for line in lines if line.startswith("predicted_acc,"))
    assert int(row[1]) == 200 and float(row[5]) > 0.5  # kendall of encoding + sed on 200 held-out cells


def test_score_with_predictor_adds_a_column(tmp_path: Path, capsys):
    space = get_space("tss")
    archs = [space.arch_at(i) for i in range(0, 60, 3)]
    from zeronas.proxies import ArchScorer

    scorer = ArchScorer(space="tss", proxies=["sed"], batch_size=16, seed=0)
    rows = [scorer.score(a).values for a in archs]
    model = AccuracyPredictor(["sed", "encoding"], NOISE_B16, options=QUICK)
    model.fit(rows, np.linspace(50, 90, len(archs)), archs)
    model.save(tmp_path / "m")
    out = tmp_path / "s.parquet"
    assert (
        main(
            [
                "score",
                "--proxies",
                "sed",
                "--archs",
                str(_arch_file(tmp_path, archs[:5])),
                "--batch-size",
                "16",
                "--predictor",
                str(tmp_path / "m"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    table = pq.read_table(out)
    assert table.column("predicted_acc").to_pylist() == pytest.approx(model.predict(rows[:5], archs[:5]).tolist())
    assert json.loads(table.schema.metadata[b"zeronas.protocol"])["input_kind"] == "noise"
    capsys.readouterr()
    # batch 64 proxies would be measured differently: refused before any scoring
    assert (
        main(
            [
                "score",
                "--proxies",
                "sed",
                "--sample",
                "3",
                "--predictor",
                str(tmp_path / "m"),
                "--out",
                str(tmp_path / "x.parquet"),
            ]
        )
        == 2
    )
    assert "batch_size 64 (model: 16)" in capsys.readouterr().err
    assert (
        main(
            [
                "score",
                "--proxies",
                "params",
                "--sample",
                "3",
                "--batch-size",
                "16",
                "--predictor",
                str(tmp_path / "m"),
                "--out",
                str(tmp_path / "x.parquet"),
            ]
        )
        == 2
    )
    assert "needs the proxies sed; add them to --proxies" in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()


def _arch_file(tmp_path: Path, archs: list[str]) -> Path:
    path = tmp_path / "archs.txt"
    path.write_text("\n".join(archs) + "\n")
    return path


def test_scores_from_a_search_run_directory(tmp_path: Path):
    """A run's proxy rows (repeats averaged per arch) and its ``_run.json`` protocol."""
    from zeronas.logs import LogWriter
    from zeronas.predictors import load_scores

    config = {"spec": {"space": "TSS", "dataset": "cifar10", "data": None, "batch_size": 16, "proxy_seed": 3}}
    archs, rows, _ = _synthetic(4)
    with LogWriter(tmp_path, "r1", ["good", "junk"], config=config) as writer:
        for search in ("a", "b"):
            for arch, row in zip(archs, rows):
                writer.append(
                    {
                        "search_id": search,
                        "stage": "proxy",
                        "arch": arch,
                        "params": 1000,
                        "proxy_good": row["good"] + (1.0 if search == "b" else 0.0),
                        "proxy_junk": row["junk"],
                    }
                )
        writer.append({"search_id": "a", "stage": "validate", "arch": archs[0], "accuracy": 90.0})
    scores = load_scores(tmp_path)
    assert scores.protocol == ProxyProtocol("tss", "cifar10", "noise", 16, "fixed", 3)
    assert sorted(scores.archs) == sorted(archs) and set(scores.names) == {"good", "junk", "params"}
    by_arch = dict(zip(scores.archs, scores.rows))
    assert by_arch[archs[1]]["good"] == pytest.approx(rows[1]["good"] + 0.5)
    assert by_arch[archs[1]]["params"] == 1000


def test_score_files_of_several_seeds_join_into_mean_and_spread_features(tmp_path: Path, capsys):
    """Several ``zeronas score`` outputs join on the archs they all scored; a proxy measured under two seeds
    enters as its mean and ``<proxy>@std``; a file measured another way is refused in one line."""
    from zeronas.predictors import SEED_STD, load_scores

    archs, rows, acc = _synthetic(60)
    seed1 = [{"good": r["good"] + 2.0, "junk": r["junk"]} for r in rows]
    a = _write_scores(tmp_path / "s0.parquet", archs, rows)
    b = _write_scores(
        tmp_path / "s1.parquet", archs[:50], seed1[:50], ProxyProtocol("tss", "cifar10", "noise", 16, "fixed", 1)
    )
    batch = tmp_path / "batch.parquet"
    table = pa.table({"arch": archs[10:], "nwot": [float(i) for i in range(50)]})
    pq.write_table(table.replace_schema_metadata(score_file_metadata(NOISE_B16)), batch)

    joined = load_scores([a, b, batch])
    assert joined.archs == archs[10:50]  # scored by all three
    assert joined.names == ["good", "good" + SEED_STD, "junk", "junk" + SEED_STD, "nwot"]
    first = joined.rows[0]
    assert first["good"] == pytest.approx(rows[10]["good"] + 1.0)
    assert first["good@std"] == pytest.approx(np.sqrt(2.0))  # sample std of x and x + 2
    assert first["junk@std"] == 0.0 and first["nwot"] == 0.0
    assert joined.protocol.seed_policy == "mean of 2 seeds" and joined.protocol.seed == 0

    truth = _write_truth(tmp_path / "truth.csv", archs, acc)
    fit = ["predict", "fit", "--benchmark", str(truth), "--train-size", "30", "--learner-option", "n_estimators=5"]
    features = "good,good@std,nwot"
    assert (
        main([*fit, "--scores", str(a), str(b), str(batch), "--features", features, "--out", str(tmp_path / "m")]) == 0
    )
    assert "on 30 archs x 3 features (good, good@std, nwot)" in capsys.readouterr().out
    assert json.loads((tmp_path / "m" / "predictor.json").read_text())["protocol"]["seed_policy"] == "mean of 2 seeds"
    # a model of seed means refuses single-seed scores, and files of another batch size do not join
    assert main(["predict", "eval", str(tmp_path / "m"), "--scores", str(a), "--benchmark", str(truth)]) == 2
    assert "seed_policy 'fixed' (model: 'mean of 2 seeds')" in capsys.readouterr().err
    other = _write_scores(tmp_path / "b64.parquet", archs, rows, ProxyProtocol("tss", "cifar10", "noise", 64))
    with pytest.raises(ZeronasError, match="measured proxies differently from .*batch_size 64 \\(first: 16\\)"):
        load_scores([a, other])


def test_batch_and_evolved_proxies_are_predictor_features(tmp_path: Path, tss_csv: Path, capsys):
    """What `zeronas score` writes for a batch proxy and an evolved formula (a column named ``evolved:PATH``)
    enters `predict fit --features` like any proxy."""
    formula = tmp_path / "f.json"
    formula.write_text(json.dumps({"formula": "sum(vmul(snip, eig_min))"}))
    evolved = f"evolved:{formula}"
    scores = tmp_path / "s.parquet"
    argv = ["score", "--proxies", f"nwot,{evolved},sed", "--sample", "12", "--input", "noise", "--batch-size", "4"]
    assert main([*argv, "--out", str(scores)]) == 0
    fit = ["predict", "fit", "--scores", str(scores), "--benchmark", str(tss_csv), "--train-size", "8"]
    fit += ["--features", f"{evolved},nwot", "--paths", "--learner-option", "n_estimators=5"]
    assert main([*fit, "--out", str(tmp_path / "m")]) == 0
    assert f"x 3 features ({evolved}, nwot, paths)" in capsys.readouterr().out
    assert main(["predict", "eval", str(tmp_path / "m"), "--scores", str(scores), "--benchmark", str(tss_csv)]) == 0
    out = capsys.readouterr().out
    assert "held out: 4 archs" in out and evolved in out
