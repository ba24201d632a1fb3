"""Short training: learns a learnable toy CIFAR, validates on held-out training images (never test),
reports per epoch, stops early, is seeded."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import write_fake_cifar

from zeronas.data import augment_crop_flip
from zeronas.errors import ZeronasError
from zeronas.pipeline._holdout import holdout_size, split_holdout
from zeronas.pipeline._training import TrainResult, evaluate_on_test, train_arch
from zeronas.pipeline._training_driver import select_trained

SSS_SMALL = "8:8:8:8:8"
TSS_SMALL = "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"


def test_learns_the_toy_data_and_reports_every_epoch(fake_cifar):
    calls: list[tuple[int, float]] = []
    result = train_arch(
        "sss",
        SSS_SMALL,
        data=fake_cifar,
        epochs=3,
        batch_size=24,
        lr=0.05,
        seed=0,
        max_train_samples=240,
        report=lambda epoch, acc, model: calls.append((epoch, acc)),
    )
    assert isinstance(result, TrainResult)
    assert result.epochs_run == 3
    assert calls == result.history
    assert [e for e, _ in calls] == [1, 2, 3]
    assert result.val_acc == calls[-1][1]
    assert result.val_acc >= 60.0  # chance is 25 %
    assert result.seconds > 0
    assert (result.train_size, result.val_size) == (240, 40)  # 10 % of the 400 training images held out


def test_same_seed_same_run_and_subset(fake_cifar):
    kwargs = dict(data=fake_cifar, epochs=1, batch_size=16, lr=0.05, max_train_samples=64, holdout=50)
    first = train_arch("sss", SSS_SMALL, seed=1, **kwargs)
    assert train_arch("sss", SSS_SMALL, seed=1, **kwargs).history == first.history
    # accuracies on 50 held-out images are multiples of 2 %
    assert all(round(acc / 2.0, 6).is_integer() for _, acc in first.history)


def test_report_true_stops_early(fake_cifar):
    calls = []

    def stop_after_first(epoch: int, acc: float, model) -> bool:
        calls.append(epoch)
        return True

    result = train_arch(
        "tss",
        TSS_SMALL,
        data=fake_cifar,
        epochs=5,
        batch_size=16,
        max_train_samples=32,
        holdout=16,
        report=stop_after_first,
    )
    assert calls == [1]
    assert result.epochs_run == 1 and len(result.history) == 1


def test_augmentation_crops_and_flips_within_the_padded_image():
    import torch

    images = torch.arange(2 * 3 * 32 * 32, dtype=torch.int64).remainder(251).to(torch.uint8).view(2, 3, 32, 32)
    gen = torch.Generator().manual_seed(0)
    crops = [augment_crop_flip(images, gen) for _ in range(20)]
    assert all(c.shape == images.shape and c.dtype == torch.uint8 for c in crops)
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    for crop in crops:
        for i in range(2):
            windows = [padded[i, :, y : y + 32, x : x + 32] for y in range(9) for x in range(9)]
            assert any(torch.equal(crop[i], w) or torch.equal(crop[i], w.flip(-1)) for w in windows)
    assert len({bytes(c.numpy()) for c in crops}) > 1


def test_bad_input_is_a_zeronas_error(tmp_path, fake_cifar):
    with pytest.raises(ZeronasError, match="does not exist"):
        train_arch("sss", SSS_SMALL, data=tmp_path / "missing", epochs=1)
    with pytest.raises(ZeronasError, match="no cifar10 python batches"):
        train_arch("sss", SSS_SMALL, data=tmp_path, epochs=1)
    with pytest.raises(ZeronasError, match="epochs"):
        train_arch("sss", SSS_SMALL, data=fake_cifar, epochs=0)
    with pytest.raises(ZeronasError, match="not a sss architecture"):
        train_arch("sss", "8:8", data=fake_cifar, epochs=1)
    with pytest.raises(ZeronasError, match="learning rate"):
        train_arch("sss", SSS_SMALL, data=fake_cifar, epochs=1, lr=-1.0)
    with pytest.raises(ZeronasError, match="device"):
        train_arch("sss", SSS_SMALL, data=fake_cifar, epochs=1, device="tpu")


def _labels(per_class: int, classes: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(classes), per_class))


def test_holdout_is_disjoint_stratified_and_seeded():
    labels = _labels(5000, 10)  # CIFAR-10's training split: 50,000 images of 10 classes
    train, val = split_holdout(labels, None, seed=0)
    assert len(val) == 5000 and len(train) == 45000
    assert not set(train) & set(val) and sorted([*train, *val]) == list(range(50000))
    assert np.bincount(labels[val]).tolist() == [500] * 10  # stratified: each class keeps its 10 %
    again_train, again_val = split_holdout(labels, None, seed=0)
    assert np.array_equal(again_val, val) and np.array_equal(again_train, train)
    _, other_val = split_holdout(labels, None, seed=1)
    assert len(other_val) == 5000 and not np.array_equal(other_val, val)
    assert len(split_holdout(labels, 1234, seed=0)[1]) == 1234
    assert len(split_holdout(labels, 0.02, seed=0)[1]) == 1000


def test_holdout_on_tiny_data_keeps_every_class_or_says_what_to_do():
    labels = _labels(3, 4)  # 12 images: 10 % would be 1 image, raised to one per class
    train, val = split_holdout(labels, None, seed=0)
    assert sorted(labels[val].tolist()) == [0, 1, 2, 3] and len(train) == 8
    singletons = _labels(1, 5)  # a class of one image cannot be on both sides: a plain random draw
    train, val = split_holdout(singletons, 2, seed=0)
    assert len(train) == 3 and len(val) == 2 and not set(train) & set(val)
    with pytest.raises(ZeronasError, match="smaller --train-holdout or more training images"):
        split_holdout(labels, 11, seed=0)
    for bad in (0, 1.0, -0.5, "10"):
        with pytest.raises(ZeronasError, match="--train-holdout"):
            holdout_size(labels, bad)


def test_validation_reads_held_out_training_images_and_test_is_only_read_by_the_test_evaluation(tmp_path):
    """Test labels shifted by one class: a model that learned the data scores high on the held-out training
    images and near 0 % on test, so the figure reported after every epoch cannot be the test split's."""
    write_fake_cifar(tmp_path, n_train=400, n_test=80, classes=4, test_label_shift=1)
    weights = {}
    result = train_arch(
        "sss",
        SSS_SMALL,
        data=tmp_path,
        epochs=3,
        batch_size=24,
        lr=0.05,
        seed=0,
        report=lambda epoch, acc, model: weights.update(model.state_dict()),
    )
    assert result.val_acc >= 60.0 and result.val_size == 40
    test_acc = evaluate_on_test("sss", SSS_SMALL, weights, data=tmp_path)
    assert test_acc <= 20.0


