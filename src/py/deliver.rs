//! Delivery of records to Python, the consumer (`Consumer`) behind `loop`,
//! `dispatch`, `next()` and iteration: turning a record into the callback's
//! `(packet, (sec, usec), length)` arguments and calling Python
//! (`Delivery`), or into one result tuple (`NextResult`).
//!
//! This is the hot loop of every read, so it talks to the C API directly:
//! one `bytes` (or decoded `Packet`), one timestamp tuple whose seconds
//! object is reused while the second does not change, one length int, and a
//! vectorcall (no argument tuple). An error raised by the callback stops the
//! read at once and is returned by it.

use crate::io::record::{BreakFlag, Consumer, Record};
use crate::packet::LinkInfo;
use pyo3::ffi as py;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// How many packets pass between two checks for pending signals when the
/// callback never runs Python bytecode (which checks them itself).
const SIGNAL_CHECK_INTERVAL: u32 = 1024;

/// Refills the first tuple of `candidates` that only its holder refers to
/// (so nobody can see it change) and is of type `ty` (`None`: an exact
/// tuple) with `items`, or makes a new one of them. Returns the tuple and
/// whether it is new.
fn refill_or_new<'py, 'a, const N: usize>(
    py: Python<'py>,
    candidates: impl Iterator<Item = &'a Py<PyAny>>,
    ty: Option<&Py<PyType>>,
    items: [Bound<'py, PyAny>; N],
) -> PyResult<(Bound<'py, PyAny>, bool)> {
    let want = match ty {
        Some(t) => t.as_ptr().cast::<py::PyTypeObject>(),
        None => std::ptr::addr_of_mut!(py::PyTuple_Type),
    };
    // SAFETY: a candidate is one of our tuples (or tuple subtype instances
    // of the same layout) of N items; with a reference count of 1 only our
    // slot holds it, so refilling it is invisible. A new one is filled
    // before anyone sees it. `tuple_replace` takes the new item's reference
    // and releases the old one (a new tuple has none).
    unsafe {
        for t in candidates {
            let t = t.as_ptr();
            if py::Py_REFCNT(t) == 1 && py::Py_TYPE(t) == want {
                for (i, item) in items.into_iter().enumerate() {
                    tuple_replace(t, i as py::Py_ssize_t, item.into_ptr());
                }
                return Ok((Bound::from_borrowed_ptr(py, t), false));
            }
        }
        let t = match ty {
            None => py::PyTuple_New(N as py::Py_ssize_t),
            // A tuple subtype without instance dictionary or slots
            // (`Timestamp`): its allocator gives a tuple of N empty items.
            Some(_) => match (*want).tp_alloc {
                Some(alloc) => alloc(want, N as py::Py_ssize_t),
                None => std::ptr::null_mut(),
            },
        };
        if t.is_null() {
            return Err(PyErr::fetch(py));
        }
        for (i, item) in items.into_iter().enumerate() {
            tuple_replace(t, i as py::Py_ssize_t, item.into_ptr());
        }
        Ok((Bound::from_owned_ptr(py, t), true))
    }
}

/// Puts `item` (a reference given away) at `i` of tuple `t`, releasing what
/// was there (nothing, in a new tuple).
///
/// # Safety
/// `t` is a tuple nobody else sees, `i` is in range and `item` is owned.
#[inline(always)]
unsafe fn tuple_replace(t: *mut py::PyObject, i: py::Py_ssize_t, item: *mut py::PyObject) {
    let old = py::PyTuple_GET_ITEM(t, i);
    py::PyTuple_SET_ITEM(t, i, item);
    py::Py_XDECREF(old);
}

/// Tuples kept for reuse: one is refilled when its only reference is ours
/// (nobody else can see it change), as CPython's own `zip` and `enumerate`
/// do. Two slots, because a caller typically still holds the previous one
/// while the next is made (`r = feed.next()`, or the `ts` variable of
/// `for p, ts, n in feed`), but not the one before.
#[derive(Default)]
struct Pool([Option<Py<PyAny>>; 2]);

impl Pool {
    /// A tuple of the pool that only the pool refers to.
    fn free(&self) -> Option<*mut py::PyObject> {
        // SAFETY: reading the reference count of live objects.
        self.0.iter().flatten().map(|t| t.as_ptr()).find(|&t| unsafe { py::Py_REFCNT(t) } == 1)
    }

    /// A tuple of `items` (of type `ty`, `None`: an exact tuple): a free
    /// one of the pool refilled, or a new one that joins the pool.
    fn tuple<'py, const N: usize>(
        &mut self,
        py: Python<'py>,
        ty: Option<&Py<PyType>>,
        items: [Bound<'py, PyAny>; N],
    ) -> PyResult<Bound<'py, PyAny>> {
        let (t, fresh) = refill_or_new(py, self.0.iter().flatten(), ty, items)?;
        if fresh {
            self.0.rotate_left(1);
            self.0[1] = Some(t.clone().unbind());
        }
        Ok(t)
    }
}

