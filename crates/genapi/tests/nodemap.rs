//! Integration tests of the node map: values, ranges, registers, access modes,
//! selectors, caching and ports, each over a small inline description.

use genapi::{AccessMode, Error, Interface, NodeMap, PortError, Representation, Visibility};

// ----- helpers -----

mod common;
use common::*;

fn int_reg(name: &str, addr: u64, len: u32, access: &str, sign: &str, endian: &str) -> String {
    format!(
        r#"<IntReg Name="{name}">{}<Sign>{sign}</Sign><Endianess>{endian}</Endianess></IntReg>"#,
        reg(addr, len, access)
    )
}

/// A 4-byte unsigned little-endian RW IntReg.
fn rw_reg(name: &str, addr: u64) -> String {
    int_reg(name, addr, 4, "RW", "Unsigned", "LittleEndian")
}

/// A 4-byte unsigned little-endian RW IntReg with extra elements.
fn rw_reg_with(name: &str, addr: u64, extra: &str) -> String {
    format!(
        r#"<IntReg Name="{name}">{extra}{}<Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        reg(addr, 4, "RW")
    )
}

fn masked(name: &str, addr: u64, len: u32, endian: &str, sign: &str, bits: &str) -> String {
    format!(
        r#"<MaskedIntReg Name="{name}">{}{bits}<Sign>{sign}</Sign><Endianess>{endian}</Endianess></MaskedIntReg>"#,
        reg(addr, len, "RW")
    )
}

/// An Integer holding its own value.
fn int_value(name: &str, v: i64) -> String {
    format!(r#"<Integer Name="{name}"><Value>{v}</Value></Integer>"#)
}

/// Loads `body` and connects a 64 KiB test port as `Device`.
fn load(body: &str) -> (NodeMap, TestPort) {
    let text = xml(body);
    let mut map = NodeMap::from_xml(&text)
        .unwrap_or_else(|e| panic!("description does not load: {e}\n{text}"));
    let port = TestPort::new(0x10000);
    map.connect("Device", Box::new(port.clone())).unwrap();
    (map, port)
}

// ----- Integer over IntReg -----

#[test]
fn integer_over_little_endian_intreg_round_trips_at_its_address() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Width"><pValue>WidthReg</pValue></Integer>{}"#,
        rw_reg("WidthReg", 0x10)
    ));
    map.set_integer("Width", 0x0102_0304).unwrap();
    assert_eq!(port.peek(0x10, 4), vec![4, 3, 2, 1]);
    assert_eq!(port.peek(0x0C, 4), vec![0; 4], "bytes before the register");
    assert_eq!(port.peek(0x14, 4), vec![0; 4], "bytes after the register");
    assert_eq!(map.integer("Width").unwrap(), 0x0102_0304);
    assert_eq!(map.integer("WidthReg").unwrap(), 0x0102_0304);
    // The range comes from the 4-byte unsigned register.
    assert_eq!(map.integer_min("Width").unwrap(), 0);
    assert_eq!(map.integer_max("Width").unwrap(), 0xFFFF_FFFF);

    // What the device holds is what a fresh read sees.
    port.poke(0x10, &[0x78, 0x56, 0x34, 0x12]);
    map.invalidate_all();
    assert_eq!(map.integer("Width").unwrap(), 0x1234_5678);
}

#[test]
fn integer_over_big_endian_intreg_round_trips_at_its_address() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Width"><pValue>WidthReg</pValue></Integer>{}"#,
        int_reg("WidthReg", 0x20, 4, "RW", "Unsigned", "BigEndian")
    ));
    map.set_integer("Width", 0x0102_0304).unwrap();
    assert_eq!(port.peek(0x20, 4), vec![1, 2, 3, 4]);
    assert_eq!(port.peek(0x1C, 4), vec![0; 4]);
    assert_eq!(port.peek(0x24, 4), vec![0; 4]);
    assert_eq!(map.integer("Width").unwrap(), 0x0102_0304);

    port.poke(0x20, &[0x12, 0x34, 0x56, 0x78]);
    map.invalidate_all();
    assert_eq!(map.integer("Width").unwrap(), 0x1234_5678);
}

#[test]
fn signed_two_byte_register_reads_negative_values() {
    let (mut map, port) = load(&format!(
        "{}{}",
        int_reg("S", 0x30, 2, "RW", "Signed", "LittleEndian"),
        int_reg("SB", 0x40, 2, "RW", "Signed", "BigEndian")
    ));
    port.poke(0x30, &[0xFE, 0xFF]);
    port.poke(0x40, &[0x80, 0x00]);
    assert_eq!(map.integer("S").unwrap(), -2);
    assert_eq!(map.integer("SB").unwrap(), -32768);
    assert_eq!(map.integer_min("S").unwrap(), -32768);
    assert_eq!(map.integer_max("S").unwrap(), 32767);

    map.set_integer("S", -300).unwrap();
    assert_eq!(port.peek(0x30, 2), (-300i16).to_le_bytes().to_vec());
    assert_eq!(
        port.peek(0x32, 2),
        vec![0, 0],
        "a 2-byte write stays 2 bytes"
    );
    assert_eq!(map.integer("S").unwrap(), -300);
    assert!(matches!(
        map.set_integer("S", 32768),
        Err(Error::OutOfRange {
            min: -32768,
            max: 32767,
            ..
        })
    ));
}

#[test]
fn integer_min_max_inc_from_elements() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Bounded"><pValue>R</pValue><Min>10</Min><Max>100</Max><Inc>5</Inc></Integer>{}"#,
        rw_reg("R", 0x10)
    ));
    assert_eq!(map.integer_min("Bounded").unwrap(), 10);
    assert_eq!(map.integer_max("Bounded").unwrap(), 100);
    assert_eq!(map.integer_inc("Bounded").unwrap(), 5);
    map.set_integer("Bounded", 15).unwrap();
    assert_eq!(port.peek_u32(0x10), 15);
    map.set_integer("Bounded", 100).unwrap();
    map.set_integer("Bounded", 10).unwrap();
    assert_eq!(map.integer("Bounded").unwrap(), 10);
}

#[test]
fn integer_min_max_from_pmin_pmax_nodes() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="P"><pValue>R</pValue><pMin>MinReg</pMin><pMax>MaxReg</pMax></Integer>{}{}{}"#,
        rw_reg("R", 0x10),
        rw_reg("MinReg", 0x20),
        rw_reg("MaxReg", 0x24)
    ));
    port.poke_u32(0x20, 2);
    port.poke_u32(0x24, 20);
    assert_eq!(map.integer_min("P").unwrap(), 2);
    assert_eq!(map.integer_max("P").unwrap(), 20);
    assert_eq!(
        map.set_integer("P", 21),
        Err(Error::OutOfRange {
            name: "P".into(),
            value: 21,
            min: 2,
            max: 20,
            inc: 1
        })
    );
    assert_eq!(
        map.set_integer("P", 1),
        Err(Error::OutOfRange {
            name: "P".into(),
            value: 1,
            min: 2,
            max: 20,
            inc: 1
        })
    );
    // Changing the node pMax names changes the range.
    map.set_integer("MaxReg", 50).unwrap();
    assert_eq!(map.integer_max("P").unwrap(), 50);
    map.set_integer("P", 21).unwrap();
    assert_eq!(port.peek_u32(0x10), 21);
}

