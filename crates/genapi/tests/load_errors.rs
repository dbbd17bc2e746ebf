//! Integration tests of loading: what a malformed or unusual description gives.

use genapi::{LoadError, MemoryPort, NodeMap};

const ROOT: &str = r#"<RegisterDescription ModelName="M" VendorName="V" StandardNameSpace="None" SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="0" VersionGuid="0" xmlns="http://www.genicam.org/GenApi/Version_1_1">"#;

/// A whole description; the root element is on line 1, the `Device` port on
/// line 2, so `body` starts on line 3.
fn xml(body: &str) -> String {
    format!("{ROOT}\n<Port Name=\"Device\"/>\n{body}\n</RegisterDescription>\n")
}

fn load(body: &str) -> NodeMap {
    let text = xml(body);
    match NodeMap::from_xml(&text) {
        Ok(map) => map,
        Err(e) => panic!("does not load: {e}\n{text}"),
    }
}

fn load_err(body: &str) -> LoadError {
    let text = xml(body);
    match NodeMap::from_xml(&text) {
        Ok(_) => panic!("loads, but should not:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn mismatched_closing_tag_gives_line_and_column() {
    //            col 1 ........ 20 ......... 37
    let body = r#"  <Integer Name="X"><Value>1</Value></Intger>"#;
    match load_err(body) {
        LoadError::Xml {
            line,
            column,
            message,
        } => {
            assert_eq!((line, column), (3, 37), "{message}");
            assert!(message.contains("Intger"), "{message}");
        }
        other => panic!("expected an XML error, got {other:?}"),
    }
}

#[test]
fn unclosed_element_and_bad_entity_are_xml_errors() {
    match load_err("<Integer Name=\"X\"><Value>1</Value>") {
        LoadError::Xml { line, column, .. } => assert_eq!((line, column), (4, 1)),
        other => panic!("expected an XML error, got {other:?}"),
    }
    match load_err("\n  <Integer Name=\"X\"><Value>&bogus;</Value></Integer>") {
        LoadError::Xml {
            line,
            column,
            message,
        } => {
            assert_eq!((line, column), (4, 28));
            assert!(message.contains("bogus"), "{message}");
        }
        other => panic!("expected an XML error, got {other:?}"),
    }
    assert!(matches!(
        NodeMap::from_xml(""),
        Err(LoadError::Xml { line: 1, .. })
    ));
    // A column counts characters, not bytes.
    match load_err("<Integer Name=\"X\"><ToolTip>äöü</ToolTip></Integr>") {
        LoadError::Xml { line, column, .. } => assert_eq!((line, column), (3, 41)),
        other => panic!("expected an XML error, got {other:?}"),
    }
}

#[test]
fn root_that_is_not_register_description_is_not_genapi() {
    assert_eq!(
        NodeMap::from_xml("<Foo><Port Name=\"Device\"/></Foo>").unwrap_err(),
        LoadError::NotGenApi("Foo".into())
    );
    assert_eq!(
        NodeMap::from_xml("<?xml version=\"1.0\"?>\n<html/>").unwrap_err(),
        LoadError::NotGenApi("html".into())
    );
}

#[test]
fn unknown_element_inside_a_node_is_a_warning() {
    let mut map = load(
        "<Integer Name=\"X\"><Value>5</Value>\n<Frobnicate>1</Frobnicate></Integer>\n<Integer Name=\"Y\"><Value>6</Value></Integer>",
    );
    let w = map.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("Frobnicate"), "{}", w[0]);
    assert!(w[0].message.contains('X'), "names the node: {}", w[0]);
    assert_eq!(w[0].line, 4);
    assert_eq!(map.integer("X").unwrap(), 5);
    assert_eq!(map.integer("Y").unwrap(), 6);
}

#[test]
fn unknown_top_level_element_is_a_warning() {
    let mut map = load("<Integer Name=\"X\"><Value>5</Value></Integer>\n<Widget Name=\"W\"/>");
    let w = map.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("Widget"), "{}", w[0]);
    assert_eq!(w[0].line, 4);
    assert!(w[0].to_string().starts_with("line 4: "));
    assert!(!map.contains("W"));
    assert_eq!(map.integer("X").unwrap(), 5);
}

