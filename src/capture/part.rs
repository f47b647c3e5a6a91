//! The native side of reading capture files in parts (`openbsd.parts`,
//! `openbsd.dask`): a file's format from its first bytes, the split point
//! at an offset, and the records of one part delivered to a Python
//! callback. The bytes come from the caller (a local file's range or an
//! fsspec object's), so any storage works; see `crate::io::split`.

use super::batches::{check_batch_size, parse_columns};
use super::source::options::{precision_arg, Precision};
use super::source::part::PartSource;
use crate::io::record::{BreakFlag, Consumer, Record};
use crate::io::split::{split_point, Bytes, Fetch, FetchError, Format, HeadError, LocalFile};
use crate::py::deliver::Delivery;
use crate::py::error::pcap_error_about;
use crate::table::columns::Builder;
use crate::table::export;
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use std::collections::VecDeque;

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
    format_of(name, head, size)?
        .map_err(|n| pcap_error_about(name, &format!("the file's header region needs its first {n} bytes")))
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
            (kind, f.header_end(), f.lookahead(), f.linktype(), f.snapshot()).into_pyobject(py)?.into_any().unbind()
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

/// Bytes in memory lent by Python: the file's bytes from `base`.
struct InMemory {
    data: Lent,
    base: u64,
}

impl Fetch for InMemory {
    fn fetch(&mut self, off: u64, buf: &mut [u8]) -> Result<(), FetchError> {
        let got = off
            .checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.data.bytes().get(i..i.checked_add(buf.len())?));
        match got {
            Some(b) => {
                buf.copy_from_slice(b);
                Ok(())
            }
            None => Err(FetchError::Io(format!(
                "bytes {off}..{} of the file were not passed to the reader",
                off + buf.len() as u64
            ))),
        }
    }
}

/// A Python callable `read(start, end) -> bytes` (an fsspec file's ranged
/// reads), called with the GIL.
struct Reader(Py<PyAny>);

impl Fetch for Reader {
    fn fetch(&mut self, off: u64, buf: &mut [u8]) -> Result<(), FetchError> {
        Python::attach(|py| {
            let got = self.0.call1(py, (off, off + buf.len() as u64))?;
            let got = Lent::get(got.bind(py), "what the part's reader returned")?;
            if got.bytes().len() != buf.len() {
                return Err(PyTypeError::new_err(format!(
                    "the part's reader returned {} bytes for {} at offset {off}",
                    got.bytes().len(),
                    buf.len()
                )));
            }
            buf.copy_from_slice(got.bytes());
            Ok(())
        })
        .map_err(FetchError::Py)
    }
}

/// Where the part's bytes come from: `source` a path (a local file, read
/// in chunks with `pread`), a bytes-like object (the file's bytes from
/// `base`), or a callable `read(start, end) -> bytes`.
fn fetch_of(name: &str, source: &Bound<'_, PyAny>, base: u64) -> PyResult<Box<dyn Fetch>> {
    if let Ok(path) = source.cast::<pyo3::types::PyString>() {
        let f = std::fs::File::open(path.to_str()?).map_err(|e| pcap_error_about(name, &e.to_string()))?;
        return Ok(Box::new(LocalFile(f)));
    }
    if source.is_callable() {
        return Ok(Box::new(Reader(source.clone().unbind())));
    }
    Ok(Box::new(InMemory { data: Lent::get(source, "source")?, base }))
}

