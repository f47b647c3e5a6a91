//! A classic pcap regular file read into tables on several threads
//! (`feed.batches(threads=N)`): each thread walks a span of the file of
//! its own, maps (or reads) its own windows, and decodes its records into
//! a builder of its own; the spans' rows come out in file order, each
//! span's cut into batches of `batch_size` rows (its last batch may be
//! shorter: a batch is a slice of one span's columns, never a copy).
//!
//! A *round* reads the bytes from the reader's cursor on, cut in one span
//! per thread at even byte offsets. Thread `i` (past the first) moves from
//! its offset to the first likely record boundary (a chain of plausible
//! record headers, judged as `io::split` judges them:
//! `FastReader::find_boundary`), in the window it maps for its walk, and
//! every thread walks the chain of records from its start to the next
//! thread's. The first thread starts at the cursor, a record boundary; a
//! span is taken only when the span before it *landed* exactly on its
//! start, so the rows taken are those of the sequential read whatever the
//! heuristic found. A span that did not land (no likely boundary, a false
//! one, a record the fast reader leaves to libpcap, a damaged or truncated
//! file, a file cut short under the walk) keeps the whole records it
//! walked before that point, the spans after it are dropped, and the next
//! read from there is a sequential one (libpcap reads what the fast reader
//! will not, and reports errors with its own words, as with one thread).

use super::source::bpf::ActiveFilter;
use crate::io::savefile::FastReader;
use crate::io::split::{Bytes, Format, Step as SplitStep};
use crate::table::columns::Builder;
use crate::packet::LinkInfo;
use crate::table::columns::Col;
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Records per run of a span's walk (located, then filled column by
/// column, as on one thread).
const RUN: usize = 1024;
/// The fewest bytes of a span: when fewer are left per thread, the read
/// goes on on one thread.
pub const MIN_SPAN: u64 = 64 << 10;
/// The most bytes of a span.
const MAX_SPAN: u64 = 32 << 20;
/// Bytes per record assumed before any was read.
const FIRST_GUESS: u64 = 512;
/// No start found.
const NONE: u64 = u64::MAX;

/// Rows decoded but not yet handed out: a batch, the file offset after
/// each row's record, and how many rows were handed out already.
struct Chunk {
    batch: RecordBatch,
    ends: Vec<u64>,
    at: usize,
}

/// Where a span's walk ends.
#[derive(Clone, Copy)]
enum Until {
    /// Exactly at the next span's start.
    At(u64),
    /// At the first record that starts here or later: the end of the
    /// round (the last span).
    Past(u64),
    /// As `Past`, but the next span found no start: the walk never
    /// counts as landed.
    Blind(u64),
}

impl Until {
    fn offset(self) -> u64 {
        match self {
            Until::At(o) | Until::Past(o) | Until::Blind(o) => o,
        }
    }
}

/// What a span's walk did.
struct Walked {
    /// Where it stopped: after the last record it decoded.
    stop: u64,
    /// Whether it stopped where the next span starts.
    landed: bool,
    /// Records walked (the filter's rejects included).
    records: u64,
    /// The file offset after each row's record.
    ends: Vec<u64>,
}

/// Walks the records from `r`'s offset to `until`, decoding those the
/// filter accepts into `b`.
fn walk(r: &mut FastReader, until: Until, b: &mut Builder, filter: Option<&ActiveFilter>) -> Walked {
    let to = until.offset();
    r.set_stop(to);
    let mut ends = Vec::new();
    let mut records = 0u64;
    let mut stalled = false;
    loop {
        let pos = r.offset();
        if pos >= to {
            let landed = match until {
                Until::At(o) => pos == o,
                Until::Past(_) => true,
                Until::Blind(_) => false,
            };
            return Walked { stop: pos, landed, records, ends };
        }
        let (rows, kept) = (b.rows(), ends.len());
        let n = {
            let run = r.run(RUN);
            let mut recs = Vec::with_capacity(run.recs.len());
            for h in run.recs {
                let rec = run.record(h);
                if filter.is_none_or(|f| f.matches(rec.data, rec.len)) {
                    recs.push(rec);
                    ends.push(run.end(h));
                }
            }
            if !recs.is_empty() {
                b.push_run(&recs);
            }
            run.recs.len()
        };
        if n == 0 {
            // The next record is not whole in the bytes at hand: more
            // bytes, once; then it is one for libpcap (or the end).
            if stalled || !r.more() {
                return Walked { stop: pos, landed: false, records, ends };
            }
            stalled = true;
            continue;
        }
        stalled = false;
        if !r.run_intact() {
            // The file was cut short under the walk: the run goes.
            b.truncate(rows);
            ends.truncate(kept);
            return Walked { stop: r.offset(), landed: false, records, ends };
        }
        records += n as u64;
    }
}

