//! The less common node types: IIDC configuration ROM keys, SmartFeature,
//! AdvFeatureLock, Group, StructReg, pValueCopy, and the nodes the loader
//! builds that the XML does not name.

use genapi::{AccessMode, Interface, MemoryPort, NodeMap};

fn description(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<RegisterDescription ModelName="M" VendorName="V" StandardNameSpace="IIDC" SchemaMajorVersion="1" SchemaMinorVersion="0" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="0" VersionGuid="0" xmlns="http://www.genicam.org/GenApi/Version_1_0">
<Port Name="Device"/>
{body}
</RegisterDescription>"#
    )
}

fn map_with(body: &str, memory: MemoryPort) -> NodeMap {
    let mut map = NodeMap::from_xml(&description(body)).expect("loads");
    map.connect("Device", Box::new(memory)).unwrap();
    map
}

/// A configuration ROM at 0x400: bus info block of 4 quadlets, then a root
/// directory with an immediate key 0x0C = 0x123456 and a text leaf at key 0x81.
fn config_rom() -> MemoryPort {
    let mut m = MemoryPort::new(0x1000);
    let mut quads: Vec<u32> = vec![0x0400_0000, 0x3133_3934, 0, 0, 0];
    quads.push(2 << 16); // root directory: two entries
    quads.push(0x0C12_3456);
    quads.push(0x8100_0001); // leaf one quadlet after this entry
    quads.push(4 << 16); // leaf: four quadlets
    quads.extend([0, 0]);
    quads.extend([u32::from_be_bytes(*b"ACME"), u32::from_be_bytes(*b"CAM\0")]);
    for (i, q) in quads.iter().enumerate() {
        m.memory[0x400 + 4 * i..0x404 + 4 * i].copy_from_slice(&q.to_be_bytes());
    }
    m
}

#[test]
fn configuration_rom_keys_read_immediate_values_and_text_leaves() {
    let mut map = map_with(
        r#"<ConfRom Name="Rom"><Address>0x400</Address><Length>0x100</Length><pPort>Device</pPort><TextDesc>0x81</TextDesc><IntKey>0x0C</IntKey></ConfRom>
           <TextDesc Name="Vendor"><p1212Parser>Rom</p1212Parser><Key>0x81</Key></TextDesc>
           <IntKey Name="VendorId"><p1212Parser>Rom</p1212Parser><Key>0x0C</Key></IntKey>
           <IntKey Name="Missing"><p1212Parser>Rom</p1212Parser><Key>0x17</Key></IntKey>"#,
        config_rom(),
    );
    assert_eq!(map.interface("Vendor").unwrap(), Interface::String);
    assert_eq!(map.string("Vendor").unwrap(), "ACMECAM");
    assert_eq!(map.integer("VendorId").unwrap(), 0x12_3456);
    assert_eq!(map.access_mode("VendorId").unwrap(), AccessMode::RO);
    assert!(map.set_integer("VendorId", 1).is_err());
    let err = map.integer("Missing").unwrap_err().to_string();
    assert!(err.contains("0x17"), "{err}");
    assert_eq!(map.register("Rom").unwrap().len(), 0x100);
}

#[test]
fn smart_feature_and_feature_lock_are_integers_over_registers() {
    let mut m = MemoryPort::new(0x100);
    m.memory[0x20..0x28].copy_from_slice(&7u64.to_le_bytes());
    m.memory[0x40..0x44].copy_from_slice(&5u32.to_le_bytes());
    let mut map = map_with(
        r#"<SmartFeature Name="Smart"><FeatureID>11111111-2222-3333-4444-555555555555</FeatureID><Address>0x20</Address><pPort>Device</pPort></SmartFeature>
           <AdvFeatureLock Name="Lock"><Address>0x40</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><FeatureID>0x0030533B73C3</FeatureID><Timeout>1000</Timeout></AdvFeatureLock>"#,
        m,
    );
    assert_eq!(map.interface("Smart").unwrap(), Interface::Integer);
    assert_eq!(map.integer("Smart").unwrap(), 7);
    assert_eq!(map.integer("Lock").unwrap(), 5);
    map.set_integer("Lock", 9).unwrap();
    assert_eq!(map.integer("Lock").unwrap(), 9);
}

