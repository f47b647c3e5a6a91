//! Columnar reads: a feed's source driven into a table builder
//! (`table::columns::Builder`) one batch at a time, `feed.batches()` (a
//! stream of Arrow record batches through the PyCapsule interface) and
//! `to_parquet`.
//!
//! No Python object is made per packet: the sink appends each record's
//! decoded fields to Rust buffers, which become Arrow arrays at the end of
//! a batch.

use super::feed::{Feed, Open};
use super::source::{Source, Wait};
use super::spans::{Spans, Step};
use crate::io::record::{Consumer, Record};
use crate::py::error::{pcap_error, pcap_error_about, pcap_os_error_about};
use crate::table::columns::{self, Builder, Col};
use crate::table::stage::Stage;
use crate::table::{export, parquet};
use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyString};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The largest `batch_size` accepted (16 Mi rows).
const MAX_BATCH: usize = 1 << 24;

/// How many records the filter rejects between two checks for signals.
const SIGNAL_CHECK_INTERVAL: u32 = 65536;

/// Records per run handed to a builder.
const RUN: usize = 1024;

/// The most decoding threads `threads=` asks for.
const MAX_THREADS: usize = 64;

/// Where a columnar read puts records: decoded into a builder at once
/// (one thread), or copied for decoding on several threads.
enum Target<'b> {
    Decode(&'b mut Builder),
    Copy(&'b mut Stage),
}

impl Target<'_> {
    fn truncate(&mut self, n: usize) {
        match self {
            Target::Decode(b) => b.truncate(n),
            Target::Copy(s) => s.truncate(n),
        }
    }
}

/// The consumer of a columnar read: up to `limit` records into its
/// target.
struct TableSink<'b, 'py> {
    py: Python<'py>,
    b: Target<'b>,
    /// Records the filter rejected in this read.
    skipped: u32,
    /// Rows known whole (a row past it was built for a record the source
    /// may read again).
    whole: usize,
    limit: usize,
    /// The most records per run (more for a builder on several threads).
    run_max: usize,
}

impl Consumer for TableSink<'_, '_> {
    type Built = ();

    #[inline]
    fn remaining(&self) -> Option<usize> {
        Some(self.limit.saturating_sub(self.whole))
    }

    #[inline]
    fn build(&mut self, rec: &Record<'_>) -> PyResult<()> {
        // A row built for a record that was then not read whole goes.
        self.b.truncate(self.whole);
        match &mut self.b {
            Target::Decode(b) => b.push(rec),
            Target::Copy(s) => s.push(rec),
        }
        Ok(())
    }

    #[inline]
    fn take(&mut self, _: ()) -> PyResult<()> {
        self.whole += 1;
        Ok(())
    }

    const RUNS: bool = true;

