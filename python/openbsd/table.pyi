"""Type stubs for openbsd.table."""

import os
from typing import Callable, Optional, Sequence, Tuple, Union

from openbsd.pcap import BatchStream as BatchStream, Feed

_Path = Union[str, "os.PathLike[str]"]

COLUMNS: Tuple[str, ...]

def to_parquet(
    source: Union[_Path, Feed],
    dest: _Path,
    columns: Optional[Sequence[str]] = ...,
    filter: Optional[str] = ...,
    compression: str = ...,
    batch_size: int = ...,
    progress: Optional[Callable[[int], object]] = ...,
    threads: int = ...,
) -> int: ...
def main(argv: Optional[Sequence[str]] = ...) -> int: ...
