"""Search spaces: one conformance test over every registered space, then TSS/SSS specifics."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeronas.errors import UnknownNameError
from zeronas.spaces import SearchSpace, _tss_cell, get_space, list_spaces
from zeronas.testing import check_space

TSS_ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def codes(space: SearchSpace) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*(st.integers(0, len(options) - 1) for _, options in space.choices))


# -- registry ---------------------------------------------------------------------------
def test_registry_lists_both_spaces_and_caches_instances():
    assert {"tss", "sss"} <= set(list_spaces())
    assert get_space("tss") is get_space("TSS") is get_space("topology")
    assert get_space("sss") is get_space("size")


def test_unknown_space_lists_known_names():
    with pytest.raises(UnknownNameError, match="tss") as info:
        get_space("nasbench101")
    assert "nasbench101" in str(info.value) and "darts" in str(info.value)


# -- conformance over every registered space --------------------------------------------
@pytest.mark.parametrize("check", [c for name in list_spaces() for c in check_space(name)], ids=str)
def test_space(check):
    """zeronas.testing's named checks over every registered space (``-k "tss and mutate"``)."""
    check()


@pytest.mark.parametrize("name", list_spaces())
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_parse_format_roundtrip_property(name: str, data):
    space = get_space(name)
    code = data.draw(codes(space))
    arch = space.format(code)
    assert space.parse(arch) == code
    assert space.arch_at(space.index_of(arch)) == arch
    seed = data.draw(st.integers(0, 2**32 - 1))
    child = space.mutate(arch, np.random.default_rng(seed))
    assert child != arch and child in space.neighbours(arch)
    assert sum(a != b for a, b in zip(space.parse(child), code)) == 1


# -- TSS ----------------------------------------------------------------------------------
def test_tss_enumeration_is_15625_distinct_archs():
    tss = get_space("tss")
    archs = list(tss.enumerate())
    assert len(archs) == len(set(archs)) == 15625
    assert archs[0] == "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    assert archs[15624] == "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|"
    assert tss.index_of(TSS_ALL_CONV) == 1462
    assert [name for name, _ in tss.choices] == ["edge_1_0", "edge_2_0", "edge_2_1", "edge_3_0", "edge_3_1", "edge_3_2"]
    assert tss.choices[0][1] == ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def test_tss_order_matches_shared_csv_row_by_row(tss_csv):
    tss = get_space("tss")
    with open(tss_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == tss.size
    for row, arch in zip(rows, tss.enumerate()):
        assert row["arch"] == arch, f"row {row['index']}"
        assert int(row["index"]) == tss.index_of(arch)


def test_tss_order_table_regenerates_from_archs():
    tss = get_space("tss")
    table = _tss_cell.order_from_archs(tss.enumerate())
    stored, _ = _tss_cell.index_tables()
    assert table.dtype == np.uint16 and np.array_equal(table, stored)
    with pytest.raises(ValueError, match="15625 distinct"):
        _tss_cell.order_from_archs([TSS_ALL_CONV] * 3)


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|conv~1|+|none~0|none~1|none~2|", r"unknown op 'conv' on edge 2←1"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|", "3 node groups"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|none~0|none~1|none~2|", "node 2 .* needs 2 input edge"),
        ("|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|", "edge 1←0 .* source '1'"),
        ("|nor_conv_3x3|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|", "edge 1←0 .* 'op~0'"),
        ("nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|", "node 1 .* '\\|'"),
    ],
)
def test_tss_bad_strings_name_the_bad_part(arch: str, message: str):
    with pytest.raises(ValueError, match=message):
        get_space("tss").parse(arch)


def test_tss_has_6466_nats_bench_unique_cells():
    tss = get_space("tss")
    assert tss.num_unique() == 6466
    canon = {tss.canonical(a) for a in tss.enumerate()}
    assert len(canon) == 6466
    assert len({tss.unique_key(a) for a in tss.enumerate()}) == 6466


def test_tss_canonical_is_the_smallest_index_of_its_class():
    tss = get_space("tss")
    by_key: dict[str, int] = {}
    for index, arch in enumerate(tss.enumerate()):
        by_key.setdefault(tss.unique_key(arch), index)
    for index in np.random.default_rng(3).integers(tss.size, size=300):
        arch = tss.arch_at(int(index))
        assert tss.index_of(tss.canonical(arch)) == by_key[tss.unique_key(arch)]


def test_tss_unique_key_follows_nats_bench_rules():
    tss = get_space("tss")
    # skip passes its source through, none is a zero term, sums are sorted
    assert (
        tss.unique_key("|skip_connect~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")
        == "#+#+#+(0)@nor_conv_1x1"
    )
    assert tss.unique_key(TSS_ALL_CONV) == (
        "(((0)@nor_conv_3x3)@nor_conv_3x3+(0)@nor_conv_3x3)@nor_conv_3x3+((0)@nor_conv_3x3)@nor_conv_3x3+(0)@nor_conv_3x3"
    )


OPS = list(range(5))
NONE, SKIP, CONV1, CONV3, POOL = OPS