    #[inline]
    fn build_run(&mut self, recs: &[Record<'_>]) -> PyResult<()> {
        self.b.truncate(self.whole);
        match &mut self.b {
            Target::Decode(b) => b.push_run(recs),
            Target::Copy(s) => recs.iter().for_each(|r| s.push(r)),
        }
        Ok(())
    }

    fn run_max(&self) -> usize {
        self.run_max
    }

    #[inline]
    fn take_run(&mut self, n: usize) -> PyResult<()> {
        self.whole += n;
        Ok(())
    }

    #[inline]
    /// Runs signal handlers every so many rejected records, so that a read
    /// the filter rejects nearly everything of stays interruptible.
    fn skipped(&mut self) -> PyResult<()> {
        self.skipped = self.skipped.wrapping_add(1);
        if self.skipped % SIGNAL_CHECK_INTERVAL == 0 {
            self.py.check_signals()?;
        }
        Ok(())
    }
}

/// Reads into `b` up to `limit` rows from the feed's source. A file is read
/// until the batch is full or the file ends; a live interface until the
/// batch is full, the read timeout passes (counted from the call) or
/// `breakloop()`. The rows read before an error stay in `b` (no row of a
/// record not read whole); the error is returned with them.
fn fill(feed: &Feed, py: Python<'_>, open: &mut Open, b: Target<'_>, limit: usize, run_max: usize) -> PyResult<()> {
    let mut sink = TableSink { py, b, skipped: 0, whole: 0, limit, run_max };
    let res = fill_into(feed, py, open, &mut sink);
    let whole = sink.whole;
    sink.b.truncate(whole);
    res
}

/// The pumping of [`fill`].
fn fill_into(feed: &Feed, py: Python<'_>, open: &mut Open, sink: &mut TableSink<'_, '_>) -> PyResult<()> {
    if feed.brk.take() {
        return Ok(());
    }
    let src = &mut open.source;
    if !src.is_live() {
        src.pump(py, &feed.name, sink)?;
        return Ok(());
    }
    let deadline = match feed.timeout_ms {
        t if t > 0 => Some(Instant::now() + Duration::from_millis(t as u64)),
        _ => None,
    };
    let mut first = true;
    loop {
        if !first {
            match src.wait(py, &feed.brk, deadline)? {
                Wait::Ready => {}
                Wait::TimedOut | Wait::Broken => return Ok(()),
            }
        }
        first = false;
        src.pump(py, &feed.name, sink)?;
        if sink.whole >= sink.limit {
            return Ok(());
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(());
        }
    }
}

/// The columns named by `columns` (`None`: the default set for the feed's
/// link type).
pub(crate) fn parse_columns(dlt: i32, columns: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Col>> {
    let Some(columns) = columns.filter(|c| !c.is_none()) else {
        return Ok(columns::default_columns(dlt));
    };
    if columns.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("columns must be a list of column names, not a string"));
    }
    let mut out = Vec::new();
    for item in columns.try_iter()? {
        let item = item?;
        let name: String =
            item.extract().map_err(|_| PyTypeError::new_err("columns must be a list of column names (str)"))?;
        let c = Col::by_name(&name).ok_or_else(|| {
            let known = columns::all_names().collect::<Vec<_>>().join(", ");
            PyValueError::new_err(format!("unknown column {name:?}; the columns are: {known}"))
        })?;
        if out.contains(&c) {
            return Err(PyValueError::new_err(format!("column {name:?} named twice")));
        }
        out.push(c);
    }
    if out.is_empty() {
        return Err(PyValueError::new_err("columns names no column"));
    }
    Ok(out)
}

pub(crate) fn check_batch_size(n: i64) -> PyResult<usize> {
    usize::try_from(n)
        .ok()
        .filter(|&n| (1..=MAX_BATCH).contains(&n))
        .ok_or_else(|| PyValueError::new_err(format!("batch_size must be between 1 and {MAX_BATCH}, got {n}")))
}

/// A columnar read of a feed in progress: what `batches()` and
/// `to_parquet` pull batches from.
pub struct TableReader {
    /// Released in `drop`, with the GIL taken for real.
    feed: std::mem::ManuallyDrop<Py<Feed>>,
    /// One per decoding thread.
    builders: Vec<Builder>,
    /// A classic pcap regular file on several threads: its spans.
    spans: Option<Spans>,
    /// Records read but not yet decoded (with more than one thread).
    stage: Stage,
    /// Batches decoded but not yet handed out.
    ready: VecDeque<RecordBatch>,
    batch_size: usize,
    /// An error met after some rows were read: returned once those rows
    /// were handed out.
    pending: Option<PyErr>,
    done: bool,
    /// Rows handed out so far.
    pub rows: u64,
}