/// Builds the Python objects of one packet record.
pub struct ArgBuilder {
    interpret: Option<LinkInfo>,
    /// `openbsd.pcap.Timestamp` while interpreting (decoded packets come
    /// with timestamps that also answer `datetime`'s attributes); `None`
    /// for raw reads, which hand out plain tuples.
    ts_type: Option<Py<PyType>>,
    last_sec: i64,
    sec_obj: Option<Py<PyAny>>,
    /// `(sec, usec)` tuples.
    ts_tuples: Pool,
    /// `(packet, tstamp, length)` tuples of `next()` and iteration.
    result_tuples: Pool,
    /// Packet `bytes` the callback or caller let go of.
    bytes: crate::py::recycle::BytesPool,
    /// A decoded packet the callback or caller let go of, to decode the next
    /// one into (see `Packet::is_spare`).
    spare: Option<Py<crate::packet::Packet>>,
    /// Packets of `next()`/iteration results the caller still held when the
    /// result tuple was reused; given back once it lets go of them.
    pending: [Option<Py<PyAny>>; 2],
}

impl ArgBuilder {
    pub fn new(interpret: Option<LinkInfo>) -> Self {
        ArgBuilder {
            ts_type: interpret.filter(|l| !l.nano).and_then(|_| timestamp_type()),
            interpret,
            last_sec: i64::MIN,
            sec_obj: None,
            ts_tuples: Pool::default(),
            result_tuples: Pool::default(),
            bytes: Default::default(),
            spare: None,
            pending: Default::default(),
        }
    }

