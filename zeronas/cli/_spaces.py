"""``zeronas spaces``: list the search spaces, or describe one architecture."""

from __future__ import annotations

import argparse

from zeronas.cli._docs import docs_epilog
from zeronas.datasets import DATASETS, canonical_dataset, num_classes, resolution
from zeronas.errors import ZeronasError

_DESCRIPTIONS = {
    "tss": "NATS-Bench topology (NAS-Bench-201 cells, 6 edges x 5 ops)",
    "sss": "NATS-Bench size (channels 8..64 of 5 layers, fixed cell)",
    "darts": "DARTS CNN cells (NAS-Bench-301 space; normal + reduction, 8 edges x 7 ops each)",
}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "spaces",
        help="list search spaces or show one architecture",
        description="List the search spaces with their sizes, "
        "or show one architecture's index, whether it is in the space, its canonical form and costs.",
        epilog=docs_epilog("guide/spaces.md"),
    )
    parser.add_argument("space", nargs="?", help="a space name (tss, sss, darts); default: list all")
    parser.add_argument(
        "--show",
        metavar="ARCH",
        help="an arch string (darts: a genotype or DARTS_V2/PDARTS) or an index to describe; in_space says whether "
        "the space's searches can propose it",
    )
    parser.add_argument(
        "--dataset", default="cifar10", help=f"dataset for params/FLOPs ({', '.join(DATASETS)}; default cifar10)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zeronas.spaces import get_space, list_spaces

    if args.show is not None and args.space is None:
        raise ZeronasError("--show needs a space: zeronas spaces tss --show ARCH")
    names = [get_space(args.space).name] if args.space else list_spaces()
    if args.show is None:
        for name in names:
            space = get_space(name)
            unique = space.num_unique()
            extra = f"  {unique:>6,} unique cells" if unique != space.size else ""
            print(f"{name:<5} {space.size:>7,} archs{extra:<22}  {_DESCRIPTIONS.get(name, type(space).__name__)}")
        return 0
    space = get_space(names[0])
    arch = _arch(space, args.show)
    dataset = canonical_dataset(args.dataset)
    canonical = space.canonical(arch)
    classes, res = num_classes(dataset), resolution(dataset)
    outside = space.outside_reason(arch)
    print(f"space      {space.name}")
    print(f"index      {space.index_of(arch) if outside is None else f'none ({outside})'}")
    print(f"in_space   {'yes' if outside is None else 'no'}")
    print(f"arch       {arch}")
    print(f"canonical  {canonical}" + ("" if outside else f" (index {space.index_of(canonical)})"))
    print(f"degenerate {'yes' if space.is_degenerate(arch) else 'no'}")
    print(f"params     {space.params(arch, classes):,} ({dataset}, {classes} classes)")
    flops = space.flops(arch, classes, res)
    try:
        also = f"; {space.flops(arch, classes, res, convention='all-ops'):.5f} M with BN, ReLU, pooling"
    except (TypeError, ValueError):  # a plugin space that counts one way only
        also = ""
    print(f"flops      {flops:.5f} M ({res}x{res} input; NATS-Bench's count{also})")
    return 0


def _arch(space, text: str) -> str:
    text = text.strip()
    try:
        if text.lstrip("-").isdigit():
            return space.arch_at(int(text))
        return space.validate(text)
    except ValueError as err:
        raise ZeronasError(f"bad {space.name} arch {text!r}: {err}") from None
