//! Property tests: loading and reading never panic, whatever the input.

use genapi::{Error, Interface, LoadError, MemoryPort, NodeMap};
use proptest::prelude::*;
use proptest::sample::Index;

/// A small description with one node of almost every kind, wired together.
const SMALL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<RegisterDescription ModelName="M" VendorName="V" StandardNameSpace="None" SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="0" VersionGuid="0" xmlns="http://www.genicam.org/GenApi/Version_1_1">
  <Category Name="Root"><pFeature>Width</pFeature><pFeature>Mode</pFeature><pFeature>Gain</pFeature><pFeature>Label</pFeature><pFeature>Flag</pFeature></Category>
  <Integer Name="Width"><pIsAvailable>Flag</pIsAvailable><pValue>WidthReg</pValue><Min>16</Min><pMax>MaxReg</pMax><Inc>4</Inc></Integer>
  <IntReg Name="WidthReg"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><pInvalidator>Mode</pInvalidator><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>
  <IntReg Name="MaxReg"><Address>0x14</Address><Length>2</Length><AccessMode>RO</AccessMode><pPort>Device</pPort><Sign>Signed</Sign><Endianess>BigEndian</Endianess></IntReg>
  <MaskedIntReg Name="Bits"><Address>0x18</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><LSB>3</LSB><MSB>9</MSB><Sign>Unsigned</Sign><Endianess>BigEndian</Endianess></MaskedIntReg>
  <Enumeration Name="Mode"><pSelected>Gain</pSelected><EnumEntry Name="Off"><Value>0</Value></EnumEntry><EnumEntry Name="On"><pIsAvailable>Bits</pIsAvailable><Value>1</Value></EnumEntry><pValue>Bits</pValue></Enumeration>
  <Float Name="Gain"><pValue>GainConv</pValue><Min>-10</Min><Max>1e3</Max></Float>
  <Converter Name="GainConv"><pVariable Name="W">Width</pVariable><FormulaTo>FROM*10+W</FormulaTo><FormulaFrom>(TO-W)/10</FormulaFrom><pValue>GainReg</pValue><Slope>Increasing</Slope></Converter>
  <FloatReg Name="GainReg"><Address>0x20</Address><pIndex Offset="8">Mode</pIndex><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>LittleEndian</Endianess></FloatReg>
  <IntSwissKnife Name="Sum"><pVariable Name="A">Width</pVariable><pVariable Name="B">Bits</pVariable><Formula>A+B*2</Formula></IntSwissKnife>
  <SwissKnife Name="Ratio"><pVariable Name="A">Width</pVariable><pVariable Name="B">Sum</pVariable><Formula>A/B</Formula></SwissKnife>
  <IntConverter Name="Half"><FormulaTo>FROM*2</FormulaTo><FormulaFrom>TO/2</FormulaFrom><pValue>WidthReg</pValue></IntConverter>
  <Boolean Name="Flag"><pValue>FlagReg</pValue><OnValue>1</OnValue><OffValue>0</OffValue></Boolean>
  <IntReg Name="FlagReg"><Address>0x30</Address><Length>1</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>
  <Command Name="Start"><pValue>FlagReg</pValue><CommandValue>1</CommandValue></Command>
  <StringReg Name="Label"><Address>0x40</Address><pLength>LabelLen</pLength><AccessMode>RW</AccessMode><pPort>Device</pPort></StringReg>
  <Integer Name="LabelLen"><Value>8</Value></Integer>
  <Register Name="Raw"><Address>0x50</Address><IntSwissKnife Name="Off"><pVariable Name="I">Bits</pVariable><Formula>I*4</Formula></IntSwissKnife><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort></Register>
  <Integer Name="Indexed"><pIndex>Bits</pIndex><pValueIndexed Index="0">WidthReg</pValueIndexed><ValueIndexed Index="1">7</ValueIndexed><ValueDefault>-1</ValueDefault></Integer>
  <String Name="Text"><Value>hello</Value></String>
  <StructReg Comment="S"><Address>0x60</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>LittleEndian</Endianess>
    <StructEntry Name="Lo"><LSB>0</LSB><MSB>7</MSB></StructEntry>
    <StructEntry Name="Hi"><Bit>31</Bit></StructEntry>
  </StructReg>
  <Port Name="Device"/>
