"""``--objective predictor``: a search that labels archs with validation lookups and maximises predicted accuracy."""

from __future__ import annotations

import csv
import random

import numpy as np
import pyarrow.dataset as ds
import pytest
from scipy import stats

from zeronas.analysis import analyze
from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.pipeline import ExperimentSpec, run_experiment
from zeronas.pipeline._predictor_objective import MIN_LABELS, PredictorObjective
from zeronas.pipeline._spec import validate
from zeronas.predictors import ProxyProtocol

VALID = "cifar10_valid_acc_12ep"


def column(path, name: str) -> dict[str, float]:
    with open(path) as f:
        return {r["arch"]: float(r[name]) for r in csv.DictReader(f)}


def test_labelling_rounds_refits_and_predicted_ranking(tss_csv):
    valid = column(tss_csv, VALID)
    archs = random.Random(0).sample(sorted(valid), 120)
    rng = np.random.default_rng(0)
    # two noisy views of validation accuracy stand in for proxies: the mechanics, not the proxies, are under test
    values = {a: {"p1": valid[a] + rng.normal(0, 3), "p2": valid[a] + rng.normal(0, 3)} for a in archs}
    looked_up = []

    def lookup(arch):
        looked_up.append(arch)
        return valid[arch]

    protocol = ProxyProtocol.of_scorer("tss", "cifar10", None, 64, 0)
    objective = PredictorObjective(["p1", "p2"], lookup, protocol, label_budget=20, label_every=5, seed=0)
    scores, rounds = {}, []
    for i, arch in enumerate(archs, start=1):
        scores[arch] = objective.observe(values[arch], arch)
        if not objective.fitted:
            assert 0.0 <= scores[arch] <= 1.0  # the first proxy's percentile
        rounds += [(i, labelled) for labelled in objective.label_due()]

    # two labels per round every 5 evaluations, until the budget: 10 rounds, the last at evaluation 50
    assert len(looked_up) == len(set(looked_up)) == 20
    assert [i for i, _ in rounds] == [i for i in range(5, 55, 5) for _ in range(2)]
    # the first of each round is the best-scored unlabelled arch at that moment
    for i, (arch, acc, score) in rounds[::2]:
        seen = archs[:i]
        labelled_before = {labelled[0] for at, labelled in rounds if at < i}
        assert score == max(scores[a] for a in seen if a not in labelled_before)
        assert acc == valid[arch]
    # fitted after MIN_LABELS labels: every later arch has a prediction, and they rank the archs well
    first_fit = rounds[MIN_LABELS - 1][0]
    assert set(objective.predicted) == set(archs[first_fit:])
    predicted = [objective.predicted[a] for a in archs[first_fit:]]
    rho = stats.spearmanr(predicted, [valid[a] for a in archs[first_fit:]]).statistic
    assert rho > 0.6, rho
    final = objective.final_scores([values[a] for a in archs])
    assert stats.spearmanr(final, [valid[a] for a in archs]).statistic > 0.6


@pytest.mark.slow
def test_predictor_search_labels_with_validation_only_and_ranks_what_it_saw(ray_session, tss_csv, tmp_path):
    spec = ExperimentSpec(
        workers=1, objective="predictor", proxy="meco", extra_proxies=["params", "flops"], budget=30, top_k=3,
        benchmark=str(tss_csv), metric="valid", epochs=12, label_budget=10, label_every=5, out=str(tmp_path),
        quiet=True, device="cpu",  # the session's Ray has logical GPUs but torch here has no CUDA
    )  # fmt: skip
    result = run_experiment(spec)
    rows = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table().to_pylist()
    proxy = [r for r in rows if r["stage"] == "proxy"]
    labels = [r for r in rows if r["stage"] == "label"]
    validated = sorted((r for r in rows if r["stage"] == "validate"), key=lambda r: r["iteration"])
    valid = column(tss_csv, VALID)

    assert len(proxy) == 30
    assert {r["objective"] for r in proxy + labels + validated} == {"predictor"}
    # every lookup is logged, from the validation column only (labels and the final top-k alike)
    assert len(labels) == 10 and len({r["arch"] for r in labels}) == 10
    # no arch is looked up twice: the final top-k skips what was labelled
    assert not {r["arch"] for r in labels} & {r["arch"] for r in validated}
    assert {r["accuracy_source"] for r in labels + validated} == {VALID}
    assert all(r["accuracy"] == valid[r["arch"]] for r in labels + validated)
    # predictions appear once the forest is fitted (after 2 rounds of 2 labels, i.e. from evaluation 11)
    with_prediction = sorted((r for r in proxy if r["predicted_acc"] is not None), key=lambda r: r["iteration"])
    assert [r["iteration"] for r in with_prediction] == list(range(11, 31))
    assert all(r["score"] == r["predicted_acc"] for r in with_prediction)
    rho = stats.spearmanr([r["predicted_acc"] for r in with_prediction], [valid[r["arch"]] for r in with_prediction])
    assert rho.statistic > 0, rho
    # the final top-k follows the predictor's ranking
    assert [r["score"] for r in validated] == sorted((r["score"] for r in validated), reverse=True)
    assert [r["arch"] for r in result.top["rea-s0"]] == [r["arch"] for r in validated]
    # labels are lookups too: the search spent label_budget + top_k of them
    assert result.returned["rea-s0"]["lookups"] == 13

    report = analyze([tmp_path], benchmark=tss_csv, metric="valid", epochs=12, n_resamples=0)
    quality = next(t for t in report.tables if t.section == "proxy quality")
    assert "predicted_acc" in [row[0] for row in quality.rows]
    searches = next(t for t in report.tables if "lookups" in t.columns and "evals" in t.columns)
    assert searches.rows[0][searches.columns.index("lookups")] == 13


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["search", "--objective", "predictor"], "--objective predictor learns from benchmark validation accuracy"),
        (["search", "--objective", "predictor", "--label-budget", "1", "--benchmark", "{tss}"], "--label-budget"),
        (["search", "--objective", "predictor", "--label-every", "0", "--benchmark", "{tss}"], "--label-every"),
    ],
)
def test_bad_predictor_input_is_one_clear_line(argv, fragment, tss_csv, tmp_path, capsys):
    out = tmp_path / "runs"
    code = main([a.format(tss=tss_csv) for a in argv] + ["--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not out.exists()


def test_unknown_objective_is_rejected():
    with pytest.raises(ZeronasError, match="unknown --objective 'nope'"):
        validate(ExperimentSpec(objective="nope"))
