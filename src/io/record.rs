//! A packet record as every source hands it out, and the consumer side of
//! a read (`Consumer`).
//!
//! Sources (`crate::capture::source`) read records and push them into a
//! `Consumer`; consumers implement it: delivery to Python callbacks
//! (`crate::py::deliver`) is one, a columnar reader would be another. A
//! record is handed over in two steps, because a memory-mapped file can be
//! cut short under the reader: the sink first *builds* what it keeps from
//! the record (copies its bytes out), the source then checks that the
//! record was read whole, and only then does the sink *take* what it built.
//! What was built for a record that was not read whole is dropped, and the
//! record is read again.

use pyo3::PyResult;

/// One packet record, borrowed from the source's buffer.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Microseconds within the second.
    pub usec: i64,
    /// The packet's length on the wire.
    pub len: u32,
    /// The bytes captured (at most the snap length).
    pub data: &'a [u8],
}

/// The seconds of a savefile record as the pcap format defines them, an
/// unsigned 32-bit number: libpcap 1.10 sign-extends them (a time past
/// 2038 comes out negative), the fast reader does not; a file source hands
/// out these.
pub fn file_seconds(sec: i64) -> i64 {
    if (-(1i64 << 31)..0).contains(&sec) {
        sec + (1i64 << 32)
    } else {
        sec
    }
}

/// What a source's `pump` ended with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pumped {
    /// The sink took what it wanted, or the source has nothing more now
    /// (a live interface: wait for more).
    More,
    /// The end of the records (end of a file).
    End,
}

/// The consumer of a read.
pub trait Consumer {
    /// What the sink keeps of one record until it is known to be whole.
    type Built;

    /// How many more records the sink takes in this read (`None`: no limit,
    /// `Some(0)`: stop now).
    fn remaining(&self) -> Option<usize>;

    /// Copies what the sink needs out of `rec` (whose bytes are only
    /// borrowed).
    fn build(&mut self, rec: &Record<'_>) -> PyResult<Self::Built>;

    /// Consumes a record that was read whole.
    fn take(&mut self, built: Self::Built) -> PyResult<()>;

    /// Counts a record that was read but not handed over (the filter
    /// rejected it): lets the sink run signal handlers on long files.
    fn skipped(&mut self) -> PyResult<()>;

    /// Whether the sink takes records in runs (`build_run`, `take_run`),
    /// as a columnar builder does: a source reading from memory then hands
    /// it many records per call. Consumers that make a Python object per
    /// record keep the default (`false`) and are never given runs.
    const RUNS: bool = false;

    /// Builds what the sink keeps of each record of `recs`, in order; the
    /// records are then taken together (`take_run`) once known whole, or
    /// not at all, and read again. Called only when `RUNS` is true.
    fn build_run(&mut self, recs: &[Record<'_>]) -> PyResult<()> {
        let _ = recs;
        Ok(())
    }

    /// The most records the sink wants in one run.
    fn run_max(&self) -> usize {
        1024
    }

    /// Consumes the `n` records of the last `build_run`, all read whole.
    fn take_run(&mut self, n: usize) -> PyResult<()> {
        let _ = n;
        Ok(())
    }
}

/// A `breakloop()` request: set from any thread, taken (and cleared) by
/// the read it stops.
#[derive(Default)]
pub struct BreakFlag(std::sync::atomic::AtomicBool);

impl BreakFlag {
    /// Asks the running (or next) read to stop.
    pub fn request(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Whether a stop was asked for since the last read it stopped; clears
    /// the request. Costs a plain load when it is not set (once per packet).
    #[inline]
    pub fn take(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::AcqRel)
    }
}