impl TableReader {
    pub fn new(
        feed: &Bound<'_, Feed>,
        columns: Option<&Bound<'_, PyAny>>,
        batch_size: i64,
        threads: i64,
    ) -> PyResult<Self> {
        let f = feed.get();
        if f.is_closed()? {
            return Err(pcap_error(crate::py::error::CLOSED));
        }
        let cols = parse_columns(f.link.dlt, columns)?;
        let batch_size = check_batch_size(batch_size)?;
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS),
            t => usize::try_from(t).ok().filter(|&t| t <= MAX_THREADS).ok_or_else(|| {
                PyValueError::new_err(format!("threads must be between 0 (one per core) and {MAX_THREADS}, got {t}"))
            })?,
        };
        let cap = batch_size.min(65536);
        // A classic pcap regular file: each thread walks and decodes spans
        // of the file of its own (`capture::spans`). Other sources (pipes,
        // pcapng, interfaces): records are copied out, and whole batches
        // decoded one per thread.
        let in_memory = f.with_open(|open| Ok(matches!(&open.source, Source::File(s) if s.reads_runs())))?;
        let spans = (threads > 1 && in_memory).then(|| Spans::new(cols.clone(), f.link, cap, threads));
        let n = if spans.is_some() { 1 } else { threads };
        let builders = (0..n).map(|_| Builder::new(cols.clone(), f.link, cap)).collect();
        Ok(TableReader {
            feed: std::mem::ManuallyDrop::new(feed.clone().unbind()),
            builders,
            spans,
            stage: Stage::default(),
            ready: VecDeque::new(),
            batch_size,
            pending: None,
            done: false,
            rows: 0,
        })
    }

    pub fn schema(&self) -> SchemaRef {
        self.builders[0].schema()
    }

    /// The next batch (`None` after the last), or the error that ended the
    /// read once every whole record before it was handed out.
    pub fn next(&mut self, py: Python<'_>) -> PyResult<Option<RecordBatch>> {
        if self.spans.is_some() {
            return self.next_of_spans(py);
        }
        if self.ready.is_empty() && self.pending.is_none() && !self.done {
            self.read(py)?;
        }
        if let Some(b) = self.ready.pop_front() {
            self.rows += b.num_rows() as u64;
            return Ok(Some(b));
        }
        self.done = true;
        self.pending.take().map_or(Ok(None), Err)
    }

    /// Reads and decodes the next batch (one thread) or the next batch for
    /// every thread, into `ready`; an error of the read into `pending`.
    fn read(&mut self, py: Python<'_>) -> PyResult<()> {
        // Signal handlers run between batches (Ctrl-C ends a long read).
        py.check_signals()?;
        let feed = self.feed.bind(py).get();
        let threads = self.builders.len();
        let limit = self.batch_size.saturating_mul(threads);
        let res = if threads == 1 {
            let b = &mut self.builders[0];
            feed.with_open(|open| fill(feed, py, open, Target::Decode(b), limit, RUN))
        } else {
            let st = &mut self.stage;
            feed.with_open(|open| fill(feed, py, open, Target::Copy(st), limit, RUN))
        };
        if let Err(e) = res {
            self.pending = Some(e);
        }
        let decoded = if threads == 1 {
            match self.builders[0].rows() {
                0 => vec![],
                _ => vec![self.builders[0].finish()],
            }
        } else {
            let (stage, builders, size) = (&self.stage, &mut self.builders, self.batch_size);
            let out = py.detach(|| stage.decode(builders, size));
            self.stage.clear();
            out
        };
        for b in decoded {
            self.ready.push_back(b.map_err(|e| pcap_error_about(&feed.name, &e.to_string()))?);
        }
        Ok(())
    }
}

impl TableReader {
    /// [`TableReader::next`] of a file read in spans: spans (or
    /// sequential reads) until rows are queued, then a batch of the next
    /// span's rows, the feed moved after its last record (the first
    /// record not handed out).
    fn next_of_spans(&mut self, py: Python<'_>) -> PyResult<Option<RecordBatch>> {
        let feed = self.feed.bind(py).get();
        if let (Some(sp), false) = (self.spans.as_mut(), self.done) {
            feed.with_open(|open| {
                if let Source::File(src) = &open.source {
                    sp.check(src.tell(), src.filter.as_ref());
                }
                Ok(())
            })?;
        }
        loop {
            let Some(sp) = &self.spans else { return Ok(None) };
            if sp.queued > 0 || sp.ended || self.pending.is_some() || self.done {
                break;
            }
            // Signal handlers run between reads (Ctrl-C ends a long read).
            py.check_signals()?;
            if let Err(e) = self.read_spans(py) {
                self.pending = Some(e);
            }
        }
        let feed = self.feed.bind(py).get();
        match self.spans.as_mut().and_then(|sp| sp.take(self.batch_size)) {
            Some((batch, end)) => {
                // The feed goes on from the first record not handed out.
                feed.with_open(|open| match &mut open.source {
                    Source::File(s) => s.seek(end).map_err(|e| pcap_os_error_about(&feed.name, "", &e)),
                    _ => Ok(()),
                })?;
                if let Some(sp) = self.spans.as_mut() {
                    sp.handed = Some(end);
                }
                self.rows += batch.num_rows() as u64;
                Ok(Some(batch))
            }
            None => {
                self.done = true;
                self.pending.take().map_or(Ok(None), Err)
            }
        }
    }