/// The spans' starts (likely record boundaries), each published by the
/// thread that finds it and awaited by the thread of the span before.
struct Splits {
    /// `None` until published; `NONE` when in doubt.
    at: Mutex<Vec<Option<u64>>>,
    published: Condvar,
}

impl Splits {
    fn new(n: usize) -> Splits {
        Splits { at: Mutex::new(vec![None; n]), published: Condvar::new() }
    }

    /// Publishes span `i`'s start; the first value published stays.
    fn publish(&self, i: usize, v: u64) {
        let mut at = self.at.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot @ None) = at.get_mut(i) {
            *slot = Some(v);
        }
        self.published.notify_all();
    }

    /// Span `i`'s start, once published.
    fn wait(&self, i: usize) -> u64 {
        let mut at = self.at.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match at.get(i) {
                Some(Some(v)) => return *v,
                None => return NONE,
                Some(None) => at = self.published.wait(at).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

/// Publishes `NONE` for span `.1` when dropped before its start was
/// published: a span thread that panics (unwinding) leaves no thread
/// waiting for its start.
struct Unpublished<'a>(&'a Splits, usize);

impl Drop for Unpublished<'_> {
    fn drop(&mut self) {
        self.0.publish(self.1, NONE);
    }
}

/// What one span gave.
struct Span {
    walked: Walked,
    batch: Option<Result<RecordBatch, ArrowError>>,
}

/// Records and bytes walked so far, for the size of spans.
#[derive(Default)]
struct Estimate {
    records: u64,
    bytes: u64,
}

impl Estimate {
    /// The bytes of a span: about two batches of records.
    fn span_bytes(&self, batch_size: usize) -> u64 {
        let per = if self.records > 0 { self.bytes.div_ceil(self.records) } else { FIRST_GUESS };
        (batch_size as u64).saturating_mul(2 * per).clamp(MIN_SPAN, MAX_SPAN)
    }
}

/// What a round read: the rows of the spans that landed, in order, and
/// where the read goes on.
struct Round {
    chunks: Vec<Chunk>,
    next: u64,
    /// Every span landed (else the read goes on from `next` on one
    /// thread).
    landed: bool,
    /// The driver reads on (else it has stopped: a span did not land, or
    /// the file's tail is too short for spans).
    more: bool,
}

/// What the spans of one round share: the file, the filter, where each
/// span's offset is, and the starts found.
struct Ctx {
    reader: FastReader,
    filter: Option<ActiveFilter>,
    starts: Vec<u64>,
    splits: Splits,
    end: u64,
}

/// Plausible record headers in a row that make a likely record boundary.
const CHAIN: usize = 8;

/// The file's layout as `io::split` reads it.
fn format_of(r: &FastReader) -> Format {
    let (swapped, nsec, linktype, snapshot) = r.layout();
    Format::Pcap { swapped, nsec, linktype, snapshot }
}

/// Whether a chain of `CHAIN` plausible record headers (as `io::split`
/// judges a header), or one that ends at the end of the file, starts at
/// `off` of the file's bytes `data` (from `base`; the file is `size`
/// bytes long): `None` when it runs past `data`.
fn boundary(fmt: &Format, data: &[u8], base: u64, size: u64, off: u64) -> Option<bool> {
    let bytes = Bytes { base, data, size };
    let mut at = off;
    for _ in 0..CHAIN {
        match fmt.step(&bytes, at) {
            SplitStep::Next(n) => at = n,
            SplitStep::End => return Some(at == size),
            SplitStep::Bad => return Some(false),
            SplitStep::Unknown => return None,
        }
    }
    Some(true)
}

