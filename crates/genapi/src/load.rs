//! Reading a GenApi XML description into node definitions.
//!
//! The loader follows the reference implementation where it builds nodes the
//! XML does not name directly, so that a client sees the same node map:
//! - an `EnumEntry` becomes the node `EnumEntry_<Enumeration>_<Entry>`;
//! - a `Constant` of a SwissKnife becomes an Integer or Float node
//!   `_<SwissKnife>_<Constant>`;
//! - a (Int)Converter gets two formula nodes `<Converter>_ConvertTo` and
//!   `<Converter>_ConvertFrom`, which evaluate with the converted value 0;
//! - an IntSwissKnife embedded in a register becomes `_<Register>_<Name>`
//!   (its own name when the register is a StructReg, which has none);
//! - each `StructEntry` of a `StructReg` becomes a MaskedIntReg carrying the
//!   StructReg's elements, overridden by its own.

use rustc_hash::FxHashMap as HashMap;

use crate::xml::{Doc, Node as XmlNode};

use crate::access::{
    AccessMode, Cachable, DisplayNotation, Endianness, Representation, Slope, Visibility,
};
use crate::error::{LoadError, LoadWarning};
use crate::formula::{Formula, Mode};
use crate::node::{
    AddrPart, ConverterDef, Expr, Initial, IntRegDef, Kind, Node, NodeId, NumRef, NumberDef,
    RegDef, ValueSrc, VarSrc,
};

/// Attributes of the root element.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescriptionInfo {
    /// `ModelName`.
    pub model_name: String,
    /// `VendorName`.
    pub vendor_name: String,
    /// `ToolTip`.
    pub tooltip: String,
    /// `StandardNameSpace` (None, IIDC, GEV, CL, USB).
    pub standard_namespace: String,
    /// Schema version, major.minor.subminor.
    pub schema_version: (u32, u32, u32),
    /// Version of the description, major.minor.subminor.
    pub device_version: (u32, u32, u32),
    /// `ProductGuid`.
    pub product_guid: String,
    /// `VersionGuid`.
    pub version_guid: String,
}

/// What loading produces.
pub(crate) struct Loaded {
    pub nodes: Vec<Node>,
    pub ids: HashMap<String, NodeId>,
    pub info: DescriptionInfo,
    pub warnings: Vec<LoadWarning>,
}

/// Loads a description from XML text.
pub(crate) fn load_xml(text: &str) -> Result<Loaded, LoadError> {
    // Line numbers by binary search over the newline offsets.
    let doc = Doc::parse(text).map_err(|e| {
        let (line, column) = line_column(text, e.offset);
        LoadError::Xml {
            line,
            column,
            message: e.message,
        }
    })?;
    let root = doc.root();
    if root.tag() != "RegisterDescription" {
        return Err(LoadError::NotGenApi(root.tag().to_string()));
    }
    let attr = |n: &str| root.attribute(n).unwrap_or("").trim().to_string();
    let num = |n: &str| {
        root.attribute(n)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0)
    };
    let info = DescriptionInfo {
        model_name: attr("ModelName"),
        vendor_name: attr("VendorName"),
        tooltip: attr("ToolTip"),
        standard_namespace: attr("StandardNameSpace"),
        schema_version: (
            num("SchemaMajorVersion"),
            num("SchemaMinorVersion"),
            num("SchemaSubMinorVersion"),
        ),
        device_version: (
            num("MajorVersion"),
            num("MinorVersion"),
            num("SubMinorVersion"),
        ),
        product_guid: attr("ProductGuid"),
        version_guid: attr("VersionGuid"),
    };
    let mut b = Builder {
        text,
        cursor: std::cell::Cell::new((0, 1)),
        nodes: Vec::with_capacity(8192),
        ids: HashMap::with_capacity_and_hasher(8192, Default::default()),
        warnings: Vec::new(),
    };
    b.children(root)?;
    b.finish(info)
}

/// Loads a description from a zip archive holding one XML file.
pub(crate) fn unzip(bytes: &[u8]) -> Result<String, LoadError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| LoadError::Zip(e.to_string()))?;
    let mut chosen = None;
    for i in 0..archive.len() {
        let f = archive
            .by_index(i)
            .map_err(|e| LoadError::Zip(e.to_string()))?;
        if f.is_file() && f.name().to_ascii_lowercase().ends_with(".xml") {
            chosen = Some(i);
            break;
        }
        if chosen.is_none() && f.is_file() {
            chosen = Some(i);
        }
    }
    let i = chosen.ok_or_else(|| LoadError::Zip("the archive holds no file".into()))?;
    let mut f = archive
        .by_index(i)
        .map_err(|e| LoadError::Zip(e.to_string()))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)
        .map_err(|e| LoadError::Zip(e.to_string()))?;
    String::from_utf8(out).map_err(|e| LoadError::Utf8(e.utf8_error().valid_up_to()))
}