    /// One read of a file in spans: the next span of the thread that
    /// hands them over in order (started at the first read, from the feed's
    /// position), or, at the file's tail or after a span that did not
    /// land, the rows still missing from the next batch read on this
    /// thread by the feed's source (which gives libpcap the records the
    /// fast reader leaves to it, and the file's errors).
    fn read_spans(&mut self, py: Python<'_>) -> PyResult<()> {
        let feed = self.feed.bind(py).get();
        let batch_size = self.batch_size;
        let Some(sp) = self.spans.as_mut() else { return Ok(()) };
        let b = &mut self.builders[0];
        let about = |e: ArrowError| pcap_error_about(&feed.name, &e.to_string());
        feed.with_open(|open| {
            let Source::File(src) = &mut open.source else {
                sp.ended = true;
                return Ok(());
            };
            let Some(r) = src.fast_reader() else {
                sp.ended = true;
                return Ok(());
            };
            let fd = src.fileno();
            let filter = src.filter.as_ref();
            if let Step::Spans = py.detach(|| sp.next_span(r, fd, filter, batch_size)).map_err(about)? {
                return Ok(());
            }
            let from = sp.cursor.unwrap_or(0);
            src.seek(from).map_err(|e| pcap_os_error_about(&feed.name, "", &e))?;
            let need = batch_size;
            let res = fill(feed, py, open, Target::Decode(b), need, RUN);
            let end = match &open.source {
                Source::File(s) => s.tell().unwrap_or(from),
                _ => from,
            };
            if b.rows() < need {
                sp.ended = true;
            }
            if b.rows() > 0 {
                sp.push_sequential(b.finish().map_err(about)?, end);
            }
            res
        })
    }
}

impl Drop for TableReader {
    /// A stream's consumer may drop it with the GIL released under a
    /// call of ours (pyarrow releases it to drop a reader, and the garbage
    /// collector can run that inside any call that allocates): PyO3 would
    /// then take the GIL for held and release the feed without it. The GIL
    /// is taken here with `PyGILState_Ensure`, which knows.
    fn drop(&mut self) {
        // SAFETY: the feed is taken once, here; PyGILState_Ensure and
        // PyGILState_Release pair up on this thread.
        unsafe {
            let feed = std::mem::ManuallyDrop::take(&mut self.feed);
            let g = pyo3::ffi::PyGILState_Ensure();
            drop(feed);
            drop(self.pending.take());
            pyo3::ffi::PyGILState_Release(g);
        }
    }
}

impl export::BatchSource for TableReader {
    fn next_batch(&mut self) -> Option<Result<RecordBatch, ArrowError>> {
        Python::attach(|py| match self.next(py) {
            Ok(b) => b.map(Ok),
            Err(e) => {
                let msg = e.value(py).str().map(|s| s.to_string()).unwrap_or_else(|_| e.to_string());
                Some(Err(ArrowError::IoError(msg.clone(), std::io::Error::other(msg))))
            }
        })
    }
}

/// A stream of Arrow record batches read from a feed, made by
/// `feed.batches()`. Implements the Arrow PyCapsule stream interface
/// (`__arrow_c_stream__`, `__arrow_c_schema__`): pass it to
/// `pyarrow.table()`, `pyarrow.RecordBatchReader.from_stream()`,
/// `polars.DataFrame()` or DuckDB. The stream can be consumed once.
#[pyclass(frozen, module = "openbsd.pcap", name = "BatchStream")]
pub struct BatchStream {
    reader: Mutex<Option<TableReader>>,
    schema: SchemaRef,
    name: String,
}

impl BatchStream {
    pub fn new(
        feed: &Bound<'_, Feed>,
        columns: Option<&Bound<'_, PyAny>>,
        batch_size: i64,
        threads: i64,
    ) -> PyResult<Self> {
        let reader = TableReader::new(feed, columns, batch_size, threads)?;
        let schema = reader.schema();
        Ok(BatchStream { reader: Mutex::new(Some(reader)), schema, name: feed.get().name.clone() })
    }

