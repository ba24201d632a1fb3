"""Regenerate ``tss_order.npy``: NATS-Bench's TSS index order as uint16 base-5 op codes.

Usage: python zeronas/spaces/data/make_tss_order.py SOURCE

SOURCE is a CSV or Parquet table with an ``arch`` column in NATS-Bench index order (the shared
``nats_tss/cifar10.csv``, or a ``zeronas benchmark export`` of the official benchmark).
Code digits follow edge order 1←0, 2←0, 2←1, 3←0, 3←1, 3←2, most significant first, with op
order none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zeronas.spaces._tss_cell import order_file_path, order_from_archs


def main(source: str) -> int:
    reader = pq.read_table if source.endswith(".parquet") else pacsv.read_csv
    table = reader(source)
    if "index" in table.column_names:
        table = table.sort_by("index")
    order = order_from_archs(table.column("arch").to_pylist())
    np.save(order_file_path(), order)
    print(f"wrote {len(order)} codes to {order_file_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
