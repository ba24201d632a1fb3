"""α-weighted supernets (``zeronas.weight_sharing``): the op a task needs wins, derivation gives the spaces'
own archs, and a resumed search ends where an uninterrupted one does."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from _tune_stand_in import Killed
from conftest import write_fake_cifar

from zeronas.errors import ZeronasError
from zeronas.spaces import TSS_OPS, get_space
from zeronas.spaces._ops import OPS
from zeronas.weight_sharing import (
    AlphaMixedOp,
    RelaxedMethod,
    RelaxedSearch,
    RelaxedSettings,
    RelaxedSupernet,
    alpha_shapes,
    build_supernet,
    derive,
    paper_recipe,
    train_supernet,
)


@pytest.mark.parametrize("method", ["rarts", "darts-1st", "milenas"])
def test_the_op_the_task_needs_gains_the_most_weight(method):
    """One TSS edge regressing a fixed 3x3 convolution of its input: only ``nor_conv_3x3`` mixes pixels with
    free weights, so α moves to it from the uniform start (each op 0.2)."""
    torch.manual_seed(0)
    channels = 4
    teacher = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
    mixed = AlphaMixedOp(nn.ModuleList(OPS[op](channels, channels, 1) for op in TSS_OPS))
    net_w = RelaxedSupernet(mixed, [(mixed, 0, 0)])
    net_y = copy.deepcopy(net_w)
    assert net_y._edges[0][0] is net_y.network  # the copy weighs its own ops
    alpha = [torch.zeros(1, len(TSS_OPS), requires_grad=True)]
    w, y = list(net_w.parameters()), list(net_y.parameters())
    rarts = method == "rarts"

    def sgd(params):
        return torch.optim.SGD(params, lr=0.05, momentum=0.9)

    search = RelaxedSearch(
        RelaxedSettings(RelaxedMethod.parse(method)),
        w,
        y if rarts else None,
        alpha,
        sgd(w),
        sgd(y) if rarts else None,
        torch.optim.Adam(alpha, lr=0.03, betas=(0.5, 0.999)),
    )
    nets = {id(w): net_w, id(y): net_y}
    generator = torch.Generator().manual_seed(1)
    batch: dict[str, torch.Tensor] = {}

    def loss(half):
        def of(weights, a):
            x = batch[half]
            return ((nets[id(weights)](x, a) - teacher(x).detach()) ** 2).mean()

        return of

    for _ in range(60):
        batch["t"], batch["v"] = (torch.randn(16, channels, 8, 8, generator=generator) for _ in range(2))
        search.step(loss("t"), loss("v"))
    probs = torch.softmax(alpha[0].detach(), -1)[0]
    assert TSS_OPS[int(probs.argmax())] == "nor_conv_3x3"
    assert float(probs[TSS_OPS.index("nor_conv_3x3")]) > 0.35


def test_tss_derivation_is_the_argmax_of_each_edge():
    space = get_space("tss")
    alpha = torch.zeros(*alpha_shapes(space)[0])
    wanted = ["nor_conv_3x3", "skip_connect", "none", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"]
    for edge, op in enumerate(wanted):
        alpha[edge, TSS_OPS.index(op)] = 1.0
    arch = derive(space, [alpha])
    assert space.parse(arch) == tuple(TSS_OPS.index(op) for op in wanted)
    assert arch == "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def test_darts_derivation_keeps_each_nodes_two_strongest_inputs_never_none():
    space = get_space("darts")
    normal, reduce = (torch.zeros(*shape) for shape in alpha_shapes(space))
    ops = space.edge_op_sets(space.supernet())[0]  # none first, then DARTS' ops
    normal[:, ops.index("none")] = 9.0  # the strongest everywhere, and never kept
    normal[:, ops.index("sep_conv_3x3")] = 2.0
    normal[4, ops.index("dil_conv_5x5")] = 5.0  # node 3's edge from state 2
    normal[8, ops.index("max_pool_3x3")] = 4.0  # node 4's edge from state 3
    reduce[:, ops.index("skip_connect")] = 1.0
    arch = derive(space, [normal, reduce])
    assert space.in_space(arch)
    sep, skip = "sep_conv_3x3", "skip_connect"
    # ties (equal strengths) keep the lower inputs, as a stable sort does
    assert list(space.genotype(arch).normal) == [
        (sep, 0), (sep, 1), (sep, 0), ("dil_conv_5x5", 2), (sep, 0), ("max_pool_3x3", 3), (sep, 0), (sep, 1)
    ]  # fmt: skip
    assert list(space.genotype(arch).reduce) == [(skip, 0), (skip, 1)] * 4


def test_a_supernet_forward_weighs_each_edge_by_its_alpha():
    space = get_space("tss")
    net = build_supernet(space, num_classes=4, channels=4, layers=1)
    assert len(net._edges) == 6 * 3  # 3 cells of 6 edges
    alpha = [torch.zeros(6, 5, requires_grad=True)]
    net(torch.randn(2, 3, 32, 32), alpha).sum().backward()
    assert alpha[0].grad is not None and float(alpha[0].grad.abs().sum()) > 0
    with pytest.raises(ZeronasError, match="supernet searches run on"):
        paper_recipe("sss")
    with pytest.raises(ZeronasError, match="no option 'width'"):
        paper_recipe("tss", width=4)


def test_a_resumed_search_ends_where_an_uninterrupted_one_does(tmp_path):
    data = write_fake_cifar(tmp_path / "cifar", n_train=32, n_test=4, classes=4)
    space = get_space("tss")
    recipe = paper_recipe("tss", epochs=2, channels=4, layers=1, batch_size=8)
    whole = train_supernet(space, "rarts", recipe, data=data, seed=3)

    saved = tmp_path / "checkpoint"
    saved.mkdir()

    def stop_after_one(report):
        report.save(saved)
        return True

    first = train_supernet(space, "rarts", recipe, data=data, seed=3, on_epoch=stop_after_one)
    assert first.epochs_run == 1
    resumed = train_supernet(space, "rarts", recipe, data=data, seed=3, resume=saved)
    assert resumed.epochs_run == 2 and [h["epoch"] for h in resumed.history] == [1, 2]
    assert resumed.weights == whole.weights
    assert resumed.history == whole.history
    assert resumed.arch == whole.arch and space.in_space(resumed.arch)
    with pytest.raises(ZeronasError, match="another search"):
        train_supernet(space, "milenas", recipe, data=data, seed=3, resume=saved)


def _search_trial(algo: str, data: Path, epochs: int, options: dict, space: str = "tss"):
    """A run's configuration and one search of ``algo``, as the driver gives them to the supernet trial."""
    from zeronas.pipeline._spec import ExperimentSpec, algorithm_options, validate

    options = {f"{algo}.{k}": v for k, v in options.items()}
    spec = ExperimentSpec(
        space=space, algos=[algo], data=str(data), supernet_epochs=epochs, algo_options=options, device="cpu"
    )
    spec, run = validate(spec)
    search = {"search_id": f"{algo}-s3", "algorithm": algo, "seed": 3, "options": algorithm_options(spec, algo)}
    return dataclasses.replace(run, run_id="trial"), {"search": search}


