//! The camera's one feature table: it lays out the register map, dispatches
//! register reads and writes to the firmware, and generates the GenICam XML.
//!
//! Every feature of [`table`] gets a register block (one value per selector
//! index, reached through `pIndex`). Features whose range, availability or
//! lock the firmware computes at run time get small read-only helper
//! registers (`<Name>_Min`, `_Max`, `_Inc`, `_Avail`, `_Locked`, and
//! `<Name>_<Entry>_Avail` for conditional enumeration entries) that the XML
//! points to with `pMin`, `pMax`, `pInc`, `pIsAvailable` and `pIsLocked`.
//! The firmware answers all of them through [`Backend`], so the ranges a
//! GenApi client sees are the ones the firmware enforces.

mod def;
pub mod table;
mod xml;

use std::collections::{BTreeMap, HashMap};

use u3v::gencp::Status;

pub use def::{Access, Entry, FeatureDef, Kind, Limits, Visibility};
pub use xml::{generate as generate_xml, XmlIdentity};

/// Where feature registers start.
pub const FEATURE_BASE: u64 = 0x0010_0000;
/// Where the helper registers start.
pub const HELPER_BASE: u64 = 0x0080_0000;
/// The end of the feature address space.
pub const FEATURE_END: u64 = 0x0100_0000;

/// A feature's value as it crosses the register map.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Integer, enumeration (its integer value), boolean (0/1), command.
    Int(i64),
    /// Float.
    Float(f64),
    /// String.
    Str(String),
    /// Register block.
    Bytes(Vec<u8>),
}

impl Value {
    /// The integer, if the value is one (floats are not converted).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
    /// The number as f64 (integers converted).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }
}

/// What the feature registers ask of the firmware.
pub trait Backend: Send + Sync {
    /// The value of feature `id` at selector index `index`.
    fn get(&self, id: usize, index: usize) -> Result<Value, Status>;
    /// Writes the value; the table has checked its type, size, access and
    /// the feature's fixed range, and that the index exists.
    fn set(&self, id: usize, index: usize, value: Value) -> Result<(), Status>;
    /// The current range of a [`Limits::Dynamic`] feature: min, max, and the
    /// increment (integers).
    fn limits(&self, id: usize, index: usize) -> (f64, f64, i64);
    /// Whether a conditional feature is available now.
    fn available(&self, id: usize, index: usize) -> bool;
    /// Whether the feature is locked (not writable) now.
    fn locked(&self, id: usize, index: usize) -> bool;
    /// Whether a conditional enumeration entry is available now.
    fn entry_available(&self, id: usize, index: usize, entry: &str) -> bool;
}

/// What a helper register holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Helper {
    /// The minimum.
    Min,
    /// The maximum.
    Max,
    /// The increment.
    Inc,
    /// Availability (0/1).
    Available,
    /// Lock (0/1).
    Locked,
    /// Availability of an entry (0/1).
    EntryAvailable(&'static str),
}

impl Helper {
    /// The suffix of the register's node name.
    pub fn suffix(&self) -> String {
        match self {
            Helper::Min => "_Min".into(),
            Helper::Max => "_Max".into(),
            Helper::Inc => "_Inc".into(),
            Helper::Available => "_Avail".into(),
            Helper::Locked => "_Locked".into(),
            Helper::EntryAvailable(e) => format!("_{e}_Avail"),
        }
    }
}

/// One helper register block (one 8-byte value per selector index).
#[derive(Debug, Clone, PartialEq)]
pub struct HelperReg {
    /// The feature it serves.
    pub feature: usize,
    /// What it holds.
    pub helper: Helper,
    /// Address of the first value.
    pub address: u64,
    /// Whether it holds a float (the range of a float feature).
    pub float: bool,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Feature(usize),
    Helper(usize),
}

/// The laid-out feature table.
#[derive(Debug, Clone)]
pub struct FeatureTable {
    defs: Vec<FeatureDef>,
    helpers: Vec<HelperReg>,
    by_name: HashMap<&'static str, usize>,
    by_address: BTreeMap<u64, Slot>,
}

