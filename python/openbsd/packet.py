"""Decoded packets: a stack of protocol objects looked up by name.

Placeholder until packet decoding lands: ``interpret=1`` on a feed raises
``PcapError`` saying decoding is not available.
"""

__all__: list = []
