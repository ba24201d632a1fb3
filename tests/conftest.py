"""Shared fixtures. One Ray session serves every test that needs Ray."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tss_csv(shared_data: Path) -> Path:
    path = shared_data / "nats_tss" / "cifar10.csv"
    if not path.is_file():
        pytest.skip(f"NATS-Bench TSS ground truth not found at {path}")
    return path


@pytest.fixture(scope="session")
def images_dir(shared_data: Path) -> Path:
    path = shared_data / "images"
    if not path.is_dir():
        pytest.skip(f"shared CIFAR images not found at {path}")
    return path