def _derive_row(final_report: dict) -> dict:
    (derived,) = [r for r in final_report["rows"] if r["stage"] == "derive"]
    return derived


def test_a_rarts_trial_killed_after_an_epoch_restarts_from_its_tune_checkpoint_and_ends_like_an_uninterrupted_one(
    tmp_path, tune_stand_in
):
    """Killed right after reporting epoch 1, then restarted as ``FailureConfig(max_failures=2)`` restarts it,
    from the last checkpoint it reported: epoch 2's losses, the derived arch and its device-seconds match a trial
    that was never killed."""
    from ray import tune

    from zeronas.pipeline._supernet_stage import supernet_trial

    data = write_fake_cifar(tmp_path / "cifar", n_train=32, n_test=4, classes=4)
    run, config = _search_trial("rarts", data, 2, {"channels": 4, "layers": 1, "batch_size": 8, "samples": 32})
    reports = tune_stand_in.reports
    supernet_trial(config, run)
    whole = list(reports)
    reports.clear()
    tune_stand_in.kill_when = lambda metrics: metrics["epoch"] == 1
    with pytest.raises(Killed):
        supernet_trial(config, run)
    assert [r["epoch"] for r in reports] == [1]
    tune_stand_in.restore = tune.Checkpoint.from_directory(shutil.copytree(tune_stand_in.saved, tmp_path / "restored"))
    supernet_trial(config, run)
    resumed = reports[1:]
    assert [r.get("epoch") for r in resumed] == [2, None] and resumed[-1]["resumed_after"] == 1
    losses = [{k: v for k, v in r.items() if k.startswith("loss_")} for r in (resumed[0], whole[1])]
    assert losses[0] == losses[1] and set(losses[0]) == {"loss_w", "loss_y", "loss_alpha"}
    derived, uninterrupted = _derive_row(resumed[1]), _derive_row(whole[2])
    assert derived["arch"] == uninterrupted["arch"] and derived["epochs"] == 2
    # the killed attempt's epoch is charged once: seconds carry over from the checkpoint
    assert derived["train_device_seconds"] == resumed[0]["device_seconds"] > reports[0]["device_seconds"] > 0


def test_a_darts_search_under_a_heavy_size_penalty_derives_a_cell_of_parameter_free_ops(tmp_path, tune_stand_in):
    """DARTS space, first-order DARTS, one epoch: with ``latency_weight`` far above the loss, α leaves every op
    with parameters, so the derived genotype (two strongest non-``none`` inputs per node) holds only pools and
    skips; without the penalty, on the same data and seed, it keeps some convolutions. The trial's ``derive`` row
    carries the genotype, in the space, with its evaluation-size cost."""
    from zeronas.pipeline._supernet_stage import supernet_trial
    from zeronas.spaces import get_space

    data = write_fake_cifar(tmp_path / "cifar", n_train=32, n_test=4, classes=4)
    tiny = {"channels": 4, "layers": 3, "batch_size": 4, "samples": 32, "alpha_lr": 0.3}
    free = {"max_pool_3x3", "avg_pool_3x3", "skip_connect"}
    darts = get_space("darts")
    ops = {}
    for weight in (0.0, 100.0):
        run, config = _search_trial("darts-1st", data, 1, {**tiny, "latency_weight": weight}, space="darts")
        supernet_trial(config, run)
        derived = _derive_row(tune_stand_in.reports[-1])
        assert derived["in_space"] and derived["epochs"] == 1 and derived["train_device_seconds"] > 0
        assert derived["params"] == darts.params(derived["arch"], 10)
        genotype = darts.genotype(derived["arch"])
        ops[weight] = {op for op, _ in (*genotype.normal, *genotype.reduce)}
    assert ops[100.0] <= free and not ops[0.0] <= free


