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
    train.add_argument(
        "--device",
        default="auto",
        help="cpu, cuda or cuda:N; auto (default) = cuda when torch sees one, on Ray = the trial's GPU, else CPU",
    )
    train.add_argument("--seed", type=int, default=0, help="seed of the split, weights, views and paths (default 0)")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint --out from its last epoch")
    ray = train.add_argument_group("as a Tune trial (placed like stage 3's training trials)")
    ray.add_argument("--ray", action="store_true", help="train as one Tune trial on a Ray cluster")
    ray.add_argument("--address", help="Ray cluster address (default: start a local one)")
    ray.add_argument("--gpus-per-worker", type=float, help="0 trains on a CPU (default: 1 GPU when there are GPUs)")
    ray.add_argument(
        "--wait-for-workers", default="10m", metavar="DURATION", help="give up when the trial cannot start (10m)"
    )
    ray.add_argument("--max-failures", type=int, default=2, help="restarts of a failed trial, from its checkpoint")
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    import dataclasses

    from zeronas.bossnas import BossSettings
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
    config = {
        "settings": dataclasses.asdict(settings),
        "data": str(Path(args.data).expanduser().resolve()),
        "limit": args.limit,
        "rating_images": args.rating_images,
        "device": args.device,
        "resume_from": str(args.out.resolve()) if args.resume else None,
    }
    if args.ray:
        from zeronas.pipeline._placement import parse_duration
        from zeronas.pipeline._supernet_trial import train_on_ray
        from zeronas.pipeline._worker_device import check_worker_device

        check_worker_device(args.device)
        train_on_ray(
            config,
            args.out,
            address=args.address,
            gpus_per_worker=args.gpus_per_worker,
            wait_for_workers=parse_duration(args.wait_for_workers),
            max_failures=args.max_failures,
        )
    else:
        _train_here(config, settings, args)
    from zeronas.bossnas import read_checkpoint

    state = read_checkpoint(args.out)
    print(
        f"wrote {args.out}: {state['device_seconds']:.1f} device-seconds on {', '.join(state['devices'])} "
        f"(the rating's {state['rating_seconds']:.1f})"
    )
    return 0


def _train_here(config: dict, settings, args: argparse.Namespace) -> None:
    import torch

    from zeronas._device import parse_device
    from zeronas.bossnas import train_supernet
    from zeronas.pipeline._supernet_trial import supernet_data

    name = args.device
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = parse_device(name)

    def report(record: dict) -> None:
        if record["phase"] == "rate":
            print(f"block {record['block']}: rated {record['paths']} paths ({record['seconds']:.1f} s)", flush=True)
        else:
            where = f"block {record['block']} epoch {record['epoch']}"
            print(f"{where}: loss {record['loss']:.4f} ({record['seconds']:.1f} s)", flush=True)

    train, held_out = supernet_data(config)
    train_supernet(train, held_out, settings, args.out, device, args.resume, report)
