//! The reads of a feed: its source driven into a consumer of records.
//!
//! A file (or a dead handle) is read in one go, up to the count asked for.
//! A live interface is read in rounds: wait (GIL released) until packets
//! can be read, then hand over everything libpcap has buffered, until the
//! count, the read timeout or `breakloop()` ends the read.

use super::feed::{Feed, Open};
use super::source::{Pumped, Source, Wait};
use crate::packet::LinkInfo;
use crate::py::deliver::{Delivery, NextResult};
use pyo3::prelude::*;
use std::time::{Duration, Instant};

/// Which of the two reading calls a read is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    Dispatch,
    Loop,
}

/// When the read timeout of a live read starting now ends (`None`:
/// timeout 0, no timeout).
fn read_deadline(feed: &Feed) -> Option<Instant> {
    match feed.timeout_ms {
        t if t > 0 => Some(Instant::now() + Duration::from_millis(t as u64)),
        _ => None,
    }
}

/// `dispatch` and `loop`: hands records to `callback` and returns how many
/// were handed.
///
/// A file: both read up to `cnt` records (all if `cnt <= 0`). A live
/// interface, in rounds (packets are readable a few milliseconds after they
/// arrive):
/// - `dispatch(cnt > 0)` and `dispatch(-1)` return after the first round
///   that delivered packets, or with 0 when the read timeout passes first
///   (with timeout 0: they wait until packets come);
/// - `dispatch(0)` delivers packets until the read timeout, counted from
///   the call (with timeout 0: until an error, like `loop(0)`);
/// - `loop(cnt)` waits through read timeouts until `cnt` packets were
///   delivered (`cnt <= 0`: for ever).
///
/// A callback exception, or a signal handler's, ends the read at once.
pub fn read(
    feed: &Feed,
    py: Python<'_>,
    open: &mut Open,
    mode: ReadMode,
    cnt: i64,
    callback: &Bound<'_, PyAny>,
    interpret: Option<LinkInfo>,
) -> PyResult<usize> {
    let limit = usize::try_from(cnt).ok().filter(|&n| n > 0);
    let mut d = Delivery::new(py, callback, interpret, &feed.brk, limit);
    let src = &mut open.source;
    if !src.is_live() {
        src.pump(py, &feed.name, &mut d)?;
        return Ok(d.count);
    }
    let deadline = match mode {
        ReadMode::Dispatch => read_deadline(feed),
        ReadMode::Loop => None,
    };
    let mut first = true;
    loop {
        // Packets already buffered are read without waiting (no poll, no
        // GIL round trip); only an empty buffer makes us wait.
        if !first {
            if feed.nonblock() {
                return Ok(d.count);
            }
            match src.wait(py, &feed.brk, deadline)? {
                Wait::Ready => {}
                Wait::TimedOut | Wait::Broken => return Ok(d.count),
            }
        }
        first = false;
        src.pump(py, &feed.name, &mut d)?;
        if d.broken {
            return Ok(d.count);
        }
        let done = match mode {
            ReadMode::Dispatch if cnt == 0 => false,
            ReadMode::Dispatch => d.count > 0,
            ReadMode::Loop => limit.is_some_and(|l| d.count >= l),
        };
        if done {
            return Ok(d.count);
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(d.count);
        }
    }
}

/// `next()` (and iteration, with `forever`): the next record's
/// `(packet, (sec, usec), length)`, or `None` at the end of a file or when
/// a live read timed out (never, with `forever`) or was broken.
pub fn next(
    feed: &Feed,
    py: Python<'_>,
    open: &mut Open,
    interpret: Option<LinkInfo>,
    forever: bool,
) -> PyResult<Option<Py<PyAny>>> {
    open.next_args.set_interpret(interpret);
    let deadline = if forever { None } else { read_deadline(feed) };
    let Open { source, next_args } = open;
    loop {
        // A buffered record is returned without waiting.
        let mut r = NextResult::new(py, next_args);
        let pumped = source.pump(py, &feed.name, &mut r)?;
        if let Some(t) = r.result {
            return Ok(Some(t.unbind()));
        }
        if pumped == Pumped::End || !matches!(source, Source::Live(_)) {
            return Ok(None);
        }
        py.check_signals()?;
        if feed.nonblock() {
            return Ok(None);
        }
        match source.wait(py, &feed.brk, deadline)? {
            Wait::Ready => {}
            Wait::TimedOut | Wait::Broken => return Ok(None),
        }
    }
}

/// The next record already buffered, or `None` at once (`Live.aiter()`).
pub fn next_nowait(
    feed: &Feed,
    py: Python<'_>,
    open: &mut Open,
    interpret: Option<LinkInfo>,
) -> PyResult<Option<Py<PyAny>>> {
    open.next_args.set_interpret(interpret);
    let Open { source, next_args } = open;
    let mut r = NextResult::new(py, next_args);
    source.pump(py, &feed.name, &mut r)?;
    Ok(r.result.map(Bound::unbind))
}