@pytest.mark.slow  # registered on main (fa237c7): over ~7 s, run first
def test_rarts_beside_rea_in_one_compare_run(ray_session, tmp_path, fake_cifar, tss_csv, capsys):
    """The whole pipeline: rea on the scorer pool, then rarts as a training trial on the GPU placement (a logical
    GPU here, computing on the CPU); the derived arch is validated and tested once, and analysed with its cost."""
    import json

    import pyarrow.dataset as ds

    from zeronas.analysis import analyze
    from zeronas.cli import main

    out = tmp_path / "runs"
    tiny = ["rarts.channels=4", "rarts.layers=1", "rarts.batch_size=16", "rarts.samples=32"]
    argv = ["compare", "--algos", "rea,rarts", "--seeds", "1", "--budget", "6", "--proxy", "params", "--top-k", "2",
            "--benchmark", str(tss_csv), "--data", str(fake_cifar), "--supernet-epochs", "1", "--workers", "1",
            "--device", "cpu", "--out", str(out), "--quiet", "--json"]  # fmt: skip
    for option in tiny:
        argv += ["--algo-option", option]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.index("\n{") :])  # after what Tune prints when it starts an experiment
    rows = ds.dataset(out, format="parquet", partitioning="hive").to_table().to_pylist()
    rarts = {r["stage"]: r for r in rows if r["search_id"] == "rarts-s0"}
    assert sorted(rarts) == ["derive", "test", "validate"]  # no proxy row: it scored nothing
    derived = rarts["derive"]
    assert derived["epochs"] == 1 and derived["device"] == "cpu" and derived["train_device_seconds"] > 0
    assert derived["in_space"] and derived["index"] is not None
    assert rarts["validate"]["arch"] == rarts["test"]["arch"] == derived["arch"]
    assert rarts["validate"]["accuracy"] is not None and rarts["test"]["accuracy"] is not None
    assert sum(r["stage"] == "proxy" for r in rows if r["search_id"] == "rea-s0") == 6
    returned = result["returned"]["rarts-s0"]
    assert returned["arch"] == derived["arch"] and returned["proxy_evals"] == 0 and returned["lookups"] == 1
    assert returned["train_device_seconds"] == derived["train_device_seconds"]

    report = analyze(out, benchmark=tss_csv, n_resamples=0)
    quality = report.table("Search quality")
    by_search = {row[0]: dict(zip(quality.columns, row)) for row in quality.rows}
    assert by_search["rarts-s0"]["proxy_evals"] == 0 and by_search["rea-s0"]["proxy_evals"] == 6
    assert by_search["rarts-s0"]["train_device_s"] == pytest.approx(derived["train_device_seconds"])
    assert by_search["rarts-s0"]["returned_test"] == pytest.approx(rarts["test"]["accuracy"])
    compared = report.table("Algorithms under objective params")
    assert sorted(row[0] for row in compared.rows) == ["rarts", "rea"]  # side by side, with their costs


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--space", "sss", "--data", "."], "supernet searches run on: tss, darts"),
        ([], "rarts trains a supernet on CIFAR: give --data DIR"),
        (["--data", ".", "--algo-option", "rarts.width=4"], "supernet search has no option 'width'"),
        (["--data", ".", "--supernet-epochs", "0"], "supernet epochs must be a positive integer"),
        (["--space", "darts", "--data", ".", "--algo-option", "rarts.layers=2"], "DARTS network needs an even channel"),
    ],
)
def test_bad_supernet_search_input_is_one_line(extra, fragment, tmp_path, capsys):
    from zeronas.cli import main

    assert main(["search", "--algo", "rarts", "--out", str(tmp_path), "--quiet", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err
    assert not list(tmp_path.iterdir())  # nothing written


def test_training_searches_are_names_beside_the_ask_tell_registry():
    from zeronas.search_algos import TRAINING_SEARCHES, get_algorithm, is_training_search, list_algorithms

    assert set(TRAINING_SEARCHES) == {m.value for m in RelaxedMethod}
    assert is_training_search("RARTS") and is_training_search("darts-1st") and not is_training_search("rea")
    assert "milenas" in list_algorithms(training=True) and "milenas" not in list_algorithms()
    with pytest.raises(ZeronasError, match="has no ask/tell"):
        get_algorithm("rarts", space="tss")
    with pytest.raises(ZeronasError, match="choose one of: .*rea.*; supernet training: rarts, darts-1st, milenas"):
        is_training_search("rartz")
