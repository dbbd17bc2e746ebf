//! Evaluation: access modes, values and ranges of nodes, with caching.
//!
//! Every value read checks the node's access mode first, as the reference
//! does, so a formula whose variable is not readable fails instead of
//! computing with a stale value.

use crate::access::{AccessMode, Cachable, Endianness, Slope};
use crate::error::{Error, Result};
use crate::formula::{Mode, Num};
use crate::node::{
    AddrPart, ConverterDef, Expr, Initial, Kind, NodeId, NumRef, RegDef, ValueSrc, VarSrc,
};
use crate::nodemap::NodeMap;
use std::sync::Arc;

/// How deep node references may nest before evaluation gives up.
const MAX_DEPTH: u32 = 128;
/// The longest register the engine reads or writes.
const MAX_REGISTER: i64 = 1 << 24;

/// The changeable state of one node.
#[derive(Debug, Clone, Default)]
pub(crate) struct State {
    /// The value of a node that holds its own value.
    pub own: Initial,
    /// Cached register bytes.
    pub bytes: Option<Vec<u8>>,
    /// Cached value of a derived node.
    pub num: Option<Num>,
    /// Cached access mode.
    pub access: Option<AccessMode>,
    /// Time since the node was last refreshed, for PollingTime.
    pub since_poll_ms: u64,
    /// Set while the access mode is being computed, to break cycles.
    pub access_busy: bool,
}

pub(crate) fn num_to_i64(n: Num) -> i64 {
    match n {
        Num::Int(i) => i,
        Num::Float(f) => float_to_i64(f),
    }
}

pub(crate) fn num_to_f64(n: Num) -> f64 {
    match n {
        Num::Int(i) => i as f64,
        Num::Float(f) => f,
    }
}

/// Rounds a float to the nearest integer, saturating.
pub(crate) fn float_to_i64(f: f64) -> i64 {
    if f.is_nan() {
        0
    } else {
        f.round() as i64
    }
}

impl NodeMap {
    pub(crate) fn name(&self, id: NodeId) -> &str {
        &self.nodes[id as usize].name
    }

    /// Counts one more level of nested evaluation; refuses past `MAX_DEPTH`.
    pub(crate) fn enter(&mut self, id: NodeId) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(Error::Recursion(self.name(id).to_string()));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// The access mode of a node now.
    pub(crate) fn access(&mut self, id: NodeId) -> Result<AccessMode> {
        if let Some(a) = self.state[id as usize].access {
            return Ok(a);
        }
        if self.state[id as usize].access_busy {
            // A node whose access depends on itself: as the reference does, the
            // inner question is answered RW and the outer one decides.
            return Ok(AccessMode::RW);
        }
        self.enter(id)?;
        self.state[id as usize].access_busy = true;
        let r = self.compute_access(id);
        if r.is_ok() || matches!(self.nodes[id as usize].kind, Kind::Category { .. }) {
            // On an error the mark stays (but on a category), as in the reference:
            // until the node is invalidated, its access mode then reads as RW.
            self.state[id as usize].access_busy = false;
        }
        self.leave();
        let a = r?;
        if self.cacheable[id as usize] {
            self.state[id as usize].access = Some(a);
        }
        Ok(a)
    }

    fn compute_access(&mut self, id: NodeId) -> Result<AccessMode> {
        let i = id as usize;
        // As in the reference, the node's own access (what it reads, its
        // features for a category) is found first, then pIsImplemented,
        // pIsAvailable and pIsLocked; an error anywhere surfaces.
        let category = matches!(self.nodes[i].kind, Kind::Category { .. });
        let mut base = if category {
            self.category_access(id)?
        } else {
            self.base_access(id)?
        };
        for k in 0..self.nodes[i].is_implemented.len() {
            let n = self.nodes[i].is_implemented[k];
            match self.condition(n)? {
                Ok(true) => {}
                Ok(false) => return Ok(AccessMode::NI),
                Err(a) => return Ok(base.combine(a)),
            }
        }
        if category {
            // A category ignores pIsAvailable and ImposedAccessMode.
            return Ok(base);
        }
        for k in 0..self.nodes[i].is_available.len() {
            let n = self.nodes[i].is_available[k];
            match self.condition(n)? {
                Ok(true) => {}
                Ok(false) => return Ok(base.combine(AccessMode::NA)),
                Err(a) => return Ok(base.combine(a)),
            }
        }
        for k in 0..self.nodes[i].is_locked.len() {
            let n = self.nodes[i].is_locked[k];
            match self.condition(n)? {
                Ok(false) => {}
                Ok(true) => {
                    base = base.combine(AccessMode::RO);
                    break;
                }
                Err(a) => return Ok(base.combine(a)),
            }
        }
        if let Some(imposed) = self.nodes[i].imposed {
            base = base.combine(imposed);
        }
        Ok(base)
    }

