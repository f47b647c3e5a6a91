//! A classic pcap regular file read into tables on several threads
//! (`feed.batches(threads=N)`): each thread walks a span of the file of
//! its own, maps its windows or reads them with `pread` as a 2 MiB probe
//! of each window says (`io::map_cost`; each thread carries its choice
//! from span to span: `FastReader::twin`, `FastReader::map_next`),
//! and decodes its records into a builder of its own; the spans' rows
//! come out in file order, each span's cut into batches of `batch_size`
//! rows (its last batch may be shorter: a batch is a slice of one span's
//! columns, never a copy).
//!
//! The bytes from the reader's cursor on are cut in spans of about two
//! batches each, at nominal byte offsets planned as the read goes, in
//! rounds of `n` equal spans, the file's last bytes in one or two rounds
//! of equal shorter spans (so the threads' shares stay even whatever the
//! file's size: `Schedule::extend`); thread `i` reads spans `i`, `i + n`,
//! `i + 2n`, …, each as soon as it handed the one before over, so no
//! thread waits for the others at the end of a group of spans. A span's
//! thread (past the first span's) moves from its offset to the first
//! likely record boundary (a chain of plausible record headers, judged as
//! `io::split` judges them:
//! `FastReader::find_boundary`; a span whose bytes hold no record start,
//! records being longer than spans, finds the next span's and is empty),
//! in the bytes it reads for its walk, publishes it, and walks the chain
//! of records from there to the next span's start. The first span starts
//! at the cursor, a record boundary; a span is taken only when the span
//! before it *landed* exactly on its start, so the rows taken are those
//! of the sequential read whatever the heuristic found. A span that did not land (no likely boundary, a false
//! one, a record the fast reader leaves to libpcap, a damaged or truncated
//! file, a file cut short under the walk) keeps the whole records it
//! walked before that point, the spans after it are dropped, and the next
//! read from there is a sequential one (libpcap reads what the fast reader
//! will not, and reports errors with its own words, as with one thread).

use super::source::bpf::ActiveFilter;
use crate::io::map_cost::MapCost;
use crate::io::savefile::FastReader;
use crate::io::split::{Bytes, Format, Step as SplitStep};
use crate::packet::LinkInfo;
use crate::table::columns::Builder;
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
    /// read (the last span).
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

/// The plan of a read's spans, shared by its threads: where each span
/// nominally starts (an offset that need not be a record boundary), the
/// start its thread found, and what the sizes of spans are made from.
/// Spans are numbered from 0 (the cursor, a record boundary); the entries
/// of spans handed out are dropped (`base`: the number of the first one
/// kept), so the plan stays small however long the file.
struct Plan {
    base: usize,
    /// Spans `base..`.
    spans: VecDeque<Planned>,
    /// The number of the last span, once it is planned: it reads up to
    /// the first record at or past `end`, the file's size then.
    last: Option<usize>,
    end: u64,
    est: Estimate,
    /// The bytes of each span of the round being planned.
    round: u64,
    /// The read stopped: no more spans, no more starts.
    closed: bool,
}

/// A span of the plan: where it nominally starts, and the start its
/// thread found (`None` until published; `NONE`: in doubt).
struct Planned {
    nominal: u64,
    start: Option<u64>,
}

impl Planned {
    fn at(nominal: u64) -> Planned {
        Planned { nominal, start: None }
    }
}

/// What a span reads up to.
#[derive(Clone, Copy)]
enum Next {
    /// The next span's nominal offset, then on to the start found there.
    Span(u64),
    /// The first record at or past this offset (the last span).
    End(u64),
}

/// What the threads of a read share: the file, the filter, the
/// schedule of spans.
struct Shared {
    reader: FastReader,
    filter: Option<ActiveFilter>,
    sched: Schedule,
}

/// The plan of spans, and the starts found, behind one lock: a thread
/// that waits for the next span's start sleeps until it is published.
struct Schedule {
    batch_size: usize,
    threads: usize,
    plan: Mutex<Plan>,
    published: Condvar,
}

