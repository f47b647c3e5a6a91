//! Option tables (`Options`, the legacy library's name for them) and the
//! fields that reach them through their class.
//!
//! A table maps names to numbers, case-insensitively (`TCP.FlagsOptions
//! ["syn"]`), and is read-only: it is shared by every user in the process,
//! and the setters take their names from the library, not from it.
//!
//! As in the legacy library, a field with named values answers its table
//! when read from the class and its value when read from an instance:
//! `TCP.flags["syn"]` is 2, `p["tcp"].flags` is the flags byte. Each such
//! field's descriptor is wrapped (once, at import) by an [`OptionField`],
//! which hands instance reads and writes straight to the field's own
//! descriptor through its C slots.

use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};

/// A read-only table of option names and their numbers; names are matched
/// ASCII case-insensitively and keep their spelling in `keys()`.
#[pyclass(frozen, module = "openbsd.packet", name = "Options", mapping)]
pub struct Options {
    items: Vec<(String, u32)>,
}

impl Options {
    pub fn of(items: &[(&str, u32)]) -> Options {
        Options { items: items.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect() }
    }

    fn find(&self, key: &Bound<'_, PyAny>) -> Option<u32> {
        let s = key.cast::<PyString>().ok()?;
        let s = s.to_str().ok()?;
        self.items.iter().find(|(k, _)| k.eq_ignore_ascii_case(s)).map(|(_, v)| *v)
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &self.items {
            d.set_item(k, v)?;
        }
        Ok(d)
    }
}

#[pymethods]
impl Options {
    /// Options(**names): a table of the given names and numbers.
    #[new]
    #[pyo3(signature = (**names))]
    fn py_new(names: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut items = Vec::new();
        if let Some(d) = names {
            for (k, v) in d.iter() {
                items.push((k.extract::<String>()?, v.extract::<u32>()?));
            }
        }
        Ok(Options { items })
    }

    /// The number of `name` (any case); `KeyError` if there is none.
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<u32> {
        self.find(key).ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> bool {
        self.find(key).is_some()
    }

    fn has_key(&self, key: &Bound<'_, PyAny>) -> bool {
        self.find(key).is_some()
    }

    #[pyo3(signature = (key, default = None))]
    fn get(&self, py: Python<'_>, key: &Bound<'_, PyAny>, default: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        match self.find(key) {
            Some(v) => Ok(v.into_pyobject(py)?.into_any().unbind()),
            None => Ok(default.unwrap_or_else(|| py.None())),
        }
    }

    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.iter().map(|(k, _)| k.as_str()))
    }

    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.iter().map(|(_, v)| *v))
    }

    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let pairs = self
            .items
            .iter()
            .map(|(k, v)| PyTuple::new(py, [k.into_pyobject(py)?.into_any(), v.into_pyobject(py)?.into_any()]))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.keys(py)?.into_any().try_iter().map(|i| i.into_any())
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    /// toStr(value) -> str: the name of `value`, or the number as text.
    #[pyo3(name = "toStr")]
    fn to_str(&self, value: &Bound<'_, PyAny>) -> PyResult<String> {
        if let Ok(n) = value.extract::<u32>() {
            if let Some((k, _)) = self.items.iter().find(|(_, v)| *v == n) {
                return Ok(k.clone());
            }
        }
        Ok(value.str()?.to_string())
    }

    /// Equal to another table, or to a dict, with the same names (in the
    /// same spelling) and numbers.
    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let mine = self.as_dict(py)?;
        if let Ok(o) = other.cast::<Options>() {
            return mine.eq(o.get().as_dict(py)?);
        }
        if other.is_instance_of::<PyDict>() {
            return mine.eq(other);
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let body = self.items.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
        format!("Options({body})")
    }
}

/// A field with named values: the table from the class, the value from an
/// instance (see the module's documentation).
#[pyclass(frozen, module = "openbsd.packet", name = "_OptionField")]
pub struct OptionField {
    /// The field's own descriptor (a `getset_descriptor`).
    field: Py<PyAny>,
    table: Py<PyAny>,
}

/// The class's `tp_descr_get`: what `__get__` does, without the generic
/// method-call machinery (a field read is on the per-packet path: `ip.protocol`
/// costs what `ip.ttl` does, plus one indirect call).
///
/// # Safety
/// Called by CPython as a `descrgetfunc` of `OptionField` (the GIL held,
/// `d` an `OptionField`, `obj` and `ty` borrowed or null).
unsafe extern "C" fn descr_get(
    d: *mut ffi::PyObject,
    obj: *mut ffi::PyObject,
    ty: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let py = Python::assume_attached();
    // SAFETY: `d` is an `OptionField` (this function is only its type's slot).
    let this = Bound::from_borrowed_ptr(py, d).cast_into_unchecked::<OptionField>();
    let this = this.get();
    if obj.is_null() || obj == ffi::Py_None() {
        return this.table.clone_ref(py).into_ptr();
    }
    let f = this.field.as_ptr();
    match (*ffi::Py_TYPE(f)).tp_descr_get {
        Some(get) => get(f, obj, ty),
        None => {
            PyTypeError::new_err("field cannot be read").restore(py);
            std::ptr::null_mut()
        }
    }
}

#[pymethods]
impl OptionField {
    fn __get__(
        &self,
        py: Python<'_>,
        obj: Option<&Bound<'_, PyAny>>,
        ty: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(self.table.clone_ref(py));
        };
        let f = self.field.as_ptr();
        // SAFETY: `f` is a live descriptor; its type's `tp_descr_get` is
        // called as CPython calls it (a new reference, or null with an
        // exception set). The getset checks `obj`'s type itself.
        unsafe {
            let Some(get) = (*ffi::Py_TYPE(f)).tp_descr_get else {
                return Err(PyTypeError::new_err("field cannot be read"));
            };
            let ty = ty.map_or(std::ptr::null_mut(), |t| t.as_ptr());
            let r = get(f, obj.as_ptr(), ty);
            Bound::from_owned_ptr_or_err(py, r).map(Bound::unbind)
        }
    }

    fn __set__(&self, py: Python<'_>, obj: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.store(py, obj, value.as_ptr())
    }

    fn __delete__(&self, py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        self.store(py, obj, std::ptr::null_mut())
    }
}

