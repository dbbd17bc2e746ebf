//! The node definitions a description loads into: what each node is, not its state.

use crate::access::{
    AccessMode, Cachable, DisplayNotation, Endianness, Representation, Slope, Visibility,
};
use crate::formula::Formula;

/// Index of a node in its node map.
pub(crate) type NodeId = u32;

/// A number that is either written in the description or read from another node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumRef {
    Int(i64),
    Float(f64),
    Node(NodeId),
}

/// Where a value node (Integer, Float, Boolean, Enumeration, Command) keeps its value.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum ValueSrc {
    /// Held by the node itself; the description gives the initial value.
    #[default]
    Own,
    /// Held by another node.
    Node(NodeId),
    /// Chosen among several by the value of an index node.
    Indexed {
        index: NodeId,
        cases: Vec<(i64, NumRef)>,
        default: Option<NumRef>,
    },
}

/// One term of a register's address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AddrPart {
    /// `<Address>`.
    Const(i64),
    /// `<pAddress>` or an embedded IntSwissKnife.
    Node(NodeId),
    /// `<pIndex>` times `<Offset>` / `<pOffset>` (1 when neither is given).
    Indexed { index: NodeId, offset: NumRef },
}

/// What every register has.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegDef {
    pub address: Vec<AddrPart>,
    pub length: NumRef,
    pub access: AccessMode,
    pub port: Option<NodeId>,
    pub cachable: Cachable,
}

/// A variable of a formula: a node's value or property, or a constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum VarSrc {
    Value(NodeId),
    Min(NodeId),
    Max(NodeId),
    Inc(NodeId),
    /// The integer value of the named entry of an enumeration.
    Entry(NodeId, NodeId),
    /// A converter's `TO` or `FROM`: the value being converted.
    Converted,
}

/// A parsed formula with its variables bound.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub formula: Formula,
    pub vars: Vec<VarSrc>,
    /// Every declared pVariable, used in the formula or not: their access modes restrict the node's.
    pub declared: Vec<NodeId>,
    /// Declared variables the formula does not use: still read, as the reference does.
    pub unused: Vec<NodeId>,
}

/// An Integer or a Float node: where its value is and what bounds it.
#[derive(Debug, Clone, Default)]
pub(crate) struct NumberDef {
    pub value: ValueSrc,
    /// Nodes every written value is copied to (pValueCopy); their ranges bound this one's.
    pub copies: Vec<NodeId>,
    pub min: Option<NumRef>,
    pub max: Option<NumRef>,
    pub inc: Option<NumRef>,
    pub unit: Option<String>,
    pub representation: Option<Representation>,
    /// How a Float is printed (not used by an Integer).
    pub notation: DisplayNotation,
    pub precision: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct IntRegDef {
    pub reg: RegDef,
    pub signed: bool,
    pub endianness: Endianness,
    /// Least and most significant bit of a MaskedIntReg, counted from the value's LSB.
    pub bits: Option<(u32, u32)>,
    /// Bit numbers as written, resolved against the length when it is known.
    pub raw_bits: Option<(u32, u32)>,
    pub unit: Option<String>,
    pub representation: Option<Representation>,
}

#[derive(Debug, Clone)]
pub(crate) struct ConverterDef {
    pub to: Expr,
    pub from: Expr,
    pub value: NodeId,
    /// `None` when the description gives no `<Slope>`.
    pub slope: Option<Slope>,
    pub unit: Option<String>,
    pub representation: Option<Representation>,
}

/// What kind of node, with what only that kind has.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A node referred to but never defined (only while loading).
    Placeholder,
    /// A plain `Node`.
    Base,
    Category {
        features: Vec<NodeId>,
    },
    Integer(NumberDef),
    IntReg(IntRegDef),
    Float(NumberDef),
    FloatReg {
        reg: RegDef,
        endianness: Endianness,
        unit: Option<String>,
        representation: Option<Representation>,
    },
    IntSwissKnife {
        expr: Expr,
        unit: Option<String>,
        representation: Option<Representation>,
    },
    SwissKnife {
        expr: Expr,
        unit: Option<String>,
        representation: Option<Representation>,
    },
    IntConverter(ConverterDef),
    Converter(ConverterDef),
    Enumeration {
        value: ValueSrc,
        entries: Vec<NodeId>,
    },
    EnumEntry {
        value: i64,
        symbolic: String,
        numeric: Option<f64>,
    },
    Boolean {
        value: ValueSrc,
        on: i64,
        off: i64,
    },
    Command {
        value: ValueSrc,
        command: NumRef,
    },
    String {
        value: ValueSrc,
    },
    StringReg(RegDef),
    Register(RegDef),
    Port {
        chunk_id: Option<String>,
    },
    /// An entry of an IEEE 1212 configuration ROM (IIDC `IntKey` / `TextDesc`).
    ConfKey {
        rom: NodeId,
        key: u8,
        text: bool,
    },
}

