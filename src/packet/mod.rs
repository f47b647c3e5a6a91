//! `openbsd.packet`: decoded packets.
//!
//! Placeholder until the packet-decoding work lands: `interpret=1` raises
//! `PcapError` saying decoding is not available.

use crate::error::pcap_error;
use pyo3::prelude::*;

/// What a feed knows about the link layer of the packets it hands out.
#[derive(Clone, Copy, Debug)]
pub struct LinkInfo {
    /// The feed's `datalink()`.
    pub dlt: i32,
    /// Whether the capture file's byte order differs from this machine's
    /// (for fields stored in the capturing host's order, like `Enc`'s).
    pub swapped: bool,
}

/// Decodes one packet handed out by a feed with `interpret` true.
pub fn decode_for_feed<'py>(
    _py: Python<'py>,
    _data: &[u8],
    _link: &LinkInfo,
) -> PyResult<Bound<'py, PyAny>> {
    Err(pcap_error(
        "packet decoding (interpret=1) is not available in this build yet",
    ))
}

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
