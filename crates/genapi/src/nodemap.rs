//! The node map: a loaded description with its state, and typed access by name.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::access::{AccessMode, Cachable, DisplayNotation, Representation, Visibility};
use crate::error::{Error, LoadError, LoadWarning, Result};
use crate::eval::{self, num_to_f64, num_to_i64, State};
use crate::formula::Num;
use crate::load::{self, DescriptionInfo};
use crate::node::{AddrPart, Initial, Interface, Kind, Node, NodeId, NumRef, ValueSrc};
use crate::port::Port;

/// A port as a node map holds it.
pub type BoxedPort = Box<dyn Port + Send>;

/// A loaded GenICam description: every node, its state and the connected ports.
///
/// Reads go through the cache where the description allows it; writes go to
/// the port and invalidate every node that depends on what was written.
pub struct NodeMap {
    /// The definitions, shared so that evaluation can hold one while it updates state.
    pub(crate) nodes: Arc<[Node]>,
    pub(crate) ids: HashMap<String, NodeId>,
    pub(crate) info: DescriptionInfo,
    pub(crate) warnings: Vec<LoadWarning>,
    /// For each node, the nodes whose value or access depends on it.
    pub(crate) dependents: Vec<Vec<NodeId>>,
    /// For each node, the selectors that select it (the reverse of pSelected).
    pub(crate) selecting: Vec<Vec<NodeId>>,
    /// Whether a node's value and access mode may be cached.
    pub(crate) cacheable: Vec<bool>,
    /// Register nodes at the same constant address on the same port.
    pub(crate) aliases: Vec<Vec<NodeId>>,
    pub(crate) state: Vec<State>,
    pub(crate) ports: Vec<(NodeId, BoxedPort)>,
    pub(crate) depth: u32,
    mark: Vec<u32>,
    epoch: u32,
}

impl std::fmt::Debug for NodeMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeMap")
            .field("model", &self.info.model_name)
            .field("nodes", &self.nodes.len())
            .field("ports", &self.ports.len())
            .finish()
    }
}

/// What a client shows about a node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo<'a> {
    /// The node's name.
    pub name: &'a str,
    /// The interface a client uses it through.
    pub interface: Interface,
    /// The XML element that defined it (`IntReg`, `SwissKnife`, ...).
    pub element: &'static str,
    /// A name for display; the name when the description gives none.
    pub display_name: &'a str,
    /// A short help text.
    pub tooltip: Option<&'a str>,
    /// A longer help text.
    pub description: Option<&'a str>,
    /// The user level that sees it.
    pub visibility: Visibility,
    /// The unit of its value.
    pub unit: Option<&'a str>,
    /// How to present its value.
    pub representation: Option<Representation>,
    /// Whether it is deprecated.
    pub deprecated: bool,
    /// Whether it belongs in a saved configuration.
    pub streamable: bool,
    /// The event that updates it, for event nodes.
    pub event_id: Option<&'a str>,
    /// How a float should be printed.
    pub display_notation: Option<DisplayNotation>,
    /// How many digits a float should be printed with.
    pub display_precision: Option<i64>,
}

/// One entry of an enumeration.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumEntry {
    /// The symbolic name used to set it.
    pub symbolic: String,
    /// The integer written to the device.
    pub value: i64,
    /// Whether it can be chosen now (implemented and available).
    pub access: AccessMode,
    /// Its display name.
    pub display_name: String,
    /// The number it stands for, when the description gives one (`NumericValue`).
    pub numeric: Option<f64>,
}

impl NodeMap {
    /// Loads a description from XML text.
    pub fn from_xml(text: &str) -> std::result::Result<NodeMap, LoadError> {
        Ok(NodeMap::build(load::load_xml(text)?))
    }