#[test]
fn groups_only_group() {
    let map = NodeMap::from_xml(&description(
        r#"<Group Comment="outer"><Group Comment="inner"><Integer Name="Deep"><Value>3</Value></Integer></Group>
           <Category Name="Root"><pFeature>Deep</pFeature></Category></Group>"#,
    ))
    .unwrap();
    assert!(map.contains("Deep"));
    assert_eq!(map.category_features("Root").unwrap(), vec!["Deep"]);
}

#[test]
fn struct_entries_share_their_register_and_keep_each_others_bits() {
    let mut map = map_with(
        r#"<StructReg Comment="Flags"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>BigEndian</Endianess>
             <StructEntry Name="Low"><LSB>31</LSB><MSB>24</MSB></StructEntry>
             <StructEntry Name="Top"><Bit>0</Bit><AccessMode>RO</AccessMode></StructEntry>
             <StructEntry Name="Signed"><LSB>23</LSB><MSB>16</MSB><Sign>Signed</Sign></StructEntry>
           </StructReg>"#,
        {
            let mut m = MemoryPort::new(0x100);
            m.memory[0x10..0x14].copy_from_slice(&[0x80, 0xFF, 0, 0x12]);
            m
        },
    );
    assert_eq!(map.integer("Low").unwrap(), 0x12);
    assert_eq!(map.integer("Top").unwrap(), 1);
    assert_eq!(map.integer("Signed").unwrap(), 0);
    assert_eq!(map.access_mode("Top").unwrap(), AccessMode::RO);
    assert_eq!(
        (
            map.integer_min("Signed").unwrap(),
            map.integer_max("Signed").unwrap()
        ),
        (-128, 127)
    );
    map.set_integer("Low", 0x34).unwrap();
    map.set_integer("Signed", -2).unwrap();
    assert_eq!(
        map.integer("Top").unwrap(),
        1,
        "the other entries' bits are kept"
    );
    assert_eq!(map.integer("Low").unwrap(), 0x34);
    assert_eq!(map.integer("Signed").unwrap(), -2);
}

#[test]
fn value_copies_bound_the_range_and_receive_writes() {
    let mut map = map_with(
        r#"<Integer Name="Key"><pValueCopy>KeyReg</pValueCopy><pValue>KeyValue</pValue></Integer>
           <Integer Name="KeyValue"><Value>0</Value></Integer>
           <IntReg Name="KeyReg"><Address>0x8</Address><Length>2</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        MemoryPort::new(0x100),
    );
    assert_eq!(map.integer_max("Key").unwrap(), 0xFFFF);
    map.set_integer("Key", 0x1234).unwrap();
    assert_eq!(map.integer("KeyValue").unwrap(), 0x1234);
    assert_eq!(map.integer("KeyReg").unwrap(), 0x1234);
    assert!(map.set_integer("Key", 0x10000).is_err());
}

#[test]
fn built_nodes_carry_the_reference_names() {
    let map = map_with(
        r#"<Converter Name="Rate"><FormulaTo>1000000/FROM</FormulaTo><FormulaFrom>1000000/TO</FormulaFrom><pValue>Period</pValue></Converter>
           <Integer Name="Period"><Value>1000</Value><Min>10</Min><Max>100000</Max></Integer>
           <IntSwissKnife Name="Sk"><pVariable Name="P">Period</pVariable><Constant Name="K">3</Constant><Formula>P*K</Formula></IntSwissKnife>
           <Enumeration Name="Mode"><EnumEntry Name="On"><Value>1</Value></EnumEntry><Value>1</Value></Enumeration>
           <IntReg Name="Reg"><Address>0x10</Address><IntSwissKnife Name="Off"><pVariable Name="P">Period</pVariable><Formula>P/1000*4</Formula></IntSwissKnife><Length>4</Length><AccessMode>RO</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        MemoryPort::new(0x100),
    );
    for name in [
        "Rate_ConvertTo",
        "Rate_ConvertFrom",
        "_Sk_K",
        "EnumEntry_Mode_On",
        "_Reg_Off",
    ] {
        assert!(map.contains(name), "{name} is missing");
    }
    let mut map = map;
    assert_eq!(map.float("Rate").unwrap(), 1000.0);
    assert_eq!(
        (
            map.float_min("Rate").unwrap(),
            map.float_max("Rate").unwrap()
        ),
        (10.0, 100000.0)
    );
    assert_eq!(map.integer("Sk").unwrap(), 3000);
    assert_eq!(map.register_address("Reg").unwrap(), 0x14);
}

