"""The two byte helpers of PyOpenBSD's ``openbsd.utils`` that its ping
examples use, for bytes: a big-endian number to and from its bytes.

The rest of that module (system variables, checksums, string tests) served
PyOpenBSD's other modules and is not provided; see docs/migration.md.
"""

__all__ = ["multiord", "multichar"]


def multiord(data):
    """The unsigned big-endian number that the bytes `data` spell
    (``multiord(b"\\x01\\x00") == 256``; ``b""`` is 0)."""
    return int.from_bytes(bytes(data), "big")


def multichar(number, width):
    """`number` (a non-negative int) as `width` big-endian bytes, padded
    with zero bytes on the left; ``ValueError`` when it needs more."""
    if number < 0:
        raise ValueError("multichar: the number must not be negative")
    try:
        return int(number).to_bytes(width, "big")
    except OverflowError:
        raise ValueError("Number too wide for width.") from None
