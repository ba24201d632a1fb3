"""BossNAS on SSS: a tiny supernet (8 px views, 32 training images, 2 steps per epoch, 2 epochs per block) trained
on the learnable fake CIFAR; the rating, the Tune trial's resume, the refusals and ``zeronas score`` with
``--proxy-option bossnas.checkpoint``."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from _tune_stand_in import Killed

from zeronas.bossnas import BossSettings, SupernetRating, train_supernet
from zeronas.cli import main
from zeronas.errors import ZeronasError
from zeronas.pipeline._supernet_trial import CHECKPOINT_FILE, supernet_data, supernet_trial
from zeronas.proxies import ArchScorer, get_proxy, list_proxies

TINY = BossSettings(epochs_per_block=2, batch_size=16, hidden=32, dim=16, resolution=8, population=16)


@pytest.fixture(scope="module")
def trial_config(fake_cifar) -> dict:
    """What ``zeronas supernet train`` gives its Tune trial: 32 images to train on, 16 held out for the rating."""
    data = {"data": str(fake_cifar), "limit": 48, "rating_images": 16}
    return {"settings": dataclasses.asdict(TINY), **data, "device": "cpu", "resume_from": None}


@pytest.fixture(scope="module")
def images(trial_config):
    return supernet_data(trial_config)


@pytest.fixture(scope="module")
def checkpoint(images, tmp_path_factory, request) -> Path:
    """Trained once per run: under xdist the first worker to ask trains it into the run's temp folder, which the
    workers share, and the other waits for it there (pytest-xdist's recipe for a fixture computed once)."""
    from filelock import FileLock

    if not hasattr(request.config, "workerinput"):  # not an xdist worker (-n 0, -p no:xdist): its own folder
        path = tmp_path_factory.mktemp("bossnas") / "supernet.ckpt"
        train_supernet(*images, TINY, path)
        return path
    path = tmp_path_factory.getbasetemp().parent / "bossnas-supernet.ckpt"
    with FileLock(f"{path}.lock", timeout=600):
        if not path.is_file():
            train_supernet(*images, TINY, path)
    return path


def test_rating_ranks_the_widest_configuration_above_the_narrowest(checkpoint):
    """The known answer: every layer at 64 channels beats every layer at 8. A block's target is the mean of the
    EMA outputs of its whole population, most of whose paths are wider than 8; the 8-channel path reads only the
    first 8 channels of each shared layer, a strict subset of what the 64-channel path reads, so after training
    it predicts that target worse (larger distance). Here the ensemble bootstrapping loss is what both paths
    were trained on, so this is the method's own property, not a property of the untrained weights' scale."""
    rating = SupernetRating(checkpoint)
    assert rating.distance([64] * 5) < rating.distance([8] * 5)
    proxy = get_proxy("bossnas", checkpoint=str(checkpoint))
    scorer = ArchScorer(space="sss", proxies=["bossnas"], proxy_options={"bossnas": {"checkpoint": str(checkpoint)}})
    wide, narrow = scorer.score("64:64:64:64:64").values["bossnas"], scorer.score("8:8:8:8:8").values["bossnas"]
    assert wide > narrow and wide == -rating.distance([64] * 5)
    assert proxy.rating.block_distance(1, (8, 64, 64)) == rating.block_distance(1, (8, 64, 64))


def test_a_trial_killed_mid_block_and_restarted_from_its_tune_checkpoint_ends_like_an_uninterrupted_run(
    trial_config, images, checkpoint, tmp_path, tune_stand_in
):
    """The trial as Tune runs it (``ray.get_gpu_ids``, ``tune.get_checkpoint`` and ``tune.report`` stand in):
    killed after block 1's first epoch (the optimiser's momentum is in the file), then restarted as Tune's
    ``max_failures`` restarts it, from the last checkpoint it reported."""
    from ray import tune

    tune_stand_in.kill_when = lambda metrics: (metrics["block"], metrics.get("epoch")) == (1, 0)
    with pytest.raises(Killed):
        supernet_trial(trial_config)
    saved = tune_stand_in.saved
    killed = saved / CHECKPOINT_FILE
    with pytest.raises(ZeronasError, match="stopped at block 1, epoch 1; finish it with .*--resume"):
        SupernetRating(killed)
    with pytest.raises(ZeronasError, match="other settings"):
        train_supernet(*images, dataclasses.replace(TINY, lr=0.1), killed, resume=True)
    tune_stand_in.restore = tune.Checkpoint.from_directory(shutil.copytree(saved, tmp_path / "restored"))
    supernet_trial(trial_config)
    resumed = torch.load(killed, weights_only=True)
    whole = torch.load(checkpoint, weights_only=True)
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in whole["history"]]
    for net in ("online", "target"):
        assert all(torch.equal(whole[net][k], v) for k, v in resumed[net].items())
    assert all(torch.equal(whole["ratings"][b], resumed["ratings"][b]) for b in range(3))
    assert resumed["device_seconds"] > resumed["rating_seconds"] > 0 and resumed["devices"] == ["cpu"]