/// Reads the records of the file `name` (`size` bytes) from the split
/// point `start` to the split point `end` that pass `filter`, with time
/// stamps in `precision` ("micro", "nano"). `source`: a local path, the
/// file's bytes from `base` (a bytes-like object), or a callable
/// `read(start, end) -> bytes`; the part holds one chunk (4 MiB) of it at
/// a time. `token` names the file's version (checkpoints of pcapng
/// sections are kept per name, size and token):
///
/// - `callback` given: calls `callback(packet, (sec, frac), length)` for
///   each, returns how many;
/// - `callback` `None`: decodes them into the table `columns` (`None`: the
///   default set for the link type), returns `(stream, rows, column
///   names)`, the stream an `arrow_array_stream` PyCapsule of batches of
///   `batch_size` rows.
#[pyfunction]
#[pyo3(signature = (name, head, source, base, start, end, size, callback=None, filter=None, columns=None, batch_size=65536, precision=None, token=""))]
#[allow(clippy::too_many_arguments)]
pub fn _read_part(
    py: Python<'_>,
    name: &str,
    head: &Bound<'_, PyAny>,
    source: &Bound<'_, PyAny>,
    base: u64,
    start: u64,
    end: u64,
    size: u64,
    callback: Option<&Bound<'_, PyAny>>,
    filter: Option<&str>,
    columns: Option<&Bound<'_, PyAny>>,
    batch_size: i64,
    precision: Option<&Bound<'_, PyAny>>,
    token: &str,
) -> PyResult<Py<PyAny>> {
    let batch_size = check_batch_size(batch_size)?;
    let nano = match precision {
        Some(p) => precision_arg(p)? == Precision::Nano,
        None => false,
    };
    let head = Lent::get(head, "head")?;
    let fmt = parsed(name, &head, size)?;
    if start < base || end < start {
        return Err(pcap_error_about(name, &format!("bad part {start}..{end} (bytes given from {base})")));
    }
    let fetch = fetch_of(name, source, base)?;
    let mut src = PartSource::new(name, fmt, fetch, (start, end, size), filter, nano, token)?;
    match callback {
        Some(cb) => {
            let brk = BreakFlag::default();
            let mut d = Delivery::new(py, cb, None, &brk, None);
            src.pump(&mut d)?;
            Ok(d.count.into_pyobject(py)?.into_any().unbind())
        }
        None => Ok(table_of(py, name, &mut src, columns, batch_size)?.into_pyobject(py)?.into_any().unbind()),
    }
}

/// The consumer of a columnar part read: rows into a builder, a batch
/// every `batch_size` rows.
struct PartSink<'b> {
    b: &'b mut Builder,
    batch_size: usize,
    out: Vec<RecordBatch>,
}

impl Consumer for PartSink<'_> {
    type Built = ();

    fn remaining(&self) -> Option<usize> {
        None
    }

    fn build(&mut self, rec: &Record<'_>) -> PyResult<()> {
        if self.b.rows() >= self.batch_size {
            let batch = self.b.finish().map_err(|e| pcap_error_about("", &e.to_string()))?;
            self.out.push(batch);
        }
        self.b.push(rec);
        Ok(())
    }

    fn take(&mut self, _: ()) -> PyResult<()> {
        Ok(())
    }

    fn skipped(&mut self) -> PyResult<()> {
        Ok(())
    }

    const RUNS: bool = true;

    fn build_run(&mut self, mut recs: &[Record<'_>]) -> PyResult<()> {
        while !recs.is_empty() {
            if self.b.rows() >= self.batch_size {
                let batch = self.b.finish().map_err(|e| pcap_error_about("", &e.to_string()))?;
                self.out.push(batch);
            }
            let n = (self.batch_size - self.b.rows()).min(recs.len());
            self.b.push_run(&recs[..n]);
            recs = &recs[n..];
        }
        Ok(())
    }

    fn take_run(&mut self, _: usize) -> PyResult<()> {
        Ok(())
    }
}

/// Batches already made, handed out in order.
struct Ready(VecDeque<RecordBatch>);

impl export::BatchSource for Ready {
    fn next_batch(&mut self) -> Option<Result<RecordBatch, ArrowError>> {
        self.0.pop_front().map(Ok)
    }
}

/// The records of `src` decoded into the table `columns`: `(stream,
/// rows, column names)`.
fn table_of<'py>(
    py: Python<'py>,
    name: &str,
    src: &mut PartSource<'_>,
    columns: Option<&Bound<'_, PyAny>>,
    batch_size: usize,
) -> PyResult<(Bound<'py, PyCapsule>, usize, Vec<String>)> {
    let cols = parse_columns(src.link.dlt, columns)?;
    let mut b = Builder::new(cols, src.link, batch_size.min(65536));
    let schema = b.schema();
    let mut sink = PartSink { b: &mut b, batch_size, out: Vec::new() };
    // Decoding needs no Python: other threads run meanwhile.
    py.detach(|| src.pump(&mut sink))?;
    let mut out = sink.out;
    if b.rows() > 0 || out.is_empty() {
        out.push(b.finish().map_err(|e| pcap_error_about(name, &e.to_string()))?);
    }
    let rows = out.iter().map(|b| b.num_rows()).sum();
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    Ok((export::stream_capsule(py, schema, Ready(out.into()))?, rows, names))
}