/// Reads span `i` of a round into `b`.
fn read_span(ctx: &Ctx, i: usize, b: &mut Builder) -> Span {
    let (starts, splits, end, filter) = (&ctx.starts, &ctx.splits, ctx.end, ctx.filter.as_ref());
    let _guard = Unpublished(splits, i);
    let start = starts[i];
    let mut r = ctx.reader.twin(start);
    let limit = starts.get(i + 1).copied().unwrap_or(end);
    let fmt = format_of(&ctx.reader);
    let s = (i == 0 || r.find_boundary(limit, |data, base, size, off| boundary(&fmt, data, base, size, off)))
        .then(|| r.offset());
    splits.publish(i, s.unwrap_or(NONE));
    if s.is_none() {
        return Span { walked: Walked { stop: start, landed: false, records: 0, ends: vec![] }, batch: None };
    }
    // Up to the next span's offset first (its start is being found
    // meanwhile), then on to that start.
    let walked = match starts.get(i + 1).copied() {
        None => walk(&mut r, Until::Past(end), b, filter),
        Some(next) => {
            let first = walk(&mut r, Until::Blind(next), b, filter);
            match splits.wait(i + 1) {
                _ if first.stop < next => first, // stopped short
                NONE => first,
                s if first.stop >= s => Walked { landed: first.stop == s, ..first },
                s => {
                    let rest = walk(&mut r, Until::At(s), b, filter);
                    let mut ends = first.ends;
                    ends.extend(rest.ends);
                    Walked { stop: rest.stop, landed: rest.landed, records: first.records + rest.records, ends }
                }
            }
        }
    };
    let batch = (b.rows() > 0).then(|| b.finish());
    Span { walked, batch }
}