    /// The packet object: `bytes`, or a decoded `Packet` when interpreting.
    fn packet<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        match &self.interpret {
            None => self.bytes.bytes(py, data),
            Some(link) => {
                let spare =
                    self.spare.take().map(|p| p.into_bound(py)).filter(|p| crate::packet::Packet::is_spare(p.as_any()));
                crate::packet::decode_for_feed(py, data, link, &mut self.bytes, spare)
            }
        }
    }

    /// The seconds and microseconds objects of a timestamp; the seconds
    /// object is reused while the second does not change.
    #[inline]
    fn ts_items<'py>(&mut self, py: Python<'py>, sec: i64, usec: i64) -> PyResult<[Bound<'py, PyAny>; 2]> {
        let sec_obj = match &self.sec_obj {
            Some(o) if self.last_sec == sec => o.clone_ref(py).into_bound(py),
            _ => {
                let o = sec.into_pyobject(py)?.into_any();
                self.sec_obj = Some(o.clone().unbind());
                self.last_sec = sec;
                o
            }
        };
        Ok([sec_obj, usec.into_pyobject(py)?.into_any()])
    }

    /// `(sec, usec)`.
    #[inline]
    fn tstamp<'py>(&mut self, py: Python<'py>, sec: i64, usec: i64) -> PyResult<Bound<'py, PyAny>> {
        let items = self.ts_items(py, sec, usec)?;
        self.ts_tuples.tuple(py, self.ts_type.as_ref(), items)
    }

    /// The three callback arguments of one record.
    #[inline]
    pub fn build<'py>(
        &mut self,
        py: Python<'py>,
        sec: i64,
        usec: i64,
        len: u32,
        data: &[u8],
    ) -> PyResult<[Bound<'py, PyAny>; 3]> {
        let pkt = self.packet(py, data)?;
        let ts = self.tstamp(py, sec, usec)?;
        let len = crate::py::ints::u32_int(py, len);
        Ok([pkt, ts, len])
    }

    /// `(packet, (sec, usec), length)` as one tuple, for `next()` and
    /// iteration.
    pub fn tuple<'py>(
        &mut self,
        py: Python<'py>,
        sec: i64,
        usec: i64,
        len: u32,
        data: &[u8],
    ) -> PyResult<Bound<'py, PyAny>> {
        // Packets of earlier results that the caller has let go of since.
        for i in 0..self.pending.len() {
            // SAFETY: reading the reference count of a live object.
            if self.pending[i].as_ref().is_some_and(|p| unsafe { py::Py_REFCNT(p.as_ptr()) } == 1) {
                if let Some(p) = self.pending[i].take() {
                    self.give_back(p.into_bound(py));
                }
            }
        }
        if let Some(r) = self.result_tuples.free() {
            // The result tuple about to be refilled lets go of its packet and
            // timestamp first, so that they can be reused too. The packet is
            // usually still in the caller's variable (`for pkt, ts, n in
            // feed` reassigns `pkt` only after this call): it waits in
            // `pending` until the caller lets go of it.
            // SAFETY: `r` is a free 3-tuple of ours (see `Pool`); the packet
            // taken out is replaced by None before anyone can see the tuple.
            unsafe {
                let old = Bound::from_owned_ptr(py, py::PyTuple_GET_ITEM(r, 0));
                py::PyTuple_SET_ITEM(r, 0, py.None().into_ptr());
                if py::Py_REFCNT(old.as_ptr()) == 1 {
                    self.give_back(old);
                } else {
                    self.pending.rotate_left(1);
                    self.pending[1] = Some(old.unbind());
                }
                tuple_replace(r, 1, py.None().into_ptr());
            }
        }
        let pkt = self.packet(py, data)?;
        let len = crate::py::ints::u32_int(py, len);
        let ts = self.tstamp(py, sec, usec)?;
        self.result_tuples.tuple(py, None, [pkt, ts, len])
    }

    /// Takes back the packet object of a record once the callback returned.
    #[inline]
    pub fn give_back(&mut self, pkt: Bound<'_, PyAny>) {
        if self.interpret.is_some() && crate::packet::Packet::is_spare(&pkt) {
            // SAFETY: `is_spare` checked the type.
            self.spare = Some(unsafe { pkt.cast_into_unchecked() }.unbind());
        } else {
            self.bytes.give_back(pkt);
        }
    }

    /// Chooses whether the next packets are decoded (`next(interpret=...)`).
    pub fn set_interpret(&mut self, interpret: Option<LinkInfo>) {
        if interpret.is_some() != self.interpret.is_some() {
            self.ts_type = interpret.filter(|l| !l.nano).and_then(|_| timestamp_type());
        }
        self.interpret = interpret;
    }
}

/// `openbsd.pcap.Timestamp` (defined in Python, `openbsd/_tstamp.py`),
/// imported once. `None` if it cannot be imported (a broken install): the
/// timestamps are then plain tuples.
fn timestamp_type() -> Option<Py<PyType>> {
    static TYPE: pyo3::sync::PyOnceLock<Option<Py<PyType>>> = pyo3::sync::PyOnceLock::new();
    Python::attach(|py| {
        TYPE.get_or_init(py, || {
            let t = py.import("openbsd._tstamp").and_then(|m| m.getattr("Timestamp")).ok()?;
            let t = t.cast_into::<PyType>().ok()?;
            // Only a tuple subtype laid out as a tuple can be filled in place.
            // SAFETY: reading the fields of a live type object.
            let ok = unsafe {
                let tp = t.as_ptr().cast::<py::PyTypeObject>();
                py::PyType_IsSubtype(tp, std::ptr::addr_of_mut!(py::PyTuple_Type)) != 0
                    && (*tp).tp_basicsize == py::PyTuple_Type.tp_basicsize
                    && (*tp).tp_dictoffset == 0
            };
            ok.then(|| t.unbind())
        })
        .as_ref()
        .map(|t| t.clone_ref(py))
    })
}

/// The consumer of one `dispatch`/`loop`: calls the callback with each
/// record.
pub struct Delivery<'py, 'a> {
    py: Python<'py>,
    callback: &'a Bound<'py, PyAny>,
    args: ArgBuilder,
    until_signal_check: u32,
    /// Records still wanted (`usize::MAX`: no limit).
    limit: usize,
    /// The feed's `breakloop()` request.
    brk: &'a BreakFlag,
    /// Whether `breakloop()` stopped this read.
    pub broken: bool,
    /// Packets handed to the callback so far.
    pub count: usize,
}