/// Whether the bytes look like a zip archive.
pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

struct Builder<'t> {
    text: &'t str,
    /// The last offset asked for a line number, and its line: documents are
    /// walked in order, so counting newlines from there is linear overall.
    cursor: std::cell::Cell<(usize, u32)>,
    nodes: Vec<Node>,
    ids: HashMap<String, NodeId>,
    warnings: Vec<LoadWarning>,
}

/// The text of an element (CDATA and entity references included), trimmed.
fn text<'d>(n: XmlNode<'d, '_>) -> &'d str {
    n.text()
}

/// Line and column (1-based) of a byte offset.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.bytes().filter(|&c| c == b'\n').count() as u32 + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[start..].chars().count() as u32 + 1;
    (line, column)
}

/// Parses an integer literal as the reference does: decimal or `0x` hex, optional sign.
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, s.strip_prefix('+').unwrap_or(s).trim_start()),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()? as i64
    } else if body.bytes().all(|c| c.is_ascii_digit()) && !body.is_empty() {
        match body.parse::<i64>() {
            Ok(v) => v,
            Err(_) => body.parse::<u64>().ok()? as i64,
        }
    } else {
        return None;
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses a float literal (decimal, scientific, or an integer literal).
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if let Ok(v) = t.parse::<f64>() {
        return Some(v);
    }
    parse_int(t).map(|v| v as f64)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "Yes" | "yes" | "true" | "1" => Some(true),
        "No" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// What the children of a node element say, before it is built.
#[derive(Default, Clone)]
struct Fields {
    tooltip: Option<String>,
    description: Option<String>,
    display_name: Option<String>,
    visibility: Option<Visibility>,
    docu_url: Option<String>,
    deprecated: bool,
    streamable: bool,
    event_id: Option<String>,
    is_implemented: Vec<NodeId>,
    is_available: Vec<NodeId>,
    is_locked: Vec<NodeId>,
    imposed: Option<AccessMode>,
    invalidators: Vec<NodeId>,
    selected: Vec<NodeId>,
    polling_time: Option<u64>,
    alias: Option<NodeId>,

    value: Option<String>,
    p_value: Option<NodeId>,
    copies: Vec<NodeId>,
    index: Option<NodeId>,
    index_offset: Option<NumRef>,
    indexed: Vec<(i64, NumRef)>,
    default: Option<NumRef>,
    min: Option<NumRef>,
    max: Option<NumRef>,
    inc: Option<NumRef>,
    unit: Option<String>,
    representation: Option<Representation>,
    notation: DisplayNotation,
    precision: Option<i64>,

    address: Vec<AddrPart>,
    length: Option<NumRef>,
    access: Option<AccessMode>,
    port: Option<NodeId>,
    cachable: Cachable,
    signed: Option<bool>,
    endianness: Option<Endianness>,
    bit: Option<u32>,
    lsb: Option<u32>,
    msb: Option<u32>,

    formula: Option<(String, u32)>,
    formula_to: Option<(String, u32)>,
    formula_from: Option<(String, u32)>,
    variables: Vec<(String, NodeId)>,
    constants: Vec<(String, NodeId)>,
    slope: Option<Slope>,

    entries: Vec<NodeId>,
    on: Option<i64>,
    off: Option<i64>,
    command: Option<NumRef>,
    features: Vec<NodeId>,
    symbolic: Option<String>,
    numeric: Option<f64>,
    chunk_id: Option<String>,
    parser: Option<NodeId>,
    key: Option<u8>,
}

const NODE_ELEMENTS: &[&str] = &[
    "Node",
    "Category",
    "Integer",
    "IntReg",
    "MaskedIntReg",
    "Float",
    "FloatReg",
    "Enumeration",
    "Boolean",
    "Command",
    "String",
    "StringReg",
    "Register",
    "SwissKnife",
    "IntSwissKnife",
    "Converter",
    "IntConverter",
    "Port",
    "StructReg",
    "ConfRom",
    "TextDesc",
    "IntKey",
    "SmartFeature",
    "AdvFeatureLock",
];

impl Builder<'_> {
    fn line(&self, n: XmlNode) -> u32 {
        let at = n.offset().min(self.text.len());
        let (from, line) = self.cursor.get();
        let count = |a: usize, b: usize| {
            self.text.as_bytes()[a..b]
                .iter()
                .filter(|&&c| c == b'\n')
                .count() as u32
        };
        let line = if at >= from {
            line + count(from, at)
        } else {
            line - count(at, from)
        };
        self.cursor.set((at, line));
        line
    }

    fn warn(&mut self, n: XmlNode, message: String) {
        let line = self.line(n);
        self.warnings.push(LoadWarning { line, message });
    }

    /// The id of a node by name, creating a placeholder if it is not defined yet.
    fn id(&mut self, name: &str) -> NodeId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes
            .push(Node::new(name.to_string(), 0, Kind::Placeholder));
        self.ids.insert(name.to_string(), id);
        id
    }

    /// Gives a node about to be defined its place, refusing a second definition.
    fn reserve(&mut self, name: &str, line: u32) -> Result<(), LoadError> {
        let id = self.id(name);
        if !matches!(self.nodes[id as usize].kind, Kind::Placeholder) {
            return Err(LoadError::Duplicate {
                line,
                node: name.to_string(),
            });
        }
        Ok(())
    }

    /// Defines a node, replacing a placeholder of the same name.
    fn define(&mut self, node: Node) -> Result<NodeId, LoadError> {
        if let Some(&id) = self.ids.get(&node.name) {
            let slot = &mut self.nodes[id as usize];
            if !matches!(slot.kind, Kind::Placeholder) {
                return Err(LoadError::Duplicate {
                    line: node.line,
                    node: node.name,
                });
            }
            *slot = node;
            return Ok(id);
        }
        let id = self.nodes.len() as NodeId;
        self.ids.insert(node.name.clone(), id);
        self.nodes.push(node);
        Ok(id)
    }

    fn children(&mut self, parent: XmlNode) -> Result<(), LoadError> {
        for c in parent.children() {
            let tag = c.tag();
            if tag == "Group" {
                self.children(c)?;
            } else if tag == "StructReg" {
                self.struct_reg(c)?;
            } else if NODE_ELEMENTS.contains(&tag) {
                self.node(c, None)?;
            } else {
                self.warn(c, format!("unknown element <{tag}> ignored"));
            }
        }
        Ok(())
    }

    fn name_of(&self, n: XmlNode) -> Result<String, LoadError> {
        match n.attribute("Name") {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            _ => Err(LoadError::BadValue {
                line: self.line(n),
                node: String::new(),
                element: n.tag().to_string(),
                value: "missing Name attribute".into(),
            }),
        }
    }

    fn bad(&self, n: XmlNode, node: &str, value: &str) -> LoadError {
        LoadError::BadValue {
            line: self.line(n),
            node: node.to_string(),
            element: n.tag().to_string(),
            value: value.to_string(),
        }
    }

    /// An error in the `<Value>` of node element `n`.
    fn bad_value(&self, n: XmlNode, node: &str, value: &str) -> LoadError {
        let child = n.children().find(|c| c.tag() == "Value");
        LoadError::BadValue {
            line: self.line(child.unwrap_or(n)),
            node: node.to_string(),
            element: "Value".into(),
            value: value.to_string(),
        }
    }

    fn int(&self, n: XmlNode, node: &str) -> Result<i64, LoadError> {
        let t = text(n);
        parse_int(t).ok_or_else(|| self.bad(n, node, t))
    }

    fn int_or_float(&self, n: XmlNode, node: &str) -> Result<NumRef, LoadError> {
        let t = text(n);
        if let Some(v) = parse_int(t) {
            return Ok(NumRef::Int(v));
        }
        parse_float(t)
            .map(NumRef::Float)
            .ok_or_else(|| self.bad(n, node, t))
    }

    fn node_ref(&mut self, n: XmlNode, node: &str) -> Result<NodeId, LoadError> {
        let t = text(n);
        if t.is_empty() {
            return Err(self.bad(n, node, ""));
        }
        Ok(self.id(t))
    }

    /// Reads one child element of a node into `f`; false when the element is unknown.
    fn field(
        &mut self,
        c: XmlNode,
        name: &str,
        parent_elem: &str,
        f: &mut Fields,
    ) -> Result<bool, LoadError> {
        let tag = c.tag();
        match tag {
            "Extension" | "pBlockPolling" | "pCastAlias" | "Comment" | "IsLinear" | "Default" => {}
            "pError" => {
                // Referenced only for the node map's order: reading it is up to the client.
                self.node_ref(c, name)?;
            }
            "pValueCopy" => {
                let id = self.node_ref(c, name)?;
                f.copies.push(id);
            }
            "ToolTip" => f.tooltip = Some(text(c).to_string()),
            "Description" => f.description = Some(text(c).to_string()),
            "DisplayName" => f.display_name = Some(text(c).to_string()),
            "Visibility" => {
                let t = text(c);
                f.visibility = Some(Visibility::parse(t).ok_or_else(|| self.bad(c, name, t))?);
            }
            "DocuURL" => f.docu_url = Some(text(c).to_string()),
            "IsDeprecated" => f.deprecated = parse_bool(text(c)).unwrap_or(false),
            "Streamable" => f.streamable = parse_bool(text(c)).unwrap_or(false),
            "EventID" => f.event_id = Some(text(c).to_string()),
            "pIsImplemented" => {
                let id = self.node_ref(c, name)?;
                f.is_implemented.push(id)
            }
            "pIsAvailable" => {
                let id = self.node_ref(c, name)?;
                f.is_available.push(id)
            }
            "pIsLocked" => {
                let id = self.node_ref(c, name)?;
                f.is_locked.push(id)
            }
            "ImposedAccessMode" | "AccessMode" => {
                let t = text(c);
                let m = AccessMode::parse(t).ok_or_else(|| self.bad(c, name, t))?;
                if tag == "AccessMode" {
                    f.access = Some(m)
                } else {
                    f.imposed = Some(m)
                }
            }
            "pInvalidator" => {
                let id = self.node_ref(c, name)?;
                f.invalidators.push(id)
            }
            "pSelected" => {
                let id = self.node_ref(c, name)?;
                f.selected.push(id)
            }
            "PollingTime" => f.polling_time = Some(self.int(c, name)? as u64),
            "pAlias" => f.alias = Some(self.node_ref(c, name)?),
            "Value" => f.value = Some(text(c).to_string()),
            "pValue" => f.p_value = Some(self.node_ref(c, name)?),
            "pIndex" => {
                let id = self.node_ref(c, name)?;
                f.index = Some(id);
                if let Some(o) = c.attribute("Offset") {
                    let v = parse_int(o).ok_or_else(|| self.bad(c, name, o))?;
                    f.index_offset = Some(NumRef::Int(v));
                } else if let Some(o) = c.attribute("pOffset") {
                    f.index_offset = Some(NumRef::Node(self.id(o.trim())));
                }
                if matches!(
                    parent_elem,
                    "IntReg"
                        | "MaskedIntReg"
                        | "FloatReg"
                        | "StringReg"
                        | "Register"
                        | "StructReg"
                        | "StructEntry"
                ) {
                    let offset = f.index_offset.unwrap_or(NumRef::Int(1));
                    f.address.push(AddrPart::Indexed { index: id, offset });
                }
            }
            "ValueIndexed" | "pValueIndexed" => {
                let idx = c
                    .attribute("Index")
                    .and_then(parse_int)
                    .ok_or_else(|| self.bad(c, name, "Index"))?;
                let v = if tag == "ValueIndexed" {
                    self.int_or_float(c, name)?
                } else {
                    NumRef::Node(self.node_ref(c, name)?)
                };
                f.indexed.push((idx, v));
            }
            "ValueDefault" => f.default = Some(self.int_or_float(c, name)?),
            "pValueDefault" => f.default = Some(NumRef::Node(self.node_ref(c, name)?)),
            "Min" => f.min = Some(self.int_or_float(c, name)?),
            "Max" => f.max = Some(self.int_or_float(c, name)?),
            "Inc" => f.inc = Some(self.int_or_float(c, name)?),
            "pMin" => f.min = Some(NumRef::Node(self.node_ref(c, name)?)),
            "pMax" => f.max = Some(NumRef::Node(self.node_ref(c, name)?)),
            "pInc" => f.inc = Some(NumRef::Node(self.node_ref(c, name)?)),
            "Unit" => f.unit = Some(text(c).to_string()),
            "Representation" => {
                let t = text(c);
                f.representation =
                    Some(Representation::parse(t).ok_or_else(|| self.bad(c, name, t))?);
            }
            "DisplayNotation" => {
                f.notation = match text(c) {
                    "Fixed" => DisplayNotation::Fixed,
                    "Scientific" => DisplayNotation::Scientific,
                    _ => DisplayNotation::Automatic,
                }
            }
            "DisplayPrecision" => f.precision = Some(self.int(c, name)?),
            "Address" => {
                let v = self.int(c, name)?;
                f.address.push(AddrPart::Const(v))
            }
            "pAddress" => {
                let id = self.node_ref(c, name)?;
                f.address.push(AddrPart::Node(id))
            }
            "IntSwissKnife" if parent_elem != "IntSwissKnife" => {
                // An address term embedded in a register.
                let own = self.name_of(c)?;
                let full = if parent_elem == "StructReg" {
                    own
                } else {
                    format!("_{name}_{own}")
                };
                let id = self.node(c, Some(full))?;
                f.address.push(AddrPart::Node(id));
            }
            "Length" => f.length = Some(NumRef::Int(self.int(c, name)?)),
            "pLength" => f.length = Some(NumRef::Node(self.node_ref(c, name)?)),
            "pPort" => f.port = Some(self.node_ref(c, name)?),
            "Cachable" => {
                f.cachable = match text(c) {
                    "NoCache" => Cachable::NoCache,
                    "WriteAround" => Cachable::WriteAround,
                    _ => Cachable::WriteThrough,
                }
            }
            "Sign" => f.signed = Some(text(c) == "Signed"),
            "Endianess" | "Endianness" => {
                f.endianness = Some(if text(c) == "BigEndian" {
                    Endianness::Big
                } else {
                    Endianness::Little
                })
            }
            "Bit" => f.bit = Some(self.int(c, name)? as u32),
            "LSB" => f.lsb = Some(self.int(c, name)? as u32),
            "MSB" => f.msb = Some(self.int(c, name)? as u32),
            "Formula" => f.formula = Some((text(c).to_string(), self.line(c))),
            "FormulaTo" => f.formula_to = Some((text(c).to_string(), self.line(c))),
            "FormulaFrom" => f.formula_from = Some((text(c).to_string(), self.line(c))),
            "pVariable" => {
                let var = c.attribute("Name").unwrap_or("").trim().to_string();
                let id = self.node_ref(c, name)?;
                f.variables.push((var, id));
            }
            "Constant" => {
                let var = c.attribute("Name").unwrap_or("").trim().to_string();
                let v = self.int_or_float(c, name)?;
                let mut node = Node::new(format!("_{name}_{var}"), self.line(c), Kind::Base);
                if parent_elem == "IntSwissKnife" || parent_elem == "IntConverter" {
                    let iv = match v {
                        NumRef::Float(x) => x as i64,
                        NumRef::Int(i) => i,
                        NumRef::Node(_) => 0,
                    };
                    node.kind = Kind::Integer(NumberDef::default());
                    node.initial = Initial::Int(iv);
                } else {
                    let fv = match v {
                        NumRef::Float(x) => x,
                        NumRef::Int(i) => i as f64,
                        NumRef::Node(_) => 0.0,
                    };
                    node.kind = Kind::Float(NumberDef::default());
                    node.initial = Initial::Float(fv);
                }
                let id = self.define(node)?;
                f.constants.push((var, id));
            }
            "Expression" => {
                self.warn(
                    c,
                    format!("node '{name}': <Expression> is not supported and was ignored"),
                );
            }
            "Slope" => {
                f.slope = Some(match text(c) {
                    "Increasing" => Slope::Increasing,
                    "Decreasing" => Slope::Decreasing,
                    "Varying" => Slope::Varying,
                    _ => Slope::Automatic,
                })
            }
            "EnumEntry" => {
                let id = self.enum_entry(c, name)?;
                f.entries.push(id);
            }
            "OnValue" => f.on = Some(self.int(c, name)?),
            "OffValue" => f.off = Some(self.int(c, name)?),
            "CommandValue" => f.command = Some(NumRef::Int(self.int(c, name)?)),
            "pCommandValue" => f.command = Some(NumRef::Node(self.node_ref(c, name)?)),
            "pFeature" => {
                let id = self.node_ref(c, name)?;
                f.features.push(id)
            }
            "Symbolic" => f.symbolic = Some(text(c).to_string()),
            "NumericValue" => f.numeric = parse_float(text(c)),
            "ChunkID" => f.chunk_id = Some(text(c).to_string()),
            "SwapEndianess" | "FeatureID" | "Timeout" => {}
            // Inside a ConfRom these only list the keys it holds.
            "TextDesc" | "IntKey" if parent_elem == "ConfRom" => {}
            "p1212Parser" => f.parser = Some(self.node_ref(c, name)?),
            "Key" => {
                let v = self.int(c, name)?;
                f.key = Some(u8::try_from(v).map_err(|_| self.bad(c, name, text(c)))?);
            }
            "Sign " => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn fields(
        &mut self,
        n: XmlNode,
        name: &str,
        elem: &str,
        f: &mut Fields,
        skip_entries: bool,
    ) -> Result<(), LoadError> {
        for c in n.children() {
            if skip_entries && c.tag() == "StructEntry" {
                continue;
            }
            if !self.field(c, name, elem, f)? {
                let tag = c.tag().to_string();
                self.warn(c, format!("node '{name}': unknown element <{tag}> ignored"));
            }
        }
        Ok(())
    }

    fn enum_entry(&mut self, n: XmlNode, enum_name: &str) -> Result<NodeId, LoadError> {
        let entry = self.name_of(n)?;
        let full = format!("EnumEntry_{enum_name}_{entry}");
        self.reserve(&full, self.line(n))?;
        let mut f = Fields::default();
        self.fields(n, &full, "EnumEntry", &mut f, false)?;
        let value = match &f.value {
            Some(v) => parse_int(v).ok_or_else(|| self.bad_value(n, &full, v))?,
            None => 0,
        };
        let kind = Kind::EnumEntry {
            value,
            symbolic: f.symbolic.clone().unwrap_or(entry),
            numeric: f.numeric,
        };
        let node = self.build_common(full, self.line(n), kind, f);
        self.define(node)
    }

    fn build_common(&self, name: String, line: u32, kind: Kind, f: Fields) -> Node {
        let mut node = Node::new(name, line, kind);
        node.tooltip = f.tooltip;
        node.description = f.description;
        node.display_name = f.display_name;
        node.visibility = f.visibility.unwrap_or_default();
        node.docu_url = f.docu_url;
        node.deprecated = f.deprecated;
        node.streamable = f.streamable;
        node.event_id = f.event_id;
        node.is_implemented = f.is_implemented;
        node.is_available = f.is_available;
        node.is_locked = f.is_locked;
        node.imposed = f.imposed;
        node.invalidators = f.invalidators;
        node.selected = f.selected;
        node.polling_time = f.polling_time;
        node.alias = f.alias;
        node
    }

    fn struct_reg(&mut self, n: XmlNode) -> Result<(), LoadError> {
        let mut base = Fields::default();
        let label = n.attribute("Comment").unwrap_or("StructReg").to_string();
        self.fields(n, &label, "StructReg", &mut base, true)?;
        for e in n.children().filter(|c| c.tag() == "StructEntry") {
            let name = self.name_of(e)?;
            self.reserve(&name, self.line(e))?;
            let mut f = base.clone();
            f.bit = None;
            f.lsb = None;
            f.msb = None;
            self.fields(e, &name, "StructEntry", &mut f, false)?;
            let line = self.line(e);
            let kind = self.int_reg_kind(e, &name, &f, true)?;
            let node = self.build_common(name, line, kind, f);
            self.define(node)?;
        }
        Ok(())
    }

    fn reg_def(&self, n: XmlNode, name: &str, f: &Fields) -> Result<RegDef, LoadError> {
        let length = f
            .length
            .ok_or_else(|| self.bad(n, name, "missing <Length>"))?;
        Ok(RegDef {
            address: f.address.clone(),
            length,
            access: f.access.unwrap_or(AccessMode::RO),
            port: f.port,
            cachable: f.cachable,
        })
    }

    fn int_reg_kind(
        &self,
        n: XmlNode,
        name: &str,
        f: &Fields,
        masked: bool,
    ) -> Result<Kind, LoadError> {
        let reg = self.reg_def(n, name, f)?;
        let raw_bits = if masked {
            match (f.bit, f.lsb, f.msb) {
                (Some(b), _, _) => Some((b, b)),
                (None, Some(l), Some(m)) => Some((l, m)),
                (None, Some(l), None) => Some((l, l)),
                (None, None, Some(m)) => Some((m, m)),
                (None, None, None) => Some((0, 0)),
            }
        } else {
            None
        };
        Ok(Kind::IntReg(IntRegDef {
            reg,
            signed: f.signed.unwrap_or(false),
            endianness: f.endianness.unwrap_or_default(),
            bits: None,
            raw_bits,
            unit: f.unit.clone(),
            representation: f.representation,
        }))
    }

    fn value_src(&self, f: &Fields) -> ValueSrc {
        if let Some(p) = f.p_value {
            ValueSrc::Node(p)
        } else if let (Some(index), false) = (f.index, f.indexed.is_empty()) {
            ValueSrc::Indexed {
                index,
                cases: f.indexed.clone(),
                default: f.default,
            }
        } else {
            ValueSrc::Own
        }
    }

    /// Parses a formula and binds its variables.
    fn expr(
        &mut self,
        owner: &str,
        src: &(String, u32),
        vars: &[(String, NodeId)],
        converted: Option<&str>,
        mode: Mode,
    ) -> Result<Expr, LoadError> {
        let (text, line) = src;
        // A formula names variables exactly as declared; a declared name may
        // carry a suffix (`X.Min`) that selects a property of the node.
        let known =
            |id: &str| -> bool { Some(id) == converted || vars.iter().any(|(v, _)| v == id) };
        // Compiled for the node's own mode; a formula only the other mode accepts
        // still loads and fails when read, as in the reference.
        let formula = Formula::parse_mode(text, mode, &known)
            .or_else(|_| Formula::parse(text, &known))
            .map_err(|e| LoadError::Formula {
                line: *line,
                node: owner.to_string(),
                source: e,
            })?;
        let mut bound = Vec::with_capacity(formula.variables().len());
        for var in formula.variables() {
            let var: &str = var;
            if Some(var) == converted {
                bound.push(VarSrc::Converted);
                continue;
            }
            let Some(&(_, id)) = vars.iter().find(|(v, _)| v == var) else {
                return Err(LoadError::UnknownNode {
                    node: owner.to_string(),
                    target: var.to_string(),
                });
            };
            let suffix = var.split_once('.').map(|(_, s)| s).unwrap_or("Value");
            let v = match suffix {
                "Value" => VarSrc::Value(id),
                "Min" => VarSrc::Min(id),
                "Max" => VarSrc::Max(id),
                "Inc" => VarSrc::Inc(id),
                s if s.starts_with("Entry.") => {
                    let entry = format!(
                        "EnumEntry_{}_{}",
                        self.nodes[id as usize].name,
                        &s["Entry.".len()..]
                    );
                    VarSrc::Entry(id, self.id(&entry))
                }
                other => {
                    return Err(LoadError::BadValue {
                        line: *line,
                        node: owner.to_string(),
                        element: "pVariable".into(),
                        value: format!("{var}: unknown extension '.{other}' (expected .Value, .Min, .Max, .Inc or .Entry.<name>)"),
                    })
                }
            };
            bound.push(v);
        }
        // The reference reads every declared variable, used or not.
        let used: Vec<&str> = formula.variables().iter().map(String::as_str).collect();
        let unused = vars
            .iter()
            .filter(|(v, _)| !used.contains(&v.as_str()))
            .map(|(_, id)| *id)
            .collect();
        Ok(Expr {
            formula,
            vars: bound,
            declared: vars.iter().map(|(_, id)| *id).collect(),
            unused,
        })
    }

    /// Builds one node element; `rename` gives the name of an embedded node.
    fn node(&mut self, n: XmlNode, rename: Option<String>) -> Result<NodeId, LoadError> {
        let elem = n.tag();
        let name = match rename {
            Some(r) => r,
            None => self.name_of(n)?,
        };
        let line = self.line(n);
        // The node takes its place in the map before the nodes it refers to.
        self.reserve(&name, line)?;
        let mut f = Fields::default();
        self.fields(n, &name, elem, &mut f, false)?;
        let mut vars = f.variables.clone();
        vars.extend(f.constants.iter().cloned());
        let mut initial = Initial::None;
        let kind = match elem {
            "Node" => Kind::Base,
            "Category" => Kind::Category {
                features: f.features.clone(),
            },
            "Integer" | "Float" => {
                let value = self.value_src(&f);
                if matches!(value, ValueSrc::Own) {
                    let v = f.value.as_deref();
                    initial = if elem == "Integer" {
                        Initial::Int(match v {
                            Some(v) => parse_int(v).ok_or_else(|| self.bad_value(n, &name, v))?,
                            None => 0,
                        })
                    } else {
                        Initial::Float(match v {
                            Some(v) => parse_float(v).ok_or_else(|| self.bad_value(n, &name, v))?,
                            None => 0.0,
                        })
                    };
                }
                let def = NumberDef {
                    value,
                    copies: f.copies.clone(),
                    min: f.min,
                    max: f.max,
                    inc: f.inc,
                    unit: f.unit.clone(),
                    representation: f.representation,
                    notation: f.notation,
                    precision: f.precision,
                };
                if elem == "Integer" {
                    Kind::Integer(def)
                } else {
                    Kind::Float(def)
                }
            }
            "ConfRom" => Kind::Register(self.reg_def(n, &name, &f)?),
            "TextDesc" | "IntKey" => Kind::ConfKey {
                rom: f
                    .parser
                    .ok_or_else(|| self.bad(n, &name, "missing <p1212Parser>"))?,
                key: f.key.ok_or_else(|| self.bad(n, &name, "missing <Key>"))?,
                text: elem == "TextDesc",
            },
            "IntReg" | "AdvFeatureLock" | "SmartFeature" => {
                if f.length.is_none() {
                    f.length = Some(NumRef::Int(if elem == "SmartFeature" { 8 } else { 4 }));
                }
                self.int_reg_kind(n, &name, &f, false)?
            }
            "MaskedIntReg" => self.int_reg_kind(n, &name, &f, true)?,
            "FloatReg" => Kind::FloatReg {
                reg: self.reg_def(n, &name, &f)?,
                endianness: f.endianness.unwrap_or_default(),
                unit: f.unit.clone(),
                representation: f.representation,
            },
            "StringReg" => Kind::StringReg(self.reg_def(n, &name, &f)?),
            "Register" => Kind::Register(self.reg_def(n, &name, &f)?),
            "String" => {
                let value = self.value_src(&f);
                initial = Initial::Str(f.value.clone().unwrap_or_default());
                Kind::String { value }
            }
            "Enumeration" => {
                let value = self.value_src(&f);
                if let (ValueSrc::Own, Some(v)) = (&value, &f.value) {
                    initial =
                        Initial::Int(parse_int(v).ok_or_else(|| self.bad_value(n, &name, v))?);
                } else if matches!(value, ValueSrc::Own) {
                    initial = Initial::Int(0);
                }
                Kind::Enumeration {
                    value,
                    entries: f.entries.clone(),
                }
            }
            "Boolean" => {
                let value = self.value_src(&f);
                let on = f.on.unwrap_or(1);
                let off = f.off.unwrap_or(0);
                if matches!(value, ValueSrc::Own) {
                    let v = match f.value.as_deref().map(str::trim) {
                        Some("true") | Some("True") => on,
                        Some("false") | Some("False") | None => off,
                        Some(v) => parse_int(v).ok_or_else(|| self.bad_value(n, &name, v))?,
                    };
                    initial = Initial::Int(v);
                }
                Kind::Boolean { value, on, off }
            }
            "Command" => {
                let value = self.value_src(&f);
                if matches!(value, ValueSrc::Own) {
                    initial = Initial::Int(f.value.as_deref().and_then(parse_int).unwrap_or(0));
                }
                Kind::Command {
                    value,
                    command: f.command.unwrap_or(NumRef::Int(1)),
                }
            }
            "SwissKnife" | "IntSwissKnife" => {
                let src = f
                    .formula
                    .clone()
                    .ok_or_else(|| self.bad(n, &name, "missing <Formula>"))?;
                let mode = if elem == "SwissKnife" {
                    Mode::Float
                } else {
                    Mode::Int
                };
                let expr = self.expr(&name, &src, &vars, None, mode)?;
                if elem == "SwissKnife" {
                    Kind::SwissKnife {
                        expr,
                        unit: f.unit.clone(),
                        representation: f.representation,
                    }
                } else {
                    Kind::IntSwissKnife {
                        expr,
                        unit: f.unit.clone(),
                        representation: f.representation,
                    }
                }
            }
            "Converter" | "IntConverter" => {
                let to_src = f
                    .formula_to
                    .clone()
                    .ok_or_else(|| self.bad(n, &name, "missing <FormulaTo>"))?;
                let from_src = f
                    .formula_from
                    .clone()
                    .ok_or_else(|| self.bad(n, &name, "missing <FormulaFrom>"))?;
                let value = f
                    .p_value
                    .ok_or_else(|| self.bad(n, &name, "missing <pValue>"))?;
                let int = elem == "IntConverter";
                let mode = if int { Mode::Int } else { Mode::Float };
                let to = self.expr(&name, &to_src, &vars, Some("FROM"), mode)?;
                let from = self.expr(&name, &from_src, &vars, Some("TO"), mode)?;
                for (suffix, e) in [("_ConvertTo", &to), ("_ConvertFrom", &from)] {
                    let kind = if int {
                        Kind::IntSwissKnife {
                            expr: e.clone(),
                            unit: None,
                            representation: None,
                        }
                    } else {
                        Kind::SwissKnife {
                            expr: e.clone(),
                            unit: None,
                            representation: None,
                        }
                    };
                    self.define(Node::new(format!("{name}{suffix}"), line, kind))?;
                }
                let def = ConverterDef {
                    to,
                    from,
                    value,
                    slope: f.slope,
                    unit: f.unit.clone(),
                    representation: f.representation,
                };
                if int {
                    Kind::IntConverter(def)
                } else {
                    Kind::Converter(def)
                }
            }
            "Port" => Kind::Port {
                chunk_id: f.chunk_id.clone(),
            },
            _ => {
                self.warn(n, format!("unknown node element <{elem}> ignored"));
                Kind::Base
            }
        };
        let mut node = self.build_common(name, line, kind, f);
        node.initial = initial;
        self.define(node)
    }

    fn finish(self, info: DescriptionInfo) -> Result<Loaded, LoadError> {
        // Every reference must name a defined node.
        let mut refs = Vec::new();
        for node in &self.nodes {
            if matches!(node.kind, Kind::Placeholder) {
                continue;
            }
            refs.clear();
            node.references(&mut refs);
            refs.extend(&node.invalidators);
            refs.extend(&node.selected);
            if let Kind::Category { features } = &node.kind {
                refs.extend(features);
            }
            for &r in &refs {
                if matches!(self.nodes[r as usize].kind, Kind::Placeholder) {
                    return Err(LoadError::UnknownNode {
                        node: node.name.clone(),
                        target: self.nodes[r as usize].name.clone(),
                    });
                }
            }
        }
        Ok(Loaded {
            nodes: self.nodes,
            ids: self.ids,
            info,
            warnings: self.warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_literals() {
        assert_eq!(parse_int("0x10"), Some(16));
        assert_eq!(parse_int(" 42\n"), Some(42));
        assert_eq!(parse_int("-0x10"), Some(-16));
        assert_eq!(parse_int("0xFFFFFFFFFFFFFFFF"), Some(-1));
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_float("1.5e3"), Some(1500.0));
        assert_eq!(parse_float("0x20"), Some(32.0));
    }
}
