"""Which device a Ray worker (scorer actor, training trial) computes on: never a silent CPU run.

``auto`` (the default) computes on the GPU Ray gave the worker, on the CPU when it gave none;
a worker given a GPU whose torch cannot use CUDA is an error that names the node and the
torch build. Only ``cpu`` keeps a GPU placement but computes on the CPU (tests on logical
GPUs run that way); ``cuda`` insists on a GPU.
"""

from __future__ import annotations

import re

from zeronas.errors import ZeronasError

WORKER_DEVICES = ("auto", "cpu", "cuda")


def check_worker_device(requested: str | None) -> str:
    """``requested`` if it names a worker device policy; a one-line error otherwise."""
    value = "auto" if requested is None else str(requested).strip().lower()
    if value not in WORKER_DEVICES:
        raise ZeronasError(
            f"--device {requested!r} is not one of {', '.join(WORKER_DEVICES)} for Ray workers "
            "(a worker's GPU is the one Ray assigns it)"
        )
    return value


def worker_device(requested: str | None, gpu_ids: list, node: str) -> str:
    """``cuda`` or ``cpu``: where a worker that Ray gave ``gpu_ids`` computes under policy ``requested``."""
    import torch

    policy = check_worker_device(requested)
    if policy == "cpu":
        return "cpu"
    if gpu_ids:
        if not torch.cuda.is_available():
            raise ZeronasError(
                f"worker on node {node} was given GPU {','.join(map(str, gpu_ids))} but its torch cannot use CUDA "
                f"(torch {torch.__version__}, torch.version.cuda={torch.version.cuda}); install a CUDA build of "
                "torch on that node, or pass --device cpu to compute on the CPU"
            )
        return "cuda"
    if policy == "cuda":
        raise ZeronasError(
            f"--device cuda but the worker on node {node} has no GPU; give --gpus-per-worker > 0 on a cluster with GPUs"
        )
    return "cpu"


_ERROR_LINE = re.compile(r"ZeronasError: ([^\n]+)")


def worker_start_error(err: BaseException, what: str) -> ZeronasError:
    """One line for a worker that failed to start: its own ``ZeronasError`` when it raised one
    (Ray wraps it in a traceback), else the first line of what Ray reported."""
    found = _ERROR_LINE.findall(str(err))
    if found:
        return ZeronasError(found[-1].strip())
    first = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
    return ZeronasError(f"{what} failed to start: {first}")