impl Schedule {
    fn new(batch_size: usize, threads: usize, from: u64) -> Schedule {
        let plan = Plan {
            base: 0,
            spans: VecDeque::from([Planned::at(from)]),
            last: None,
            end: 0,
            est: Estimate::default(),
            round: 0,
            closed: false,
        };
        Schedule { batch_size, threads, plan: Mutex::new(plan), published: Condvar::new() }
    }

    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Span `k`'s nominal offset and what it reads up to; `None` past the
    /// last span, or once the read stopped. Plans spans up to `k + 1`.
    /// `size` tells the file's size now.
    fn job(&self, k: usize, size: impl Fn() -> u64) -> Option<(u64, Next)> {
        let mut p = self.plan();
        loop {
            if p.closed || k < p.base || p.last.is_some_and(|l| k > l) {
                return None;
            }
            let i = k - p.base;
            if p.last == Some(k) {
                return p.spans.get(i).map(|s| (s.nominal, Next::End(p.end)));
            }
            if let (Some(s), Some(next)) = (p.spans.get(i), p.spans.get(i + 1)) {
                return Some((s.nominal, Next::Span(next.nominal)));
            }
            self.extend(&mut p, size());
        }
    }

    /// Plans the span after the last one planned. Spans are planned in
    /// rounds of one span per thread, all of a round's spans as long (thread
    /// `i` reads the `i`-th of each round), so that the threads' shares stay
    /// even to the end: at a round's first span, `span_bytes` on while at
    /// least two rounds of such spans are left in the file; else the rest
    /// is cut in the read's last spans, one or two whole rounds of equal
    /// spans (each at least `MIN_SPAN` long: fewer when the rest is short).
    fn extend(&self, p: &mut Plan, size: u64) {
        let o = p.spans.back().map_or(0, |s| s.nominal);
        let left = size.saturating_sub(o);
        let n = self.threads.max(1) as u64;
        // The number of the last span planned, the one starting at `o`.
        let back = (p.base + p.spans.len()).saturating_sub(1) as u64;
        if back % n != 0 && left >= 2 * p.round {
            // Within a round: as long as its first span.
            p.spans.push_back(Planned::at(o + p.round));
            return;
        }
        let span = p.est.span_bytes(self.batch_size);
        if back % n == 0 && left >= 2 * n * span {
            p.round = span;
            p.spans.push_back(Planned::at(o + span));
            return;
        }
        let rounds = left.div_ceil(n * span).clamp(1, 2);
        let parts = (rounds * n).min(left / MIN_SPAN).max(1);
        for j in 1..parts {
            p.spans.push_back(Planned::at(o + left * j / parts));
        }
        p.last = Some(p.base + p.spans.len() - 1);
        p.end = size;
    }

    /// Publishes span `k`'s start; the first value published stays.
    fn publish(&self, k: usize, v: u64) {
        let mut p = self.plan();
        if let Some(i) = k.checked_sub(p.base) {
            if let Some(Planned { start: slot @ None, .. }) = p.spans.get_mut(i) {
                *slot = Some(v);
            }
        }
        self.published.notify_all();
    }

    /// Span `k`'s start, once published (`NONE` once the read stopped).
    fn wait(&self, k: usize) -> u64 {
        let mut p = self.plan();
        loop {
            let Some(i) = k.checked_sub(p.base) else { return NONE };
            match p.spans.get(i).map(|s| s.start) {
                Some(Some(v)) => return v,
                _ if p.closed => return NONE,
                // Past the last span: nothing will be published.
                None if p.last.is_some() => return NONE,
                _ => p = self.published.wait(p).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }

    /// Span `k` was handed out, having walked `records` records over
    /// `bytes` bytes: its entries go, and it counts for the size of the
    /// spans planned from now on.
    fn handed(&self, k: usize, records: u64, bytes: u64) {
        let mut p = self.plan();
        p.est.records += records;
        p.est.bytes += bytes;
        while p.base <= k && p.spans.len() > 1 {
            p.spans.pop_front();
            p.base += 1;
        }
    }

    /// The read stops: threads take no more spans, and none waits for a
    /// start.
    fn close(&self) {
        self.plan().closed = true;
        self.published.notify_all();
    }
}

/// Closes the read when a span thread leaves before the last span
/// (its channel closed, or a panic, unwinding): the spans it would have
/// read next find no start, and the threads waiting for one (its span's
/// too) stop waiting.
struct Leaving<'a>(&'a Schedule, bool);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        if self.1 {
            self.0.close();
        }
    }
}

