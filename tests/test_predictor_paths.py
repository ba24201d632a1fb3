"""The TSS path encoding as a predictor feature."""

from __future__ import annotations

import numpy as np
import pytest

from zeronas.errors import ZeronasError
from zeronas.predictors import PATHS, AccuracyPredictor, ProxyProtocol
from zeronas.spaces import get_space


def test_path_encoding_counts_the_paths_that_carry_an_op_sequence():
    tss = get_space("tss")
    # node 1 = conv3x3(0); node 2 = none(0) + skip(1); node 3 = avgpool(0) + none(1) + conv1x1(2)
    arch = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|"
    names = tss.path_names()
    counts = dict(zip(names, tss.path_encoding(arch)))
    assert len(names) == 4 + 16 + 64 and sum(counts.values()) == 2
    assert counts["path=avg_pool_3x3"] == 1 and counts["path=nor_conv_3x3>skip_connect>nor_conv_1x1"] == 1
    assert sum(tss.path_encoding("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")) == 0
    all_skip = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
    assert tss.path_encoding(all_skip).sum() == 4  # every path is open


def test_a_predictor_learns_a_path_property_from_the_path_encoding_alone():
    tss = get_space("tss")
    rng = np.random.default_rng(0)
    archs = list(dict.fromkeys(tss.sample(rng) for _ in range(400)))
    conv_paths = np.array(
        [tss.path_encoding(a)[[i for i, n in enumerate(tss.path_names()) if "conv" in n]].sum() for a in archs]
    )
    model = AccuracyPredictor([PATHS], ProxyProtocol("tss", "cifar10", "noise", 64), seed=0)
    model.fit([{}] * 300, conv_paths[:300], archs[:300])
    assert model.proxies == []
    predicted = model.predict([{}] * (len(archs) - 300), archs[300:])
    assert np.corrcoef(predicted, conv_paths[300:])[0, 1] > 0.75


def test_paths_on_a_space_without_them_is_a_one_line_error():
    model = AccuracyPredictor([PATHS], ProxyProtocol("sss", "cifar10", "noise", 64), seed=0)
    with pytest.raises(ZeronasError, match="no path encoding"):
        model.fit([{}] * 3, [1.0, 2.0, 3.0], [get_space("sss").sample(np.random.default_rng(i)) for i in range(3)])