    /// The reader, taken out of the stream (it can be consumed once).
    pub fn take_reader(&self) -> PyResult<TableReader> {
        let taken = self.reader.lock().map(|mut r| r.take()).unwrap_or(None);
        taken.ok_or_else(|| {
            pcap_error_about(&self.name, "this batch stream was already consumed: call batches() again for a new one")
        })
    }
}

#[pymethods]
impl BatchStream {
    /// The schema of the batches, as an `arrow_schema` PyCapsule.
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        export::schema_capsule(py, &self.schema)
    }

    /// The batches, as an `arrow_array_stream` PyCapsule. The stream is
    /// handed out once: a second call raises `PcapError`.
    /// `requested_schema` is accepted and ignored (the batches keep their
    /// own types).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let reader = self.take_reader()?;
        export::stream_capsule(py, self.schema.clone(), reader)
    }

    /// The column names, in order.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    /// Whether the stream was handed out already.
    #[getter]
    fn consumed(&self) -> bool {
        self.reader.lock().map(|r| r.is_none()).unwrap_or(true)
    }

    fn __repr__(&self) -> String {
        format!(
            "<BatchStream of {:?}: {} columns{}>",
            self.name,
            self.schema.fields().len(),
            if self.consumed() { ", consumed" } else { "" }
        )
    }
}

/// _to_parquet(feed, dest, columns, batch_size, compression, progress, threads)
///
/// Writes the feed's packets to the Parquet file `dest` (see
/// `openbsd.table.to_parquet`). `progress(rows)` is called after each
/// batch (the feed can be asked its `ftell()` there). Returns the number of rows written. A read error comes
/// after every whole record before it was written and the file closed.
// The arguments are a Python function's keyword arguments.
#[allow(clippy::too_many_arguments)]
#[pyfunction]
#[pyo3(signature = (feed, dest, columns = None, batch_size = 65536, compression = "zstd", progress = None, threads = 1))]
pub fn _to_parquet(
    py: Python<'_>,
    feed: &Bound<'_, Feed>,
    dest: std::path::PathBuf,
    columns: Option<&Bound<'_, PyAny>>,
    batch_size: i64,
    compression: &str,
    progress: Option<&Bound<'_, PyAny>>,
    threads: i64,
) -> PyResult<u64> {
    let mut reader = TableReader::new(feed, columns, batch_size, threads)?;
    let shown = dest.display().to_string();
    let io_err = |e: &parquet::Error| match e.os_error() {
        Some(os) => pcap_os_error_about(&shown, "", os),
        None => pcap_error_about(&shown, &e.to_string()),
    };
    let mut w = parquet::Writer::create(&dest, reader.schema(), compression).map_err(|e| match e {
        parquet::Error::Compression(msg) => PyValueError::new_err(msg),
        e => io_err(&e),
    })?;
    // The file is encoded and written on a thread of its own while the
    // next batch is decoded (one batch waits between them: memory stays
    // bounded); the writer shares the encoding with a thread of its own
    // (`table::parquet::Writer`). Whatever ends the writing (the read's error, a write
    // error, the progress callback's or a signal handler's exception), the
    // batches decoded so far are written and the file closed before it is
    // raised.
    let (tx, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(1);
    let writing = std::thread::spawn(move || {
        for batch in rx {
            if let Err(e) = w.write(&batch) {
                return (w, Err(e));
            }
        }
        (w, Ok(()))
    });
    let read = (|| -> PyResult<()> {
        while let Some(batch) = reader.next(py)? {
            if py.detach(|| tx.send(batch)).is_err() {
                return Ok(()); // the writer failed: its error is raised below
            }
            if let Some(p) = progress {
                p.call1((reader.rows,))?;
            }
            py.check_signals()?;
        }
        Ok(())
    })();
    drop(tx);
    let (w, wrote) = py
        .detach(|| writing.join())
        .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err(format!("{shown}: the Parquet writer failed")))?;
    let closed = py.detach(|| w.close());
    read?;
    wrote.map_err(|e| io_err(&e))?;
    closed.map_err(|e| io_err(&e))?;
    Ok(reader.rows)
}