#[test]
fn increment_and_range_are_enforced_with_the_range_in_the_error() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Bounded"><pValue>R</pValue><Min>10</Min><Max>100</Max><Inc>5</Inc></Integer>{}"#,
        rw_reg("R", 0x10)
    ));
    map.set_integer("Bounded", 20).unwrap();
    let writes = port.writes();
    for bad in [12, 105, 5, 101, -10, i64::MAX, i64::MIN] {
        assert_eq!(
            map.set_integer("Bounded", bad),
            Err(Error::OutOfRange {
                name: "Bounded".into(),
                value: bad,
                min: 10,
                max: 100,
                inc: 5
            }),
            "value {bad}"
        );
    }
    assert_eq!(port.writes(), writes, "a refused value is not written");
    assert_eq!(port.peek_u32(0x10), 20);
    assert_eq!(map.integer("Bounded").unwrap(), 20);
}

// ----- MaskedIntReg -----

#[test]
fn masked_little_endian_bits_and_fields() {
    let (mut map, port) = load(&format!(
        "{}{}{}",
        masked("Bit3", 0x30, 4, "LittleEndian", "Unsigned", "<Bit>3</Bit>"),
        masked(
            "Field",
            0x30,
            4,
            "LittleEndian",
            "Unsigned",
            "<LSB>8</LSB><MSB>15</MSB>"
        ),
        masked("Top", 0x30, 4, "LittleEndian", "Unsigned", "<Bit>31</Bit>")
    ));
    port.poke(0x30, &[0x08, 0xAB, 0x00, 0x80]);
    assert_eq!(map.integer("Bit3").unwrap(), 1);
    assert_eq!(map.integer("Field").unwrap(), 0xAB);
    assert_eq!(map.integer("Top").unwrap(), 1);
    assert_eq!(map.integer_max("Field").unwrap(), 255);
    assert_eq!(map.integer_max("Bit3").unwrap(), 1);

    port.poke(0x30, &[0xF7, 0x00, 0xFF, 0x7F]);
    map.invalidate_all();
    assert_eq!(map.integer("Bit3").unwrap(), 0);
    assert_eq!(map.integer("Field").unwrap(), 0);
    assert_eq!(map.integer("Top").unwrap(), 0);
}

#[test]
fn masked_big_endian_bit_zero_is_the_msb() {
    let (mut map, port) = load(&format!(
        "{}{}{}{}",
        masked("B0", 0x30, 4, "BigEndian", "Unsigned", "<Bit>0</Bit>"),
        masked("B1", 0x30, 4, "BigEndian", "Unsigned", "<Bit>1</Bit>"),
        masked("B31", 0x30, 4, "BigEndian", "Unsigned", "<Bit>31</Bit>"),
        masked(
            "Field",
            0x30,
            4,
            "BigEndian",
            "Unsigned",
            "<LSB>23</LSB><MSB>16</MSB>"
        )
    ));
    // Register value 0x8000CD01.
    port.poke(0x30, &[0x80, 0x00, 0xCD, 0x01]);
    assert_eq!(map.integer("B0").unwrap(), 1);
    assert_eq!(map.integer("B1").unwrap(), 0);
    assert_eq!(map.integer("B31").unwrap(), 1);
    assert_eq!(map.integer("Field").unwrap(), 0xCD);
    assert_eq!(map.integer_max("Field").unwrap(), 255);
}

#[test]
fn writing_a_masked_field_keeps_the_other_bits() {
    let (mut map, port) = load(&format!(
        "{}{}{}{}",
        masked(
            "LField",
            0x30,
            4,
            "LittleEndian",
            "Unsigned",
            "<LSB>8</LSB><MSB>15</MSB>"
        ),
        masked("LBit3", 0x30, 4, "LittleEndian", "Unsigned", "<Bit>3</Bit>"),
        masked(
            "BField",
            0x40,
            4,
            "BigEndian",
            "Unsigned",
            "<LSB>23</LSB><MSB>16</MSB>"
        ),
        masked("BBit0", 0x40, 4, "BigEndian", "Unsigned", "<Bit>0</Bit>")
    ));
    port.poke(0x30, &[0xFF; 4]);
    port.poke(0x40, &[0xFF; 4]);

    map.set_integer("LField", 0x12).unwrap();
    assert_eq!(port.peek(0x30, 4), vec![0xFF, 0x12, 0xFF, 0xFF]);
    map.set_integer("LBit3", 0).unwrap();
    assert_eq!(port.peek(0x30, 4), vec![0xF7, 0x12, 0xFF, 0xFF]);
    assert_eq!(map.integer("LField").unwrap(), 0x12);
    assert_eq!(map.integer("LBit3").unwrap(), 0);

    map.set_integer("BField", 0x12).unwrap();
    assert_eq!(port.peek(0x40, 4), vec![0xFF, 0xFF, 0x12, 0xFF]);
    map.set_integer("BBit0", 0).unwrap();
    assert_eq!(port.peek(0x40, 4), vec![0x7F, 0xFF, 0x12, 0xFF]);
    assert_eq!(map.integer("BField").unwrap(), 0x12);
    assert_eq!(map.integer("BBit0").unwrap(), 0);

    // A value wider than the field is refused.
    assert!(matches!(
        map.set_integer("LField", 256),
        Err(Error::OutOfRange {
            min: 0,
            max: 255,
            ..
        })
    ));
    assert_eq!(port.peek(0x30, 4), vec![0xF7, 0x12, 0xFF, 0xFF]);
}

#[test]
fn signed_masked_field_sign_extends_and_writes_back() {
    let (mut map, port) = load(&masked(
        "S",
        0x50,
        1,
        "LittleEndian",
        "Signed",
        "<LSB>4</LSB><MSB>7</MSB>",
    ));
    port.poke(0x50, &[0xF0]);
    assert_eq!(map.integer("S").unwrap(), -1);
    port.poke(0x50, &[0x80]);
    map.invalidate_all();
    assert_eq!(map.integer("S").unwrap(), -8);
    port.poke(0x50, &[0x75]);
    map.invalidate_all();
    assert_eq!(map.integer("S").unwrap(), 7);
    assert_eq!(map.integer_min("S").unwrap(), -8);
    assert_eq!(map.integer_max("S").unwrap(), 7);

    map.set_integer("S", -3).unwrap();
    assert_eq!(
        port.peek(0x50, 1),
        vec![0xD5],
        "-3 is 0b1101, low nibble kept"
    );
    assert_eq!(map.integer("S").unwrap(), -3);
    assert!(matches!(
        map.set_integer("S", 8),
        Err(Error::OutOfRange {
            min: -8,
            max: 7,
            ..
        })
    ));
}

