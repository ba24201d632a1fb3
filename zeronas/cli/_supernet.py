"""``zeronas supernet train --method bossnas``: train the supernet a trained proxy (``bossnas``) rates with."""

from __future__ import annotations

import argparse
from pathlib import Path

from zeronas.cli._docs import docs_epilog
from zeronas.errors import ZeronasError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "supernet", help="train a weight-sharing supernet for a trained proxy", epilog=docs_epilog("bossnas.md")
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = actions.add_parser(
        "train",
        help="train a BossNAS supernet without labels and write its checkpoint",
        description="Train the slimmable SSS supernet block by block by ensemble bootstrapping (BossNAS) on the "
        "CIFAR training split, less --rating-images held out for the rating, and write --out after every epoch. "
        "Score with it as --proxy bossnas --proxy-option bossnas.checkpoint=OUT.",
        epilog=docs_epilog("bossnas.md"),
    )
    train.add_argument("--method", choices=["bossnas"], required=True, help="the supernet's training method")
    train.add_argument("--space", default="sss", help="search space (BossNAS: sss)")
    train.add_argument("--dataset", default="cifar10", help="cifar10 (default) or cifar100")
    train.add_argument("--data", required=True, metavar="DIR", help="CIFAR python batches")
    train.add_argument("--out", type=Path, required=True, metavar="CKPT", help="the checkpoint file")
    train.add_argument("--epochs-per-block", type=int, default=30, metavar="N", help="epochs per block (default 30)")
    train.add_argument("--batch-size", type=int, default=256, metavar="B", help="images per step (default 256)")
    train.add_argument("--lr", type=float, default=0.05, help="SGD learning rate per 256 images (default 0.05)")
    train.add_argument("--rating-images", type=int, default=256, metavar="N", help="held out for rating (256)")
    train.add_argument("--limit", type=int, metavar="N", help="train on the first N training images only")
    train.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N")
    train.add_argument("--seed", type=int, default=0, help="seed of the split, weights, views and paths (default 0)")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint --out from its last epoch")
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from zeronas._device import parse_device
    from zeronas.bossnas import BossSettings, train_supernet
    from zeronas.data import load_cifar
    from zeronas.pipeline._holdout import split_holdout
    from zeronas.spaces import get_space

    space = get_space(args.space).name
    if args.out.exists() and not args.resume:
        raise ZeronasError(f"{args.out} exists; pass --resume to continue it or choose another --out")
    if not args.out.parent.is_dir():
        raise ZeronasError(f"the folder of --out {args.out} does not exist; create it first")
    settings = BossSettings(
        dataset=args.dataset,
        space=space,
        epochs_per_block=args.epochs_per_block,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
    ).checked()
    device = parse_device(args.device)
    images, labels = load_cifar(args.data, settings.dataset, "train", limit=args.limit)
    train, held_out = split_holdout(labels, args.rating_images, args.seed)

    def report(record: dict) -> None:
        print(f"block {record['block']} epoch {record['epoch']}: loss {record['loss']:.4f} ({record['seconds']:.1f} s)")

    state = train_supernet(images[train], images[held_out], settings, args.out, device, args.resume, report)
    print(f"wrote {args.out}: {state['device_seconds']:.1f} device-seconds on {', '.join(state['devices'])}")
    return 0
