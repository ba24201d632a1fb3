"""Short training: learns a learnable toy CIFAR, reports per epoch, stops early, is seeded."""

from __future__ import annotations

import pytest

from zeronas.errors import ZeronasError
from zeronas.pipeline._training import TrainResult, _augment, train_arch

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
        report=lambda epoch, acc: calls.append((epoch, acc)),
    )
    assert isinstance(result, TrainResult)
    assert result.epochs_run == 3
    assert calls == result.history
    assert [e for e, _ in calls] == [1, 2, 3]
    assert result.val_acc == calls[-1][1]
    assert result.val_acc >= 60.0  # chance is 25 %
    assert result.seconds > 0


def test_same_seed_same_run_and_subset(fake_cifar):
    kwargs = dict(data=fake_cifar, epochs=1, batch_size=16, lr=0.05, max_train_samples=64, max_val_samples=50)
    first = train_arch("sss", SSS_SMALL, seed=1, **kwargs)
    assert train_arch("sss", SSS_SMALL, seed=1, **kwargs).history == first.history
    # accuracies on 50 validation images are multiples of 2 %
    assert all(round(acc / 2.0, 6).is_integer() for _, acc in first.history)


def test_report_true_stops_early(fake_cifar):
    calls = []

    def stop_after_first(epoch: int, acc: float) -> bool:
        calls.append(epoch)
        return True

    result = train_arch(
        "tss",
        TSS_SMALL,
        data=fake_cifar,
        epochs=5,
        batch_size=16,
        max_train_samples=32,
        max_val_samples=16,
        report=stop_after_first,
    )
    assert calls == [1]
    assert result.epochs_run == 1 and len(result.history) == 1


def test_augmentation_crops_and_flips_within_the_padded_image():
    import torch

    images = torch.arange(2 * 3 * 32 * 32, dtype=torch.int64).remainder(251).to(torch.uint8).view(2, 3, 32, 32)
    gen = torch.Generator().manual_seed(0)
    crops = [_augment(images, gen) for _ in range(20)]
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