#[test]
fn struct_entries_at_a_fixed_address_keep_each_others_writes() {
    let (mut map, port) = load(
        r#"<StructReg Comment="S"><Address>0x100</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess>
             <StructEntry Name="Lo"><LSB>0</LSB><MSB>7</MSB></StructEntry>
             <StructEntry Name="Hi"><LSB>8</LSB><MSB>15</MSB></StructEntry>
             <StructEntry Name="Top"><Bit>31</Bit><AccessMode>RO</AccessMode></StructEntry>
           </StructReg>"#,
    );
    port.poke(0x100, &[0, 0, 0, 0x80]);
    assert_eq!(map.integer("Lo").unwrap(), 0);
    assert_eq!(map.integer("Hi").unwrap(), 0);
    assert_eq!(map.integer("Top").unwrap(), 1);
    map.set_integer("Lo", 0x12).unwrap();
    map.set_integer("Hi", 0x34).unwrap();
    assert_eq!(port.peek(0x100, 4), vec![0x12, 0x34, 0, 0x80]);
    assert_eq!(map.integer("Lo").unwrap(), 0x12);
    assert_eq!(map.integer("Hi").unwrap(), 0x34);
    assert_eq!(map.access_mode("Top").unwrap(), AccessMode::RO);
    assert_eq!(map.node_info("Lo").unwrap().element, "MaskedIntReg");
}

// ----- FloatReg and Float -----

fn float_reg(name: &str, addr: u64, len: u32, endian: &str) -> String {
    format!(
        r#"<FloatReg Name="{name}">{}<Endianess>{endian}</Endianess></FloatReg>"#,
        reg(addr, len, "RW")
    )
}

#[test]
fn float_registers_of_4_and_8_bytes_in_both_byte_orders() {
    let (mut map, port) = load(&format!(
        "{}{}{}{}",
        float_reg("F4L", 0x40, 4, "LittleEndian"),
        float_reg("F4B", 0x48, 4, "BigEndian"),
        float_reg("F8L", 0x50, 8, "LittleEndian"),
        float_reg("F8B", 0x60, 8, "BigEndian")
    ));
    map.set_float("F4L", 1.5).unwrap();
    map.set_float("F4B", -2.25).unwrap();
    map.set_float("F8L", std::f64::consts::PI).unwrap();
    map.set_float("F8B", -1e100).unwrap();
    assert_eq!(port.peek(0x40, 4), 1.5f32.to_le_bytes().to_vec());
    assert_eq!(port.peek(0x48, 4), (-2.25f32).to_be_bytes().to_vec());
    assert_eq!(
        port.peek(0x50, 8),
        std::f64::consts::PI.to_le_bytes().to_vec()
    );
    assert_eq!(port.peek(0x60, 8), (-1e100f64).to_be_bytes().to_vec());
    assert_eq!(port.peek(0x44, 4), vec![0; 4]);
    assert_eq!(map.float("F4L").unwrap(), 1.5);
    assert_eq!(map.float("F4B").unwrap(), -2.25);
    assert_eq!(map.float("F8L").unwrap(), std::f64::consts::PI);
    assert_eq!(map.float("F8B").unwrap(), -1e100);

    // Reading what the device holds.
    port.poke(0x40, &0.75f32.to_le_bytes());
    port.poke(0x48, &6.5f32.to_be_bytes());
    port.poke(0x50, &1e-300f64.to_le_bytes());
    port.poke(0x60, &12345.678f64.to_be_bytes());
    map.invalidate_all();
    assert_eq!(map.float("F4L").unwrap(), 0.75);
    assert_eq!(map.float("F4B").unwrap(), 6.5);
    assert_eq!(map.float("F8L").unwrap(), 1e-300);
    assert_eq!(map.float("F8B").unwrap(), 12345.678);
}

#[test]
fn float_min_max_are_checked() {
    let (mut map, port) = load(&format!(
        r#"<Float Name="Gain"><pValue>GainReg</pValue><Min>0</Min><Max>10.5</Max></Float>{}"#,
        float_reg("GainReg", 0x50, 8, "LittleEndian")
    ));
    assert_eq!(map.float_min("Gain").unwrap(), 0.0);
    assert_eq!(map.float_max("Gain").unwrap(), 10.5);
    map.set_float("Gain", 10.5).unwrap();
    assert_eq!(port.peek(0x50, 8), 10.5f64.to_le_bytes().to_vec());
    assert_eq!(
        map.set_float("Gain", 11.0),
        Err(Error::FloatOutOfRange {
            name: "Gain".into(),
            value: 11.0,
            min: 0.0,
            max: 10.5
        })
    );
    assert_eq!(
        map.set_float("Gain", -0.1),
        Err(Error::FloatOutOfRange {
            name: "Gain".into(),
            value: -0.1,
            min: 0.0,
            max: 10.5
        })
    );
    assert!(matches!(
        map.set_float("Gain", f64::NAN),
        Err(Error::FloatOutOfRange { .. })
    ));
    assert_eq!(map.float("Gain").unwrap(), 10.5);
    assert_eq!(port.peek(0x50, 8), 10.5f64.to_le_bytes().to_vec());
}

// ----- strings -----

#[test]
fn string_register_stops_at_nul_pads_with_nul_and_refuses_long_values() {
    let (mut map, port) = load(&format!(
        r#"<StringReg Name="Str">{}</StringReg>"#,
        reg(0x70, 8, "RW")
    ));
    port.poke(0x70, b"abc\0xyz\0");
    assert_eq!(map.string("Str").unwrap(), "abc");
    assert_eq!(map.string_bytes("Str").unwrap(), b"abc".to_vec());

    port.poke(0x70, &[0xFF; 8]);
    map.set_string("Str", "hi").unwrap();
    assert_eq!(port.peek(0x70, 8), b"hi\0\0\0\0\0\0".to_vec());
    assert_eq!(map.string("Str").unwrap(), "hi");

    map.set_string("Str", "12345678").unwrap();
    assert_eq!(port.peek(0x70, 8), b"12345678".to_vec());
    assert_eq!(map.string("Str").unwrap(), "12345678");

    assert_eq!(
        map.set_string("Str", "123456789"),
        Err(Error::StringTooLong {
            name: "Str".into(),
            len: 9,
            max: 8
        })
    );
    assert_eq!(port.peek(0x70, 8), b"12345678".to_vec());
    assert_eq!(
        port.peek(0x78, 1),
        vec![0],
        "nothing written past the register"
    );
}