    /// Evaluates a pIsImplemented / pIsAvailable / pIsLocked node: its truth, or,
    /// when it cannot be read, the access mode that gives the node (NI when the
    /// condition is not implemented, NA otherwise).
    fn condition(&mut self, n: NodeId) -> Result<std::result::Result<bool, AccessMode>> {
        let a = self.access(n)?;
        if !a.is_readable() {
            return Ok(Err(if a == AccessMode::NI {
                AccessMode::NI
            } else {
                AccessMode::NA
            }));
        }
        self.truth(n).map(Ok)
    }

    fn category_access(&mut self, id: NodeId) -> Result<AccessMode> {
        let nodes = Arc::clone(&self.nodes);
        let Kind::Category { features } = &nodes[id as usize].kind else {
            return Ok(AccessMode::RO);
        };
        for &f in features {
            if self.access(f)? != AccessMode::NI {
                return Ok(AccessMode::RO);
            }
        }
        Ok(AccessMode::NI)
    }

    /// How nodes a value depends on restrict it: NI if any is NI, else NA if any is NA.
    fn deps_access(&mut self, deps: &[NodeId]) -> Result<Option<AccessMode>> {
        let mut worst = None;
        for &d in deps {
            match self.access(d)? {
                AccessMode::NI => return Ok(Some(AccessMode::NI)),
                AccessMode::NA => worst = Some(AccessMode::NA),
                _ => {}
            }
        }
        Ok(worst)
    }

    fn num_deps(out: &mut Vec<NodeId>, refs: &[Option<NumRef>]) {
        for r in refs.iter().flatten() {
            if let NumRef::Node(n) = r {
                out.push(*n);
            }
        }
    }

    fn expr_deps(out: &mut Vec<NodeId>, e: &Expr) {
        out.extend(&e.declared);
    }

    fn src_access(&mut self, src: &ValueSrc) -> Result<AccessMode> {
        match src {
            ValueSrc::Own => Ok(AccessMode::RW),
            ValueSrc::Node(n) => self.access(*n),
            ValueSrc::Indexed { index, .. } => {
                if let Some(a) = self.deps_access(&[*index])? {
                    return Ok(a);
                }
                match self.indexed_case(src)? {
                    NumRef::Node(n) => self.access(n),
                    _ => Ok(AccessMode::RW),
                }
            }
        }
    }

    fn base_access(&mut self, id: NodeId) -> Result<AccessMode> {
        let nodes = Arc::clone(&self.nodes);
        let kind = &nodes[id as usize].kind;
        let mut deps = Vec::new();
        let base = match &kind {
            Kind::Integer(d) | Kind::Float(d) => {
                Self::num_deps(&mut deps, &[d.min, d.max, d.inc]);
                self.src_access(&d.value)?
            }
            Kind::Boolean { value, .. } | Kind::String { value, .. } => self.src_access(value)?,
            Kind::Command { value, command } => {
                Self::num_deps(&mut deps, &[Some(*command)]);
                self.src_access(value)?
            }
            Kind::Enumeration { value, entries } => {
                let a = self.src_access(value)?;
                // None of the entries can be chosen: NI when all are NI, NA otherwise.
                let mut all_ni = true;
                let mut any = false;
                for &e in entries {
                    let ea = self.access(e)?;
                    any |= ea.is_readable();
                    all_ni &= ea == AccessMode::NI;
                }
                match (any, all_ni) {
                    (true, _) => a,
                    (false, true) => AccessMode::NI,
                    (false, false) => a.combine(AccessMode::NA),
                }
            }
            Kind::IntReg(d) => self.reg_access(&d.reg, &mut deps),
            Kind::FloatReg { reg, .. } | Kind::StringReg(reg) | Kind::Register(reg) => {
                self.reg_access(reg, &mut deps)
            }
            Kind::IntSwissKnife { expr, .. } | Kind::SwissKnife { expr, .. } => {
                Self::expr_deps(&mut deps, expr);
                AccessMode::RO
            }
            Kind::IntConverter(c) | Kind::Converter(c) => {
                Self::expr_deps(&mut deps, &c.to);
                Self::expr_deps(&mut deps, &c.from);
                self.access(c.value)?
            }
            Kind::Category { .. } | Kind::EnumEntry { .. } => AccessMode::RO,
            Kind::ConfKey { rom, .. } => self.access(*rom)?.combine(AccessMode::RO),
            Kind::Port { chunk_id, .. } => match self.port_index(id) {
                Some(_) => AccessMode::RW,
                // Not connected: a chunk port waits for a buffer (NA); any other is absent (NI).
                None if chunk_id.is_some() => AccessMode::NA,
                None => AccessMode::NI,
            },
            Kind::Base | Kind::Placeholder => AccessMode::RW,
        };
        Ok(match self.deps_access(&deps)? {
            Some(worse) => base.combine(worse),
            None => base,
        })
    }