def test_a_trained_checkpoint_without_ratings_is_refused_then_rated_on_resume(images, checkpoint, tmp_path):
    """A checkpoint whose training ended before its rating (an older zeronas, or a run stopped while rating)."""
    state = torch.load(checkpoint, weights_only=True)
    assert sorted(state["ratings"]) == [0, 1, 2] and [len(state["ratings"][b]) for b in range(3)] == [8, 512, 512]
    del state["ratings"], state["rating_seconds"]
    unrated = tmp_path / "unrated.ckpt"
    torch.save(state, unrated)
    with pytest.raises(ZeronasError, match=r"trained but not rated \(blocks rated: 0 of 3\); finish it with"):
        SupernetRating(unrated)
    rated = train_supernet(*images, TINY, unrated, resume=True)
    assert len(rated["history"]) == len(state["history"])  # no epoch trained again
    whole = torch.load(checkpoint, weights_only=True)
    assert all(torch.equal(whole["ratings"][b], rated["ratings"][b]) for b in range(3))
    assert SupernetRating(unrated).distance([8] * 5) == SupernetRating(checkpoint).distance([8] * 5)


def test_the_proxy_is_refused_without_a_checkpoint_or_with_one_for_another_space_or_dataset(checkpoint, tmp_path):
    assert "bossnas" in list_proxies(trained=True) and "bossnas" not in list_proxies()
    with pytest.raises(ZeronasError, match=r"pass --proxy-option bossnas.checkpoint=PATH"):
        ArchScorer(space="sss", proxies=["bossnas"])
    with pytest.raises(ZeronasError, match="does not exist"):
        get_proxy("bossnas", checkpoint=str(tmp_path / "missing.ckpt"))
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ZeronasError, match="not a readable BossNAS checkpoint"):
        get_proxy("bossnas", checkpoint=str(tmp_path / "junk.ckpt"))
    options = {"bossnas": {"checkpoint": str(checkpoint)}}
    with pytest.raises(ZeronasError, match="trained on cifar10, not cifar100; train one on cifar100 with"):
        ArchScorer(space="sss", dataset="cifar100", proxies=["bossnas"], proxy_options=options)
    with pytest.raises(ZeronasError, match="a BossNAS supernet of the sss space, not tss; .* pass --space sss"):
        ArchScorer(space="tss", proxies=["bossnas"], proxy_options=options)


def test_zeronas_score_rates_archs_with_the_checkpoint(checkpoint, tmp_path, capsys):
    archs = ["64:64:64:64:64", "8:8:8:8:8", "16:32:48:64:8"]
    (tmp_path / "archs.txt").write_text("\n".join(archs) + "\n")
    common = ["score", "--space", "sss", "--proxies", "bossnas", "--archs", str(tmp_path / "archs.txt")]
    option = ["--proxy-option", f"bossnas.checkpoint={checkpoint}"]
    assert main([*common, *option, "--out", str(tmp_path / "scores.parquet")]) == 0
    table = pq.read_table(tmp_path / "scores.parquet").to_pandas().set_index("arch")
    rating = SupernetRating(checkpoint)
    for arch in archs:
        assert table.loc[arch, "bossnas"] == pytest.approx(-rating.distance([int(c) for c in arch.split(":")]))
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "refused.parquet")]) == 2
    assert "bossnas.checkpoint=PATH" in capsys.readouterr().err
    assert main([*common, "--proxy-option", "bossnas.ckpt=x", "--out", str(tmp_path / "bad.parquet")]) == 2
    assert "bossnas takes: checkpoint" in capsys.readouterr().err


def test_supernet_train_refuses_to_overwrite_a_checkpoint_without_resume(checkpoint, fake_cifar, tmp_path, capsys):
    out = tmp_path / "supernet.ckpt"
    shutil.copy(checkpoint, out)
    argv = ["supernet", "train", "--method", "bossnas", "--data", str(fake_cifar), "--out", str(out)]
    assert main(argv) == 2
    assert "pass --resume" in capsys.readouterr().err