</RegisterDescription>
"#;

/// Connects a memory port to every port and reads every node every way.
/// Checks a few invariants on the way.
fn exercise(map: &mut NodeMap) {
    for p in map
        .port_names()
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    {
        let mut port = MemoryPort::new(0x1000);
        for (i, b) in port.memory.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37);
        }
        map.connect(&p, Box::new(port)).unwrap();
    }
    let names: Vec<String> = map.node_names().map(str::to_string).collect();
    for n in &names {
        assert!(map.contains(n));
        assert_eq!(map.node_info(n).unwrap().name, n);
        let interface = map.interface(n).unwrap();
        let access = map.access_mode(n);
        let text = map.value_text(n);
        // A value is read only from a readable node, even when the
        // description's access modes form a cycle.
        if let (Ok(a), Ok(t)) = (&access, &text) {
            assert!(
                a.is_readable(),
                "{n} reads as {t:?} though its access mode is {a}"
            );
        }
        if let Err(Error::WrongType { name, expected, .. }) = &text {
            // value_text refuses only nodes that are not value features.
            let value_feature = matches!(
                interface,
                Interface::Integer
                    | Interface::Float
                    | Interface::Enumeration
                    | Interface::Boolean
                    | Interface::String
            );
            assert!(
                !(value_feature && name == n && *expected == "a value feature"),
                "{n} is a {interface:?} but value_text refuses it"
            );
        }
        let _ = map.integer_min(n);
        let _ = map.integer_max(n);
        let _ = map.integer_inc(n);
        let _ = map.float_min(n);
        let _ = map.float_max(n);
        let _ = map.float_inc(n);
        let _ = map.register_address(n);
        let _ = map.register_length(n);
        let _ = map.register(n);
        let _ = map.enum_entries(n);
        let _ = map.string_bytes(n);
        let _ = map.is_done(n);
        let _ = map.selected_features(n);
        let _ = map.selecting_features(n);
        let _ = map.category_features(n);
    }
    let saved = map.save_features();
    assert!(saved.starts_with(genapi::persist::MAGIC));
    for n in &names {
        let _ = map.set_value_text(n, "1");
        let _ = map.set_value_text(n, "-1");
    }
    map.poll(1000);
    let _ = map.load_features(&saved);
    map.invalidate_all();
    for n in &names {
        let _ = map.value_text(n);
    }
}