impl OptionField {
    fn store(&self, py: Python<'_>, obj: &Bound<'_, PyAny>, value: *mut ffi::PyObject) -> PyResult<()> {
        let f = self.field.as_ptr();
        // SAFETY: as in `__get__`: the descriptor's own slot, called as
        // CPython calls it (0, or -1 with an exception set).
        unsafe {
            let Some(set) = (*ffi::Py_TYPE(f)).tp_descr_set else {
                return Err(PyTypeError::new_err("field cannot be set"));
            };
            if set(f, obj.as_ptr(), value) < 0 {
                return Err(PyErr::fetch(py));
            }
        }
        Ok(())
    }
}

/// The fields with named values: class, field, the class attribute holding
/// its table.
const FIELDS: &[(&str, &str, &str)] = &[
    ("Ethernet", "etype", "TypeOptions"),
    ("VLAN", "etype", "TypeOptions"),
    ("SLL", "protocol", "TypeOptions"),
    ("SLL2", "protocol", "TypeOptions"),
    ("Loopback", "addressFamily", "AFOptions"),
    ("PF", "safamily", "SAFamilyOptions"),
    ("PF", "action", "ActionOptions"),
    ("PF", "reason", "ReasonOptions"),
    ("PF", "direction", "DirectionOptions"),
    ("PFOld", "safamily", "SAFamilyOptions"),
    ("PFOld", "action", "ActionOptions"),
    ("PFOld", "reason", "ReasonOptions"),
    ("PFOld", "direction", "DirectionOptions"),
    ("Enc", "addressFamily", "AFOptions"),
    ("Enc", "flags", "FlagsOptions"),
    ("IP", "flags", "FlagsOptions"),
    ("IP", "protocol", "ProtocolOptions"),
    ("IPv6", "nextheader", "ProtocolOptions"),
    ("AH", "nextheader", "ProtocolOptions"),
    ("IPOption", "optionType", "TypeOptions"),
    ("IPOptionInternetTimestamp", "flag", "FlagOptions"),
    ("ICMP", "itype", "TypeOptions"),
    ("ICMPEchoReply", "code", "CodeOptions"),
    ("ICMPDestinationUnreachable", "code", "CodeOptions"),
    ("ICMPSourceQuench", "code", "CodeOptions"),
    ("ICMPRedirect", "code", "CodeOptions"),
    ("ICMPEchoRequest", "code", "CodeOptions"),
    ("ICMPRouterAdvertisement", "code", "CodeOptions"),
    ("ICMPRouterSolicitation", "code", "CodeOptions"),
    ("ICMPTimeExceeded", "code", "CodeOptions"),
    ("ICMPParameterProblem", "code", "CodeOptions"),
    ("ICMPTimestampRequest", "code", "CodeOptions"),
    ("ICMPTimestampReply", "code", "CodeOptions"),
    ("ICMPInformationRequest", "code", "CodeOptions"),
    ("ICMPInformationReply", "code", "CodeOptions"),
    ("ICMPAddressMaskRequest", "code", "CodeOptions"),
    ("ICMPAddressMaskReply", "code", "CodeOptions"),
    ("ICMP6", "icmp6type", "TypeOptions"),
    ("ICMP6NeighbourAdvertisement", "flags", "FlagsOptions"),
    ("TCP", "flags", "FlagsOptions"),
    ("DHCP", "op", "OpOptions"),
    ("DHCP", "flags", "FlagsOptions"),
    ("ARP", "opcode", "OpcodeOptions"),
    ("IGMP", "itype", "TypeOptions"),
];

/// The field's own descriptor: the first definition of `field` along the
/// class's MRO, seen through a wrapper already installed on a base.
fn own_descriptor<'py>(cls: &Bound<'py, PyType>, field: &str) -> PyResult<Bound<'py, PyAny>> {
    for base in cls.mro().iter() {
        let d = base.getattr("__dict__")?;
        if let Ok(v) = d.get_item(field) {
            return match v.cast::<OptionField>() {
                Ok(w) => Ok(w.get().field.bind(cls.py()).clone()),
                Err(_) => Ok(v),
            };
        }
    }
    Err(PyTypeError::new_err(format!("{} has no field {field}", cls.name()?)))
}

/// Wraps every field of [`FIELDS`] in the module's classes, and gives each
/// table its legacy private name too (`TCP._FlagsOptions`).
pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    for (class, field, table_attr) in FIELDS {
        let cls = m.getattr(*class)?.cast_into::<PyType>()?;
        let table = cls.getattr(*table_attr)?;
        let own = own_descriptor(&cls, field)?;
        let wrapper = Bound::new(py, OptionField { field: own.unbind(), table: table.clone().unbind() })?;
        cls.setattr(*field, wrapper)?;
        cls.setattr(format!("_{table_attr}"), table)?;
    }
    Ok(())
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Options>()?;
    m.add_class::<OptionField>()?;
    let tp = <OptionField as pyo3::PyTypeInfo>::type_object_raw(m.py());
    // SAFETY: our own heap type, made ready just above, with no instance
    // yet; the slot does what the `__get__` method does (see `descr_get`).
    unsafe {
        (*tp).tp_descr_get = Some(descr_get);
        ffi::PyType_Modified(tp);
    }
    Ok(())
}