#[test]
fn string_node_with_value() {
    let (mut map, _port) = load(r#"<String Name="Label"><Value>hello world</Value></String>"#);
    assert_eq!(map.interface("Label").unwrap(), Interface::String);
    assert_eq!(map.string("Label").unwrap(), "hello world");
    map.set_string("Label", "bye").unwrap();
    assert_eq!(map.string("Label").unwrap(), "bye");
}

// ----- Register and addresses -----

#[test]
fn register_bytes_and_wrong_length() {
    let (mut map, port) = load(&format!(
        r#"<Register Name="Raw">{}</Register>"#,
        reg(0x80, 4, "RW")
    ));
    assert_eq!(map.register_length("Raw").unwrap(), 4);
    assert_eq!(map.register_address("Raw").unwrap(), 0x80);
    map.set_register("Raw", &[1, 2, 3, 4]).unwrap();
    assert_eq!(port.peek(0x80, 4), vec![1, 2, 3, 4]);
    assert_eq!(map.register("Raw").unwrap(), vec![1, 2, 3, 4]);
    port.poke(0x80, &[9, 8, 7, 6]);
    map.invalidate("Raw").unwrap();
    assert_eq!(map.register("Raw").unwrap(), vec![9, 8, 7, 6]);

    assert_eq!(
        map.set_register("Raw", &[1, 2, 3]),
        Err(Error::WrongLength {
            name: "Raw".into(),
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(
        map.set_register("Raw", &[1, 2, 3, 4, 5]),
        Err(Error::WrongLength {
            name: "Raw".into(),
            expected: 4,
            actual: 5
        })
    );
    assert_eq!(port.peek(0x80, 5), vec![9, 8, 7, 6, 0]);
}

#[test]
fn register_address_with_pindex_offset_follows_the_selector() {
    let (mut map, port) = load(&format!(
        r#"{}<IntReg Name="Indexed"><Address>0x100</Address><pIndex Offset="4">Sel</pIndex><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        r#"<Integer Name="Sel"><Value>0</Value><Min>0</Min><Max>3</Max></Integer>"#
    ));
    port.poke_u32(0x100, 11);
    port.poke_u32(0x108, 77);
    assert_eq!(map.register_address("Indexed").unwrap(), 0x100);
    assert_eq!(map.integer("Indexed").unwrap(), 11);
    map.set_integer("Sel", 2).unwrap();
    assert_eq!(map.register_address("Indexed").unwrap(), 0x108);
    assert_eq!(map.integer("Indexed").unwrap(), 77);
    map.set_integer("Indexed", 5).unwrap();
    assert_eq!(port.peek_u32(0x108), 5);
    assert_eq!(port.peek_u32(0x100), 11);
    map.set_integer("Sel", 3).unwrap();
    assert_eq!(map.register_address("Indexed").unwrap(), 0x10C);
}

#[test]
fn address_is_the_sum_of_address_and_paddress_terms() {
    let (mut map, port) = load(&format!(
        r#"{}<IntReg Name="Multi"><Address>0x100</Address><Address>0x20</Address><pAddress>Base</pAddress><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        int_value("Base", 0x1000)
    ));
    assert_eq!(map.register_address("Multi").unwrap(), 0x1120);
    port.poke_u32(0x1120, 4242);
    assert_eq!(map.integer("Multi").unwrap(), 4242);
    map.set_integer("Base", 0x2000).unwrap();
    assert_eq!(map.register_address("Multi").unwrap(), 0x2120);
}

#[test]
fn embedded_intswissknife_is_an_address_term() {
    let (mut map, port) = load(&format!(
        r#"{}<IntReg Name="Emb"><Address>0x200</Address><IntSwissKnife Name="X"><pVariable Name="I">Sel</pVariable><Formula>I*8</Formula></IntSwissKnife><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        int_value("Sel", 0)
    ));
    assert!(map.contains("_Emb_X"));
    assert_eq!(map.register_address("Emb").unwrap(), 0x200);
    map.set_integer("Sel", 3).unwrap();
    assert_eq!(map.register_address("Emb").unwrap(), 0x218);
    port.poke_u32(0x218, 99);
    assert_eq!(map.integer("Emb").unwrap(), 99);
}

#[test]
fn negative_address_literals_subtract() {
    let (mut map, port) = load(&format!(
        r#"<IntReg Name="NegHex"><Address>0x300</Address><Address>-0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>
           <IntReg Name="NegDec"><Address>0x300</Address><Address>-16</Address><Address>-16</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>{}"#,
        ""
    ));
    assert_eq!(map.register_address("NegHex").unwrap(), 0x2F0);
    assert_eq!(map.register_address("NegDec").unwrap(), 0x2E0);
    port.poke_u32(0x2F0, 31);
    port.poke_u32(0x2E0, 32);
    assert_eq!(map.integer("NegHex").unwrap(), 31);
    assert_eq!(map.integer("NegDec").unwrap(), 32);
}

// ----- Enumeration -----

fn mode_enum() -> String {
    format!(
        r#"<Enumeration Name="Mode">
             <EnumEntry Name="Off"><Value>0</Value></EnumEntry>
             <EnumEntry Name="On"><Value>1</Value></EnumEntry>
             <EnumEntry Name="Auto"><pIsAvailable>AutoAvail</pIsAvailable><Value>2</Value></EnumEntry>
             <pValue>ModeReg</pValue>
           </Enumeration>
           {}{}"#,
        rw_reg("ModeReg", 0xA0),
        int_value("AutoAvail", 0)
    )
}

#[test]
fn enumeration_symbolic_get_and_set() {
    let (mut map, port) = load(&mode_enum());
    assert!(map.contains("EnumEntry_Mode_On"));
    assert_eq!(map.enumeration("Mode").unwrap(), "Off");
    map.set_enumeration("Mode", "On").unwrap();
    assert_eq!(port.peek_u32(0xA0), 1);
    assert_eq!(map.enumeration("Mode").unwrap(), "On");
    assert_eq!(map.enum_int("Mode").unwrap(), 1);
    map.set_enum_int("Mode", 0).unwrap();
    assert_eq!(port.peek_u32(0xA0), 0);
    assert_eq!(map.enumeration("Mode").unwrap(), "Off");
    let entries = map.enum_entries("Mode").unwrap();
    let names: Vec<_> = entries.iter().map(|e| e.symbolic.as_str()).collect();
    assert_eq!(names, ["Off", "On", "Auto"]);
    assert_eq!(
        entries.iter().map(|e| e.value).collect::<Vec<_>>(),
        [0, 1, 2]
    );
}

#[test]
fn unknown_enum_entry_lists_the_valid_entries() {
    let (mut map, port) = load(&mode_enum());
    map.set_enumeration("Mode", "On").unwrap();
    assert_eq!(
        map.set_enumeration("Mode", "Bogus"),
        Err(Error::UnknownEntry {
            name: "Mode".into(),
            entry: "Bogus".into(),
            valid: vec!["Off".into(), "On".into()]
        })
    );
    assert!(matches!(
        map.set_enum_int("Mode", 9),
        Err(Error::UnknownEntry { .. })
    ));
    assert_eq!(port.peek_u32(0xA0), 1);
}

#[test]
fn unavailable_enum_entry_cannot_be_set_and_is_not_valid() {
    let (mut map, port) = load(&mode_enum());
    let auto = map
        .enum_entries("Mode")
        .unwrap()
        .into_iter()
        .find(|e| e.symbolic == "Auto")
        .unwrap();
    assert_eq!(auto.access, AccessMode::NA);
    assert_eq!(
        map.set_enumeration("Mode", "Auto"),
        Err(Error::UnknownEntry {
            name: "Mode".into(),
            entry: "Auto".into(),
            valid: vec!["Off".into(), "On".into()]
        })
    );
    assert!(map.set_enum_int("Mode", 2).is_err());
    assert_eq!(port.peek_u32(0xA0), 0);

    // Once available, it can be chosen.
    map.set_integer("AutoAvail", 1).unwrap();
    map.set_enumeration("Mode", "Auto").unwrap();
    assert_eq!(port.peek_u32(0xA0), 2);
    assert_eq!(map.enumeration("Mode").unwrap(), "Auto");
}

#[test]
fn register_value_matching_no_entry_is_an_error() {
    let (mut map, port) = load(&mode_enum());
    port.poke_u32(0xA0, 7);
    assert_eq!(
        map.enumeration("Mode"),
        Err(Error::NoEntryForValue {
            name: "Mode".into(),
            value: 7
        })
    );
    assert!(matches!(
        map.enum_int("Mode"),
        Err(Error::NoEntryForValue { value: 7, .. })
    ));
}

// ----- Boolean and Command -----

#[test]
fn boolean_with_on_and_off_values() {
    let (mut map, port) = load(&format!(
        r#"<Boolean Name="B"><pValue>BReg</pValue><OnValue>5</OnValue><OffValue>3</OffValue></Boolean>{}"#,
        rw_reg("BReg", 0x90)
    ));
    map.set_boolean("B", true).unwrap();
    assert_eq!(port.peek_u32(0x90), 5);
    assert!(map.boolean("B").unwrap());
    map.set_boolean("B", false).unwrap();
    assert_eq!(port.peek_u32(0x90), 3);
    assert!(!map.boolean("B").unwrap());

    port.poke_u32(0x90, 4);
    map.invalidate("BReg").unwrap();
    assert_eq!(
        map.boolean("B"),
        Err(Error::NotBoolean {
            name: "B".into(),
            value: 4
        })
    );
    port.poke_u32(0x90, 5);
    map.invalidate("BReg").unwrap();
    assert!(map.boolean("B").unwrap());
}

#[test]
fn command_writes_its_value_and_is_done_when_the_register_changes() {
    let (mut map, port) = load(&format!(
        r#"<Command Name="Start"><pValue>CmdReg</pValue><CommandValue>0x2A</CommandValue></Command>{}"#,
        rw_reg("CmdReg", 0xB0)
    ));
    map.execute("Start").unwrap();
    assert_eq!(port.peek_u32(0xB0), 0x2A);
    assert!(
        !map.is_done("Start").unwrap(),
        "the register still holds 0x2A"
    );
    // The device clears the register when it has finished.
    port.poke_u32(0xB0, 0);
    assert!(map.is_done("Start").unwrap());
}

#[test]
fn command_on_write_only_register_is_done_at_once() {
    let (mut map, port) = load(&format!(
        r#"<Command Name="Go"><pValue>GoReg</pValue><CommandValue>1</CommandValue></Command>{}"#,
        int_reg("GoReg", 0xC0, 4, "WO", "Unsigned", "LittleEndian")
    ));
    map.execute("Go").unwrap();
    assert_eq!(port.peek_u32(0xC0), 1);
    assert_eq!(port.writes(), 1);
    assert!(map.is_done("Go").unwrap());
}

// ----- formulas and converters -----

#[test]
fn swissknife_and_intswissknife_values() {
    let (mut map, _port) = load(&format!(
        r#"{}{}
           <IntSwissKnife Name="Sum"><pVariable Name="A">IA</pVariable><pVariable Name="B">IB</pVariable><Constant Name="K">100</Constant><Formula>A*2+B+K</Formula></IntSwissKnife>
           <SwissKnife Name="Quarter"><pVariable Name="A">IA</pVariable><Formula>A/4</Formula></SwissKnife>"#,
        int_value("IA", 10),
        int_value("IB", 3)
    ));
    assert_eq!(map.interface("Sum").unwrap(), Interface::Integer);
    assert_eq!(map.interface("Quarter").unwrap(), Interface::Float);
    assert_eq!(map.integer("Sum").unwrap(), 123);
    assert_eq!(map.float("Quarter").unwrap(), 2.5);
    map.set_integer("IA", 20).unwrap();
    assert_eq!(map.integer("Sum").unwrap(), 143);
    assert_eq!(map.float("Quarter").unwrap(), 5.0);
    assert_eq!(map.access_mode("Sum").unwrap(), AccessMode::RO);
    assert!(matches!(
        map.set_integer("Sum", 1),
        Err(Error::NotWritable {
            access: AccessMode::RO,
            ..
        })
    ));
}

#[test]
fn converter_reads_with_formula_from_and_writes_with_formula_to() {
    let (mut map, port) = load(&format!(
        r#"<Converter Name="Exposure"><FormulaTo>FROM*10</FormulaTo><FormulaFrom>TO/10</FormulaFrom><pValue>ExpReg</pValue><Slope>Increasing</Slope></Converter>{}"#,
        rw_reg("ExpReg", 0xD0)
    ));
    port.poke_u32(0xD0, 100);
    assert_eq!(map.float("Exposure").unwrap(), 10.0);
    map.set_float("Exposure", 25.0).unwrap();
    assert_eq!(port.peek_u32(0xD0), 250);
    assert_eq!(map.float("Exposure").unwrap(), 25.0);
    assert!(map.contains("Exposure_ConvertTo"));
    assert!(map.contains("Exposure_ConvertFrom"));
}

#[test]
fn int_converter_reads_and_writes_through_its_formulas() {
    let (mut map, port) = load(&format!(
        r#"<IntConverter Name="IC"><FormulaTo>FROM-5</FormulaTo><FormulaFrom>TO+5</FormulaFrom><pValue>Reg</pValue><Slope>Increasing</Slope></IntConverter>{}"#,
        rw_reg("Reg", 0xD8)
    ));
    port.poke_u32(0xD8, 10);
    assert_eq!(map.integer("IC").unwrap(), 15);
    map.set_integer("IC", 12).unwrap();
    assert_eq!(port.peek_u32(0xD8), 7);
    assert_eq!(map.integer("IC").unwrap(), 12);
    assert_eq!(map.integer_min("IC").unwrap(), 5);
}

// ----- access modes -----

#[test]
fn read_only_register_refuses_writes() {
    let (mut map, port) = load(&int_reg("Ro", 0x10, 4, "RO", "Unsigned", "LittleEndian"));
    port.poke_u32(0x10, 3);
    assert_eq!(map.access_mode("Ro").unwrap(), AccessMode::RO);
    assert_eq!(map.integer("Ro").unwrap(), 3);
    assert_eq!(
        map.set_integer("Ro", 1),
        Err(Error::NotWritable {
            name: "Ro".into(),
            access: AccessMode::RO
        })
    );
    assert_eq!(port.writes(), 0);
}

#[test]
fn write_only_register_refuses_reads() {
    let (mut map, port) = load(&int_reg("Wo", 0x10, 4, "WO", "Unsigned", "LittleEndian"));
    assert_eq!(map.access_mode("Wo").unwrap(), AccessMode::WO);
    assert_eq!(
        map.integer("Wo"),
        Err(Error::NotReadable {
            name: "Wo".into(),
            access: AccessMode::WO
        })
    );
    map.set_integer("Wo", 9).unwrap();
    assert_eq!(port.peek_u32(0x10), 9);
    assert_eq!(port.reads(), 0);
}

#[test]
fn is_implemented_false_gives_ni() {
    let (mut map, _port) = load(&format!(
        "{}{}",
        rw_reg_with("X", 0x10, "<pIsImplemented>Impl</pIsImplemented>"),
        int_value("Impl", 0)
    ));
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::NI);
    assert_eq!(
        map.integer("X"),
        Err(Error::NotReadable {
            name: "X".into(),
            access: AccessMode::NI
        })
    );
    map.set_integer("Impl", 1).unwrap();
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::RW);
}

#[test]
fn is_available_false_gives_na() {
    let (mut map, _port) = load(&format!(
        "{}{}",
        rw_reg_with("X", 0x10, "<pIsAvailable>Avail</pIsAvailable>"),
        int_value("Avail", 0)
    ));
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::NA);
    assert_eq!(
        map.integer("X"),
        Err(Error::NotReadable {
            name: "X".into(),
            access: AccessMode::NA
        })
    );
    assert_eq!(
        map.set_integer("X", 1),
        Err(Error::NotWritable {
            name: "X".into(),
            access: AccessMode::NA
        })
    );
}

#[test]
fn is_locked_true_makes_rw_read_only() {
    let (mut map, port) = load(&format!(
        "{}{}",
        rw_reg_with("X", 0x10, "<pIsLocked>Locked</pIsLocked>"),
        int_value("Locked", 1)
    ));
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::RO);
    assert_eq!(
        map.set_integer("X", 1),
        Err(Error::NotWritable {
            name: "X".into(),
            access: AccessMode::RO
        })
    );
    assert_eq!(port.writes(), 0);
    map.set_integer("Locked", 0).unwrap();
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::RW);
    map.set_integer("X", 1).unwrap();
    assert_eq!(port.peek_u32(0x10), 1);
}