/// Checks that a load error points inside the text.
fn check_error(text: &[u8], e: &LoadError) {
    if let LoadError::Xml { line, column, .. } = e {
        let lines = text.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        assert!(*line >= 1 && *line <= lines, "line {line} of {lines}: {e}");
        assert!(*column >= 1, "{e}");
    }
    if let LoadError::Utf8(at) = e {
        assert!(*at <= text.len());
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replaces the byte at a position.
    Set(Index, u8),
    /// Replaces a digit with another digit.
    Digit(Index, u8),
    /// Cuts the text at a position.
    Truncate(Index),
    /// Removes up to 16 bytes.
    Delete(Index, usize),
    /// Copies up to 64 bytes to another place.
    Duplicate(Index, Index, usize),
    /// Renames a node reference to another node's name (makes cycles).
    Rewire(Index, Index),
}

const NAMES: &[&str] = &[
    "Width", "WidthReg", "MaxReg", "Bits", "Mode", "Gain", "GainConv", "GainReg", "Sum", "Ratio",
    "Half", "Flag", "FlagReg", "Start", "Label", "LabelLen", "Raw", "Indexed", "Lo", "Hi", "Root",
    "Device", "Text",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        3 => (any::<Index>(), 0u8..10).prop_map(|(i, d)| Mutation::Digit(i, d)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => (any::<Index>(), any::<Index>(), 1usize..64)
            .prop_map(|(a, b, n)| Mutation::Duplicate(a, b, n)),
        5 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Rewire(a, b)),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    if text.is_empty() {
        return;
    }
    match m {
        Mutation::Set(i, b) => {
            let at = i.index(text.len());
            text[at] = *b;
        }
        Mutation::Digit(i, d) => {
            let digits: Vec<usize> = (0..text.len())
                .filter(|&k| text[k].is_ascii_digit())
                .collect();
            if !digits.is_empty() {
                let at = digits[i.index(digits.len())];
                text[at] = b'0' + d;
            }
        }
        Mutation::Truncate(i) => {
            let at = i.index(text.len());
            text.truncate(at);
        }
        Mutation::Delete(i, n) => {
            let at = i.index(text.len());
            let end = (at + n).min(text.len());
            text.drain(at..end);
        }
        Mutation::Duplicate(a, b, n) => {
            let from = a.index(text.len());
            let end = (from + n).min(text.len());
            let chunk = text[from..end].to_vec();
            let to = b.index(text.len());
            text.splice(to..to, chunk);
        }
        Mutation::Rewire(a, b) => {
            // Every `>Name<` is a reference (or a value); point one elsewhere.
            let refs: Vec<(usize, usize)> = NAMES
                .iter()
                .flat_map(|name| {
                    let pat = format!(">{name}<");
                    let hay = text.clone();
                    (0..hay.len().saturating_sub(pat.len()))
                        .filter(move |&k| hay[k..].starts_with(pat.as_bytes()))
                        .map(move |k| (k + 1, name.len()))
                        .collect::<Vec<_>>()
                })
                .collect();
            if !refs.is_empty() {
                let (at, len) = refs[a.index(refs.len())];
                let to = NAMES[b.index(NAMES.len())];
                text.splice(at..at + len, to.bytes());
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

const TOKENS: &[&str] = &[
    "A",
    "B",
    "A.Min",
    "A.Max",
    "B.Inc",
    "0",
    "1",
    "-1",
    "2",
    "63",
    "64",
    "0x10",
    "0xFFFFFFFF",
    "0xFFFFFFFFFFFFFFFF",
    "9223372036854775807",
    "1.5",
    "1e308",
    "1e-308",
    ".5",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "<<",
    ">>",
    "&",
    "|",
    "^",
    "~",
    "(",
    ")",
    "?",
    ":",
    "=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "&&",
    "||",
    "SGN(",
    "NEG(",
    "ABS(",
    "SQRT(",
    "EXP(",
    "LN(",
    "LG(",
    "SIN(",
    "COS(",
    "TAN(",
    "ASIN(",
    "ACOS(",
    "ATAN(",
    "TRUNC(",
    "FLOOR(",
    "CEIL(",
    "ROUND(",
    ",",
    "PI",
    "E",
    " ",
    "FROM",
    "TO",
    "Q",
];

fn formula() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|v| v.concat()),
        1 => "[ -~]{0,40}",
        1 => "\\PC{0,16}",
    ]
}

fn int_value() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        Just(-1),
        Just(1),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(64),
        any::<i64>(),
    ]
}

fn float_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0f64),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(9.3e18),
        Just(-9.3e18),
        any::<f64>(),
    ]
}

fn description(body: &str) -> String {
    format!(
        r#"<RegisterDescription ModelName="M" VendorName="V" StandardNameSpace="None" SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="0" VersionGuid="0" xmlns="http://www.genicam.org/GenApi/Version_1_1">
<Port Name="Device"/>
{body}
</RegisterDescription>"#
    )
}