def test_selection_reads_epochs_then_validation_then_proxy_rank():
    rows = [
        {"arch": "a", "accuracy": 70.0, "epochs": 1, "iteration": 1, "error": None},
        {"arch": "b", "accuracy": 55.0, "epochs": 2, "iteration": 2, "error": None},  # ASHA let it go furthest
        {"arch": "c", "accuracy": 60.0, "epochs": 2, "iteration": 3, "error": None},
        {"arch": "d", "accuracy": 60.0, "epochs": 2, "iteration": 4, "error": None},  # tie: worse proxy rank
        {"arch": "e", "accuracy": None, "epochs": 2, "iteration": 5, "error": "training failed"},
    ]
    assert select_trained(rows)["arch"] == "c"
    assert select_trained(rows[:1])["arch"] == "a"
    assert select_trained(rows[4:]) is None


def test_the_run_checks_and_records_the_holdout(fake_cifar):
    from zeronas.pipeline import ExperimentSpec
    from zeronas.pipeline._spec import validate

    spec = ExperimentSpec(budget=4, train_epochs=1, data=str(fake_cifar), device="cpu")
    assert validate(spec)[1].train_holdout == 40  # 10 % of 400
    _, run = validate(dataclasses.replace(spec, train_holdout=0.25, train_holdout_seed=3))
    assert (run.train_holdout, run.train_holdout_seed) == (100, 3)
    with pytest.raises(ZeronasError, match="smaller --train-holdout"):
        validate(dataclasses.replace(spec, train_holdout=399))