/// Why a table could not be built (a bug in the table, reported by tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Two features share a name.
    #[error("feature {0} is defined twice")]
    Duplicate(&'static str),
    /// A feature names a selector that is not in the table.
    #[error("feature {feature} is selected by {selector}, which is not a feature")]
    UnknownSelector {
        /// The feature.
        feature: &'static str,
        /// Its selector.
        selector: &'static str,
    },
    /// The registers do not fit the address space.
    #[error("the feature registers overflow the address space")]
    Overflow,
}

fn align8(a: u64) -> u64 {
    (a + 7) & !7
}

impl FeatureTable {
    /// Lays out `defs`: assigns addresses and helper registers.
    pub fn new(mut defs: Vec<FeatureDef>) -> Result<FeatureTable, TableError> {
        let mut by_name = HashMap::new();
        for (i, d) in defs.iter().enumerate() {
            if by_name.insert(d.name, i).is_some() {
                return Err(TableError::Duplicate(d.name));
            }
        }
        for d in &defs {
            if let Some(s) = d.selector {
                if !by_name.contains_key(s) {
                    return Err(TableError::UnknownSelector {
                        feature: d.name,
                        selector: s,
                    });
                }
            }
        }
        let mut by_address = BTreeMap::new();
        let mut helpers = Vec::new();
        let mut next = FEATURE_BASE;
        let mut next_helper = HELPER_BASE;
        for (i, d) in defs.iter_mut().enumerate() {
            if d.chunk_id.is_some() {
                continue;
            }
            d.address = next;
            by_address.insert(next, Slot::Feature(i));
            next = align8(next + d.span());
            let float = d.kind == Kind::Float;
            let mut wanted = Vec::new();
            if d.limits == Limits::Dynamic {
                wanted.push(Helper::Min);
                wanted.push(Helper::Max);
                if !float {
                    wanted.push(Helper::Inc);
                }
            }
            if d.conditional {
                wanted.push(Helper::Available);
            }
            if d.access.writable() {
                wanted.push(Helper::Locked);
            }
            if let Kind::Enumeration(entries) = &d.kind {
                for e in entries.iter().filter(|e| e.conditional) {
                    wanted.push(Helper::EntryAvailable(e.name));
                }
            }
            for helper in wanted {
                let is_range = matches!(helper, Helper::Min | Helper::Max);
                let h = HelperReg {
                    feature: i,
                    helper,
                    address: next_helper,
                    float: float && is_range,
                };
                by_address.insert(next_helper, Slot::Helper(helpers.len()));
                helpers.push(h);
                next_helper += 8 * d.count as u64;
            }
        }
        if next > HELPER_BASE || next_helper > FEATURE_END {
            return Err(TableError::Overflow);
        }
        Ok(FeatureTable {
            defs,
            helpers,
            by_name,
            by_address,
        })
    }

    /// Every feature, in table order.
    pub fn defs(&self) -> &[FeatureDef] {
        &self.defs
    }

    /// Every helper register.
    pub fn helpers(&self) -> &[HelperReg] {
        &self.helpers
    }

