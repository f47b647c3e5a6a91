//! pyopenbsd's native module, `openbsd._native`; this file only registers.
//!
//! Folders by concern (see docs/architecture.md):
//! - `capture/`: the feeds, their record sources, `Dumper`, `BPFProgram`;
//! - `io/`: records and their consumers' contract, the fast savefile
//!   reader, memory mapping, stdio streams;
//! - `packet/`: decoded packets (`openbsd.packet`);
//! - `py/`: Python glue (arguments, errors, object reuse, delivery of
//!   records to Python);
//! - `table/`: capture tables (Arrow columns, the PyCapsule stream,
//!   Parquet);
//! - `ffi`: the libpcap functions the `pcap` crate does not wrap;
//! - `allocator`: the Rust side's allocator (mimalloc) and why.

mod allocator;
mod capture;
mod ffi;
mod io;
pub mod packet;
mod py;
mod table;
#[cfg(test)]
mod testing;

use capture::{batches, dead, dlt, dumper, feed, filter, live, offline, part};
use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PcapError", py.get_type::<py::error::PcapError>())?;
    m.add_class::<feed::Feed>()?;
    m.add_class::<offline::Offline>()?;
    m.add_class::<dead::Dead>()?;
    m.add_class::<live::Live>()?;
    m.add_class::<dumper::Dumper>()?;
    m.add_class::<filter::BPFProgram>()?;
    m.add_class::<batches::BatchStream>()?;
    m.add_function(wrap_pyfunction!(batches::_to_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(offline::is_pcap_file, m)?)?;
    m.add_function(wrap_pyfunction!(live::lookupdev, m)?)?;
    m.add_function(wrap_pyfunction!(live::findalldevs, m)?)?;
    m.add_function(wrap_pyfunction!(live::interfaces_raw, m)?)?;
    m.add_function(wrap_pyfunction!(part::_part_format, m)?)?;
    m.add_function(wrap_pyfunction!(part::_split_point, m)?)?;
    m.add_function(wrap_pyfunction!(part::_read_part, m)?)?;
    dlt::register(m)?;
    packet::register(m)?;
    py::recycle::prepare(py);
    Ok(())
}
