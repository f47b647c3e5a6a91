//! The Python methods of `Packet` (the struct and its storage are in
//! `stack`): lookups by name, the protocol list, the raw bytes, `finalise`.

use super::finalise;
use super::names::{kind_of_class, no_such_protocol};
use super::objects::object_at;
use super::query::Query;
use super::stack::Packet;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

#[pymethods]
impl Packet {
    /// `_initialise` (legacy: whether to decode at once) is accepted and
    /// ignored: the layers are always located.
    #[new]
    #[pyo3(signature = (klass, data, _initialise = None))]
    fn py_new(
        py: Python<'_>,
        klass: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        _initialise: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let kind = kind_of_class(klass)?;
        let bytes = match data.cast::<PyBytes>() {
            Ok(b) => b.clone(),
            Err(_) => {
                let b = py.get_type::<PyBytes>().call1((data,))?;
                b.cast_into::<PyBytes>()?
            }
        };
        Ok(Packet::build(bytes, kind, None, false))
    }

    /// The first protocol of the stack whose type (or a base type) is `name`.
    fn __getitem__(slf: &Bound<'_, Self>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        match slf.get().find(slf.py(), &Query::of(name)?, 0) {
            Some(i) => object_at(slf, i),
            None => Err(no_such_protocol(name)),
        }
    }

    fn has_key(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        Ok(self.find(py, &Query::of(name)?, 0).is_some())
    }

    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        Ok(self.find(py, &Query::of(name)?, 0).is_some())
    }

    /// The protocol objects, outermost first.
    #[pyo3(name = "getProtoList")]
    fn get_proto_list<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let n = slf.get().layers(slf.py()).len();
        let objs = (0..n).map(|i| object_at(slf, i)).collect::<PyResult<Vec<_>>>()?;
        PyList::new(slf.py(), objs)
    }

    /// The packet's bytes.
    #[pyo3(name = "getRaw")]
    fn get_raw(&self, py: Python<'_>) -> Py<PyBytes> {
        self.raw(py)
    }

    fn __bytes__(&self, py: Python<'_>) -> Py<PyBytes> {
        self.raw(py)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.bytes(py).len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        self.repr_string(py)
    }

    /// The outermost protocol object (the legacy name; the same as
    /// `getProtoList()[0]`).
    #[getter]
    fn protostack(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        object_at(slf, 0)
    }

    /// The outermost protocol's payload (everything after its header);
    /// assigning replaces it, as `p.protostack.payload = ...` does.
    #[getter]
    fn payload(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(object_at(slf, 0)?.bind(slf.py()).getattr("payload")?.unbind())
    }

    #[setter]
    fn set_payload(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        object_at(slf, 0)?.bind(slf.py()).setattr("payload", value)
    }

    /// The DLT the packet was read with (None when built by hand).
    #[getter]
    fn linktype(&self) -> Option<i32> {
        self.linktype
    }

    /// finalise() -> None
    ///
    /// Recomputes every length field (IP total length, IPv6 payload
    /// length, UDP length, pflog header length) and every checksum (IPv4
    /// header, TCP, UDP, ICMP, ICMPv6, IGMP), inner protocols first. A
    /// packet with no field set since it was decoded or built is left as
    /// it is, byte for byte.
    fn finalise(&self, py: Python<'_>) {
        if !self.is_modified(py) {
            return;
        }
        self.modify(py, |d, layers| finalise::finalise(d, layers.as_slice()));
        // Lengths may have moved layer ends: locate once more and finalise
        // what that changed (a no-op when nothing moved).
        self.modify(py, |d, layers| finalise::finalise(d, layers.as_slice()));
        self.set_modified(py, false);
    }

    /// _fixChecksums() -> None
    ///
    /// Recomputes every checksum, inner protocols first, and leaves the
    /// length fields as they are (the legacy library's helper, which some
    /// scripts call; `finalise()` does lengths and checksums).
    #[pyo3(name = "_fixChecksums")]
    fn fix_checksums(&self, py: Python<'_>) {
        self.modify(py, |d, layers| finalise::fix(d, layers.as_slice(), false, None));
    }

    /// finalize() -> None: the same as `finalise()`.
    fn finalize(&self, py: Python<'_>) {
        self.finalise(py)
    }

    /// initialise() -> None
    ///
    /// Locates the protocols again in the packet's current bytes (the
    /// legacy library's re-decode). Every change already does this, so it
    /// changes nothing; kept for legacy scripts.
    fn initialise(&self, py: Python<'_>) {
        self.locate_again(py)
    }

    /// initialize() -> None: the same as `initialise()`.
    fn initialize(&self, py: Python<'_>) {
        self.initialise(py)
    }
}