#[test]
fn reference_cycles_and_deep_chains_are_errors_not_crashes() {
    // A chain far deeper than any real description, and cycles through pValue,
    // formulas and ranges: each read must end with an error.
    let mut body = String::new();
    for i in 0..2000 {
        body.push_str(&format!(
            "<Integer Name=\"N{i}\"><pValue>N{}</pValue></Integer>\n",
            i + 1
        ));
    }
    body.push_str("<Integer Name=\"N2000\"><Value>5</Value></Integer>\n");
    body.push_str(r#"<Integer Name="A"><pValue>B</pValue></Integer><Integer Name="B"><pValue>A</pValue></Integer>
        <IntSwissKnife Name="K"><pVariable Name="X">K</pVariable><Formula>X</Formula></IntSwissKnife>
        <Integer Name="M"><Value>1</Value><pMin>M</pMin></Integer>
        <String Name="S"><pValue>T</pValue></String><String Name="T"><pValue>S</pValue></String>"#);
    let mut map = NodeMap::from_xml(&description(&body)).unwrap();
    assert!(matches!(
        map.integer("N0"),
        Err(genapi::Error::Recursion(_))
    ));
    assert_eq!(map.integer("N1950").unwrap(), 5, "a chain of 50 is fine");
    for name in ["A", "B", "K"] {
        assert!(map.integer(name).is_err(), "{name}");
        assert!(map.set_integer(name, 1).is_err(), "{name}");
    }
    assert_eq!(
        map.integer_min("M").unwrap(),
        1,
        "pMin naming the node itself reads its value"
    );
    assert!(map.string("S").is_err());
    assert!(map.set_string("S", "x").is_err());
}

#[test]
fn writes_passed_on_are_checked_only_where_bits_would_be_lost() {
    let mut map = map_with(
        r#"<Command Name="Load"><pValue>Conv</pValue><CommandValue>1</CommandValue></Command>
           <IntConverter Name="Conv"><FormulaTo>FROM | 0x100</FormulaTo><FormulaFrom>TO</FormulaFrom><pValue>Reg</pValue></IntConverter>
           <Integer Name="Wide"><pValue>Small</pValue><Min>0</Min><Max>1000</Max></Integer>
           <IntReg Name="Small"><Address>0x20</Address><Length>1</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>
           <IntReg Name="Reg"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        MemoryPort::new(0x100),
    );
    // The converter has no <Slope>, so (as in the reference) its own range is [0, 0];
    // a command writing through it still works.
    assert_eq!(
        (
            map.integer_min("Conv").unwrap(),
            map.integer_max("Conv").unwrap()
        ),
        (0, 0)
    );
    map.execute("Load").unwrap();
    assert_eq!(map.integer("Reg").unwrap(), 0x101);
    // A value the Integer allows but its one-byte register cannot hold is refused, not truncated.
    map.set_integer("Wide", 200).unwrap();
    assert_eq!(map.integer("Small").unwrap(), 200);
    assert!(matches!(
        map.set_integer("Wide", 300),
        Err(genapi::Error::OutOfRange { max: 255, .. })
    ));
    assert_eq!(map.integer("Small").unwrap(), 200);
}