    /// The index of the feature called `name`.
    pub fn id(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The feature called `name`.
    pub fn def(&self, name: &str) -> Option<&FeatureDef> {
        self.id(name).and_then(|i| self.defs.get(i))
    }

    /// The helper registers of feature `id`.
    pub fn helpers_of(&self, id: usize) -> impl Iterator<Item = &HelperReg> {
        self.helpers.iter().filter(move |h| h.feature == id)
    }

    fn locate(&self, address: u64, len: usize) -> Option<(Slot, usize, usize)> {
        let (&start, &slot) = self.by_address.range(..=address).next_back()?;
        let (stride, count) = match slot {
            Slot::Feature(i) => {
                let d = self.defs.get(i)?;
                (d.stride(), d.count)
            }
            Slot::Helper(h) => {
                let hr = self.helpers.get(h)?;
                (8, self.defs.get(hr.feature)?.count)
            }
        };
        if stride == 0 {
            return None;
        }
        let rel = address - start;
        let index = usize::try_from(rel / stride).ok()?;
        let offset = usize::try_from(rel % stride).ok()?;
        if index >= count || offset + len > stride as usize {
            return None;
        }
        Some((slot, index, offset))
    }

    /// Whether `address` belongs to the feature registers.
    pub fn contains(&self, address: u64) -> bool {
        (FEATURE_BASE..FEATURE_END).contains(&address)
    }

    /// Serves a register read of `buf.len()` bytes at `address`.
    pub fn read(&self, backend: &dyn Backend, address: u64, buf: &mut [u8]) -> Result<(), Status> {
        let (slot, index, offset) = self
            .locate(address, buf.len())
            .ok_or(Status::INVALID_ADDRESS)?;
        let bytes = match slot {
            Slot::Feature(i) => {
                let d = self.defs.get(i).ok_or(Status::INVALID_ADDRESS)?;
                if !d.access.readable() {
                    return Err(Status::ACCESS_DENIED);
                }
                encode(d, &backend.get(i, index)?)?
            }
            Slot::Helper(h) => {
                let hr = self.helpers.get(h).ok_or(Status::INVALID_ADDRESS)?;
                let (min, max, inc) = match hr.helper {
                    Helper::Min | Helper::Max | Helper::Inc => backend.limits(hr.feature, index),
                    _ => (0.0, 0.0, 0),
                };
                let v: Value = match &hr.helper {
                    Helper::Min if hr.float => Value::Float(min),
                    Helper::Max if hr.float => Value::Float(max),
                    Helper::Min => Value::Int(min as i64),
                    Helper::Max => Value::Int(max as i64),
                    Helper::Inc => Value::Int(inc.max(1)),
                    Helper::Available => Value::Int(backend.available(hr.feature, index) as i64),
                    Helper::Locked => Value::Int(backend.locked(hr.feature, index) as i64),
                    Helper::EntryAvailable(e) => {
                        Value::Int(backend.entry_available(hr.feature, index, e) as i64)
                    }
                };
                match v {
                    Value::Float(f) => f.to_le_bytes().to_vec(),
                    Value::Int(i) => i.to_le_bytes().to_vec(),
                    _ => return Err(Status::ERROR),
                }
            }
        };
        let src = bytes
            .get(offset..offset + buf.len())
            .ok_or(Status::INVALID_ADDRESS)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Serves a register write at `address`: numeric values must be
    /// written whole; strings and register blocks from their start.
    pub fn write(&self, backend: &dyn Backend, address: u64, data: &[u8]) -> Result<(), Status> {
        let (slot, index, offset) = self
            .locate(address, data.len())
            .ok_or(Status::INVALID_ADDRESS)?;
        let Slot::Feature(i) = slot else {
            return Err(Status::WRITE_PROTECT);
        };
        let d = self.defs.get(i).ok_or(Status::INVALID_ADDRESS)?;
        if !d.access.writable() {
            return Err(Status::WRITE_PROTECT);
        }
        if d.conditional && !backend.available(i, index) {
            return Err(Status::ACCESS_DENIED);
        }
        if backend.locked(i, index) {
            return Err(Status::ACCESS_DENIED);
        }
        let value = match d.kind {
            // A block longer than one command arrives in pieces (the host
            // splits it by the transfer limits): each piece patches the
            // current contents.
            Kind::Register(len) if offset != 0 || data.len() != len => {
                let mut bytes = encode(d, &backend.get(i, index)?)?;
                let dst = bytes
                    .get_mut(offset..offset + data.len())
                    .ok_or(Status::INVALID_ADDRESS)?;
                dst.copy_from_slice(data);
                Value::Bytes(bytes)
            }
            _ if offset != 0 => return Err(Status::INVALID_PARAMETER),
            _ => decode(d, data)?,
        };
        check_value(d, &value, backend, i, index)?;
        backend.set(i, index, value)
    }
}

/// The register bytes of `value` for feature `d`.
fn encode(d: &FeatureDef, value: &Value) -> Result<Vec<u8>, Status> {
    let len = d.kind.register_len();
    Ok(match (&d.kind, value) {
        (Kind::Float, v) => v.as_f64().ok_or(Status::ERROR)?.to_le_bytes().to_vec(),
        (Kind::Integer, Value::Int(v)) => v.to_le_bytes().to_vec(),
        (Kind::Enumeration(_) | Kind::Boolean | Kind::Command, Value::Int(v)) => {
            (*v as i32).to_le_bytes().to_vec()
        }
        (Kind::String(_), Value::Str(s)) => {
            let mut b = s.as_bytes().to_vec();
            b.truncate(len.saturating_sub(1));
            b.resize(len, 0);
            b
        }
        (Kind::Register(_), Value::Bytes(bytes)) => {
            let mut b = bytes.clone();
            b.resize(len, 0);
            b
        }
        _ => return Err(Status::ERROR),
    })
}

/// The value written as `data` to feature `d`.
fn decode(d: &FeatureDef, data: &[u8]) -> Result<Value, Status> {
    let exact = |n: usize| {
        if data.len() == n {
            Ok(())
        } else {
            Err(Status::INVALID_PARAMETER)
        }
    };
    Ok(match &d.kind {
        Kind::Float => {
            exact(8)?;
            let v = f64::from_le_bytes(data.try_into().map_err(|_| Status::INVALID_PARAMETER)?);
            if !v.is_finite() {
                return Err(Status::INVALID_PARAMETER);
            }
            Value::Float(v)
        }
        Kind::Integer => {
            exact(8)?;
            Value::Int(i64::from_le_bytes(
                data.try_into().map_err(|_| Status::INVALID_PARAMETER)?,
            ))
        }
        Kind::Enumeration(_) | Kind::Boolean | Kind::Command => {
            exact(4)?;
            Value::Int(i64::from(i32::from_le_bytes(
                data.try_into().map_err(|_| Status::INVALID_PARAMETER)?,
            )))
        }
        Kind::String(n) => {
            if data.len() > *n {
                return Err(Status::INVALID_PARAMETER);
            }
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            let s = std::str::from_utf8(data.get(..end).unwrap_or_default())
                .map_err(|_| Status::INVALID_PARAMETER)?;
            if s.len() >= *n {
                return Err(Status::INVALID_PARAMETER);
            }
            Value::Str(s.to_owned())
        }
        Kind::Register(n) => {
            if data.len() > *n {
                return Err(Status::INVALID_PARAMETER);
            }
            Value::Bytes(data.to_vec())
        }
    })
}

/// Checks a written value against the feature's type rules and range.
fn check_value(
    d: &FeatureDef,
    value: &Value,
    backend: &dyn Backend,
    id: usize,
    index: usize,
) -> Result<(), Status> {
    match (&d.kind, value) {
        (Kind::Enumeration(entries), Value::Int(v)) => {
            let e = entries
                .iter()
                .find(|e| e.value == *v)
                .ok_or(Status::INVALID_PARAMETER)?;
            if e.conditional && !backend.entry_available(id, index, e.name) {
                return Err(Status::INVALID_PARAMETER);
            }
            Ok(())
        }
        (Kind::Boolean, Value::Int(v)) if *v == 0 || *v == 1 => Ok(()),
        (Kind::Command, Value::Int(1)) => Ok(()),
        (Kind::Boolean | Kind::Command, _) => Err(Status::INVALID_PARAMETER),
        (Kind::Integer | Kind::Float, v) => {
            let x = v.as_f64().ok_or(Status::INVALID_PARAMETER)?;
            let (min, max, inc) = match d.limits {
                Limits::Fixed { min, max, inc } => (min, max, inc),
                Limits::Dynamic => backend.limits(id, index),
                Limits::None => return Ok(()),
            };
            if x < min || x > max {
                return Err(Status::INVALID_PARAMETER);
            }
            if let (Kind::Integer, Value::Int(i)) = (&d.kind, v) {
                if inc > 1 && (i - min as i64).rem_euclid(inc) != 0 {
                    return Err(Status::INVALID_PARAMETER);
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