impl<'py, 'a> Delivery<'py, 'a> {
    /// A delivery of at most `limit` records (`None`: no limit) to
    /// `callback`, decoded with `interpret` when given.
    pub fn new(
        py: Python<'py>,
        callback: &'a Bound<'py, PyAny>,
        interpret: Option<LinkInfo>,
        brk: &'a BreakFlag,
        limit: Option<usize>,
    ) -> Self {
        Delivery {
            brk,
            broken: false,
            py,
            callback,
            args: ArgBuilder::new(interpret),
            until_signal_check: SIGNAL_CHECK_INTERVAL,
            limit: limit.unwrap_or(usize::MAX),
            count: 0,
        }
    }

    /// Counts a record read (delivered or rejected by the filter) and, every
    /// so many, runs pending signal handlers: a loop over a long file is
    /// interruptible even when no packet reaches Python.
    #[inline]
    fn tick(&mut self) -> PyResult<()> {
        if self.brk.take() {
            // breakloop(): stop after this packet.
            self.broken = true;
        }
        self.until_signal_check -= 1;
        if self.until_signal_check == 0 {
            self.until_signal_check = SIGNAL_CHECK_INTERVAL;
            self.py.check_signals()?;
        }
        Ok(())
    }
}

impl<'py> Consumer for Delivery<'py, '_> {
    type Built = [Bound<'py, PyAny>; 3];

    #[inline]
    fn remaining(&self) -> Option<usize> {
        if self.broken {
            return Some(0);
        }
        match self.limit {
            usize::MAX => None,
            l => Some(l.saturating_sub(self.count)),
        }
    }

    /// The callback's arguments for one packet (its data copied out).
    #[inline]
    fn build(&mut self, rec: &Record<'_>) -> PyResult<Self::Built> {
        self.args.build(self.py, rec.sec, rec.usec, rec.len, rec.data)
    }

    /// Calls the callback with the arguments `build` made.
    #[inline]
    fn take(&mut self, args: Self::Built) -> PyResult<()> {
        let py = self.py;
        let argv = [args[0].as_ptr(), args[1].as_ptr(), args[2].as_ptr()];
        // SAFETY: `argv` holds three live references for the duration of the
        // call; the result is a new reference or null with an exception set.
        let res = unsafe { py::PyObject_Vectorcall(self.callback.as_ptr(), argv.as_ptr(), 3, std::ptr::null_mut()) };
        if res.is_null() {
            return Err(PyErr::fetch(py));
        }
        // SAFETY: `res` is an owned reference we no longer need.
        unsafe { py::Py_DECREF(res) };
        let [pkt, _, _] = args;
        self.args.give_back(pkt);
        self.count += 1;
        self.tick()
    }

    #[inline]
    fn skipped(&mut self) -> PyResult<()> {
        self.tick()
    }
}

/// The consumer of one `next()`: makes the `(packet, (sec, usec), length)`
/// tuple of the first record it is given.
pub struct NextResult<'py, 'a> {
    py: Python<'py>,
    args: &'a mut ArgBuilder,
    /// Records the filter rejected meanwhile.
    skipped: u32,
    pub result: Option<Bound<'py, PyAny>>,
}

impl<'py, 'a> NextResult<'py, 'a> {
    pub fn new(py: Python<'py>, args: &'a mut ArgBuilder) -> Self {
        NextResult { py, args, skipped: 0, result: None }
    }
}

impl<'py> Consumer for NextResult<'py, '_> {
    type Built = Bound<'py, PyAny>;

    #[inline]
    fn remaining(&self) -> Option<usize> {
        Some(usize::from(self.result.is_none()))
    }

    #[inline]
    fn build(&mut self, rec: &Record<'_>) -> PyResult<Self::Built> {
        self.args.tuple(self.py, rec.sec, rec.usec, rec.len, rec.data)
    }

    #[inline]
    fn take(&mut self, t: Self::Built) -> PyResult<()> {
        self.result = Some(t);
        Ok(())
    }

    /// Runs signal handlers every so many rejected records, so that a
    /// `next()` over a long file the filter rejects is interruptible.
    #[inline]
    fn skipped(&mut self) -> PyResult<()> {
        self.skipped += 1;
        if self.skipped % SIGNAL_CHECK_INTERVAL == 0 {
            self.py.check_signals()?;
        }
        Ok(())
    }
}