#[test]
fn imposed_access_mode_restricts_an_rw_node() {
    let (mut map, _port) = load(&format!(
        r#"<Integer Name="Imposed"><ImposedAccessMode>RO</ImposedAccessMode><pValue>R</pValue></Integer>{}"#,
        rw_reg("R", 0x10)
    ));
    assert_eq!(map.access_mode("R").unwrap(), AccessMode::RW);
    assert_eq!(map.access_mode("Imposed").unwrap(), AccessMode::RO);
    assert_eq!(
        map.set_integer("Imposed", 1),
        Err(Error::NotWritable {
            name: "Imposed".into(),
            access: AccessMode::RO
        })
    );
}

#[test]
fn changing_the_is_available_node_changes_the_access_mode() {
    let (mut map, port) = load(&format!(
        "{}{}",
        rw_reg_with("X", 0x10, "<pIsAvailable>AvailReg</pIsAvailable>"),
        rw_reg("AvailReg", 0x20)
    ));
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::NA);
    map.set_integer("AvailReg", 1).unwrap();
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::RW);
    map.set_integer("X", 5).unwrap();
    map.set_integer("AvailReg", 0).unwrap();
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::NA);

    // A change on the device side is seen once the register is invalidated.
    port.poke_u32(0x20, 1);
    assert_eq!(
        map.access_mode("X").unwrap(),
        AccessMode::NA,
        "cached until invalidated"
    );
    map.invalidate("AvailReg").unwrap();
    assert_eq!(map.access_mode("X").unwrap(), AccessMode::RW);
}

