//! pyopenbsd's native module, `openbsd._native`.
//!
//! `openbsd.pcap` and `openbsd.packet` re-export what is defined here; the
//! Python layer stays thin. One concept per module:
//! - `feed`: the `Feed` base class (reading, filtering, closing);
//! - `offline`, `live`: the feed classes;
//! - `dumper`, `filter`: savefile writing and BPF programs;
//! - `deliver`: the per-packet path into Python callbacks (`recycle`: the
//!   `bytes` objects it reuses);
//! - `packet`: decoded packets;
//! - `error`, `args`, `dlt`, `handle`, `ffi`, `stream`: plumbing.

mod args;
mod deliver;
mod dlt;
mod dumper;
mod error;
mod feed;
mod ffi;
mod filter;
mod handle;
mod ints;
mod live;
mod mapping;
mod offline;
pub mod packet;
mod recycle;
mod savefile;
mod stream;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PcapError", py.get_type::<error::PcapError>())?;
    m.add_class::<feed::Feed>()?;
    m.add_class::<offline::Offline>()?;
    m.add_class::<offline::Dead>()?;
    m.add_class::<live::Live>()?;
    m.add_class::<dumper::Dumper>()?;
    m.add_class::<filter::BPFProgram>()?;
    m.add_function(wrap_pyfunction!(offline::is_pcap_file, m)?)?;
    m.add_function(wrap_pyfunction!(live::lookupdev, m)?)?;
    m.add_function(wrap_pyfunction!(live::findalldevs, m)?)?;
    dlt::register(m)?;
    packet::register(m)?;
    Ok(())
}
