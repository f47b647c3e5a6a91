"""Capture files as Dask dataframes: one partition per file or per byte
range of a large file, read lazily on the workers, with column projection.

    import openbsd.dask
    df = openbsd.dask.read_pcap("s3://bucket/caps/*.pcap", filter="tcp")
    df.groupby("ip_src").wirelen.sum().nlargest(10).compute()

Needs the ``dask`` extra (``pip install pyopenbsd[dask]``: dask[dataframe],
pyarrow, fsspec); the rest of the package never imports it. Each partition
is :func:`openbsd.parts.read_part` of one part of one file (the picklable
entry point other engines call too); see docs/distributed.md for the
splitting and its guarantee, and docs/tables.md for the columns.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Sequence, Union

import dask
import dask.dataframe as dd

from openbsd import parts as _parts

__all__ = ["read_pcap"]


def _to_pandas(batches: Any) -> Any:
    import pandas as pd  # type: ignore[import-untyped]
    import pyarrow as pa  # type: ignore[import-untyped]

    # Arrow-backed columns: nullable ints stay ints, addresses stay
    # dictionary-encoded strings (docs/tables.md).
    return pa.table(batches).to_pandas(types_mapper=pd.ArrowDtype)


def _read_partition(part: _parts.Part, filter: Optional[str] = None,
                    columns: Optional[Sequence[str]] = None, precision: str = "micro") -> Any:
    """One partition: :func:`openbsd.parts.read_part` of ``part`` as a
    pandas DataFrame. Dask passes fewer ``columns`` when a query needs
    fewer (projection)."""
    cols = None if columns is None else list(columns)
    return _to_pandas(_parts.read_part(part.path, part.start, part.end, cols, filter, precision=precision))


def read_pcap(
    paths_or_glob: Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]],
    columns: Optional[Sequence[str]] = None,
    filter: Optional[str] = None,
    partition_size: Union[int, str, None] = "256MiB",
    precision: str = "micro",
) -> "dd.DataFrame":
    """A lazy Dask DataFrame of the packets of the capture files
    ``paths_or_glob`` (local paths, fsspec URLs such as ``s3://``,
    ``gs://``, ``file://``, ``memory://``, or glob patterns of them), pcap
    or pcapng.

    ``columns``: the table columns to read (docs/tables.md; ``None``: the
    default set for the first file's link type). ``filter``: a BPF filter
    applied while reading. ``partition_size``: bytes per partition (an int
    or ``"256MiB"``); ``None``: one partition per file. ``precision``:
    ``"nano"`` reads ``ts`` to the nanosecond, as
    ``Offline(path, precision="nano")`` does (else to the microsecond).

    Rows are in file order (files in the order given, globs sorted), the
    partitions together hold every packet once. Only the file sizes and the
    first file's header are read here; the workers read the rest, so the
    files must be reachable from every worker under the same path or URL.
    """
    plan = _parts.plan(paths_or_glob, partition_size)
    # An empty read of the first file's header gives the schema.
    meta = _read_partition(_parts.Part(plan[0].path, 0, 0), filter, columns, precision)
    # The partitions' strings are Arrow-backed already: no conversion step
    # after the read (on a distributed cluster, which does not fuse steps,
    # it would be a task of its own per partition).
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(  # type: ignore[no-any-return,no-untyped-call]
            _read_partition, plan, meta=meta, label="read-pcap", enforce_metadata=False,
            filter=filter, columns=list(meta.columns), precision=precision)