/// The threads that read the spans past the first, each with a builder
/// of its own, as long as the stream reads: a round's context in, its
/// span out.
struct Pool {
    /// The builder of the first span, read on the pool's owner's thread.
    first: Builder,
    workers: Vec<(SyncSender<Arc<Ctx>>, Receiver<Span>)>,
    handles: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(first: Builder, builders: Vec<Builder>) -> Pool {
        let mut pool = Pool { first, workers: Vec::new(), handles: Vec::new() };
        for (i, mut b) in builders.into_iter().enumerate() {
            let (job_tx, job_rx) = sync_channel::<Arc<Ctx>>(1);
            let (out_tx, out_rx) = sync_channel::<Span>(1);
            let spawned = std::thread::Builder::new().name("pyopenbsd-span".into()).spawn(move || {
                for ctx in job_rx {
                    if out_tx.send(read_span(&ctx, i + 1, &mut b)).is_err() {
                        return;
                    }
                }
            });
            // Fewer threads than spans: the spans past the last thread
            // find no start (the read goes on from there on one thread).
            let Ok(h) = spawned else { break };
            pool.workers.push((job_tx, out_rx));
            pool.handles.push(h);
        }
        pool
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.workers.clear();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Reads one round from `from`: the bytes up to `size` (at most `span`
/// per span), one span per thread: the first on this one, the others on
/// the pool's.
fn round(
    reader: &FastReader,
    filter: Option<&ActiveFilter>,
    pool: &mut Pool,
    from: u64,
    span: u64,
    size: u64,
    est: &mut Estimate,
) -> Result<Round, ArrowError> {
    let n = pool.workers.len() as u64 + 1;
    let end = size.min(from.saturating_add(span.saturating_mul(n)));
    let starts: Vec<u64> = (0..n).map(|i| from + (end - from) * i / n).collect();
    let ctx = Arc::new(Ctx { reader: reader.twin(from), filter: filter.cloned(), starts, splits: Splits::new(n as usize), end });
    let mut sent = 0;
    for (job, _) in &pool.workers {
        if job.send(ctx.clone()).is_err() {
            // A thread that is gone: the span before its waits for no start.
            ctx.splits.publish(sent + 1, NONE);
            break;
        }
        sent += 1;
    }
    let mut spans = vec![read_span(&ctx, 0, &mut pool.first)];
    for (_, out) in pool.workers.iter().take(sent) {
        match out.recv() {
            Ok(sp) => spans.push(sp),
            Err(_) => break,
        }
    }
    if spans.len() < n as usize {
        // A span not read: the read goes on from the last one read on
        // one thread.
        if let Some(last) = spans.last_mut() {
            last.walked.landed = false;
        }
    }
    let mut out = Round { chunks: Vec::new(), next: from, landed: true, more: true };
    for sp in spans {
        if !out.landed {
            break;
        }
        if let Some(batch) = sp.batch {
            let batch = batch?;
            out.chunks.push(Chunk { batch, ends: sp.walked.ends, at: 0 });
        }
        est.records += sp.walked.records;
        est.bytes += sp.walked.stop.saturating_sub(out.next);
        out.next = sp.walked.stop;
        out.landed = sp.walked.landed;
    }
    // The read goes on from the first span that did not land on one
    // thread (and then in spans again).
    out.more = out.landed && out.next > from;
    Ok(out)
}

/// The thread that reads rounds ahead of the consumer: it owns a
/// duplicate of the file's descriptor (the feed may be closed while it
/// reads) and a builder per thread, and hands each round over through a
/// channel that holds one (the memory stays bounded: a round being read,
/// one waiting, one being handed out).
struct Driver {
    rx: Option<Receiver<Result<Round, ArrowError>>>,
    handle: Option<JoinHandle<()>>,
}

impl Driver {
    fn start(
        reader: &FastReader,
        fd: OwnedFd,
        filter: Option<ActiveFilter>,
        mut builders: Vec<Builder>,
        mut from: u64,
        batch_size: usize,
    ) -> Driver {
        let (tx, rx) = sync_channel(1);
        let base = reader.twin(from).on_fd(fd.as_raw_fd());
        let spawned = std::thread::Builder::new().name("pyopenbsd-spans".into()).spawn(move || {
            let _fd = fd;
            let mut est = Estimate::default();
            let first = builders.remove(0);
            let mut pool = Pool::new(first, builders);
            loop {
                let size = base.file_size().unwrap_or(0);
                let n = pool.workers.len() as u64 + 1;
                if size.saturating_sub(from) < MIN_SPAN * n {
                    let _ = tx.send(Ok(Round { chunks: vec![], next: from, landed: true, more: false }));
                    return;
                }
                let span = est.span_bytes(batch_size);
                let r = round(&base, filter.as_ref(), &mut pool, from, span, size, &mut est);
                let more = r.as_ref().is_ok_and(|r| r.more);
                if let Ok(r) = &r {
                    from = r.next;
                }
                if tx.send(r).is_err() || !more {
                    return;
                }
            }
        });
        // Not started: the channel is closed, and the read goes on on one
        // thread.
        Driver { rx: Some(rx), handle: spawned.ok() }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The driver stops at its next hand-over.
        drop(self.rx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The columnar read of a file on several threads: the rows read ahead,
/// where the read goes on.
pub struct Spans {
    chunks: VecDeque<Chunk>,
    /// Rows in `chunks` not yet handed out.
    pub queued: usize,
    /// Where the next read starts (`None` until the first: the feed's
    /// position then).
    pub cursor: Option<u64>,
    /// The next read is a sequential one (a span did not land).
    pub sequential: bool,
    /// The file was read to its end (or to an error).
    pub ended: bool,
    driver: Option<Driver>,
    /// The filter the queued rows (and the driver) were read with.
    filter: Option<ActiveFilter>,
    /// The file offset after the last batch handed out (the feed was
    /// moved there).
    pub handed: Option<u64>,
    /// What the driver's builders are made of.
    cols: Vec<Col>,
    link: LinkInfo,
    cap: usize,
    threads: usize,
}

/// What [`Spans::next_round`] did.
pub enum Step {
    /// Rows came (or the driver stopped).
    Round,
    /// The read goes on on one thread: the rows still missing from the
    /// next batch, from the cursor.
    Sequential,
}

impl Spans {
    pub fn new(cols: Vec<Col>, link: LinkInfo, cap: usize, threads: usize) -> Spans {
        Spans {
            chunks: VecDeque::new(),
            queued: 0,
            cursor: None,
            sequential: false,
            ended: false,
            driver: None,
            filter: None,
            handed: None,
            cols,
            link,
            cap,
            threads,
        }
    }

    /// Waits for the driver's next round (call without the GIL) and
    /// queues its rows; with no driver running, starts one from the
    /// cursor (the feed's position at the first read) unless the read
    /// goes on on one thread (`Step::Sequential`).
    pub fn next_round(
        &mut self,
        reader: &FastReader,
        fd: RawFd,
        filter: Option<&ActiveFilter>,
        batch_size: usize,
    ) -> Result<Step, ArrowError> {
        let Some(d) = &self.driver else {
            let from = *self.cursor.get_or_insert_with(|| reader.offset());
            let size = reader.file_size().unwrap_or(0);
            if self.sequential || size.saturating_sub(from) < MIN_SPAN * self.threads as u64 {
                return Ok(Step::Sequential);
            }
            // SAFETY: the feed's descriptor, open while its lock is held.
            let dup = unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned();
            let Ok(dup) = dup else { return Ok(Step::Sequential) };
            let builders =
                (0..self.threads).map(|_| Builder::new(self.cols.clone(), self.link, self.cap)).collect();
            self.driver = Some(Driver::start(reader, dup, filter.cloned(), builders, from, batch_size));
            return Ok(Step::Round);
        };
        let got = d.rx.as_ref().and_then(|rx| rx.recv().ok());
        let Some(round) = got else {
            // The driver is gone (it panicked): on one thread from here.
            self.driver = None;
            self.sequential = true;
            return Ok(Step::Round);
        };
        let round = match round {
            Ok(r) => r,
            Err(e) => {
                self.driver = None;
                self.ended = true;
                return Err(e);
            }
        };
        let before = self.cursor;
        for c in round.chunks {
            self.push(c.batch, c.ends);
        }
        self.cursor = Some(round.next);
        if !round.more {
            // Stopped: a span did not land, or no progress (the tail).
            self.driver = None;
            self.sequential = !round.landed || before == self.cursor;
        }
        Ok(Step::Round)
    }

    /// Before a batch is handed out: when the feed was moved since the
    /// last one (`pos`, its position now, is not where that batch left
    /// it: a `loop()` in between) or its filter changed, the rows read
    /// ahead are dropped and the read goes on from `pos` with the feed's
    /// filter, as it would on one thread.
    pub fn check(&mut self, pos: Option<u64>, filter: Option<&ActiveFilter>) {
        let moved = self.handed.is_some() && pos != self.handed;
        let refiltered = match (&self.filter, filter) {
            (None, None) => false,
            (Some(a), Some(b)) => !a.same(b),
            _ => true,
        };
        if (moved || refiltered) && self.cursor.is_some() {
            self.driver = None;
            self.chunks.clear();
            self.queued = 0;
            self.cursor = pos;
            self.sequential = false;
            self.ended = false;
        }
        self.filter = filter.cloned();
    }

    /// Queues rows read on one thread (the feed is now at `end`, after
    /// the last of them).
    pub fn push_sequential(&mut self, batch: RecordBatch, end: u64) {
        let rows = batch.num_rows();
        self.push(batch, vec![end; rows]);
        self.cursor = Some(end);
        self.sequential = false;
    }

    fn push(&mut self, batch: RecordBatch, ends: Vec<u64>) {
        if batch.num_rows() > 0 {
            self.queued += batch.num_rows();
            self.chunks.push_back(Chunk { batch, ends, at: 0 });
        }
    }

    /// The next batch of up to `n` rows, and the file offset after its
    /// last row's record; `None` when no row is queued. A batch holds the
    /// rows of one span (it is a slice of that span's columns, not a
    /// copy): the last batch of a span may be shorter.
    pub fn take(&mut self, n: usize) -> Option<(RecordBatch, u64)> {
        let c = self.chunks.front_mut()?;
        let k = n.min(c.batch.num_rows() - c.at);
        let batch = c.batch.slice(c.at, k);
        c.at += k;
        let end = c.ends[c.at - 1];
        self.queued -= k;
        if c.at == c.batch.num_rows() {
            self.chunks.pop_front();
        }
        Some((batch, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_thread_that_panics_leaves_no_thread_waiting_for_its_start() {
        let splits = Arc::new(Splits::new(2));
        let s = splits.clone();
        let died = std::thread::spawn(move || {
            let _guard = Unpublished(&s, 1);
            panic!("a span thread's bug");
        })
        .join();
        assert!(died.is_err());
        assert_eq!(splits.wait(1), NONE);
    }

    #[test]
    fn a_published_start_stays_when_its_thread_ends() {
        let splits = Splits::new(2);
        {
            let _guard = Unpublished(&splits, 1);
            splits.publish(1, 4096);
        }
        assert_eq!(splits.wait(1), 4096);
        assert_eq!(splits.wait(2), NONE);
    }
}
