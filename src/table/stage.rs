//! Records copied out of a source, to be decoded later on other threads
//! (`feed.batches(threads=N)`): the reading thread only copies, and the
//! decoding of a batch runs without the GIL, one batch per thread.

use super::columns::Builder;
use crate::io::record::Record;
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;

/// One staged record: its header and where its bytes are in `Stage::data`.
#[derive(Clone, Copy)]
struct Staged {
    sec: i64,
    usec: i64,
    len: u32,
    start: usize,
    end: usize,
}

/// Copies of records, in order.
#[derive(Default)]
pub struct Stage {
    recs: Vec<Staged>,
    data: Vec<u8>,
}

impl Stage {
    /// Appends a copy of `rec`.
    #[inline]
    pub fn push(&mut self, rec: &Record<'_>) {
        let start = self.data.len();
        self.data.extend_from_slice(rec.data);
        self.recs.push(Staged { sec: rec.sec, usec: rec.usec, len: rec.len, start, end: self.data.len() });
    }

    /// Forgets the records after the first `n`.
    pub fn truncate(&mut self, n: usize) {
        if n < self.recs.len() {
            self.data.truncate(self.recs[n].start);
            self.recs.truncate(n);
        }
    }

    pub fn clear(&mut self) {
        self.recs.clear();
        self.data.clear();
    }

    fn record(&self, s: &Staged) -> Record<'_> {
        Record { sec: s.sec, usec: s.usec, len: s.len, data: self.data.get(s.start..s.end).unwrap_or(&[]) }
    }

    /// Decodes the staged records into batches of `batch_size` rows, one
    /// batch per builder at a time, each on its own thread (the first on
    /// this one). Call without the GIL.
    pub fn decode(&self, builders: &mut [Builder], batch_size: usize) -> Vec<Result<RecordBatch, ArrowError>> {
        let mut out = Vec::new();
        let mut chunks = self.recs.chunks(batch_size.max(1)).peekable();
        while chunks.peek().is_some() {
            let round: Vec<_> = builders.iter_mut().zip(chunks.by_ref()).collect();
            let decode = |(b, chunk): (&mut Builder, &[Staged])| {
                for s in chunk {
                    b.push(&self.record(s));
                }
                b.finish()
            };
            std::thread::scope(|scope| {
                let mut round = round.into_iter();
                let here = round.next();
                let handles: Vec<_> = round.map(|job| scope.spawn(move || decode(job))).collect();
                if let Some(job) = here {
                    out.push(decode(job));
                }
                for h in handles {
                    out.push(
                        h.join().unwrap_or_else(|_| Err(ArrowError::ComputeError("a decoding thread panicked".into()))),
                    );
                }
            });
        }
        out
    }
}
