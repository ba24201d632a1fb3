"""Chunks sized by cost: many cheap archs per actor call, few expensive ones, every row back in order."""

from __future__ import annotations

import pytest

from zeronas.pipeline._pool import PoolConfig, chunk_size

KWARGS = dict(space="tss", proxies=["params"], dataset="cifar10", data=None, seed=0, batch_size=8, device="cpu")


@pytest.mark.parametrize(
    "chunk_seconds, seconds_per_arch, queued, workers, expected",
    [
        (0.1, None, 1000, 1, 2),  # nothing observed yet: the starting size
        (0.1, 1e-3, 1000, 1, 100),  # 0.1 s of a 1-ms proxy
        (0.1, 1e-5, 100_000, 1, 512),  # a free proxy: capped
        (0.1, 0.05, 1000, 1, 2),
        (0.1, 2.0, 1000, 1, 1),  # slower than a chunk's target: one arch, never zero
        (0.1, 1e-3, 100, 4, 25),  # a short queue spreads over 4 workers
        (0.1, 1e-3, 3, 1, 3),  # never more than is queued
        (None, 1e-5, 1000, 1, 2),  # fixed chunks
    ],
)
def test_chunk_size_follows_the_observed_cost(chunk_seconds, seconds_per_arch, queued, workers, expected):
    config = PoolConfig(KWARGS, chunk_seconds=chunk_seconds)
    assert chunk_size(config, seconds_per_arch, queued, workers) == expected


def _tss_archs(n: int) -> list[str]:
    from zeronas.spaces import get_space

    space = get_space("tss")
    return [space.arch_at(i) for i in range(n)]


def test_a_cheap_proxy_is_scored_in_big_chunks_and_every_row_comes_back_in_order(ray_session):
    import ray
    from _running import running_pool

    # 0.5-s chunks: on a loaded machine a worker's wall time per arch, which sizes chunks, is stretched
    config = PoolConfig(KWARGS, workers=2, gpus_per_worker=0, cpus_per_worker=0.1, chunk_seconds=0.5)
    with running_pool(config) as pool:
        ray.get(pool.warm_up.remote(), timeout=120)
        a, b = _tss_archs(1200)[:600], _tss_archs(1200)[600:]
        ra, rb = ray.get([pool.score.remote(a), pool.score.remote(b, 3)], timeout=120)
        assert [r["result"]["arch"] for r in ra] == a and [r["result"]["arch"] for r in rb] == b
        stats = ray.get(pool.stats.remote())
        assert stats["scored"] == 1200 and sum(stats["per_worker"].values()) == 1200
        # fixed 2-arch chunks would take 600 actor calls; sized by cost, a few dozen at most
        assert stats["seconds_per_arch"] is not None and stats["chunks"] <= 100


def test_score_on_ray_grows_its_calls_for_a_cheap_proxy_and_returns_every_arch(ray_session, monkeypatch):
    from zeronas.pipeline import _pool, score_on_ray

    brokers = []
    start_pool = _pool.start_pool
    monkeypatch.setattr(_pool, "start_pool", lambda config: brokers.append(start_pool(config)) or brokers[-1])
    archs = _tss_archs(3000)
    scores = score_on_ray(
        archs, space="tss", proxies=["params"], workers=2, gpus_per_worker=0, call_seconds=1.0, chunk_seconds=0.5
    )
    got = []
    for s in scores:
        got.append(s.arch)
        if len(got) == len(archs) - 1:
            stats = ray_session.get(brokers[0].stats.remote())
    assert sorted(got) == sorted(archs)
    # 8-arch calls cut into 2-arch chunks would take 1,500 actor calls (a loaded machine makes chunks smaller)
    assert stats["chunks"] < 500