// ----- selectors -----

#[test]
fn p_selected_both_ways() {
    let (map, _port) = load(&format!(
        r#"<Integer Name="Sel"><pSelected>Val</pSelected><pSelected>Other</pSelected><Value>0</Value></Integer>
           <Integer Name="Sel2"><pSelected>Val</pSelected><Value>0</Value></Integer>
           {}{}"#,
        int_value("Val", 1),
        int_value("Other", 2)
    ));
    assert_eq!(map.selected_features("Sel").unwrap(), ["Val", "Other"]);
    assert_eq!(map.selected_features("Sel2").unwrap(), ["Val"]);
    assert!(map.selected_features("Val").unwrap().is_empty());
    let mut selecting = map.selecting_features("Val").unwrap();
    selecting.sort_unstable();
    assert_eq!(selecting, ["Sel", "Sel2"]);
    assert_eq!(map.selecting_features("Other").unwrap(), ["Sel"]);
    assert!(map.selecting_features("Sel").unwrap().is_empty());
    assert!(matches!(
        map.selected_features("Nope"),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn indexed_integer_switches_register_with_the_selector() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="GainSel"><Value>0</Value><Min>0</Min><Max>1</Max><pSelected>Gain</pSelected></Integer>
           <Integer Name="Gain"><pIndex>GainSel</pIndex><pValueIndexed Index="0">GainA</pValueIndexed><pValueIndexed Index="1">GainB</pValueIndexed></Integer>
           {}{}"#,
        rw_reg("GainA", 0x10),
        rw_reg("GainB", 0x14)
    ));
    map.set_integer("Gain", 11).unwrap();
    map.set_integer("GainSel", 1).unwrap();
    assert_eq!(map.integer("Gain").unwrap(), 0);
    map.set_integer("Gain", 22).unwrap();
    assert_eq!(port.peek_u32(0x10), 11);
    assert_eq!(port.peek_u32(0x14), 22);
    map.set_integer("GainSel", 0).unwrap();
    assert_eq!(map.integer("Gain").unwrap(), 11);
    map.set_integer("GainSel", 1).unwrap();
    assert_eq!(map.integer("Gain").unwrap(), 22);
}

// ----- caching -----

#[test]
fn cached_register_is_read_once() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Top"><pValue>R</pValue></Integer>{}"#,
        rw_reg("R", 0x10)
    ));
    port.poke_u32(0x10, 7);
    assert_eq!(map.integer("R").unwrap(), 7);
    assert_eq!(port.reads(), 1);
    assert_eq!(map.integer("R").unwrap(), 7);
    assert_eq!(map.integer("Top").unwrap(), 7);
    assert_eq!(map.integer("Top").unwrap(), 7);
    assert_eq!(port.reads(), 1, "the second read comes from the cache");
}

