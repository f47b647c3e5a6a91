"""pyopenbsd: PyOpenBSD's ``openbsd.pcap`` and ``openbsd.packet`` for modern Python.

The capture and decoding work happens in Rust (``openbsd._native``); the
modules here re-export it under the legacy names.
"""

__version__ = "0.1.0"
__all__ = ["pcap", "packet", "utils", "table"]