/// What one span gave.
struct Span {
    walked: Walked,
    batch: Option<Result<RecordBatch, ArrowError>>,
    /// It was the last span of the read.
    last: bool,
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

/// The rows of one span, handed to the consumer in file order, and where
/// the read goes on.
struct Taken {
    chunk: Option<Chunk>,
    next: u64,
    /// The span landed on the next one's start (else the read goes on
    /// from `next` on one thread).
    landed: bool,
    /// The driver reads on (else it has stopped: a span did not land, or
    /// the last span was read).
    more: bool,
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

/// Reads span `k` into `b`, mapping the file or reading it with `pread`
/// as `cost` (the thread's choice so far, updated) says; `None` past the
/// last span or once the read stopped.
fn read_span(sh: &Shared, k: usize, b: &mut Builder, cost: &mut MapCost) -> Option<Span> {
    let (nominal, next) = sh.sched.job(k, || sh.reader.file_size().unwrap_or(0))?;
    let mut r = sh.reader.twin(nominal, *cost);
    let span = read_span_with(sh, k, b, &mut r, nominal, next);
    *cost = r.map_cost();
    Some(span)
}

/// Reads span `k` (from `nominal` to the span `next`) into `b` with `r`.
fn read_span_with(sh: &Shared, k: usize, b: &mut Builder, r: &mut FastReader, nominal: u64, next: Next) -> Span {
    let filter = sh.filter.as_ref();
    let fmt = format_of(&sh.reader);
    // A record starts within the longest record of any offset: a span
    // whose bytes hold no start (records longer than spans) finds the next
    // span's, and is empty (the span before it walks on to that start).
    let limit = match next {
        Next::End(o) => o,
        Next::Span(o) => o.max(nominal.saturating_add(fmt.unit() + 1)),
    };
    let s = (k == 0 || r.find_boundary(limit, |data, base, size, off| boundary(&fmt, data, base, size, off)))
        .then(|| r.offset());
    sh.sched.publish(k, s.unwrap_or(NONE));
    let last = matches!(next, Next::End(_));
    if s.is_none() {
        let walked = Walked { stop: nominal, landed: false, records: 0, ends: vec![] };
        return Span { walked, batch: None, last };
    }
    // Up to the next span's offset first (its start is being found
    // meanwhile), then on to that start.
    let walked = match next {
        Next::End(end) => walk(r, Until::Past(end), b, filter),
        Next::Span(next) => {
            let first = walk(r, Until::Blind(next), b, filter);
            match sh.sched.wait(k + 1) {
                _ if first.stop < next => first, // stopped short
                NONE => first,
                s if first.stop >= s => Walked { landed: first.stop == s, ..first },
                s => {
                    let rest = walk(r, Until::At(s), b, filter);
                    let mut ends = first.ends;
                    ends.extend(rest.ends);
                    Walked { stop: rest.stop, landed: rest.landed, records: first.records + rest.records, ends }
                }
            }
        }
    };
    let batch = (b.rows() > 0).then(|| b.finish());
    Span { walked, batch, last }
}

/// Span thread `i` of `n`: reads spans `i`, `i + n`, `i + 2n`, … each as
/// soon as it handed the one before over (its channel holds one), until
/// the last span or the read stops.
fn span_thread(sh: &Shared, i: usize, b: &mut Builder, out: &SyncSender<Span>) {
    let mut leaving = Leaving(&sh.sched, true);
    let mut k = i;
    let mut cost = MapCost::default();
    loop {
        let Some(span) = read_span(sh, k, b, &mut cost) else {
            // Past the last span (or closed already): nothing to close.
            leaving.1 = false;
            return;
        };
        let last = span.last;
        if out.send(span).is_err() {
            return;
        }
        if last {
            leaving.1 = false;
            return;
        }
        k += sh.sched.threads;
    }
}

/// The thread that hands the spans' rows to the consumer in file order,
/// as the span threads read ahead: it owns a duplicate of the file's
/// descriptor (the feed may be closed while they read), and hands each
/// span over through a channel that holds one (the memory stays bounded:
/// a span per thread being read, one per thread waiting, one here, one in
/// the channel, one being handed out).
struct Driver {
    rx: Option<Receiver<Result<Taken, ArrowError>>>,
    handle: Option<JoinHandle<()>>,
}

/// Reads spans on `builders.len()` threads from `from`, handing them to
/// `tx` in order, until a span does not land, the last span, an error,
/// or the consumer leaves.
fn drive(sh: Arc<Shared>, builders: Vec<Builder>, from: u64, tx: SyncSender<Result<Taken, ArrowError>>) {
    let mut outs = Vec::new();
    let mut handles = Vec::new();
    for (i, mut b) in builders.into_iter().enumerate() {
        let (out_tx, out_rx) = sync_channel::<Span>(1);
        let shared = sh.clone();
        let spawned = std::thread::Builder::new()
            .name("pyopenbsd-span".into())
            .spawn(move || span_thread(&shared, i, &mut b, &out_tx));
        match spawned {
            Ok(h) => {
                outs.push(out_rx);
                handles.push(h);
            }
            Err(_) => break,
        }
    }
    let mut next = from;
    if outs.len() < sh.sched.threads {
        // A thread not started: its spans would never come. On one
        // thread from the cursor.
        let _ = tx.send(Ok(Taken { chunk: None, next, landed: false, more: false }));
    } else {
        for k in 0.. {
            let Ok(sp) = outs[k % outs.len()].recv() else {
                // A span thread is gone (it panicked): the read goes on
                // from the last span handed out on one thread.
                let _ = tx.send(Ok(Taken { chunk: None, next, landed: false, more: false }));
                break;
            };
            let chunk = match sp.batch {
                Some(Err(e)) => {
                    let _ = tx.send(Err(e));
                    break;
                }
                Some(Ok(batch)) => Some(Chunk { batch, ends: sp.walked.ends, at: 0 }),
                None => None,
            };
            sh.sched.handed(k, sp.walked.records, sp.walked.stop.saturating_sub(next));
            next = sp.walked.stop;
            let more = sp.walked.landed && !sp.last;
            if tx.send(Ok(Taken { chunk, next, landed: sp.walked.landed, more })).is_err() || !more {
                break;
            }
        }
    }
    sh.sched.close();
    drop(outs);
    for h in handles {
        let _ = h.join();
    }
}

impl Driver {
    fn start(
        reader: &FastReader,
        fd: OwnedFd,
        filter: Option<ActiveFilter>,
        builders: Vec<Builder>,
        from: u64,
        batch_size: usize,
    ) -> Driver {
        let (tx, rx) = sync_channel(1);
        let base = reader.twin(from, MapCost::default()).on_fd(fd.as_raw_fd());
        let sched = Schedule::new(batch_size, builders.len(), from);
        let sh = Arc::new(Shared { reader: base, filter, sched });
        let spawned = std::thread::Builder::new().name("pyopenbsd-spans".into()).spawn(move || {
            let _fd = fd;
            drive(sh, builders, from, tx);
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

/// What [`Spans::next_span`] did.
pub enum Step {
    /// Rows came (or the driver stopped).
    Spans,
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

    /// Waits for the driver's next span (call without the GIL) and
    /// queues its rows; with no driver running, starts one from the
    /// cursor (the feed's position at the first read) unless the read
    /// goes on on one thread (`Step::Sequential`).
    pub fn next_span(
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
            let builders = (0..self.threads).map(|_| Builder::new(self.cols.clone(), self.link, self.cap)).collect();
            self.driver = Some(Driver::start(reader, dup, filter.cloned(), builders, from, batch_size));
            return Ok(Step::Spans);
        };
        let got = d.rx.as_ref().and_then(|rx| rx.recv().ok());
        let Some(taken) = got else {
            // The driver is gone (it panicked): on one thread from here.
            self.driver = None;
            self.sequential = true;
            return Ok(Step::Spans);
        };
        let taken = match taken {
            Ok(r) => r,
            Err(e) => {
                self.driver = None;
                self.ended = true;
                return Err(e);
            }
        };
        let before = self.cursor;
        if let Some(c) = taken.chunk {
            self.push(c.batch, c.ends);
        }
        self.cursor = Some(taken.next);
        if !taken.more {
            // Stopped: a span did not land, or the last span was read
            // (the tail, read on one thread when too short for spans).
            self.driver = None;
            self.sequential = !taken.landed || before == self.cursor;
        }
        Ok(Step::Spans)
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

    const MIB: u64 = 1 << 20;

    fn job(s: &Schedule, k: usize, size: u64) -> Option<(u64, u64, bool)> {
        s.job(k, || size).map(|(o, next)| match next {
            Next::Span(n) => (o, n, false),
            Next::End(e) => (o, e, true),
        })
    }

    /// A classic pcap file (Ethernet, snap length 262144) of records of
    /// the given captured lengths, with pseudo-random payloads.
    fn write_capture(name: &str, lens: &[usize]) -> std::path::PathBuf {
        let mut rng = crate::testing::Rng(0x5eed_0000 + lens.len() as u64);
        let mut f = crate::io::format::pcap_file_header(262_144, 1).to_vec();
        for (i, &n) in lens.iter().enumerate() {
            for v in [1_700_000_000 + i as u32, (i % 1_000_000) as u32, n as u32, n as u32] {
                f.extend_from_slice(&v.to_ne_bytes());
            }
            f.extend((0..n).map(|_| rng.next() as u8));
        }
        let path = std::env::temp_dir().join(format!("pyopenbsd-spans-{}-{name}.pcap", std::process::id()));
        std::fs::write(&path, f).expect("temp file");
        path
    }

    /// A handle on `path` (libpcap's, which the reader must not outlive),
    /// its fast reader and the handle's descriptor.
    fn open_reader(path: &std::path::Path) -> (crate::capture::source::raw::RawHandle, FastReader, RawFd) {
        use crate::capture::source::raw::RawHandle;
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        let mut errbuf = [0 as libc::c_char; crate::ffi::PCAP_ERRBUF_SIZE];
        // SAFETY: a stream opened here, handed to libpcap (which closes it
        // with the handle); the callers drop the reader before the handle.
        let h = unsafe {
            let f = libc::fopen(c.as_ptr(), c"rb".as_ptr());
            assert!(!f.is_null());
            let p = crate::ffi::pcap_fopen_offline_with_tstamp_precision(f, 0, errbuf.as_mut_ptr());
            RawHandle::from_ptr(std::ptr::NonNull::new(p).expect("a pcap handle"))
        };
        // SAFETY: an open offline handle, which outlives the reader.
        let reader = unsafe { FastReader::open(h.ptr()) }.expect("a fast reader");
        // SAFETY: the handle's open stream.
        let fd = unsafe { libc::fileno(crate::ffi::pcap_file(h.ptr())) };
        (h, reader, fd)
    }

    /// Reads `path` in spans on `threads` threads as `batches()` does,
    /// until the read would go on on one thread: the rows taken, the spans
    /// that gave rows, and the offset where the spans stopped.
    fn read_in_spans(path: &std::path::Path, threads: usize, batch_size: usize) -> (usize, usize, u64) {
        let (_h, reader, fd) = open_reader(path);
        let link = LinkInfo { dlt: 1, swapped: false, first: None, nano: false };
        let mut sp = Spans::new(vec![Col::Caplen], link, batch_size, threads);
        let (mut rows, mut spans) = (0, 0);
        while let Ok(Step::Spans) = sp.next_span(&reader, fd, None, batch_size) {
            spans += usize::from(sp.queued > 0);
            while let Some((b, _)) = sp.take(batch_size) {
                rows += b.num_rows();
            }
        }
        (rows, spans, sp.cursor.unwrap_or(0))
    }

    #[test]
    fn a_span_cut_short_under_its_mapped_window_keeps_only_whole_records() {
        // 4,000 records of 1,000 bytes: a file shorter than a window, which
        // a twin maps whole (unjudged); the file is cut inside record 2,500
        // while the twin walks it. Reading past the cut raises SIGBUS in
        // the window, whose pages from there read as zeros: the run that
        // read them goes, and the walk ends, not landed, at a record
        // boundary before the cut (the read goes on from there on one
        // thread, through libpcap, which reads to the cut and says the
        // file is truncated).
        let lens = vec![1000usize; 4000];
        let path = write_capture("cut-under-twin", &lens);
        let (_h, reader, _fd) = open_reader(&path);
        let link = LinkInfo { dlt: 1, swapped: false, first: None, nano: false };
        let mut b = Builder::new(vec![Col::Caplen], link, 4096);
        let mut r = reader.twin(24, MapCost::default());
        let first = walk(&mut r, Until::Blind(24 + 1016 * 1000), &mut b, None);
        assert_eq!(r.kind(), "mapped", "the twin reads from a mapped window");
        assert_eq!((first.records, first.stop), (1000, 24 + 1016 * 1000));
        let cut = 24 + 1016 * 2500 + 16 + 300;
        std::fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(cut).expect("cut");
        let size = std::fs::metadata(&path).expect("size").len();
        let rest = walk(&mut r, Until::Past(24 + 1016 * 4000), &mut b, None);
        assert!(!rest.landed);
        let whole = (rest.stop - 24) / 1016;
        assert!(rest.stop == 24 + 1016 * whole && whole > 1000 && whole <= 2500, "stopped at {}", rest.stop);
        assert_eq!(rest.ends.last().copied(), Some(rest.stop));
        assert_eq!(b.rows() as u64, whole);
        let batch = b.finish().expect("a batch");
        let caplen = batch.column(0).as_any().downcast_ref::<arrow_array::UInt32Array>().expect("u32");
        assert!(caplen.values().iter().all(|&v| v == 1000), "no row of zeros");
        assert!(size < 24 + 1016 * 2501);
        drop(r);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_span_thread_reads_windows_with_pread_where_its_probe_is_costly() {
        // A 40 MiB file whose pages are cached 4 KiB at a time (dropped,
        // then read back a byte a page in random order, read-ahead off:
        // `bench.scatter_cache`'s state), where mapping 2 MiB costs about
        // 0.3 ms against a threshold of 0.2: a twin's probe of its first
        // window is costly, and it reads the window with `pread`.
        use std::os::fd::AsRawFd;
        let lens = vec![1000usize; 40 << 10];
        let path = write_capture("probe-costly", &lens);
        let f = std::fs::File::open(&path).expect("open");
        let fd = f.as_raw_fd();
        // SAFETY: plain calls on an open descriptor.
        let dropped = unsafe {
            libc::fdatasync(fd) == 0
                && libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_DONTNEED) == 0
                && libc::posix_fadvise(fd, 0, 0, libc::POSIX_FADV_RANDOM) == 0
        };
        if !dropped {
            let _ = std::fs::remove_file(&path);
            return; // a file system without page cache advice
        }
        let size = std::fs::metadata(&path).expect("size").len();
        let mut pages: Vec<u64> = (0..size.div_ceil(4096)).collect();
        let mut rng = crate::testing::Rng(4096);
        for i in (1..pages.len()).rev() {
            pages.swap(i, rng.below(i + 1));
        }
        let mut byte = [0u8; 1];
        for p in pages {
            // SAFETY: one byte into a local buffer.
            unsafe { libc::pread(fd, byte.as_mut_ptr().cast(), 1, (p * 4096) as libc::off_t) };
        }
        let (_h, reader, _fd) = open_reader(&path);
        let link = LinkInfo { dlt: 1, swapped: false, first: None, nano: false };
        let mut b = Builder::new(vec![Col::Caplen], link, 4096);
        let mut r = reader.twin(24, MapCost::default());
        let walked = walk(&mut r, Until::Blind(24 + 1016 * 100), &mut b, None);
        assert_eq!(walked.records, 100);
        assert_eq!(r.kind(), "buffer", "a costly probe: the window is read with pread");
        assert!(!r.map_cost().map_next(), "and the thread goes on reading");
        drop(r);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn the_last_spans_of_files_of_long_records_land() {
        // Whatever the file's length, its last spans (the rest cut per
        // thread, at least 64 KiB each) may hold no record start.
        for n in 1..=24 {
            let path = write_capture(&format!("last{n}"), &vec![262_144; n]);
            let size = std::fs::metadata(&path).expect("size").len();
            for threads in [2, 3, 4] {
                let (rows, _, stop) = read_in_spans(&path, threads, 2);
                assert_eq!((rows, stop), (n, size), "{n} records, {threads} threads");
            }
            let _ = std::fs::remove_file(&path);
        }
    }

    #[test]
    fn files_of_long_records_split_into_spans() {
        // Records of 40-100 KB: eight in a row (the chain a span's start
        // is judged by) are longer than a twin's first buffer; and records
        // of the largest snap length, longer than the buffer themselves.
        let mut rng = crate::testing::Rng(7);
        let cases: [(&str, Vec<usize>); 3] = [
            ("long", (0..300).map(|_| 40_000 + rng.below(60_000)).collect()),
            ("longest", vec![262_144; 120]),
            ("mixed", (0..2000).map(|i| if i % 7 == 0 { 262_144 } else { 60 + rng.below(1500) }).collect()),
        ];
        for (name, lens) in cases {
            let path = write_capture(name, &lens);
            let size = std::fs::metadata(&path).expect("size").len();
            for threads in [2, 3] {
                let (rows, spans, stop) = read_in_spans(&path, threads, 8);
                assert_eq!((rows, stop), (lens.len(), size), "{name}, {threads} threads");
                assert!(spans > 2 * threads, "{name}, {threads} threads: {spans} spans");
            }
            let _ = std::fs::remove_file(&path);
        }
    }

    #[test]
    fn a_span_thread_that_panics_leaves_no_thread_waiting_for_its_start() {
        let sched = Arc::new(Schedule::new(65536, 2, 0));
        assert_eq!(job(&sched, 1, 100 * MIB), Some((25 * MIB, 50 * MIB, false)));
        let s = sched.clone();
        let died = std::thread::spawn(move || {
            let _leaving = Leaving(&s, true);
            panic!("a span thread's bug");
        })
        .join();
        assert!(died.is_err());
        assert_eq!(sched.wait(1), NONE);
    }

    #[test]
    fn a_published_start_stays_when_its_thread_ends() {
        let sched = Schedule::new(65536, 2, 0);
        assert!(job(&sched, 1, 100 * MIB).is_some());
        {
            let _leaving = Leaving(&sched, false);
            sched.publish(1, 4096);
        }
        sched.publish(1, 8192);
        assert_eq!(sched.wait(1), 4096);
        // A thread that leaves normally closes nothing.
        assert!(job(&sched, 2, 100 * MIB).is_some());
    }

    #[test]
    fn spans_are_planned_in_rounds_of_two_batches_and_the_rest_in_whole_rounds() {
        // 512 bytes a record assumed: 2 * 65536 * 512 bytes, at most 32 MiB,
        // while two rounds of two such spans are left; then the rest in
        // two rounds of equal spans.
        let sched = Schedule::new(65536, 2, 24);
        let size = 300 * MIB;
        assert_eq!(job(&sched, 0, size), Some((24, 24 + 32 * MIB, false)));
        assert_eq!(job(&sched, 5, size), Some((24 + 160 * MIB, 24 + 192 * MIB, false)));
        let tail = 27 * MIB - 6; // (300 - 192 MiB - 24) / 4
        assert_eq!(job(&sched, 6, size), Some((24 + 192 * MIB, 24 + 192 * MIB + tail, false)));
        assert_eq!(job(&sched, 9, size), Some((24 + 192 * MIB + 3 * tail, size, true)));
        assert_eq!(job(&sched, 10, size), None);
        // No span waits for the start of one past the last.
        assert_eq!(sched.wait(10), NONE);
        // A file shorter than two rounds: one or two rounds of equal spans.
        let sched = Schedule::new(65536, 2, 0);
        assert_eq!(job(&sched, 0, 100 * MIB), Some((0, 25 * MIB, false)));
        assert_eq!(job(&sched, 3, 100 * MIB), Some((75 * MIB, 100 * MIB, true)));
        let sched = Schedule::new(65536, 3, 0);
        assert_eq!(job(&sched, 2, 90 * MIB), Some((60 * MIB, 90 * MIB, true)));
    }

    #[test]
    fn every_thread_gets_an_even_share_of_the_file() {
        // Thread `i` reads spans `i`, `i + n`, ...: whatever the file's
        // size, the spans cover it once, in order, and the threads' shares
        // differ by a rounding (or, when the rest is cut in spans of about
        // MIN_SPAN, by less than two of them).
        for threads in 2..=4usize {
            for size in (0..400).map(|i| 4 * threads as u64 * MIN_SPAN + i * 2_654_435 + i * i * 1_000_003) {
                let sched = Schedule::new(65536, threads, 24);
                let mut shares = vec![0u64; threads];
                let (mut at, mut k) = (24, 0);
                while let Some((o, next, last)) = job(&sched, k, size) {
                    assert_eq!(o, at, "{threads} threads, {size} bytes, span {k}");
                    assert!(next > o, "{threads} threads, {size} bytes, span {k}");
                    shares[k % threads] += next - o;
                    at = next;
                    k += 1;
                    if last {
                        break;
                    }
                }
                assert_eq!(at, size, "{threads} threads, {size} bytes");
                let (lo, hi) = (shares.iter().min().copied(), shares.iter().max().copied());
                let spread = hi.unwrap_or(0) - lo.unwrap_or(0);
                let allowed = if size > 24 + 2 * threads as u64 * 32 * MIB { threads as u64 } else { 2 * MIN_SPAN };
                assert!(spread <= allowed, "{threads} threads, {size} bytes: shares {shares:?}");
            }
        }
    }

    #[test]
    fn spans_follow_the_records_measured_and_a_short_file_is_one_span() {
        // 512 bytes a record assumed: 2 * 100 * 512 bytes, for the whole
        // first round (three spans).
        let sched = Schedule::new(100, 3, 0);
        assert_eq!(job(&sched, 0, 10 * MIB), Some((0, 102_400, false)));
        // 500 bytes a record measured, then 100: the next round's spans are
        // 2 * 100 * 100 bytes, at least MIN_SPAN.
        sched.handed(0, 100, 50_000);
        assert_eq!(job(&sched, 1, 10 * MIB), Some((102_400, 204_800, false)));
        sched.handed(1, 900, 50_000);
        assert_eq!(job(&sched, 2, 10 * MIB), Some((204_800, 307_200, false)));
        assert_eq!(job(&sched, 3, 10 * MIB), Some((307_200, 307_200 + MIN_SPAN, false)));
        let sched = Schedule::new(1000, 3, 0);
        assert_eq!(job(&sched, 0, MIN_SPAN + 5), Some((0, MIN_SPAN + 5, true)));
        // A file that shrank under the read: its last span ends before it starts.
        let sched = Schedule::new(1000, 3, MIB);
        assert_eq!(job(&sched, 0, 0), Some((MIB, 0, true)));
    }

    #[test]
    fn spans_handed_out_leave_the_plan() {
        let sched = Schedule::new(1000, 2, 0);
        for k in 0..10_000 {
            assert!(job(&sched, k + 1, u64::MAX).is_some());
            sched.publish(k, k as u64);
            sched.handed(k, 10, 1000);
        }
        let p = sched.plan();
        assert_eq!(p.base, 10_000);
        assert!(p.spans.len() <= 2, "{} spans kept", p.spans.len());
    }

    #[test]
    fn a_closed_read_gives_no_span_and_no_thread_waits() {
        let sched = Arc::new(Schedule::new(65536, 2, 0));
        assert!(job(&sched, 1, 100 * MIB).is_some());
        let s = sched.clone();
        let waiting = std::thread::spawn(move || s.wait(1));
        std::thread::sleep(std::time::Duration::from_millis(20));
        sched.close();
        assert_eq!(waiting.join().ok(), Some(NONE));
        assert_eq!(job(&sched, 2, 100 * MIB), None);
    }
}