    fn reg_access(&self, reg: &RegDef, deps: &mut Vec<NodeId>) -> AccessMode {
        for a in &reg.address {
            match a {
                AddrPart::Const(_) => {}
                AddrPart::Node(n) => deps.push(*n),
                AddrPart::Indexed { index, offset } => {
                    deps.push(*index);
                    Self::num_deps(deps, &[Some(*offset)]);
                }
            }
        }
        Self::num_deps(deps, &[Some(reg.length)]);
        match reg.port {
            Some(p) => {
                deps.push(p);
                reg.access
            }
            None => AccessMode::NI,
        }
    }

    /// Whether a pIsImplemented / pIsAvailable / pIsLocked node says yes.
    fn truth(&mut self, id: NodeId) -> Result<bool> {
        if let Kind::Boolean { .. } = self.nodes[id as usize].kind {
            return self.boolean_value(id);
        }
        Ok(num_to_i64(self.value(id)?) != 0)
    }

    pub(crate) fn check_readable(&mut self, id: NodeId) -> Result<()> {
        let a = self.access(id)?;
        if a.is_readable() {
            Ok(())
        } else {
            Err(Error::NotReadable {
                name: self.name(id).to_string(),
                access: a,
            })
        }
    }

    pub(crate) fn check_writable(&mut self, id: NodeId) -> Result<()> {
        let a = self.access(id)?;
        if a.is_writable() {
            Ok(())
        } else {
            Err(Error::NotWritable {
                name: self.name(id).to_string(),
                access: a,
            })
        }
    }

    /// The value of a node as a number, after checking it is readable.
    pub(crate) fn value(&mut self, id: NodeId) -> Result<Num> {
        // The access mode is checked even for a cached value: it may have
        // changed without the value changing.
        self.check_readable(id)?;
        if let Some(v) = self.state[id as usize].num {
            return Ok(v);
        }
        self.enter(id)?;
        let r = self.compute_value(id);
        self.leave();
        let v = r?;
        if self.cacheable[id as usize] {
            self.state[id as usize].num = Some(v);
        }
        Ok(v)
    }

    fn num_ref(&mut self, r: NumRef) -> Result<Num> {
        match r {
            NumRef::Int(i) => Ok(Num::Int(i)),
            NumRef::Float(f) => Ok(Num::Float(f)),
            NumRef::Node(n) => self.value(n),
        }
    }

    fn indexed_case(&mut self, src: &ValueSrc) -> Result<NumRef> {
        let ValueSrc::Indexed {
            index,
            cases,
            default,
        } = src
        else {
            return Ok(NumRef::Int(0));
        };
        let idx = num_to_i64(self.value(*index)?);
        if let Some((_, c)) = cases.iter().find(|(k, _)| *k == idx) {
            return Ok(*c);
        }
        match default {
            Some(d) => Ok(*d),
            None => Err(Error::BadRegister {
                name: self.name(*index).to_string(),
                reason: format!("index {idx} selects no value and there is no default"),
            }),
        }
    }

    fn src_value(&mut self, id: NodeId, src: &ValueSrc) -> Result<Num> {
        match src {
            ValueSrc::Own => Ok(match &self.state[id as usize].own {
                Initial::Int(i) => Num::Int(*i),
                Initial::Float(f) => Num::Float(*f),
                _ => Num::Int(0),
            }),
            ValueSrc::Node(n) => {
                let n = *n;
                if let Kind::Boolean { .. } = self.nodes[n as usize].kind {
                    return Ok(Num::Int(self.boolean_value(n)? as i64));
                }
                self.value(n)
            }
            ValueSrc::Indexed { .. } => {
                let c = self.indexed_case(src)?;
                self.num_ref(c)
            }
        }
    }