#[test]
fn the_small_description_loads_and_reads() {
    let mut map = NodeMap::from_xml(SMALL).unwrap();
    assert!(map.warnings().is_empty(), "{:?}", map.warnings());
    exercise(&mut map);
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(512) })]

    #[test]
    fn from_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = NodeMap::from_bytes(&bytes) {
            check_error(&bytes, &e);
        }
    }

    #[test]
    fn from_bytes_of_xml_like_text_never_panics(text in "(<[A-Za-z/!?]{0,3}[ =\"a-z]{0,6}>?|[^<]{0,6}|&[a-z#0-9]{0,4};?){0,40}") {
        if let Err(e) = NodeMap::from_bytes(text.as_bytes()) {
            check_error(text.as_bytes(), &e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(384) })]

    #[test]
    fn mutated_descriptions_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        let mut text = SMALL.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut text, m);
        }
        match NodeMap::from_bytes(&text) {
            Ok(mut map) => exercise(&mut map),
            Err(e) => check_error(&text, &e),
        }
    }

    #[test]
    fn formulas_never_panic(
        f in formula(),
        g in formula(),
        a in int_value(),
        b in float_value(),
        slope in prop::sample::select(vec!["", "<Slope>Increasing</Slope>", "<Slope>Decreasing</Slope>", "<Slope>Varying</Slope>", "<Slope>Automatic</Slope>"]),
    ) {
        let vars = r#"<pVariable Name="A">VA</pVariable><pVariable Name="B">VB</pVariable>"#;
        let values = format!(
            r#"<Integer Name="VA"><Value>{a}</Value></Integer><Float Name="VB"><Value>{b:?}</Value></Float>
<IntReg Name="R"><Address>0x10</Address><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Signed</Sign><Endianess>LittleEndian</Endianess></IntReg>
<FloatReg Name="FR"><Address>0x20</Address><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>LittleEndian</Endianess></FloatReg>"#
        );
        let knives = description(&format!(
            r#"{values}
<IntSwissKnife Name="ISK">{vars}<Formula>{ef}</Formula></IntSwissKnife>
<SwissKnife Name="SK">{vars}<Formula>{ef}</Formula></SwissKnife>
<IntReg Name="AtFormula"><IntSwissKnife Name="Addr">{vars}<Formula>{ef}</Formula></IntSwissKnife><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
            ef = escape(&f)
        ));
        match NodeMap::from_xml(&knives) {
            Ok(mut map) => {
                map.connect("Device", Box::new(MemoryPort::new(0x100))).unwrap();
                let i = map.integer("ISK");
                let _ = map.float("SK");
                let _ = map.integer_min("ISK");
                let _ = map.float_max("SK");
                let address = map.register_address("AtFormula");
                let _ = map.integer("AtFormula");
                let _ = map.value_text("ISK");
                let _ = map.value_text("SK");
                // The embedded address formula is the same IntSwissKnife formula.
                prop_assert_eq!(address.ok(), i.ok());
            }
            Err(e) => prop_assert!(
                matches!(e, LoadError::Formula { .. } | LoadError::UnknownNode { .. } | LoadError::Xml { .. }),
                "unexpected load error {e:?}"
            ),
        }

        let converters = description(&format!(
            r#"{values}
<Converter Name="C">{vars}<FormulaTo>{ef}</FormulaTo><FormulaFrom>{eg}</FormulaFrom><pValue>FR</pValue>{slope}</Converter>
<IntConverter Name="IC">{vars}<FormulaTo>{ef}</FormulaTo><FormulaFrom>{eg}</FormulaFrom><pValue>R</pValue>{slope}</IntConverter>"#,
            ef = escape(&f),
            eg = escape(&g)
        ));
        if let Ok(mut map) = NodeMap::from_xml(&converters) {
            map.connect("Device", Box::new(MemoryPort::new(0x100))).unwrap();
            let _ = map.float("C");
            let _ = map.float_min("C");
            let _ = map.float_max("C");
            let _ = map.set_float("C", b);
            let _ = map.set_float("C", 1.0);
            let _ = map.float("C");
            let _ = map.integer("IC");
            let _ = map.integer_min("IC");
            let _ = map.integer_max("IC");
            let _ = map.set_integer("IC", a);
            let _ = map.set_integer("IC", 1);
            let _ = map.integer("IC");
            let _ = map.value_text("C_ConvertTo");
            let _ = map.value_text("IC_ConvertFrom");
        }
    }
}