impl Kind {
    /// The GenApi interface a client sees this node as.
    pub fn interface(&self) -> Interface {
        match self {
            Kind::Integer(_)
            | Kind::IntReg(_)
            | Kind::IntSwissKnife { .. }
            | Kind::IntConverter(_) => Interface::Integer,
            Kind::Float(_)
            | Kind::FloatReg { .. }
            | Kind::SwissKnife { .. }
            | Kind::Converter(_) => Interface::Float,
            Kind::Enumeration { .. } => Interface::Enumeration,
            Kind::EnumEntry { .. } => Interface::EnumEntry,
            Kind::Boolean { .. } => Interface::Boolean,
            Kind::Command { .. } => Interface::Command,
            Kind::String { .. } | Kind::StringReg(_) => Interface::String,
            Kind::Register(_) => Interface::Register,
            Kind::ConfKey { text: true, .. } => Interface::String,
            Kind::ConfKey { text: false, .. } => Interface::Integer,
            Kind::Category { .. } => Interface::Category,
            Kind::Port { .. } => Interface::Port,
            Kind::Base | Kind::Placeholder => Interface::Base,
        }
    }

    /// The register part of a register node.
    pub fn reg(&self) -> Option<&RegDef> {
        match self {
            Kind::IntReg(d) => Some(&d.reg),
            Kind::FloatReg { reg, .. } | Kind::StringReg(reg) | Kind::Register(reg) => Some(reg),
            _ => None,
        }
    }

    /// The element name of this kind.
    pub fn element(&self) -> &'static str {
        match self {
            Kind::Placeholder => "undefined node",
            Kind::Base => "Node",
            Kind::Category { .. } => "Category",
            Kind::Integer(_) => "Integer",
            Kind::IntReg(d) if d.bits.is_some() || d.raw_bits.is_some() => "MaskedIntReg",
            Kind::IntReg(_) => "IntReg",
            Kind::Float(_) => "Float",
            Kind::FloatReg { .. } => "FloatReg",
            Kind::IntSwissKnife { .. } => "IntSwissKnife",
            Kind::SwissKnife { .. } => "SwissKnife",
            Kind::IntConverter(_) => "IntConverter",
            Kind::Converter(_) => "Converter",
            Kind::Enumeration { .. } => "Enumeration",
            Kind::EnumEntry { .. } => "EnumEntry",
            Kind::Boolean { .. } => "Boolean",
            Kind::Command { .. } => "Command",
            Kind::String { .. } => "String",
            Kind::StringReg(_) => "StringReg",
            Kind::Register(_) => "Register",
            Kind::Port { .. } => "Port",
            Kind::ConfKey { text: true, .. } => "TextDesc",
            Kind::ConfKey { text: false, .. } => "IntKey",
        }
    }
}

/// The interface through which a client uses a node: its principal GenApi type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interface {
    /// A value with no type of its own, or an internal node.
    Base,
    /// `IInteger`.
    Integer,
    /// `IFloat`.
    Float,
    /// `IEnumeration`.
    Enumeration,
    /// `IEnumEntry`.
    EnumEntry,
    /// `IBoolean`.
    Boolean,
    /// `ICommand`.
    Command,
    /// `IString`.
    String,
    /// `IRegister`.
    Register,
    /// `ICategory`.
    Category,
    /// `IPort`.
    Port,
}

impl Interface {
    /// Its name without the leading `I`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Base => "Node",
            Interface::Integer => "Integer",
            Interface::Float => "Float",
            Interface::Enumeration => "Enumeration",
            Interface::EnumEntry => "EnumEntry",
            Interface::Boolean => "Boolean",
            Interface::Command => "Command",
            Interface::String => "String",
            Interface::Register => "Register",
            Interface::Category => "Category",
            Interface::Port => "Port",
        }
    }
}