    fn compute_value(&mut self, id: NodeId) -> Result<Num> {
        let nodes = Arc::clone(&self.nodes);
        let kind = &nodes[id as usize].kind;
        match kind {
            Kind::Integer(d) => Ok(Num::Int(num_to_i64(self.src_value(id, &d.value)?))),
            Kind::Float(d) => Ok(Num::Float(num_to_f64(self.src_value(id, &d.value)?))),
            Kind::Enumeration { value, entries } => {
                let v = num_to_i64(self.src_value(id, value)?);
                let known = entries.iter().any(|&e| matches!(self.nodes[e as usize].kind, Kind::EnumEntry { value, .. } if value == v));
                if known {
                    Ok(Num::Int(v))
                } else {
                    Err(Error::NoEntryForValue {
                        name: self.name(id).to_string(),
                        value: v,
                    })
                }
            }
            Kind::Boolean { value, .. } | Kind::Command { value, .. } => {
                Ok(Num::Int(num_to_i64(self.src_value(id, value)?)))
            }
            Kind::IntReg(_) => self.int_reg_value(id).map(Num::Int),
            Kind::FloatReg { .. } => self.float_reg_value(id).map(Num::Float),
            Kind::IntSwissKnife { expr, .. } => self.eval_expr(id, expr, Mode::Int, None),
            Kind::SwissKnife { expr, .. } => self.eval_expr(id, expr, Mode::Float, None),
            Kind::IntConverter(c) | Kind::Converter(c) => {
                let mode = if matches!(kind, Kind::IntConverter(_)) {
                    Mode::Int
                } else {
                    Mode::Float
                };
                let x = self.value(c.value)?;
                self.eval_expr(id, &c.from, mode, Some(x))
            }
            Kind::EnumEntry { value, .. } => Ok(Num::Int(*value)),
            Kind::ConfKey {
                rom,
                key,
                text: false,
            } => {
                let (rom, key) = (*rom, *key);
                let bytes = self.reg_bytes(rom)?;
                rom_entry(&bytes, key)
                    .map(|(_, v)| Num::Int(i64::from(v)))
                    .ok_or_else(|| Error::BadRegister {
                        name: self.name(id).to_string(),
                        reason: format!("the configuration ROM has no key {key:#04x}"),
                    })
            }
            _ => Err(Error::WrongType {
                name: self.name(id).to_string(),
                expected: "a node with a numeric value",
                actual: kind.element(),
            }),
        }
    }

    pub(crate) fn eval_expr(
        &mut self,
        id: NodeId,
        expr: &Expr,
        mode: Mode,
        converted: Option<Num>,
    ) -> Result<Num> {
        let mut vars = [Num::Int(0); 8];
        let mut heap;
        let slots: &mut [Num] = if expr.vars.len() <= vars.len() {
            &mut vars[..expr.vars.len()]
        } else {
            heap = vec![Num::Int(0); expr.vars.len()];
            &mut heap[..]
        };
        for (k, v) in expr.vars.iter().enumerate() {
            slots[k] = match *v {
                VarSrc::Value(n) => self.var_value(n)?,
                VarSrc::Min(n) => self.min(n)?,
                VarSrc::Max(n) => self.max(n)?,
                VarSrc::Inc(n) => self.inc(n)?,
                VarSrc::Entry(_, e) => self.value(e)?,
                VarSrc::Converted => converted.unwrap_or(Num::Int(0)),
            };
        }
        for &n in &expr.unused {
            let v = self.var_value(n)?;
            if mode == Mode::Int {
                self.to_int(id, v)?;
            }
        }
        expr.formula.eval(mode, slots).map_err(|e| Error::Formula {
            name: self.name(id).to_string(),
            source: e,
        })
    }

    /// The value of a formula variable (a Boolean counts as 0 or 1).
    fn var_value(&mut self, n: NodeId) -> Result<Num> {
        if let Kind::Boolean { .. } = self.nodes[n as usize].kind {
            return Ok(Num::Int(self.boolean_value(n)? as i64));
        }
        self.value(n)
    }

    pub(crate) fn boolean_value(&mut self, id: NodeId) -> Result<bool> {
        let raw = num_to_i64(self.value(id)?);
        let Kind::Boolean { on, off, .. } = self.nodes[id as usize].kind else {
            return Ok(raw != 0);
        };
        if raw == on {
            Ok(true)
        } else if raw == off {
            Ok(false)
        } else {
            Err(Error::NotBoolean {
                name: self.name(id).to_string(),
                value: raw,
            })
        }
    }

    // ----- ranges -----

    /// The minimum of an Integer or Float node.
    pub(crate) fn min(&mut self, id: NodeId) -> Result<Num> {
        self.bound(id, Bound::Min)
    }

    /// The maximum of an Integer or Float node.
    pub(crate) fn max(&mut self, id: NodeId) -> Result<Num> {
        self.bound(id, Bound::Max)
    }

    /// The increment of an Integer (or Float) node.
    pub(crate) fn inc(&mut self, id: NodeId) -> Result<Num> {
        self.bound(id, Bound::Inc)
    }

    fn bound(&mut self, id: NodeId, b: Bound) -> Result<Num> {
        self.enter(id)?;
        let r = self.compute_bound(id, b);
        self.leave();
        r
    }