    /// Loads a description from the bytes of an XML file or of a zip archive holding one.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<NodeMap, LoadError> {
        if load::is_zip(bytes) {
            let text = load::unzip(bytes)?;
            return NodeMap::from_xml(&text);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| LoadError::Utf8(e.valid_up_to()))?;
        NodeMap::from_xml(text.strip_prefix('\u{feff}').unwrap_or(text))
    }

    fn build(loaded: load::Loaded) -> NodeMap {
        let load::Loaded {
            nodes,
            ids,
            info,
            warnings,
        } = loaded;
        let n = nodes.len();
        let mut dependents = vec![Vec::new(); n];
        let mut selecting = vec![Vec::new(); n];
        let mut refs = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            refs.clear();
            node.references(&mut refs);
            refs.extend(&node.invalidators);
            refs.sort_unstable();
            refs.dedup();
            for &r in &refs {
                dependents[r as usize].push(i as NodeId);
            }
            for &s in &node.selected {
                selecting[s as usize].push(i as NodeId);
            }
        }
        // A node is cacheable unless something it reads is never cached.
        let mut cacheable = vec![true; n];
        let mut stack: Vec<NodeId> = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            if matches!(node.kind.reg(), Some(r) if r.cachable == Cachable::NoCache) {
                cacheable[i] = false;
                stack.push(i as NodeId);
            }
        }
        let mut readers = vec![Vec::new(); n];
        for (i, node) in nodes.iter().enumerate() {
            refs.clear();
            node.references(&mut refs);
            for &r in &refs {
                readers[r as usize].push(i as NodeId);
            }
        }
        while let Some(x) = stack.pop() {
            for &d in &readers[x as usize] {
                if cacheable[d as usize] {
                    cacheable[d as usize] = false;
                    stack.push(d);
                }
            }
        }
        // Registers at the same address on the same port see each other's
        // writes: the address is the sum of its constant terms and the set of
        // its node terms (StructReg entries share theirs).
        type AddrKey = (Option<NodeId>, i64, Vec<(u8, u32, u64)>);
        let mut by_addr: HashMap<AddrKey, Vec<NodeId>> = HashMap::default();
        for (i, node) in nodes.iter().enumerate() {
            if let Some(reg) = node.kind.reg() {
                let mut constant = 0i64;
                let mut terms = Vec::new();
                for p in &reg.address {
                    match *p {
                        AddrPart::Const(a) => constant = constant.wrapping_add(a),
                        AddrPart::Node(n) => terms.push((0, n, 0)),
                        AddrPart::Indexed { index, offset } => terms.push(match offset {
                            NumRef::Int(o) => (1, index, o as u64),
                            NumRef::Float(f) => (2, index, f.to_bits()),
                            NumRef::Node(o) => (3, index, u64::from(o)),
                        }),
                    }
                }
                terms.sort_unstable();
                by_addr
                    .entry((reg.port, constant, terms))
                    .or_default()
                    .push(i as NodeId);
            }
        }
        let mut aliases = vec![Vec::new(); n];
        for group in by_addr.values().filter(|g| g.len() > 1) {
            for &a in group {
                aliases[a as usize] = group.iter().copied().filter(|&b| b != a).collect();
            }
        }
        let state = nodes
            .iter()
            .map(|node| State {
                own: node.initial.clone(),
                ..Default::default()
            })
            .collect();
        NodeMap {
            nodes: nodes.into(),
            ids,
            info,
            warnings,
            dependents,
            selecting,
            cacheable,
            aliases,
            state,
            ports: Vec::new(),
            depth: 0,
            mark: vec![0; n],
            epoch: 0,
        }
    }

    /// The root element's attributes.
    pub fn description(&self) -> &DescriptionInfo {
        &self.info
    }

    /// What loading ignored (unknown elements and the like).
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// Connects the register space that nodes with `pPort` = `name` use.
    pub fn connect(&mut self, name: &str, port: BoxedPort) -> Result<()> {
        let id = self.id(name)?;
        if !matches!(self.nodes[id as usize].kind, Kind::Port { .. }) {
            return Err(Error::WrongType {
                name: name.into(),
                expected: "a Port",
                actual: self.nodes[id as usize].kind.element(),
            });
        }
        self.ports.retain(|(p, _)| *p != id);
        self.ports.push((id, port));
        self.invalidate_all();
        Ok(())
    }

    /// Takes a connected port back out of the node map.
    pub fn disconnect(&mut self, name: &str) -> Option<BoxedPort> {
        let id = *self.ids.get(name)?;
        let i = self.port_index(id)?;
        self.invalidate_all();
        Some(self.ports.remove(i).1)
    }

    /// The names of the description's Port nodes.
    pub fn port_names(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Port { .. }))
            .map(|n| n.name.as_str())
            .collect()
    }

    /// Every node name, in the order of the description.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.name.as_str())
    }

    /// Whether a node of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.ids.contains_key(name)
    }

    pub(crate) fn id(&self, name: &str) -> Result<NodeId> {
        self.ids
            .get(name)
            .copied()
            .ok_or_else(|| Error::NotFound(name.to_string()))
    }

    fn typed(&self, name: &str, want: Interface) -> Result<NodeId> {
        let id = self.id(name)?;
        let have = self.nodes[id as usize].kind.interface();
        if have != want {
            return Err(Error::WrongType {
                name: name.into(),
                expected: want.as_str(),
                actual: self.nodes[id as usize].kind.element(),
            });
        }
        Ok(id)
    }

    /// What a client shows about a node.
    pub fn node_info(&self, name: &str) -> Result<NodeInfo<'_>> {
        let id = self.id(name)?;
        let n = &self.nodes[id as usize];
        let (unit, representation) = match &n.kind {
            Kind::Integer(d) | Kind::Float(d) => (d.unit.as_deref(), d.representation),
            Kind::IntReg(d) => (d.unit.as_deref(), d.representation),
            Kind::FloatReg {
                unit,
                representation,
                ..
            }
            | Kind::IntSwissKnife {
                unit,
                representation,
                ..
            }
            | Kind::SwissKnife {
                unit,
                representation,
                ..
            } => (unit.as_deref(), *representation),
            Kind::IntConverter(c) | Kind::Converter(c) => (c.unit.as_deref(), c.representation),
            _ => (None, None),
        };
        Ok(NodeInfo {
            name: &n.name,
            interface: n.kind.interface(),
            element: n.kind.element(),
            display_name: n.display_name.as_deref().unwrap_or(&n.name),
            tooltip: n.tooltip.as_deref(),
            description: n.description.as_deref(),
            visibility: n.visibility,
            unit,
            representation,
            deprecated: n.deprecated,
            streamable: n.streamable,
            event_id: n.event_id.as_deref(),
            display_notation: match &n.kind {
                Kind::Float(d) => Some(d.notation),
                _ => None,
            },
            display_precision: match &n.kind {
                Kind::Float(d) => d.precision,
                _ => None,
            },
        })
    }

    /// The interface a node is used through.
    pub fn interface(&self, name: &str) -> Result<Interface> {
        Ok(self.nodes[self.id(name)? as usize].kind.interface())
    }

    /// The access mode of a node now.
    pub fn access_mode(&mut self, name: &str) -> Result<AccessMode> {
        let id = self.id(name)?;
        self.access(id)
    }

    /// The features of a category, in order.
    pub fn category_features(&self, name: &str) -> Result<Vec<&str>> {
        let id = self.typed(name, Interface::Category)?;
        let Kind::Category { features } = &self.nodes[id as usize].kind else {
            return Ok(Vec::new());
        };
        Ok(features.iter().map(|&f| self.name(f)).collect())
    }

    /// The features a selector selects (its pSelected).
    pub fn selected_features(&self, name: &str) -> Result<Vec<&str>> {
        let id = self.id(name)?;
        Ok(self.nodes[id as usize]
            .selected
            .iter()
            .map(|&f| self.name(f))
            .collect())
    }

    /// The selectors that select a feature.
    pub fn selecting_features(&self, name: &str) -> Result<Vec<&str>> {
        let id = self.id(name)?;
        Ok(self.selecting[id as usize]
            .iter()
            .map(|&f| self.name(f))
            .collect())
    }

    // ----- Integer -----

    /// The value of an Integer feature.
    pub fn integer(&mut self, name: &str) -> Result<i64> {
        let id = self.typed(name, Interface::Integer)?;
        Ok(num_to_i64(self.value(id)?))
    }

    /// The minimum of an Integer feature.
    pub fn integer_min(&mut self, name: &str) -> Result<i64> {
        let id = self.typed(name, Interface::Integer)?;
        self.check_readable(id)?;
        Ok(num_to_i64(self.min(id)?))
    }

    /// The maximum of an Integer feature.
    pub fn integer_max(&mut self, name: &str) -> Result<i64> {
        let id = self.typed(name, Interface::Integer)?;
        self.check_readable(id)?;
        Ok(num_to_i64(self.max(id)?))
    }

    /// The increment of an Integer feature.
    pub fn integer_inc(&mut self, name: &str) -> Result<i64> {
        let id = self.typed(name, Interface::Integer)?;
        self.check_readable(id)?;
        Ok(num_to_i64(self.inc(id)?))
    }

    /// Sets an Integer feature, checking access, range and increment.
    pub fn set_integer(&mut self, name: &str, value: i64) -> Result<()> {
        let id = self.typed(name, Interface::Integer)?;
        self.set_num(id, Num::Int(value))
    }

    // ----- Float -----

    /// The value of a Float feature.
    pub fn float(&mut self, name: &str) -> Result<f64> {
        let id = self.typed(name, Interface::Float)?;
        Ok(num_to_f64(self.value(id)?))
    }

    /// The minimum of a Float feature.
    pub fn float_min(&mut self, name: &str) -> Result<f64> {
        let id = self.typed(name, Interface::Float)?;
        self.check_readable(id)?;
        Ok(num_to_f64(self.min(id)?))
    }

    /// The maximum of a Float feature.
    pub fn float_max(&mut self, name: &str) -> Result<f64> {
        let id = self.typed(name, Interface::Float)?;
        self.check_readable(id)?;
        Ok(num_to_f64(self.max(id)?))
    }

    /// The increment of a Float feature, if it has one.
    pub fn float_inc(&mut self, name: &str) -> Result<Option<f64>> {
        let id = self.typed(name, Interface::Float)?;
        match &self.nodes[id as usize].kind {
            Kind::Float(d) if d.inc.is_some() => Ok(Some(num_to_f64(self.inc(id)?))),
            _ => Ok(None),
        }
    }

    /// Sets a Float feature, checking access and range.
    pub fn set_float(&mut self, name: &str, value: f64) -> Result<()> {
        let id = self.typed(name, Interface::Float)?;
        self.set_num(id, Num::Float(value))
    }

    // ----- Enumeration -----

    /// The entries of an enumeration, with whether each can be chosen now.
    pub fn enum_entries(&mut self, name: &str) -> Result<Vec<EnumEntry>> {
        let id = self.typed(name, Interface::Enumeration)?;
        let Kind::Enumeration { entries, .. } = &self.nodes[id as usize].kind else {
            return Ok(Vec::new());
        };
        let entries = entries.clone();
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let access = self.access(e)?;
            let n = &self.nodes[e as usize];
            if let Kind::EnumEntry {
                value,
                symbolic,
                numeric,
            } = &n.kind
            {
                out.push(EnumEntry {
                    symbolic: symbolic.clone(),
                    value: *value,
                    access,
                    display_name: n.display_name.clone().unwrap_or_else(|| symbolic.clone()),
                    numeric: *numeric,
                });
            }
        }
        Ok(out)
    }

    /// The integer value of an enumeration.
    pub fn enum_int(&mut self, name: &str) -> Result<i64> {
        let id = self.typed(name, Interface::Enumeration)?;
        Ok(num_to_i64(self.value(id)?))
    }

    /// The symbolic value of an enumeration.
    pub fn enumeration(&mut self, name: &str) -> Result<String> {
        let id = self.typed(name, Interface::Enumeration)?;
        let v = num_to_i64(self.value(id)?);
        let Kind::Enumeration { entries, .. } = &self.nodes[id as usize].kind else {
            return Ok(String::new());
        };
        for &e in entries {
            if let Kind::EnumEntry {
                value, symbolic, ..
            } = &self.nodes[e as usize].kind
            {
                if *value == v {
                    return Ok(symbolic.clone());
                }
            }
        }
        Err(Error::NoEntryForValue {
            name: name.into(),
            value: v,
        })
    }

    /// Sets an enumeration by symbolic name; the entry must be implemented and available.
    pub fn set_enumeration(&mut self, name: &str, entry: &str) -> Result<()> {
        let id = self.typed(name, Interface::Enumeration)?;
        let all = self.enum_entries(name)?;
        let found = all.iter().find(|e| e.symbolic == entry);
        match found {
            Some(e) if e.access.is_readable() => {
                let v = e.value;
                self.set_num(id, Num::Int(v))
            }
            _ => Err(Error::UnknownEntry {
                name: name.into(),
                entry: entry.into(),
                valid: all
                    .into_iter()
                    .filter(|e| e.access.is_readable())
                    .map(|e| e.symbolic)
                    .collect(),
            }),
        }
    }

    /// Sets an enumeration by integer value; it must match an available entry.
    pub fn set_enum_int(&mut self, name: &str, value: i64) -> Result<()> {
        let all = self.enum_entries(name)?;
        match all
            .iter()
            .find(|e| e.value == value && e.access.is_readable())
        {
            Some(e) => {
                let sym = e.symbolic.clone();
                self.set_enumeration(name, &sym)
            }
            None => Err(Error::UnknownEntry {
                name: name.into(),
                entry: value.to_string(),
                valid: all
                    .into_iter()
                    .filter(|e| e.access.is_readable())
                    .map(|e| e.symbolic)
                    .collect(),
            }),
        }
    }

    // ----- Boolean -----

    /// The value of a Boolean feature.
    pub fn boolean(&mut self, name: &str) -> Result<bool> {
        let id = self.typed(name, Interface::Boolean)?;
        self.boolean_value(id)
    }

    /// Sets a Boolean feature.
    pub fn set_boolean(&mut self, name: &str, value: bool) -> Result<()> {
        let id = self.typed(name, Interface::Boolean)?;
        let Kind::Boolean { on, off, .. } = self.nodes[id as usize].kind else {
            return Ok(());
        };
        self.set_num(id, Num::Int(if value { on } else { off }))
    }

    // ----- Command -----

    /// Executes a command.
    pub fn execute(&mut self, name: &str) -> Result<()> {
        let id = self.typed(name, Interface::Command)?;
        self.check_writable(id)?;
        let nodes = Arc::clone(&self.nodes);
        let Kind::Command { value, command } = &nodes[id as usize].kind else {
            return Ok(());
        };
        let command = *command;
        let cv = match command {
            NumRef::Node(n) => num_to_i64(self.value(n)?),
            NumRef::Int(i) => i,
            NumRef::Float(f) => eval::float_to_i64(f),
        };
        self.write_src(id, value, Num::Int(cv))?;
        self.changed(id);
        Ok(())
    }

    /// Whether a command has finished: its register no longer reads back the command value.
    pub fn is_done(&mut self, name: &str) -> Result<bool> {
        let id = self.typed(name, Interface::Command)?;
        let nodes = Arc::clone(&self.nodes);
        let Kind::Command { value, command } = &nodes[id as usize].kind else {
            return Ok(true);
        };
        let command = *command;
        let target = match value {
            ValueSrc::Node(n) => *n,
            _ => return Ok(true),
        };
        self.refresh(target);
        if !self.access(target)?.is_readable() {
            return Ok(true);
        }
        let cv = match command {
            NumRef::Node(n) => num_to_i64(self.value(n)?),
            NumRef::Int(i) => i,
            NumRef::Float(f) => eval::float_to_i64(f),
        };
        let now = num_to_i64(self.value(target)?);
        Ok(now != cv)
    }

    // ----- String -----

    /// The value of a String feature (StringReg: up to the first NUL byte).
    pub fn string(&mut self, name: &str) -> Result<String> {
        let id = self.typed(name, Interface::String)?;
        let bytes = self.string_value(id)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The bytes of a string node up to the first NUL, following pValue.
    fn string_value(&mut self, id: NodeId) -> Result<Vec<u8>> {
        self.check_readable(id)?;
        self.enter(id)?;
        let r = match self.nodes[id as usize].kind.clone() {
            Kind::StringReg(_) => self.reg_bytes(id).map(|mut bytes| {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                bytes.truncate(end);
                bytes
            }),
            Kind::String {
                value: ValueSrc::Node(n),
            } => self.string_value(n),
            Kind::ConfKey { rom, key, .. } => self.reg_bytes(rom).and_then(|bytes| {
                eval::rom_entry(&bytes, key)
                    .and_then(|(pos, offset)| eval::rom_text(&bytes, pos, offset))
                    .ok_or_else(|| Error::BadRegister {
                        name: self.name(id).to_string(),
                        reason: format!(
                            "the configuration ROM has no text leaf for key {key:#04x}"
                        ),
                    })
            }),
            _ => match &self.state[id as usize].own {
                Initial::Str(s) => Ok(s.clone().into_bytes()),
                _ => Ok(Vec::new()),
            },
        };
        self.leave();
        r
    }

    /// The raw bytes of a StringReg up to the first NUL (a String's UTF-8 bytes).
    pub fn string_bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let id = self.typed(name, Interface::String)?;
        self.string_value(id)
    }

    /// Sets a String feature; a StringReg is padded with NUL bytes.
    pub fn set_string(&mut self, name: &str, value: &str) -> Result<()> {
        let id = self.typed(name, Interface::String)?;
        self.set_string_node(id, value)
    }

    fn set_string_node(&mut self, id: NodeId, value: &str) -> Result<()> {
        self.enter(id)?;
        let r = self.write_string(id, value);
        self.leave();
        r
    }

    fn write_string(&mut self, id: NodeId, value: &str) -> Result<()> {
        let name = self.name(id).to_string();
        let name = name.as_str();
        self.check_writable(id)?;
        match self.nodes[id as usize].kind.clone() {
            Kind::StringReg(reg) => {
                let len = self.reg_length(id, reg.length)? as usize;
                if value.len() > len {
                    return Err(Error::StringTooLong {
                        name: name.into(),
                        len: value.len(),
                        max: len,
                    });
                }
                let mut bytes = value.as_bytes().to_vec();
                bytes.resize(len, 0);
                self.write_reg(id, &bytes)?;
            }
            Kind::String {
                value: ValueSrc::Node(n),
            } => self.set_string_node(n, value)?,
            _ => self.state[id as usize].own = Initial::Str(value.to_string()),
        }
        self.changed(id);
        Ok(())
    }

    // ----- Register -----

    /// The bytes of a Register feature.
    pub fn register(&mut self, name: &str) -> Result<Vec<u8>> {
        let id = self.typed(name, Interface::Register)?;
        self.check_readable(id)?;
        self.reg_bytes(id)
    }

    /// Writes the bytes of a Register feature; the length must match.
    pub fn set_register(&mut self, name: &str, data: &[u8]) -> Result<()> {
        let id = self.typed(name, Interface::Register)?;
        self.check_writable(id)?;
        let len = self.register_length(name)? as usize;
        if data.len() != len {
            return Err(Error::WrongLength {
                name: name.into(),
                expected: len,
                actual: data.len(),
            });
        }
        self.write_reg(id, data)?;
        self.changed(id);
        Ok(())
    }

    /// The address of any register node (Register, IntReg, FloatReg, StringReg, ...).
    pub fn register_address(&mut self, name: &str) -> Result<i64> {
        let id = self.id(name)?;
        self.reg_address(id)
    }

    /// The length in bytes of any register node.
    pub fn register_length(&mut self, name: &str) -> Result<i64> {
        let id = self.id(name)?;
        let Some(reg) = self.nodes[id as usize].kind.reg() else {
            return Err(Error::WrongType {
                name: name.into(),
                expected: "a register",
                actual: self.nodes[id as usize].kind.element(),
            });
        };
        // As written, without the sanity limit reads apply: a client may want
        // to know how long the description says a register is.
        match reg.length {
            NumRef::Node(n) => Ok(num_to_i64(self.value(n)?)),
            NumRef::Int(i) => Ok(i),
            NumRef::Float(f) => Ok(eval::float_to_i64(f)),
        }
    }

    // ----- caching -----

    /// Forgets the cached value of a node and of everything that depends on it.
    ///
    /// The registers the node reads are invalidated too, so that the next read
    /// reaches the device.
    pub fn invalidate(&mut self, name: &str) -> Result<()> {
        let id = self.id(name)?;
        self.refresh(id);
        Ok(())
    }

    /// Invalidates a node, every node it reads (down to its registers) and
    /// every node that depends on any of them.
    pub(crate) fn refresh(&mut self, id: NodeId) {
        let nodes = Arc::clone(&self.nodes);
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![id];
        let mut refs = Vec::new();
        while let Some(x) = stack.pop() {
            // A port is not refreshed: that would refresh every register on it.
            if matches!(nodes[x as usize].kind, Kind::Port { .. }) || !seen.insert(x) {
                continue;
            }
            refs.clear();
            nodes[x as usize].references(&mut refs);
            stack.extend(&refs);
        }
        for &x in &seen {
            self.invalidate_node(x);
        }
        for &x in &seen {
            self.changed(x);
        }
    }

    /// Forgets every cached value.
    pub fn invalidate_all(&mut self) {
        for s in &mut self.state {
            s.bytes = None;
            s.num = None;
            s.access = None;
            s.access_busy = false;
        }
    }

    /// Advances time by `elapsed_ms`: nodes whose PollingTime has passed are invalidated.
    pub fn poll(&mut self, elapsed_ms: u64) {
        for i in 0..self.nodes.len() {
            if let Some(period) = self.nodes[i].polling_time {
                let s = &mut self.state[i];
                s.since_poll_ms = s.since_poll_ms.saturating_add(elapsed_ms);
                if s.since_poll_ms >= period {
                    s.since_poll_ms = 0;
                    self.refresh(i as NodeId);
                }
            }
        }
    }

    pub(crate) fn invalidate_node(&mut self, id: NodeId) {
        let s = &mut self.state[id as usize];
        s.bytes = None;
        s.num = None;
        s.access = None;
        s.access_busy = false;
    }

    /// Invalidates everything that depends on `id`, transitively (not `id`'s own register bytes).
    pub(crate) fn changed(&mut self, id: NodeId) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        let mut stack = vec![id];
        self.mark[id as usize] = epoch;
        {
            let s = &mut self.state[id as usize];
            s.num = None;
            s.access = None;
            s.access_busy = false;
        }
        for &a in &self.aliases[id as usize] {
            if self.mark[a as usize] != epoch {
                self.mark[a as usize] = epoch;
                let s = &mut self.state[a as usize];
                s.bytes = None;
                s.num = None;
                s.access = None;
                s.access_busy = false;
                stack.push(a);
            }
        }
        while let Some(x) = stack.pop() {
            for k in 0..self.dependents[x as usize].len() {
                let d = self.dependents[x as usize][k];
                if self.mark[d as usize] != epoch {
                    self.mark[d as usize] = epoch;
                    let s = &mut self.state[d as usize];
                    s.bytes = None;
                    s.num = None;
                    s.access = None;
                    s.access_busy = false;
                    stack.push(d);
                }
            }
        }
    }

    // ----- writing -----

    /// Checks and writes a number to an Integer, Float, Enumeration or Boolean node.
    /// Writes a number to a node. The node the client writes checks its range
    /// (`verify`); the nodes a write passes on to (pValue, a converter's target)
    /// take the value as it comes, as their ranges may be narrower than what the
    /// description means them to carry.
    pub(crate) fn set_num(&mut self, id: NodeId, v: Num) -> Result<()> {
        self.set_num_checked(id, v, true)
    }

    fn set_num_checked(&mut self, id: NodeId, v: Num, verify: bool) -> Result<()> {
        self.enter(id)?;
        let r = self.write_num(id, v, verify);
        self.leave();
        r
    }

    fn write_num(&mut self, id: NodeId, v: Num, verify: bool) -> Result<()> {
        self.check_writable(id)?;
        let nodes = Arc::clone(&self.nodes);
        let kind = &nodes[id as usize].kind;
        match &kind {
            // A register always checks that the value fits its bits.
            _ if !verify && !matches!(kind, Kind::IntReg(_) | Kind::FloatReg { .. }) => {}
            Kind::Integer(_) | Kind::IntReg(_) | Kind::IntConverter(_) => {
                let x = num_to_i64(v);
                let min = num_to_i64(self.min(id)?);
                let max = num_to_i64(self.max(id)?);
                let inc = num_to_i64(self.inc(id)?);
                let off_inc = inc > 1 && (x.wrapping_sub(min)).rem_euclid(inc) != 0;
                if x < min || x > max || off_inc {
                    return Err(Error::OutOfRange {
                        name: self.name(id).to_string(),
                        value: x,
                        min,
                        max,
                        inc,
                    });
                }
            }
            Kind::Float(_) | Kind::FloatReg { .. } | Kind::Converter(_) => {
                let x = num_to_f64(v);
                let min = num_to_f64(self.min(id)?);
                let max = num_to_f64(self.max(id)?);
                if x.is_nan() || x < min || x > max {
                    return Err(Error::FloatOutOfRange {
                        name: self.name(id).to_string(),
                        value: x,
                        min,
                        max,
                    });
                }
            }
            _ => {}
        }
        let int_converter = matches!(kind, Kind::IntConverter(_));
        match kind {
            Kind::Integer(d) | Kind::Float(d) => {
                self.write_src(id, &d.value, v)?;
                for &c in &d.copies {
                    self.write_src(id, &ValueSrc::Node(c), v)?;
                }
            }
            Kind::Enumeration { value, .. } | Kind::Boolean { value, .. } => {
                self.write_src(id, value, v)?
            }
            Kind::IntReg(d) => {
                let len = self.reg_length(id, d.reg.length)? as usize;
                let mut bytes = if d.raw_bits.is_some() {
                    // Read-modify-write keeps the other bits of the register.
                    if self.access(id)?.is_readable() {
                        self.reg_bytes(id)?
                    } else {
                        vec![0; len]
                    }
                } else {
                    vec![0; len]
                };
                eval::encode_int(&mut bytes, d.endianness, d.raw_bits, num_to_i64(v)).ok_or_else(
                    || Error::BadRegister {
                        name: self.name(id).to_string(),
                        reason: format!("cannot encode an integer into {len} bytes"),
                    },
                )?;
                self.write_reg(id, &bytes)?;
            }
            Kind::FloatReg {
                reg, endianness, ..
            } => {
                let len = self.reg_length(id, reg.length)? as usize;
                let bytes =
                    eval::encode_float(len, *endianness, num_to_f64(v)).ok_or_else(|| {
                        Error::BadRegister {
                            name: self.name(id).to_string(),
                            reason: format!("a float register of {len} bytes"),
                        }
                    })?;
                self.write_reg(id, &bytes)?;
            }
            Kind::IntConverter(c) | Kind::Converter(c) => {
                let mode = if int_converter {
                    crate::formula::Mode::Int
                } else {
                    crate::formula::Mode::Float
                };
                let raw = self.eval_expr(id, &c.to, mode, Some(v))?;
                let target = c.value;
                let raw = match self.nodes[target as usize].kind.interface() {
                    Interface::Float => Num::Float(num_to_f64(raw)),
                    _ => Num::Int(num_to_i64(raw)),
                };
                self.set_num_checked(target, raw, false)?;
            }
            other => {
                return Err(Error::WrongType {
                    name: self.name(id).to_string(),
                    expected: "a writable value",
                    actual: other.element(),
                })
            }
        }
        self.changed(id);
        Ok(())
    }

    fn write_src(&mut self, id: NodeId, src: &ValueSrc, v: Num) -> Result<()> {
        match src {
            ValueSrc::Own => {
                self.state[id as usize].own = match self.state[id as usize].own {
                    Initial::Float(_) => Initial::Float(num_to_f64(v)),
                    _ => Initial::Int(num_to_i64(v)),
                };
                Ok(())
            }
            ValueSrc::Node(n) => {
                let n = *n;
                let v = match self.nodes[n as usize].kind.interface() {
                    Interface::Float => Num::Float(num_to_f64(v)),
                    _ => Num::Int(num_to_i64(v)),
                };
                if let Kind::Boolean { on, off, .. } = self.nodes[n as usize].kind {
                    let b = num_to_i64(v) != 0;
                    return self.set_num_checked(n, Num::Int(if b { on } else { off }), false);
                }
                self.set_num_checked(n, v, false)
            }
            ValueSrc::Indexed {
                index,
                cases,
                default,
            } => {
                let idx = num_to_i64(self.value(*index)?);
                let target = cases
                    .iter()
                    .find(|(k, _)| *k == idx)
                    .map(|(_, c)| *c)
                    .or(*default);
                match target {
                    Some(NumRef::Node(n)) => self.set_num_checked(n, v, false),
                    _ => Err(Error::NotWritable {
                        name: self.name(id).to_string(),
                        access: AccessMode::RO,
                    }),
                }
            }
        }
    }

    /// Writes a register's bytes through its port and updates its cache.
    pub(crate) fn write_reg(&mut self, id: NodeId, bytes: &[u8]) -> Result<()> {
        let Some(reg) = self.nodes[id as usize].kind.reg() else {
            return Ok(());
        };
        let (port, cachable) = (reg.port, reg.cachable);
        let addr = self.reg_address(id)?;
        let pi = self.port_of(id, port)?;
        self.ports[pi]
            .1
            .write(addr as u64, bytes)
            .map_err(|e| Error::Port {
                name: self.name(id).to_string(),
                source: e,
            })?;
        self.changed(id);
        let s = &mut self.state[id as usize];
        s.num = None;
        s.bytes = if cachable == Cachable::WriteThrough && self.cacheable[id as usize] {
            Some(bytes.to_vec())
        } else {
            None
        };
        Ok(())
    }
}
