"""Shared fixtures. Helpers and oracles live beside this file:
pcaptools.py (capture tests) and packet_helpers.py (packet tests).
"""

import os
import subprocess

import pytest

import pcaptools
from pcaptools import OPENBSD, SAMPLE
from packet_helpers import CAPTURES


@pytest.fixture(scope="session")
def sample():
    """The capture bundled with the package."""
    assert SAMPLE.is_file(), SAMPLE
    return SAMPLE


@pytest.fixture(scope="session")
def captures():
    """../shared/captures/openbsd, next to the repository."""
    if not OPENBSD.is_dir():
        pytest.skip(f"{OPENBSD} is absent")
    return OPENBSD


@pytest.fixture(scope="session")
def mixed(tmp_path_factory):
    """A generated capture: 5000 mixed Ethernet packets, snap length 256 (so
    every packet longer than that has caplen < len). Returns (path, records
    as written)."""
    pytest.importorskip("scapy")
    recs, snaplen = pcaptools.generate_mixed()
    path = pcaptools.write_pcap(tmp_path_factory.mktemp("mixed") / "mixed.pcap", recs, snaplen=snaplen)
    return path, recs


@pytest.fixture(scope="session")
def tshark_table(mixed):
    """tshark's view of every capture the oracle tests read (one tshark run)."""
    paths = [SAMPLE, mixed[0]] + pcaptools.openbsd_files()
    return pcaptools.tshark_frames(paths)


@pytest.fixture(scope="session")
def big_file(tmp_path_factory):
    """A capture of 2,000,000 tiny records (about 40 MB) for signal tests."""
    rec = ((b"\x00" * 4), (1_300_000_000, 1), 60)
    data = pcaptools.pcap_bytes([rec])
    hdr, body = data[:24], data[24:]
    path = tmp_path_factory.mktemp("big") / "big.pcap"
    path.write_bytes(hdr + body * 2_000_000)
    return path


@pytest.fixture(scope="session")
def captures_dir():
    """../shared/captures next to the repository (present in CI)."""
    if not CAPTURES.is_dir():
        pytest.skip(f"shared captures not found at {CAPTURES} (the repo is expected "
                    "to be cloned next to shared/)")
    return CAPTURES


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where = tmp_path / "small"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=True)