#[test]
fn no_cache_register_is_read_every_time() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Top"><pValue>R</pValue></Integer>{}"#,
        rw_reg_with("R", 0x10, "<Cachable>NoCache</Cachable>")
    ));
    port.poke_u32(0x10, 7);
    assert_eq!(map.integer("R").unwrap(), 7);
    assert_eq!(map.integer("R").unwrap(), 7);
    assert_eq!(port.reads(), 2);
    port.poke_u32(0x10, 8);
    assert_eq!(map.integer("Top").unwrap(), 8, "seen without invalidation");
    assert_eq!(port.reads(), 3);
}

#[test]
fn write_through_register_reads_back_from_the_cache() {
    let (mut map, port) = load(&rw_reg_with("R", 0x10, "<Cachable>WriteThrough</Cachable>"));
    map.set_integer("R", 42).unwrap();
    let reads = port.reads();
    assert_eq!(map.integer("R").unwrap(), 42);
    assert_eq!(map.integer("R").unwrap(), 42);
    assert_eq!(
        port.reads(),
        reads,
        "no port read after a write-through write"
    );
    assert_eq!(port.peek_u32(0x10), 42);
}

#[test]
fn write_around_register_reads_the_port_after_a_write() {
    let (mut map, port) = load(&rw_reg_with("R", 0x10, "<Cachable>WriteAround</Cachable>"));
    map.set_integer("R", 42).unwrap();
    let reads = port.reads();
    assert_eq!(map.integer("R").unwrap(), 42);
    assert_eq!(port.reads(), reads + 1);
    // A device that adjusts the value written is seen.
    map.set_integer("R", 43).unwrap();
    port.poke_u32(0x10, 40);
    assert_eq!(map.integer("R").unwrap(), 40);
    assert_eq!(port.reads(), reads + 2);
    assert_eq!(map.integer("R").unwrap(), 40);
    assert_eq!(port.reads(), reads + 2, "cached again after the read");
}

#[test]
fn p_invalidator_forces_a_re_read() {
    let (mut map, port) = load(&format!(
        "{}{}",
        rw_reg_with("B", 0x10, "<pInvalidator>A</pInvalidator>"),
        rw_reg("A", 0x20)
    ));
    assert_eq!(map.integer("B").unwrap(), 0);
    let reads = port.reads();
    // The device changes B as a side effect of writing A.
    port.poke_u32(0x10, 7);
    assert_eq!(map.integer("B").unwrap(), 0, "B is cached");
    assert_eq!(port.reads(), reads);
    map.set_integer("A", 1).unwrap();
    assert_eq!(map.integer("B").unwrap(), 7);
    assert_eq!(port.reads(), reads + 1);
}

#[test]
fn invalidation_is_transitive() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Top"><pValue>Mid</pValue></Integer>{}{}"#,
        rw_reg_with("Mid", 0x10, "<pInvalidator>A</pInvalidator>"),
        rw_reg("A", 0x20)
    ));
    assert_eq!(map.integer("Top").unwrap(), 0);
    port.poke_u32(0x10, 9);
    assert_eq!(map.integer("Top").unwrap(), 0, "Top is cached");
    map.set_integer("A", 1).unwrap();
    assert_eq!(map.integer("Top").unwrap(), 9);
}

#[test]
fn explicit_invalidate_forces_a_re_read() {
    let (mut map, port) = load(&rw_reg("R", 0x10));
    assert_eq!(map.integer("R").unwrap(), 0);
    port.poke_u32(0x10, 5);
    assert_eq!(map.integer("R").unwrap(), 0);
    let reads = port.reads();
    map.invalidate("R").unwrap();
    assert_eq!(map.integer("R").unwrap(), 5);
    assert_eq!(port.reads(), reads + 1);
    assert!(matches!(map.invalidate("Nope"), Err(Error::NotFound(_))));
}

#[test]
fn poll_re_reads_after_the_polling_time_and_not_before() {
    let (mut map, port) = load(&format!(
        "{}{}",
        rw_reg_with("Polled", 0x10, "<PollingTime>100</PollingTime>"),
        rw_reg("Plain", 0x20)
    ));
    assert_eq!(map.integer("Polled").unwrap(), 0);
    assert_eq!(map.integer("Plain").unwrap(), 0);
    port.poke_u32(0x10, 5);
    port.poke_u32(0x20, 6);
    let reads = port.reads();
    map.poll(50);
    assert_eq!(map.integer("Polled").unwrap(), 0);
    map.poll(49);
    assert_eq!(map.integer("Polled").unwrap(), 0);
    assert_eq!(port.reads(), reads);
    map.poll(1);
    assert_eq!(map.integer("Polled").unwrap(), 5);
    assert_eq!(port.reads(), reads + 1);
    assert_eq!(
        map.integer("Plain").unwrap(),
        0,
        "no polling time: not refreshed"
    );
    // The period starts again.
    port.poke_u32(0x10, 8);
    map.poll(99);
    assert_eq!(map.integer("Polled").unwrap(), 5);
    map.poll(1000);
    assert_eq!(map.integer("Polled").unwrap(), 8);
}

// ----- ports -----

#[test]
fn several_ports_by_name() {
    let text = format!(
        "<?xml version=\"1.0\"?>\n{ROOT}\n<Port Name=\"Device\"/><Port Name=\"Cam2\"/><Port Name=\"Unused\"/>\n\
         {}\n\
         <IntReg Name=\"B\"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Cam2</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>\n\
         <IntReg Name=\"C\"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Unused</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>\n\
         </RegisterDescription>",
        rw_reg("A", 0x10)
    );
    let mut map = NodeMap::from_xml(&text).unwrap();
    assert_eq!(map.port_names(), ["Device", "Cam2", "Unused"]);
    let p1 = TestPort::new(0x100);
    let p2 = TestPort::new(0x100);
    p1.poke_u32(0x10, 111);
    p2.poke_u32(0x10, 222);
    map.connect("Device", Box::new(p1.clone())).unwrap();
    map.connect("Cam2", Box::new(p2.clone())).unwrap();
    assert_eq!(map.integer("A").unwrap(), 111);
    assert_eq!(map.integer("B").unwrap(), 222);
    map.set_integer("B", 333).unwrap();
    assert_eq!(p2.peek_u32(0x10), 333);
    assert_eq!(p1.peek_u32(0x10), 111);
    assert_eq!(p1.writes(), 0);

    assert_eq!(map.access_mode("C").unwrap(), AccessMode::NI);
    assert!(matches!(
        map.integer("C"),
        Err(Error::NotReadable {
            access: AccessMode::NI,
            ..
        })
    ));
    assert!(matches!(
        map.connect("A", Box::new(TestPort::new(1))),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        map.connect("Nope", Box::new(TestPort::new(1))),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn port_errors_surface_as_error_port() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Top"><pValue>R</pValue></Integer>{}"#,
        rw_reg("R", 0x10)
    ));
    *port.fail_read.lock().unwrap() = Some(PortError::Timeout { address: 0x10 });
    match map.integer("Top") {
        Err(Error::Port { source, .. }) => {
            assert_eq!(source, PortError::Timeout { address: 0x10 })
        }
        other => panic!("expected a port error, got {other:?}"),
    }
    *port.fail_write.lock().unwrap() = Some(PortError::Disconnected);
    assert_eq!(
        map.set_integer("R", 1),
        Err(Error::Port {
            name: "R".into(),
            source: PortError::Disconnected
        })
    );
    // Once the device answers again, reads work.
    *port.fail_read.lock().unwrap() = None;
    port.poke_u32(0x10, 4);
    assert_eq!(map.integer("Top").unwrap(), 4);
}