@settings(max_examples=150, deadline=None)
@given(code=st.tuples(*[st.sampled_from(OPS)] * 6), other=st.tuples(*[st.sampled_from(OPS)] * 3))
def test_tss_canonical_invariant_under_dead_edge_rewrites(code, other):
    tss = get_space("tss")
    e10, e20, e21, e30, e31, e32 = code
    base = tss.format((e10, e20, e21, e30, e31, NONE))
    # node 2 no longer feeds the output: its input edges are dead
    dead_into_2 = tss.format((e10, other[0], other[1], e30, e31, NONE))
    assert tss.canonical(base) == tss.canonical(dead_into_2)
    # node 1 is zero: whatever leaves it is dead
    zero_1 = tss.format((NONE, e20, e21, e30, e31, e32))
    zero_1_rewired = tss.format((NONE, e20, other[0], e30, other[1], e32))
    assert tss.canonical(zero_1) == tss.canonical(zero_1_rewired)
    # node 1 feeds nothing: its input edge is dead
    unused_1 = tss.format((e10, e20, NONE, e30, NONE, e32))
    unused_1_rewired = tss.format((other[2], e20, NONE, e30, NONE, e32))
    assert tss.canonical(unused_1) == tss.canonical(unused_1_rewired)


@settings(max_examples=100, deadline=None)
@given(op=st.sampled_from([CONV1, CONV3, POOL]), e30=st.sampled_from(OPS), e32=st.sampled_from(OPS))
def test_tss_canonical_invariant_when_an_op_slides_along_a_skip_chain(op, e30, e32):
    # 0 -skip-> 1 -op-> 2 computes the same node-2 expression as 0 -op-> 1 -skip-> 2
    tss = get_space("tss")
    a = tss.format((SKIP, NONE, op, e30, NONE, e32))
    b = tss.format((op, NONE, SKIP, e30, NONE, e32))
    assert tss.canonical(a) == tss.canonical(b)
    assert tss.is_degenerate(a) == tss.is_degenerate(b)


def test_tss_degenerate_cells():
    tss = get_space("tss")
    degenerate = [a for a in tss.enumerate() if tss.is_degenerate(a)]
    assert len(degenerate) == 341  # 5^6 minus cells with a non-none input->output path
    assert tss.is_degenerate("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    assert tss.is_degenerate("|none~0|+|none~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|avg_pool_3x3~2|")
    assert not tss.is_degenerate("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert not tss.is_degenerate("|nor_conv_1x1~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|")
    # isomorphism classes never mix degenerate and working cells
    assert all(tss.is_degenerate(tss.canonical(a)) for a in degenerate)
    assert len({tss.canonical(a) for a in degenerate}) == 5


# -- SSS ----------------------------------------------------------------------------------
def test_sss_index_order_is_itertools_product():
    sss = get_space("sss")
    archs = list(sss.enumerate())
    expected = [":".join(map(str, c)) for c in itertools.product(range(8, 65, 8), repeat=5)]
    assert archs == expected and len(archs) == 32768
    assert sss.index_of("8:8:8:8:16") == 1 and sss.index_of("16:8:8:8:8") == 4096
    assert [name for name, _ in sss.choices] == [f"layer_{i}" for i in range(5)]


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        ("8:16:24:32", "needs 5 channel counts"),
        ("8:16:24:32:41", "layer 4 .* 41 channels"),
        ("8:16:x:32:40", "layer 2 .* 'x', not an integer"),
        ("8:16:24:32:40:48", "found 6"),
    ],
)
def test_sss_bad_strings_name_the_bad_part(arch: str, message: str):
    with pytest.raises(ValueError, match=message):
        get_space("sss").parse(arch)


def test_sss_has_no_isomorphisms():
    sss = get_space("sss")
    assert sss.canonical(" 8:16:24:32:40 ") == "8:16:24:32:40"
    assert not sss.is_degenerate("8:8:8:8:8")


# -- CLI ------------------------------------------------------------------------------------
def test_cli_lists_spaces(capsys):
    from zeronas.cli import main

    assert main(["spaces"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(list_spaces())
    tss_line = next(line for line in lines if line.startswith("tss"))
    assert "15,625 archs" in tss_line and "6,466 unique cells" in tss_line
    assert "32,768 archs" in next(line for line in lines if line.startswith("sss"))


def test_cli_shows_one_arch(capsys):
    from zeronas.cli import main

    assert main(["spaces", "tss", "--show", "1462"]) == 0
    out = capsys.readouterr().out
    assert "index      1462" in out and TSS_ALL_CONV in out
    assert "1,531,546" in out and "220.11969 M" in out and "222.85991 M with BN, ReLU, pooling" in out
    variant = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|"
    assert main(["spaces", "tss", "--show", variant, "--dataset", "imagenet16"]) == 0
    out = capsys.readouterr().out
    assert f"canonical  {get_space('tss').canonical(variant)}" in out and "120 classes" in out
    assert main(["spaces", "sss", "--show", "8:16:24:32:40"]) == 0
    assert "index      " + str(get_space("sss").index_of("8:16:24:32:40")) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["spaces", "tss", "--show", "|conv~0|"], "bad tss arch"),
        (["spaces", "tss", "--show", "99999"], "outside 0..15624"),
        (["spaces", "--show", "3"], "--show needs a space"),
        (["spaces", "nasbench101"], "unknown search space 'nasbench101'"),
        (["spaces", "tss", "--show", "0", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    ],
)
def test_cli_bad_input_is_one_line(capsys, argv, message):
    from zeronas.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