    fn compute_bound(&mut self, id: NodeId, b: Bound) -> Result<Num> {
        let nodes = Arc::clone(&self.nodes);
        let kind = &nodes[id as usize].kind;
        match kind {
            Kind::Integer(d) => {
                let (given, src, copies) = (b.pick(d.min, d.max, d.inc), &d.value, &d.copies);
                let v = match given {
                    Some(r) => self.num_ref(r)?,
                    None => match self.src_node(src)? {
                        Some(n)
                            if self.has_range(n)
                                && !(matches!(b, Bound::Inc)
                                    && self.nodes[n as usize].kind.interface()
                                        != crate::node::Interface::Integer) =>
                        {
                            self.bound(n, b)?
                        }
                        _ => Num::Int(b.int_default()),
                    },
                };
                let mut v = self.to_int(id, v)?;
                if given.is_none() {
                    // The range is where every copy can follow.
                    for &c in copies {
                        if !self.has_range(c) {
                            continue;
                        }
                        let cv = self.bound(c, b)?;
                        let cv = self.to_int(id, cv)?;
                        v = match b {
                            Bound::Min => v.max(cv),
                            Bound::Max => v.min(cv),
                            Bound::Inc => v,
                        };
                    }
                }
                Ok(Num::Int(v))
            }
            Kind::Float(d) => {
                let (given, src) = (b.pick(d.min, d.max, d.inc), &d.value);
                let v = match given {
                    Some(r) => self.num_ref(r)?,
                    None => match self.src_node(src)? {
                        Some(n) if self.has_range(n) => self.bound(n, b)?,
                        _ => Num::Float(b.float_default()),
                    },
                };
                Ok(Num::Float(num_to_f64(v)))
            }
            Kind::IntReg(d) => {
                let signed = d.signed;
                let width = match d.raw_bits {
                    Some((l, m)) => i64::from(l.abs_diff(m)) + 1,
                    None => {
                        let len = d.reg.length;
                        8 * self.reg_length(id, len)?
                    }
                };
                Ok(Num::Int(int_range(width, signed, b)))
            }
            Kind::IntSwissKnife { .. } => Ok(Num::Int(b.int_default())),
            Kind::ConfKey { .. } => Ok(Num::Int(match b {
                Bound::Min => 0,
                Bound::Max => 0xFF_FFFF,
                Bound::Inc => 1,
            })),
            Kind::FloatReg { reg, .. } => {
                // A 4-byte register holds a single-precision float.
                let len = reg.length;
                let single = matches!(len, NumRef::Int(4));
                Ok(Num::Float(match (b, single) {
                    (Bound::Min, true) => -f64::from(f32::MAX),
                    (Bound::Max, true) => f64::from(f32::MAX),
                    _ => b.float_default(),
                }))
            }
            Kind::SwissKnife { .. } => Ok(Num::Float(b.float_default())),
            Kind::IntConverter(c) | Kind::Converter(c) => {
                let int = matches!(kind, Kind::IntConverter(_));
                self.converter_bound(id, c, int, b)
            }
            _ => Err(Error::WrongType {
                name: self.name(id).to_string(),
                expected: "Integer or Float",
                actual: kind.element(),
            }),
        }
    }

    /// The node a value source reads now (the selected case of an indexed source).
    fn src_node(&mut self, src: &ValueSrc) -> Result<Option<NodeId>> {
        Ok(match src {
            ValueSrc::Own => None,
            ValueSrc::Node(n) => Some(*n),
            ValueSrc::Indexed { .. } => match self.indexed_case(src)? {
                NumRef::Node(n) => Some(n),
                _ => None,
            },
        })
    }

    fn has_range(&self, n: NodeId) -> bool {
        matches!(
            self.nodes[n as usize].kind.interface(),
            crate::node::Interface::Integer | crate::node::Interface::Float
        )
    }

    /// A number as an integer, refusing floats an i64 cannot hold.
    fn to_int(&self, id: NodeId, v: Num) -> Result<i64> {
        v.to_i64().map_err(|e| Error::Formula {
            name: self.name(id).to_string(),
            source: e,
        })
    }

    fn converter_bound(
        &mut self,
        id: NodeId,
        c: &ConverterDef,
        int: bool,
        b: Bound,
    ) -> Result<Num> {
        let mode = if int { Mode::Int } else { Mode::Float };
        if let Bound::Inc = b {
            return Ok(if int { Num::Int(1) } else { Num::Float(0.0) });
        }
        // The reference gives an IntConverter without a <Slope> the range [0, 0].
        let Some(slope) = c.slope else {
            if int {
                return Ok(Num::Int(0));
            }
            return self.converter_bound(
                id,
                &ConverterDef {
                    slope: Some(Slope::Automatic),
                    ..c.clone()
                },
                int,
                b,
            );
        };
        if slope == Slope::Varying {
            return Ok(match (int, b) {
                (true, Bound::Min) => Num::Int(i64::MIN),
                (true, _) => Num::Int(i64::MAX),
                (false, Bound::Min) => Num::Float(-f64::MAX),
                (false, _) => Num::Float(f64::MAX),
            });
        }
        let lo = self.bound(c.value, Bound::Min)?;
        let hi = self.bound(c.value, Bound::Max)?;
        let a = self.eval_expr(id, &c.from, mode, Some(lo))?;
        let z = self.eval_expr(id, &c.from, mode, Some(hi))?;
        let (fa, fz) = (num_to_f64(a), num_to_f64(z));
        let (small, big) = match slope {
            Slope::Increasing => (a, z),
            Slope::Decreasing => (z, a),
            Slope::Automatic | Slope::Varying => {
                if fa <= fz {
                    (a, z)
                } else {
                    (z, a)
                }
            }
        };
        Ok(match b {
            Bound::Min => small,
            _ => big,
        })
    }

