"""BYOL's augmentations on a batch, drawn from a ``torch.Generator`` so that a seed fixes every view.

Random resized crop (area 20-100 %, aspect 3/4-4/3) to the training resolution, horizontal flip, colour
jitter (brightness, contrast, saturation 0.4, with probability 0.8) and grayscale (0.2); the images are
``uint8 N x 3 x H x W`` and the views come out normalised with the data set's CIFAR mean and deviation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from zeronas.data import CIFAR_MEAN, CIFAR_STD


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) * (high - low) + low


def _crop_and_flip(x: torch.Tensor, resolution: int, generator: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    area = _uniform(n, 0.2, 1.0, generator)
    ratio = torch.exp(_uniform(n, math.log(3 / 4), math.log(4 / 3), generator))
    width = torch.sqrt(area * ratio).clamp(max=1.0)
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (torch.rand(n, generator=generator) * 2 - 1) * (1 - width)
    cy = (torch.rand(n, generator=generator) * 2 - 1) * (1 - height)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = width * flip, cx
    theta[:, 1, 1], theta[:, 1, 2] = height, cy
    grid = F.affine_grid(theta, [n, 3, resolution, resolution], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _gray(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)


def _jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    apply = (torch.rand(n, generator=generator) < 0.8).float().view(n, 1, 1, 1)
    brightness, contrast, saturation = (_uniform(n, 0.6, 1.4, generator).view(n, 1, 1, 1) for _ in range(3))
    jittered = x * brightness
    mean = jittered.mean(dim=(1, 2, 3), keepdim=True)
    jittered = (jittered - mean) * contrast + mean
    jittered = (jittered - _gray(jittered)) * saturation + _gray(jittered)
    x = apply * jittered.clamp(0, 1) + (1 - apply) * x
    to_gray = (torch.rand(n, generator=generator) < 0.2).float().view(n, 1, 1, 1)
    return to_gray * _gray(x).expand_as(x) + (1 - to_gray) * x


def two_views(
    images: torch.Tensor, dataset: str, resolution: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independently augmented, normalised views of ``uint8`` ``images`` (on the CPU: the generator's)."""
    x = images.float().div(255.0)
    mean = torch.tensor(CIFAR_MEAN[dataset]).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD[dataset]).view(1, 3, 1, 1)
    views = []
    for _ in range(2):
        view = _jitter(_crop_and_flip(x, resolution, generator), generator)
        views.append((view - mean) / std)
    return views[0], views[1]
