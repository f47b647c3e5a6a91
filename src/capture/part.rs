//! The native side of reading capture files in parts (`openbsd.parts`,
//! `openbsd.dask`): a file's format from its first bytes, the split point
//! at an offset, and the records of one part delivered to a Python
//! callback. The bytes come from the caller (a local file's range or an
//! fsspec object's), so any storage works; see `crate::io::split`.

use super::source::part::PartSource;
use crate::io::record::BreakFlag;
use crate::io::split::{split_point, Bytes, Format, HeadError};
use crate::py::deliver::Delivery;
use crate::py::error::pcap_error_about;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A contiguous byte buffer lent by Python (`bytes`, `bytearray`,
/// `memoryview`, `mmap`), held for the call.
struct Lent(PyBuffer<u8>);

impl Lent {
    fn get(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        let b = PyBuffer::<u8>::get(obj)
            .map_err(|_| PyTypeError::new_err(format!("{what} must be a bytes-like object")))?;
        if !b.is_c_contiguous() {
            return Err(PyTypeError::new_err(format!("{what} must be a contiguous buffer")));
        }
        Ok(Lent(b))
    }

    fn bytes(&self) -> &[u8] {
        if self.0.len_bytes() == 0 {
            return &[];
        }
        // SAFETY: a contiguous buffer of `len_bytes` bytes, exported (so
        // not resized) while `self.0` lives.
        unsafe { std::slice::from_raw_parts(self.0.buf_ptr() as *const u8, self.0.len_bytes()) }
    }
}

/// The format of the file `name` (`size` bytes) whose first bytes are
/// `head`.
fn format_of(name: &str, head: &Lent, size: u64) -> PyResult<Result<Format, u64>> {
    match Format::parse(head.bytes(), size) {
        Ok(f) => Ok(Ok(f)),
        Err(HeadError::NeedMore(n)) => Ok(Err(n)),
        Err(HeadError::Bad(m)) => Err(pcap_error_about(name, &m)),
    }
}

fn parsed(name: &str, head: &Lent, size: u64) -> PyResult<Format> {
    format_of(name, head, size)?.map_err(|n| {
        pcap_error_about(name, &format!("the file's header region needs its first {n} bytes"))
    })
}

/// `(kind, header_end, lookahead, linktype, snapshot)` of the file `name`
/// whose first bytes are `head`, or the number of first bytes needed when
/// `head` is too short. `PcapError` when it cannot be read in parts.
#[pyfunction]
pub fn _part_format(py: Python<'_>, name: &str, head: &Bound<'_, PyAny>, size: u64) -> PyResult<Py<PyAny>> {
    let head = Lent::get(head, "head")?;
    Ok(match format_of(name, &head, size)? {
        Err(n) => n.into_pyobject(py)?.into_any().unbind(),
        Ok(f) => {
            let kind = if matches!(f, Format::Pcap { .. }) { "pcap" } else { "pcapng" };
            (kind, f.header_end(), f.lookahead(), f.linktype(), f.snapshot())
                .into_pyobject(py)?
                .into_any()
                .unbind()
        }
    })
}

/// The split point at or after `offset` of the file `name` (`size` bytes),
/// from `data` (its bytes from `base`, `lookahead` of them or up to the
/// end), or `None` when in doubt.
#[pyfunction]
pub fn _split_point(
    name: &str,
    head: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
    base: u64,
    offset: u64,
    size: u64,
) -> PyResult<Option<u64>> {
    let head = Lent::get(head, "head")?;
    let fmt = parsed(name, &head, size)?;
    let data = Lent::get(data, "data")?;
    if offset < base {
        return Err(pcap_error_about(name, &format!("offset {offset} is before the bytes given (from {base})")));
    }
    Ok(split_point(&fmt, &Bytes { base, data: data.bytes(), size }, offset))
}

/// Calls `callback(packet, (sec, usec), length)` for each record of the
/// file `name` from the split point `start` to the split point `end`
/// (`data`: its bytes from `base`, holding at least `start..end`) that
/// passes `filter`. Returns how many records were delivered.
#[pyfunction]
#[pyo3(signature = (name, head, data, base, start, end, size, callback, filter=None))]
#[allow(clippy::too_many_arguments)]
pub fn _read_part(
    py: Python<'_>,
    name: &str,
    head: &Bound<'_, PyAny>,
    data: &Bound<'_, PyAny>,
    base: u64,
    start: u64,
    end: u64,
    size: u64,
    callback: &Bound<'_, PyAny>,
    filter: Option<&str>,
) -> PyResult<usize> {
    let head = Lent::get(head, "head")?;
    let fmt = parsed(name, &head, size)?;
    let data = Lent::get(data, "data")?;
    if start < base {
        return Err(pcap_error_about(name, &format!("start {start} is before the bytes given (from {base})")));
    }
    let bytes = Bytes { base, data: data.bytes(), size };
    let mut src = PartSource::new(name, fmt, bytes, start, end, filter)?;
    let brk = BreakFlag::default();
    let mut d = Delivery::new(py, callback, None, &brk, None);
    src.pump(&mut d)?;
    Ok(d.count)
}