#[test]
fn well_formed_description_has_no_warnings() {
    let map = load("<Integer Name=\"X\"><Value>5</Value><Min>0</Min><Max>9</Max></Integer>");
    assert!(map.warnings().is_empty(), "{:?}", map.warnings());
}

#[test]
fn reference_to_an_undefined_node_names_both() {
    assert_eq!(
        load_err(r#"<Integer Name="X"><pValue>Missing</pValue></Integer>"#),
        LoadError::UnknownNode {
            node: "X".into(),
            target: "Missing".into()
        }
    );
    assert_eq!(
        load_err(
            r#"<IntSwissKnife Name="SK"><pVariable Name="A">Nowhere</pVariable><Formula>A+1</Formula></IntSwissKnife>"#
        ),
        LoadError::UnknownNode {
            node: "SK".into(),
            target: "Nowhere".into()
        }
    );
    // A formula variable that is not declared.
    assert!(matches!(
        load_err(r#"<IntSwissKnife Name="SK"><Formula>Q+1</Formula></IntSwissKnife>"#),
        LoadError::UnknownNode { .. } | LoadError::Formula { .. }
    ));
}

#[test]
fn duplicate_node_name() {
    assert_eq!(
        load_err(
            "<Integer Name=\"X\"><Value>1</Value></Integer>\n<Integer Name=\"X\"><Value>2</Value></Integer>"
        ),
        LoadError::Duplicate {
            line: 4,
            node: "X".into()
        }
    );
    // Different element types do not make the names different.
    assert!(matches!(
        load_err(
            "<Integer Name=\"X\"><Value>1</Value></Integer>\n<Float Name=\"X\"><Value>2</Value></Float>"
        ),
        LoadError::Duplicate { .. }
    ));
}

#[test]
fn bad_integer_literal_is_bad_value() {
    let body = "<IntReg Name=\"R\">\n<Address>zz</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort></IntReg>";
    assert_eq!(
        load_err(body),
        LoadError::BadValue {
            line: 4,
            node: "R".into(),
            element: "Address".into(),
            value: "zz".into()
        }
    );
    assert!(matches!(
        load_err(r#"<Integer Name="X"><Value>1</Value><Min>12abc</Min></Integer>"#),
        LoadError::BadValue { ref node, ref element, ref value, .. }
            if node == "X" && element == "Min" && value == "12abc"
    ));
    assert!(matches!(
        load_err(r#"<Integer Name="X"><Value>12abc</Value></Integer>"#),
        LoadError::BadValue { ref node, ref value, .. } if node == "X" && value == "12abc"
    ));
    assert!(matches!(
        load_err(r#"<Integer Name="X"><Value>1</Value><Visibility>Wizard</Visibility></Integer>"#),
        LoadError::BadValue { ref value, .. } if value == "Wizard"
    ));
    assert!(matches!(
        load_err(r#"<Integer><Value>1</Value></Integer>"#),
        LoadError::BadValue { .. }
    ));
}

#[test]

fn bad_value_literal_names_the_value_element() {
    assert!(matches!(
        load_err(r#"<Integer Name="X"><Value>12abc</Value></Integer>"#),
        LoadError::BadValue { ref element, .. } if element == "Value"
    ));
}

#[test]
fn formula_that_does_not_parse() {
    let body = "<Integer Name=\"A\"><Value>1</Value></Integer>\n<IntSwissKnife Name=\"SK\"><pVariable Name=\"A\">A</pVariable>\n<Formula>A + * 2</Formula></IntSwissKnife>";
    match load_err(body) {
        LoadError::Formula { line, node, .. } => {
            assert_eq!(node, "SK");
            assert_eq!(line, 5);
        }
        other => panic!("expected a formula error, got {other:?}"),
    }
    assert!(matches!(
        load_err(
            r#"<Integer Name="A"><Value>1</Value></Integer><SwissKnife Name="F"><pVariable Name="A">A</pVariable><Formula>(A+1</Formula></SwissKnife>"#
        ),
        LoadError::Formula { ref node, .. } if node == "F"
    ));
    assert!(matches!(
        load_err(
            r#"<Integer Name="R"><Value>1</Value></Integer><Converter Name="C"><FormulaTo>FROM*</FormulaTo><FormulaFrom>TO</FormulaFrom><pValue>R</pValue></Converter>"#
        ),
        LoadError::Formula { ref node, .. } if node == "C"
    ));
}

#[test]
fn hex_and_decimal_literals_and_whitespace_inside_values() {
    let mut map = load(
        r#"<Integer Name="Hex"><Value>0x1F</Value></Integer>
<Integer Name="Dec"><Value>
      42
   </Value><Min> -5 </Min><Max>
0x100</Max><Inc>	1	</Inc></Integer>
<Integer Name="Ref"><pValue>
    Dec
</pValue></Integer>
<IntReg Name="R"><Address>
   0x10
</Address><Length> 4 </Length><AccessMode> RW </AccessMode><pPort>
  Device </pPort><Sign> Unsigned </Sign><Endianess> BigEndian </Endianess></IntReg>
<Enumeration Name="E"><EnumEntry Name="A"><Value> 0x0A </Value></EnumEntry><pValue> R </pValue></Enumeration>
<Float Name="F"><Value> 1.5e3 </Value></Float>"#,
    );
    assert_eq!(map.integer("Hex").unwrap(), 31);
    assert_eq!(map.integer("Dec").unwrap(), 42);
    assert_eq!(map.integer_min("Dec").unwrap(), -5);
    assert_eq!(map.integer_max("Dec").unwrap(), 256);
    assert_eq!(map.integer("Ref").unwrap(), 42);
    assert_eq!(map.float("F").unwrap(), 1500.0);
    assert_eq!(map.register_address("R").unwrap(), 0x10);
    assert_eq!(map.register_length("R").unwrap(), 4);

    let mut port = MemoryPort::new(0x100);
    port.memory[0x13] = 0x0A; // big endian
    map.connect("Device", Box::new(port)).unwrap();
    assert_eq!(map.access_mode("R").unwrap(), genapi::AccessMode::RW);
    assert_eq!(map.integer("R").unwrap(), 10);
    assert_eq!(map.enumeration("E").unwrap(), "A");
}

#[test]
fn cdata_and_escaped_comparisons_in_formulas() {
    let mut map = load(
        r#"<Integer Name="IA"><Value>3</Value></Integer>
<Integer Name="IB"><Value>5</Value></Integer>
<IntSwissKnife Name="Cdata"><pVariable Name="A">IA</pVariable><pVariable Name="B">IB</pVariable><Formula><![CDATA[A<B ? 10 : 20]]></Formula></IntSwissKnife>
<IntSwissKnife Name="Ne"><pVariable Name="A">IA</pVariable><pVariable Name="B">IB</pVariable><Formula>A &lt;&gt; B</Formula></IntSwissKnife>
<IntSwissKnife Name="Cmp"><pVariable Name="A">IA</pVariable><pVariable Name="B">IB</pVariable><Formula>(A &gt; B) + (A &lt;= B)*2</Formula></IntSwissKnife>
<IntSwissKnife Name="And"><pVariable Name="A">IA</pVariable><pVariable Name="B">IB</pVariable><Formula>(A &amp; B) + ((A&gt;0) &amp;&amp; (B&gt;0))*100</Formula></IntSwissKnife>
<SwissKnife Name="Mixed"><pVariable Name="A">IA</pVariable><Formula>
   (A &lt; 4) <![CDATA[ && (A > 2) ]]>
</Formula></SwissKnife>"#,
    );
    assert_eq!(map.integer("Cdata").unwrap(), 10);
    assert_eq!(map.integer("Ne").unwrap(), 1);
    assert_eq!(map.integer("Cmp").unwrap(), 2);
    assert_eq!(map.integer("And").unwrap(), 101);
    assert_eq!(map.float("Mixed").unwrap(), 1.0);
    map.set_integer("IA", 5).unwrap();
    assert_eq!(map.integer("Cdata").unwrap(), 20);
    assert_eq!(map.integer("Ne").unwrap(), 0);
    assert_eq!(map.float("Mixed").unwrap(), 0.0);
}

#[test]
fn group_children_are_nodes() {
    let mut map = load(
        r#"<Group Comment="Outer">
  <Integer Name="InGroup"><Value>7</Value></Integer>
  <Group Comment="Inner"><Integer Name="Deep"><pValue>InGroup</pValue></Integer></Group>
</Group>
<Integer Name="After"><pValue>Deep</pValue></Integer>"#,
    );
    assert!(map.contains("InGroup"));
    assert!(map.contains("Deep"));
    assert!(!map.contains("Outer"));
    assert_eq!(map.integer("Deep").unwrap(), 7);
    assert_eq!(map.integer("After").unwrap(), 7);
    assert!(map.warnings().is_empty(), "{:?}", map.warnings());
}

#[test]
fn schema_1_0_namespace_loads() {
    let text = r#"<?xml version="1.0" encoding="utf-8"?>
<RegisterDescription ModelName="Old" VendorName="Acme" ToolTip="An old camera" StandardNameSpace="GEV" SchemaMajorVersion="1" SchemaMinorVersion="0" SchemaSubMinorVersion="0" MajorVersion="2" MinorVersion="3" SubMinorVersion="4" ProductGuid="P-1" VersionGuid="V-1" xmlns="http://www.genicam.org/GenApi/Version_1_0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.genicam.org/GenApi/Version_1_0 GenApiSchema.xsd">
  <Integer Name="X"><Value>3</Value></Integer>
  <Port Name="Device"/>
</RegisterDescription>"#;
    let mut map = NodeMap::from_xml(text).unwrap();
    let d = map.description();
    assert_eq!(d.model_name, "Old");
    assert_eq!(d.vendor_name, "Acme");
    assert_eq!(d.tooltip, "An old camera");
    assert_eq!(d.standard_namespace, "GEV");
    assert_eq!(d.schema_version, (1, 0, 0));
    assert_eq!(d.device_version, (2, 3, 4));
    assert_eq!(d.product_guid, "P-1");
    assert_eq!(d.version_guid, "V-1");
    assert_eq!(map.integer("X").unwrap(), 3);
    assert_eq!(map.port_names(), ["Device"]);

    // The 1.1 root as well.
    let map = load("");
    assert_eq!(map.description().schema_version, (1, 1, 0));
}

#[test]
fn from_bytes_checks_encoding_and_zip() {
    let text = xml(r#"<Integer Name="X"><Value>3</Value></Integer>"#);
    let mut with_bom = "\u{feff}".as_bytes().to_vec();
    with_bom.extend_from_slice(text.as_bytes());
    let mut map = NodeMap::from_bytes(&with_bom).unwrap();
    assert_eq!(map.integer("X").unwrap(), 3);

    let mut bad = text.as_bytes().to_vec();
    let at = text.find("<Integer").unwrap();
    bad[at + 1] = 0xFF;
    assert_eq!(
        NodeMap::from_bytes(&bad).unwrap_err(),
        LoadError::Utf8(at + 1)
    );

    assert!(matches!(
        NodeMap::from_bytes(b"PK\x03\x04 this is not really a zip"),
        Err(LoadError::Zip(_))
    ));
}