    // ----- registers -----

    pub(crate) fn reg_length(&mut self, id: NodeId, len: NumRef) -> Result<i64> {
        let l = num_to_i64(self.num_ref(len)?);
        if !(0..=MAX_REGISTER).contains(&l) {
            return Err(Error::BadRegister {
                name: self.name(id).to_string(),
                reason: format!("length {l}"),
            });
        }
        Ok(l)
    }

    pub(crate) fn reg_address(&mut self, id: NodeId) -> Result<i64> {
        let nodes = Arc::clone(&self.nodes);
        let Some(reg) = nodes[id as usize].kind.reg() else {
            return Err(Error::WrongType {
                name: self.name(id).to_string(),
                expected: "a register",
                actual: self.nodes[id as usize].kind.element(),
            });
        };
        let mut addr: i64 = 0;
        for &p in &reg.address {
            let term = match p {
                AddrPart::Const(a) => a,
                AddrPart::Node(n) => num_to_i64(self.value(n)?),
                AddrPart::Indexed { index, offset } => {
                    let i = num_to_i64(self.value(index)?);
                    let o = num_to_i64(self.num_ref(offset)?);
                    i.wrapping_mul(o)
                }
            };
            addr = addr.wrapping_add(term);
        }
        Ok(addr)
    }

    /// Reads (or takes from the cache) the bytes of a register node.
    pub(crate) fn reg_bytes(&mut self, id: NodeId) -> Result<Vec<u8>> {
        if let Some(b) = &self.state[id as usize].bytes {
            return Ok(b.clone());
        }
        let Some(reg) = self.nodes[id as usize].kind.reg() else {
            return Err(Error::WrongType {
                name: self.name(id).to_string(),
                expected: "a register",
                actual: self.nodes[id as usize].kind.element(),
            });
        };
        let (len, port, cachable) = (reg.length, reg.port, reg.cachable);
        let len = self.reg_length(id, len)? as usize;
        let addr = self.reg_address(id)?;
        let pi = self.port_of(id, port)?;
        let mut buf = vec![0u8; len];
        self.ports[pi]
            .1
            .read(addr as u64, &mut buf)
            .map_err(|e| Error::Port {
                name: self.name(id).to_string(),
                source: e,
            })?;
        if cachable != Cachable::NoCache && self.cacheable[id as usize] {
            self.state[id as usize].bytes = Some(buf.clone());
        }
        Ok(buf)
    }

    pub(crate) fn port_of(&self, id: NodeId, port: Option<NodeId>) -> Result<usize> {
        let p = port.ok_or_else(|| Error::NoPort {
            name: self.name(id).to_string(),
            port: "(none given)".into(),
        })?;
        self.port_index(p).ok_or_else(|| Error::NoPort {
            name: self.name(id).to_string(),
            port: self.name(p).to_string(),
        })
    }

    pub(crate) fn port_index(&self, port: NodeId) -> Option<usize> {
        self.ports.iter().position(|(p, _)| *p == port)
    }

    fn int_reg_value(&mut self, id: NodeId) -> Result<i64> {
        let bytes = self.reg_bytes(id)?;
        let Kind::IntReg(d) = &self.nodes[id as usize].kind else {
            return Ok(0);
        };
        decode_int(&bytes, d.endianness, d.signed, d.raw_bits).ok_or_else(|| Error::BadRegister {
            name: self.name(id).to_string(),
            reason: format!(
                "an integer register of {} bytes{}",
                bytes.len(),
                if d.raw_bits.is_some() {
                    " with these bits"
                } else {
                    ""
                }
            ),
        })
    }

    fn float_reg_value(&mut self, id: NodeId) -> Result<f64> {
        let bytes = self.reg_bytes(id)?;
        let Kind::FloatReg { endianness, .. } = &self.nodes[id as usize].kind else {
            return Ok(0.0);
        };
        decode_float(&bytes, *endianness).ok_or_else(|| Error::BadRegister {
            name: self.name(id).to_string(),
            reason: format!("a float register of {} bytes", bytes.len()),
        })
    }
}