@pytest.mark.slow
def test_a_search_with_the_bossnas_proxy_logs_its_ratings_trains_its_pick_resumes_and_analyzes(
    checkpoint, ray_session, fake_cifar, tmp_path
):
    """The proxy through the whole pipeline: the Ray pool's scorer loads the checkpoint, every logged value is the
    supernet's rating, the top-2 by rating are validated on a ground truth (made up: no SSS table ships offline)
    and the better of them is tested once; stage 3 short-trains the best-rated SSS network on CIFAR (fake here) and
    tests it once; a resume scores nothing again, and the log analyses."""
    import pyarrow.dataset as ds
    from conftest import write_sss_truth

    from zeronas.analysis import analyze, render
    from zeronas.pipeline import ExperimentSpec, run_experiment

    truth = tmp_path / "sss.parquet"
    valid = write_sss_truth(truth)
    spec = ExperimentSpec(
        space="sss",
        proxy="bossnas",
        proxy_options={"bossnas": {"checkpoint": str(checkpoint)}},
        algos=["random"],
        budget=4,
        top_k=2,
        benchmark=str(truth),
        data=str(fake_cifar),
        train_epochs=1,
        train_top_k=1,
        train_samples=16,
        workers=1,
        gpus_per_worker=0,
        device="cpu",
        out=str(tmp_path / "runs"),
        quiet=True,
    )
    result = run_experiment(spec)
    rows = ds.dataset(tmp_path / "runs", format="parquet", partitioning="hive").to_table().to_pylist()
    proxy = [r for r in rows if r["stage"] == "proxy"]
    assert len(proxy) == 4 and len({r["arch"] for r in proxy}) == 4
    rating = SupernetRating(checkpoint)
    for r in proxy:
        assert r["proxy_bossnas"] == pytest.approx(-rating.distance([int(c) for c in r["arch"].split(":")]))
    best_rated = [r["arch"] for r in sorted(proxy, key=lambda r: -r["proxy_bossnas"])[:2]]
    validated = [r for r in rows if r["stage"] == "validate"]
    assert sorted(r["arch"] for r in validated) == sorted(best_rated)
    assert all(r["accuracy"] == pytest.approx(valid[r["arch"]]) for r in validated)
    assert {r["accuracy_source"] for r in validated} == {"cifar10_valid_acc_12ep"}
    (tested,) = [r for r in rows if r["stage"] == "test"]  # the better validated arch, its 90-epoch test once
    returned = result.returned["random-s0"]
    assert returned["arch"] == tested["arch"] == max(validated, key=lambda r: r["accuracy"])["arch"]
    assert returned["test_accuracy"] == tested["accuracy"] == pytest.approx(valid[tested["arch"]] - 1)
    assert tested["accuracy_source"] == "cifar10_test_acc_90ep" and not returned["selected_on_test"]
    (trained,) = [r for r in rows if r["stage"] == "train"]  # stage 3: the best-rated SSS network, really trained
    assert trained["arch"] == best_rated[0]
    assert trained["epochs"] == 1 and trained["accuracy_source"] == "cifar10_holdout_acc_trained"
    (trained_test,) = [r for r in rows if r["stage"] == "train_test"]  # and tested once
    assert trained_test["arch"] == trained["arch"] == returned["trained"]["arch"]
    assert trained_test["accuracy_source"] == "cifar10_test_acc_trained"
    assert returned["trained"]["test_accuracy"] == trained_test["accuracy"]
    cost = torch.load(checkpoint, weights_only=True)["device_seconds"]  # training and rating, charged to the search
    assert {r["train_device_seconds"] for r in proxy} == {cost}
    assert (returned["train_device_seconds"], returned["train_device"]) == (cost, "cpu")

    assert run_experiment(spec, resume=result.run_id).pool_stats == {}  # nothing left to score: no pool started
    again = ds.dataset(tmp_path / "runs", format="parquet", partitioning="hive").to_table().to_pylist()
    assert sorted((r["stage"], r["arch"]) for r in again) == sorted((r["stage"], r["arch"]) for r in rows)
    report = analyze(tmp_path / "runs", n_resamples=0)
    assert "random-s0" in render(report) and "proxy_bossnas" in report.joined.column_names
    quality = report.table("Search quality")
    (row,) = [dict(zip(quality.columns, row)) for row in quality.rows]
    assert (row["proxy_evals"], row["train_device_s"]) == (4, pytest.approx(cost))
