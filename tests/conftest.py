"""Shared pytest fixtures.

Packet-test helpers live in tests/packet_helpers.py; this file only provides
fixtures (add new fixtures here rather than rewriting it).
"""

import pytest

from packet_helpers import CAPTURES


@pytest.fixture(scope="session")
def captures_dir():
    """../shared/captures next to the repository (present in CI)."""
    if not CAPTURES.is_dir():
        pytest.skip(f"shared captures not found at {CAPTURES} (the repo is expected "
                    "to be cloned next to shared/)")
    return CAPTURES