/// Finds `key` in the root directory of an IEEE 1212 configuration ROM
/// (big-endian quadlets: bus info block, then the root directory of
/// key:8 / value:24 entries). Returns the entry's byte position and value.
pub(crate) fn rom_entry(rom: &[u8], key: u8) -> Option<(usize, u32)> {
    let quad = |i: usize| -> Option<u32> {
        let b = rom.get(i * 4..i * 4 + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let info_len = (quad(0)? >> 24) as usize;
    let root = 1 + info_len;
    let entries = (quad(root)? >> 16) as usize;
    (root + 1..=root + entries).find_map(|q| {
        let e = quad(q)?;
        ((e >> 24) as u8 == key).then_some((q * 4, e & 0xFF_FFFF))
    })
}

/// The text of a textual-descriptor leaf that the entry at `entry_pos` points to.
pub(crate) fn rom_text(rom: &[u8], entry_pos: usize, offset: u32) -> Option<Vec<u8>> {
    let leaf = entry_pos.checked_add((offset as usize).checked_mul(4)?)?;
    let header = rom.get(leaf..leaf + 4)?;
    let quads = u16::from_be_bytes([header[0], header[1]]) as usize;
    // Two quadlets of descriptor type / specifier and language, then the text.
    let text = rom.get(leaf + 12..leaf + 4 + quads * 4)?;
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    Some(text[..end].to_vec())
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    Min,
    Max,
    Inc,
}

impl Bound {
    fn pick(self, min: Option<NumRef>, max: Option<NumRef>, inc: Option<NumRef>) -> Option<NumRef> {
        match self {
            Bound::Min => min,
            Bound::Max => max,
            Bound::Inc => inc,
        }
    }
    fn int_default(self) -> i64 {
        match self {
            Bound::Min => i64::MIN,
            Bound::Max => i64::MAX,
            Bound::Inc => 1,
        }
    }
    fn float_default(self) -> f64 {
        match self {
            Bound::Min => -f64::MAX,
            Bound::Max => f64::MAX,
            Bound::Inc => 0.0,
        }
    }
}

/// The range of an integer of `width` bits.
fn int_range(width: i64, signed: bool, b: Bound) -> i64 {
    let w = width.clamp(1, 64) as u32;
    match (b, signed) {
        (Bound::Inc, _) => 1,
        (Bound::Min, false) => 0,
        (Bound::Max, false) => {
            if w >= 64 {
                i64::MAX
            } else {
                ((1u64 << w) - 1) as i64
            }
        }
        (Bound::Min, true) => {
            if w >= 64 {
                i64::MIN
            } else {
                -(1i64 << (w - 1))
            }
        }
        (Bound::Max, true) => {
            if w >= 64 {
                i64::MAX
            } else {
                (1i64 << (w - 1)) - 1
            }
        }
    }
}

/// Bit positions (from the value's LSB) of a masked register's field.
pub(crate) fn field_bits(
    len: usize,
    endianness: Endianness,
    bits: (u32, u32),
) -> Option<(u32, u32)> {
    let total = (len as u32).checked_mul(8)?;
    let (l, m) = bits;
    let (lo, hi) = match endianness {
        Endianness::Little => (l.min(m), l.max(m)),
        Endianness::Big => {
            let a = total.checked_sub(1)?.checked_sub(l)?;
            let b = total.checked_sub(1)?.checked_sub(m)?;
            (a.min(b), a.max(b))
        }
    };
    if hi >= total || hi >= 64 {
        return None;
    }
    Some((lo, hi))
}

/// The register's bytes as an unsigned 64-bit word; `None` when longer than 8 bytes.
pub(crate) fn word(bytes: &[u8], endianness: Endianness) -> Option<u64> {
    if bytes.len() > 8 || bytes.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    match endianness {
        Endianness::Little => {
            for (k, b) in bytes.iter().enumerate() {
                v |= u64::from(*b) << (8 * k);
            }
        }
        Endianness::Big => {
            for b in bytes {
                v = (v << 8) | u64::from(*b);
            }
        }
    }
    Some(v)
}

/// Decodes an IntReg or MaskedIntReg value.
pub(crate) fn decode_int(
    bytes: &[u8],
    endianness: Endianness,
    signed: bool,
    bits: Option<(u32, u32)>,
) -> Option<i64> {
    let w = word(bytes, endianness)?;
    let (lo, hi) = match bits {
        Some(b) => field_bits(bytes.len(), endianness, b)?,
        None => (0, bytes.len() as u32 * 8 - 1),
    };
    let width = hi - lo + 1;
    let field = if width >= 64 {
        w >> lo
    } else {
        (w >> lo) & ((1u64 << width) - 1)
    };
    Some(if signed && width < 64 && (field >> (width - 1)) & 1 == 1 {
        (field | !((1u64 << width) - 1)) as i64
    } else {
        field as i64
    })
}

/// Puts `value` into a register's bytes (the whole register, or the masked field).
pub(crate) fn encode_int(
    bytes: &mut [u8],
    endianness: Endianness,
    bits: Option<(u32, u32)>,
    value: i64,
) -> Option<()> {
    let len = bytes.len();
    let old = word(bytes, endianness)?;
    let (lo, hi) = match bits {
        Some(b) => field_bits(len, endianness, b)?,
        None => (0, len as u32 * 8 - 1),
    };
    let width = hi - lo + 1;
    let mask = if width >= 64 {
        u64::MAX
    } else {
        ((1u64 << width) - 1) << lo
    };
    let new = (old & !mask) | (((value as u64) << lo) & mask);
    match endianness {
        Endianness::Little => {
            for (k, b) in bytes.iter_mut().enumerate() {
                *b = (new >> (8 * k)) as u8;
            }
        }
        Endianness::Big => {
            for (k, b) in bytes.iter_mut().enumerate() {
                *b = (new >> (8 * (len - 1 - k))) as u8;
            }
        }
    }
    Some(())
}

pub(crate) fn decode_float(bytes: &[u8], endianness: Endianness) -> Option<f64> {
    match bytes.len() {
        4 => {
            let a: [u8; 4] = bytes.try_into().ok()?;
            Some(f64::from(match endianness {
                Endianness::Little => f32::from_le_bytes(a),
                Endianness::Big => f32::from_be_bytes(a),
            }))
        }
        8 => {
            let a: [u8; 8] = bytes.try_into().ok()?;
            Some(match endianness {
                Endianness::Little => f64::from_le_bytes(a),
                Endianness::Big => f64::from_be_bytes(a),
            })
        }
        _ => None,
    }
}

pub(crate) fn encode_float(len: usize, endianness: Endianness, v: f64) -> Option<Vec<u8>> {
    match (len, endianness) {
        (4, Endianness::Little) => Some((v as f32).to_le_bytes().to_vec()),
        (4, Endianness::Big) => Some((v as f32).to_be_bytes().to_vec()),
        (8, Endianness::Little) => Some(v.to_le_bytes().to_vec()),
        (8, Endianness::Big) => Some(v.to_be_bytes().to_vec()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_fields_follow_endianness() {
        // Big endian: bit 0 is the register's most significant bit.
        let b = [0x80, 0, 0, 0x01];
        assert_eq!(
            decode_int(&b, Endianness::Big, false, Some((0, 0))),
            Some(1)
        );
        assert_eq!(
            decode_int(&b, Endianness::Big, false, Some((31, 31))),
            Some(1)
        );
        assert_eq!(
            decode_int(&b, Endianness::Big, false, Some((30, 30))),
            Some(0)
        );
        let l = [0x01, 0, 0, 0x80];
        assert_eq!(
            decode_int(&l, Endianness::Little, false, Some((31, 31))),
            Some(1)
        );
        assert_eq!(
            decode_int(&l, Endianness::Little, false, Some((0, 7))),
            Some(1)
        );
        // Signed fields sign-extend from their width.
        assert_eq!(
            decode_int(&[0xF0], Endianness::Little, true, Some((4, 7))),
            Some(-1)
        );
        assert_eq!(
            decode_int(&[0xFF, 0xFF], Endianness::Little, true, None),
            Some(-1)
        );
        assert_eq!(
            decode_int(&[0xFF, 0xFF], Endianness::Little, false, None),
            Some(0xFFFF)
        );
        // Out-of-range bits are refused, not a panic.
        assert_eq!(
            decode_int(&[0], Endianness::Little, false, Some((9, 9))),
            None
        );
        assert_eq!(decode_int(&[0; 9], Endianness::Little, false, None), None);
    }

    #[test]
    fn encode_keeps_other_bits() {
        let mut b = [0xFFu8, 0xFF];
        encode_int(&mut b, Endianness::Little, Some((4, 7)), 0).unwrap();
        assert_eq!(b, [0x0F, 0xFF]);
        let mut b = [0u8; 4];
        encode_int(&mut b, Endianness::Big, None, 0x01020304).unwrap();
        assert_eq!(b, [1, 2, 3, 4]);
    }

    #[test]
    fn ranges_by_width() {
        assert_eq!(int_range(32, false, Bound::Max), 0xFFFF_FFFF);
        assert_eq!(int_range(32, true, Bound::Min), -(1 << 31));
        assert_eq!(int_range(64, false, Bound::Max), i64::MAX);
        assert_eq!(int_range(1, false, Bound::Max), 1);
    }
}