/// A node: its identity, documentation, access rules and kind.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub name: String,
    pub line: u32,
    pub kind: Kind,
    pub tooltip: Option<String>,
    pub description: Option<String>,
    pub display_name: Option<String>,
    pub visibility: Visibility,
    pub docu_url: Option<String>,
    pub deprecated: bool,
    pub streamable: bool,
    pub event_id: Option<String>,
    pub is_implemented: Vec<NodeId>,
    pub is_available: Vec<NodeId>,
    pub is_locked: Vec<NodeId>,
    pub imposed: Option<AccessMode>,
    pub invalidators: Vec<NodeId>,
    pub selected: Vec<NodeId>,
    pub polling_time: Option<u64>,
    pub alias: Option<NodeId>,
    /// The value the node holds itself when its value is `ValueSrc::Own` (or a String).
    pub initial: Initial,
}

/// The initial value of a node that holds its own value.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Initial {
    #[default]
    None,
    Int(i64),
    Float(f64),
    Str(String),
}

impl Node {
    pub fn new(name: String, line: u32, kind: Kind) -> Node {
        Node {
            name,
            line,
            kind,
            tooltip: None,
            description: None,
            display_name: None,
            visibility: Visibility::Beginner,
            docu_url: None,
            deprecated: false,
            streamable: false,
            event_id: None,
            is_implemented: Vec::new(),
            is_available: Vec::new(),
            is_locked: Vec::new(),
            imposed: None,
            invalidators: Vec::new(),
            selected: Vec::new(),
            polling_time: None,
            alias: None,
            initial: Initial::None,
        }
    }

    /// Every node this one reads to find its value, range or access mode.
    pub fn references(&self, out: &mut Vec<NodeId>) {
        out.extend(&self.is_implemented);
        out.extend(&self.is_available);
        out.extend(&self.is_locked);
        fn num(out: &mut Vec<NodeId>, r: &Option<NumRef>) {
            if let Some(NumRef::Node(n)) = r {
                out.push(*n);
            }
        }
        fn src(out: &mut Vec<NodeId>, v: &ValueSrc) {
            match v {
                ValueSrc::Own => {}
                ValueSrc::Node(n) => out.push(*n),
                ValueSrc::Indexed {
                    index,
                    cases,
                    default,
                } => {
                    out.push(*index);
                    for (_, c) in cases {
                        num(out, &Some(*c));
                    }
                    num(out, default);
                }
            }
        }
        fn reg(out: &mut Vec<NodeId>, r: &RegDef) {
            for a in &r.address {
                match a {
                    AddrPart::Const(_) => {}
                    AddrPart::Node(n) => out.push(*n),
                    AddrPart::Indexed { index, offset } => {
                        out.push(*index);
                        num(out, &Some(*offset));
                    }
                }
            }
            num(out, &Some(r.length));
            if let Some(p) = r.port {
                out.push(p);
            }
        }
        fn expr(out: &mut Vec<NodeId>, e: &Expr) {
            out.extend(&e.declared);
            for v in &e.vars {
                match v {
                    VarSrc::Value(n) | VarSrc::Min(n) | VarSrc::Max(n) | VarSrc::Inc(n) => {
                        out.push(*n)
                    }
                    VarSrc::Entry(n, e) => {
                        out.push(*n);
                        out.push(*e);
                    }
                    VarSrc::Converted => {}
                }
            }
        }
        match &self.kind {
            Kind::Integer(d) | Kind::Float(d) => {
                src(out, &d.value);
                num(out, &d.min);
                num(out, &d.max);
                num(out, &d.inc);
                out.extend(&d.copies);
            }
            Kind::IntReg(d) => reg(out, &d.reg),
            Kind::FloatReg { reg: r, .. } | Kind::StringReg(r) | Kind::Register(r) => reg(out, r),
            Kind::IntSwissKnife { expr: e, .. } | Kind::SwissKnife { expr: e, .. } => expr(out, e),
            Kind::IntConverter(c) | Kind::Converter(c) => {
                out.push(c.value);
                expr(out, &c.to);
                expr(out, &c.from);
            }
            Kind::Enumeration { value, entries } => {
                src(out, value);
                out.extend(entries);
            }
            Kind::Boolean { value, .. } | Kind::String { value } => src(out, value),
            Kind::ConfKey { rom, .. } => out.push(*rom),
            Kind::Command { value, command } => {
                src(out, value);
                num(out, &Some(*command));
            }
            Kind::Category { .. }
            | Kind::EnumEntry { .. }
            | Kind::Port { .. }
            | Kind::Base
            | Kind::Placeholder => {}
        }
    }
}