// ----- categories and node info -----

#[test]
fn category_children_and_node_info() {
    let (mut map, _port) = load(&format!(
        r#"<Category Name="Root"><pFeature>Width</pFeature><pFeature>Sub</pFeature></Category>
           <Category Name="Sub"><Visibility>Guru</Visibility><pFeature>Hidden</pFeature><pFeature>Expert</pFeature></Category>
           <Integer Name="Width">
             <ToolTip>The width</ToolTip>
             <Description>Width of the image in pixels.</Description>
             <DisplayName>Image Width</DisplayName>
             <Visibility>Beginner</Visibility>
             <pValue>WidthReg</pValue>
             <Unit>px</Unit>
             <Representation>Linear</Representation>
           </Integer>
           <Integer Name="Expert"><Visibility>Expert</Visibility><Value>1</Value><Representation>HexNumber</Representation></Integer>
           <Integer Name="Hidden"><Visibility>Invisible</Visibility><Value>1</Value></Integer>
           {}"#,
        rw_reg("WidthReg", 0x10)
    ));
    assert_eq!(map.category_features("Root").unwrap(), ["Width", "Sub"]);
    assert_eq!(map.category_features("Sub").unwrap(), ["Hidden", "Expert"]);
    assert!(matches!(
        map.category_features("Width"),
        Err(Error::WrongType { .. })
    ));
    assert_eq!(map.interface("Root").unwrap(), Interface::Category);
    assert_eq!(map.access_mode("Root").unwrap(), AccessMode::RO);

    let w = map.node_info("Width").unwrap();
    assert_eq!(w.name, "Width");
    assert_eq!(w.display_name, "Image Width");
    assert_eq!(w.tooltip, Some("The width"));
    assert_eq!(w.description, Some("Width of the image in pixels."));
    assert_eq!(w.visibility, Visibility::Beginner);
    assert_eq!(w.unit, Some("px"));
    assert_eq!(w.representation, Some(Representation::Linear));
    assert_eq!(w.interface, Interface::Integer);
    assert_eq!(w.element, "Integer");

    let e = map.node_info("Expert").unwrap();
    assert_eq!(
        e.display_name, "Expert",
        "the name when there is no DisplayName"
    );
    assert_eq!(e.tooltip, None);
    assert_eq!(e.unit, None);
    assert_eq!(e.visibility, Visibility::Expert);
    assert_eq!(e.representation, Some(Representation::HexNumber));
    assert_eq!(
        map.node_info("Hidden").unwrap().visibility,
        Visibility::Invisible
    );
    assert_eq!(map.node_info("Sub").unwrap().visibility, Visibility::Guru);
    assert_eq!(
        map.node_info("WidthReg").unwrap().visibility,
        Visibility::Beginner,
        "Beginner by default"
    );
    assert_eq!(map.node_info("WidthReg").unwrap().element, "IntReg");
    assert!(matches!(map.node_info("Nope"), Err(Error::NotFound(_))));
}

#[test]

fn poll_refreshes_a_polled_integer_over_a_cached_register() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Temp"><pValue>TempReg</pValue><PollingTime>100</PollingTime></Integer>{}"#,
        rw_reg("TempReg", 0x10)
    ));
    assert_eq!(map.integer("Temp").unwrap(), 0);
    port.poke_u32(0x10, 5);
    map.poll(50);
    assert_eq!(map.integer("Temp").unwrap(), 0, "not yet");
    map.poll(50);
    assert_eq!(map.integer("Temp").unwrap(), 5, "polling time passed");
}

#[test]

fn invalidate_of_an_integer_re_reads_its_register() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Top"><pValue>TopReg</pValue></Integer>{}"#,
        rw_reg("TopReg", 0x10)
    ));
    assert_eq!(map.integer("Top").unwrap(), 0);
    port.poke_u32(0x10, 5);
    let reads = port.reads();
    map.invalidate("Top").unwrap();
    assert_eq!(map.integer("Top").unwrap(), 5);
    assert_eq!(port.reads(), reads + 1);
}

#[test]

fn command_over_an_integer_is_done_when_the_register_changes() {
    let (mut map, port) = load(&format!(
        r#"<Command Name="Start"><pValue>CmdInt</pValue><CommandValue>1</CommandValue></Command><Integer Name="CmdInt"><pValue>CmdReg</pValue></Integer>{}"#,
        rw_reg("CmdReg", 0xB0)
    ));
    map.execute("Start").unwrap();
    assert_eq!(port.peek_u32(0xB0), 1);
    assert!(!map.is_done("Start").unwrap());
    port.poke_u32(0xB0, 0);
    assert!(map.is_done("Start").unwrap());
}

#[test]

fn cached_value_is_not_served_when_the_node_is_not_readable() {
    let (mut map, port) = load(&format!(
        r#"<Integer Name="Width"><pIsAvailable>Avail</pIsAvailable><pValue>WidthReg</pValue></Integer>
           <IntSwissKnife Name="Avail"><pVariable Name="W">Width</pVariable><Formula>W &gt; 100</Formula></IntSwissKnife>
           {}"#,
        rw_reg("WidthReg", 0x10)
    ));
    port.poke_u32(0x10, 5);
    let first = map.integer("Width");
    assert!(
        matches!(
            first,
            Err(Error::NotReadable {
                access: AccessMode::NA,
                ..
            })
        ),
        "{first:?}"
    );
    assert_eq!(map.access_mode("Width").unwrap(), AccessMode::NA);
    let second = map.integer("Width");
    assert_eq!(second, first, "the same answer twice");
}

#[test]

fn struct_entries_at_an_indexed_address_keep_each_others_writes() {
    let (mut map, port) = load(&format!(
        r#"{}<StructReg Comment="S"><Address>0x100</Address><pIndex Offset="4">Sel</pIndex><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>LittleEndian</Endianess>
             <StructEntry Name="Lo"><LSB>0</LSB><MSB>7</MSB></StructEntry>
             <StructEntry Name="Hi"><LSB>8</LSB><MSB>15</MSB></StructEntry>
           </StructReg>"#,
        int_value("Sel", 1)
    ));
    assert_eq!(map.integer("Lo").unwrap(), 0);
    assert_eq!(map.integer("Hi").unwrap(), 0);
    map.set_integer("Lo", 0x12).unwrap();
    map.set_integer("Hi", 0x34).unwrap();
    assert_eq!(port.peek(0x104, 4), vec![0x12, 0x34, 0, 0]);
    assert_eq!(map.integer("Lo").unwrap(), 0x12);
}
