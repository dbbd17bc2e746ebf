//! Integration tests of feature files: `save_features` and `load_features`.

use genapi::persist::{Failure, MAGIC};
use genapi::NodeMap;

mod common;
use common::*;

fn int_reg(name: &str, addr: u64, access: &str, extra: &str) -> String {
    format!(
        r#"<IntReg Name="{name}">{}{extra}<Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        reg(addr, 4, access)
    )
}

/// A camera-like description: plain features, a read-only one, an enumeration
/// selector and an integer selector. The selected features come before their
/// selectors in the description, so that "selectors first" is the file's doing.
fn camera() -> String {
    xml(&format!(
        r#"<Category Name="Root">
             <pFeature>Width</pFeature><pFeature>Gain</pFeature><pFeature>GainSelector</pFeature>
             <pFeature>Mode</pFeature><pFeature>Flag</pFeature><pFeature>Label</pFeature>
             <pFeature>Temperature</pFeature><pFeature>LutValue</pFeature><pFeature>LutIndex</pFeature>
             <pFeature>Exposure</pFeature>
           </Category>
           <Integer Name="Width"><pValue>WidthReg</pValue><Min>16</Min><Max>4096</Max><Inc>16</Inc></Integer>
           {width_reg}
           <Float Name="Gain"><pValue>GainReg</pValue><Min>0</Min><Max>48</Max></Float>
           <FloatReg Name="GainReg"><Address>0x100</Address><pIndex Offset="8">GainSelector</pIndex><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>LittleEndian</Endianess></FloatReg>
           <Enumeration Name="GainSelector">
             <pSelected>Gain</pSelected>
             <EnumEntry Name="All"><Value>0</Value></EnumEntry>
             <EnumEntry Name="Red"><Value>1</Value></EnumEntry>
             <EnumEntry Name="Blue"><Value>2</Value></EnumEntry>
             <pValue>GainSelReg</pValue>
           </Enumeration>
           {gain_sel_reg}
           <Enumeration Name="Mode">
             <EnumEntry Name="Off"><Value>0</Value></EnumEntry>
             <EnumEntry Name="On"><Value>1</Value></EnumEntry>
             <pValue>ModeReg</pValue>
           </Enumeration>
           {mode_reg}
           <Boolean Name="Flag"><pValue>FlagReg</pValue></Boolean>
           {flag_reg}
           <StringReg Name="Label">{label}</StringReg>
           {temperature}
           {lut_value}
           <Integer Name="LutIndex"><pSelected>LutValue</pSelected><pValue>LutIndexReg</pValue><Min>0</Min><Max>3</Max></Integer>
           {lut_index_reg}
           <Float Name="Exposure"><Value>100</Value><Min>1</Min><Max>1000000</Max></Float>"#,
        width_reg = int_reg("WidthReg", 0x10, "RW", ""),
        gain_sel_reg = int_reg("GainSelReg", 0x20, "RW", ""),
        mode_reg = int_reg("ModeReg", 0x24, "RW", ""),
        flag_reg = int_reg("FlagReg", 0x28, "RW", ""),
        label = reg(0x40, 16, "RW"),
        temperature = int_reg("Temperature", 0x30, "RO", ""),
        lut_value = r#"<IntReg Name="LutValue"><Address>0x200</Address><pIndex Offset="4">LutIndex</pIndex><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>"#,
        lut_index_reg = int_reg("LutIndexReg", 0x2C, "RW", ""),
    ))
}

fn open() -> (NodeMap, TestPort) {
    let mut map = NodeMap::from_xml(&camera()).unwrap();
    let port = TestPort::new(0x400);
    map.connect("Device", Box::new(port.clone())).unwrap();
    (map, port)
}

/// Gives every saved feature a value other than its default.
fn configure(map: &mut NodeMap) {
    map.set_integer("Width", 640).unwrap();
    for (sel, gain) in [("All", 1.5), ("Red", 2.25), ("Blue", 3.0)] {
        map.set_enumeration("GainSelector", sel).unwrap();
        map.set_float("Gain", gain).unwrap();
    }
    map.set_enumeration("GainSelector", "Red").unwrap();
    map.set_enumeration("Mode", "On").unwrap();
    map.set_boolean("Flag", true).unwrap();
    map.set_string("Label", "hello\tworld").unwrap();
    for i in 0..4 {
        map.set_integer("LutIndex", i).unwrap();
        map.set_integer("LutValue", 10 * (i + 1)).unwrap();
    }
    map.set_integer("LutIndex", 2).unwrap();
    map.set_float("Exposure", 250.75).unwrap();
}

fn position(lines: &[&str], pred: impl Fn(&str) -> bool) -> usize {
    lines
        .iter()
        .position(|l| pred(l))
        .unwrap_or_else(|| panic!("no such line in\n{}", lines.join("\n")))
}

#[test]
fn save_writes_the_header_and_one_line_per_writable_feature() {
    let (mut map, port) = open();
    port.mem.lock().unwrap()[0x30] = 55; // the read-only Temperature
    configure(&mut map);
    let text = map.save_features();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# {05D8C294-F295-4dfb-9D01-096BD04049F4}");
    assert_eq!(lines[0], MAGIC);
    for l in &lines {
        assert!(
            l.starts_with('#') || l.contains('\t'),
            "line without a tab: {l:?}"
        );
    }
    for expected in [
        "Width\t640",
        "Mode\tOn",
        "Flag\t1",
        "Label\thello\\tworld",
        "Exposure\t250.75",
    ] {
        assert_eq!(
            lines.iter().filter(|l| **l == expected).count(),
            1,
            "{expected:?} once in\n{text}"
        );
    }
    for name in ["Width", "Mode", "Flag", "Label", "Exposure"] {
        let prefix = format!("{name}\t");
        assert_eq!(
            lines.iter().filter(|l| l.starts_with(&prefix)).count(),
            1,
            "{name} once in\n{text}"
        );
    }
    assert!(
        !lines.iter().any(|l| l.starts_with("Temperature")),
        "a read-only feature is not saved:\n{text}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("WidthReg")),
        "only category members are saved:\n{text}"
    );
}

#[test]
fn save_writes_selectors_before_the_features_they_select() {
    let (mut map, _port) = open();
    configure(&mut map);
    let text = map.save_features();
    let lines: Vec<&str> = text.lines().collect();

    let sel = position(&lines, |l| l.starts_with("GainSelector\t"));
    let first_gain = position(&lines, |l| l.starts_with("Gain\t"));
    assert!(sel < first_gain, "GainSelector before Gain in\n{text}");
    let lut_index = position(&lines, |l| l.starts_with("LutIndex\t"));
    let first_lut = position(&lines, |l| l.starts_with("LutValue\t"));
    assert!(lut_index < first_lut, "LutIndex before LutValue in\n{text}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("GainSelector\t"))
            .count(),
        1
    );
}

#[test]
fn save_writes_a_selected_feature_once_per_selector_value() {
    let (mut map, _port) = open();
    configure(&mut map);
    let text = map.save_features();
    let lines: Vec<&str> = text.lines().collect();

    let gains: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("Gain\t"))
        .collect();
    assert_eq!(
        gains,
        [
            "Gain\t{GainSelector=All}\t1.5",
            "Gain\t{GainSelector=Red}\t2.25",
            "Gain\t{GainSelector=Blue}\t3",
        ]
    );
    let luts: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("LutValue\t"))
        .collect();
    assert_eq!(
        luts,
        [
            "LutValue\t{LutIndex=0}\t10",
            "LutValue\t{LutIndex=1}\t20",
            "LutValue\t{LutIndex=2}\t30",
            "LutValue\t{LutIndex=3}\t40",
        ]
    );
    // Saving leaves the selectors where they were.
    assert_eq!(map.enumeration("GainSelector").unwrap(), "Red");
    assert_eq!(map.integer("LutIndex").unwrap(), 2);
    assert_eq!(map.float("Gain").unwrap(), 2.25);
}

#[test]
fn load_restores_every_saved_value_into_a_fresh_map() {
    let (mut map, _port) = open();
    configure(&mut map);
    let text = map.save_features();

    let (mut fresh, _fresh_port) = open();
    let failures = fresh.load_features(&text);
    assert_eq!(failures, Vec::<Failure>::new(), "file:\n{text}");

    assert_eq!(fresh.integer("Width").unwrap(), 640);
    assert_eq!(fresh.enumeration("Mode").unwrap(), "On");
    assert!(fresh.boolean("Flag").unwrap());
    assert_eq!(fresh.string("Label").unwrap(), "hello\tworld");
    assert_eq!(fresh.float("Exposure").unwrap(), 250.75);
    for (sel, gain) in [("All", 1.5), ("Red", 2.25), ("Blue", 3.0)] {
        fresh.set_enumeration("GainSelector", sel).unwrap();
        assert_eq!(fresh.float("Gain").unwrap(), gain, "Gain[{sel}]");
    }
    for i in 0..4 {
        fresh.set_integer("LutIndex", i).unwrap();
        assert_eq!(fresh.integer("LutValue").unwrap(), 10 * (i + 1), "Lut[{i}]");
    }
    // And saving again gives the same file, once the selectors are put back.
    fresh.set_enumeration("GainSelector", "Red").unwrap();
    fresh.set_integer("LutIndex", 2).unwrap();
    assert_eq!(fresh.save_features(), text);
}

#[test]

fn load_restores_the_selector_positions() {
    let (mut map, port) = open();
    configure(&mut map);
    let text = map.save_features();

    let (mut fresh, fresh_port) = open();
    assert!(fresh.load_features(&text).is_empty());
    assert_eq!(fresh.enumeration("GainSelector").unwrap(), "Red");
    assert_eq!(fresh.integer("LutIndex").unwrap(), 2);
    // The whole register space is the same.
    assert_eq!(fresh_port.bytes(), port.bytes());
}

#[test]
fn load_reports_each_bad_line_and_applies_the_good_ones() {
    let (mut map, _port) = open();
    let text = [
        "# {05D8C294-F295-4dfb-9D01-096BD04049F4}", // 1
        "Width\t320",                               // 2
        "Width\tabc",                               // 3: not a number
        "Bogus\t5",                                 // 4: unknown feature
        "Temperature\t5",                           // 5: read-only
        "this line has no tab",                     // 6: malformed
        "Mode\tOn",                                 // 7
        "",                                         // 8
        "Gain\t{GainSelector=Red}\t7.5",            // 9
        "Gain\t{GainSelector=Nope}\t1",             // 10: bad selector value
        "Width\t321",                               // 11: off the increment
        "# a comment",                              // 12
        "Flag\t1",                                  // 13
    ]
    .join("\n");
    let failures = map.load_features(&text);
    let lines: Vec<usize> = failures.iter().map(|f| f.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 10, 11], "{failures:#?}");
    let features: Vec<&str> = failures.iter().map(|f| f.feature.as_str()).collect();
    assert_eq!(
        features,
        [
            "Width",
            "Bogus",
            "Temperature",
            "this line has no tab",
            "Gain",
            "Width"
        ]
    );
    let reason = |line: usize| {
        failures
            .iter()
            .find(|f| f.line == line)
            .unwrap()
            .reason
            .clone()
    };
    assert!(reason(3).contains("abc"), "{}", reason(3));
    assert!(reason(4).contains("Bogus"), "{}", reason(4));
    assert!(reason(5).contains("not writable"), "{}", reason(5));
    assert!(reason(6).contains("no value"), "{}", reason(6));
    assert!(reason(10).contains("GainSelector"), "{}", reason(10));
    assert!(reason(11).contains("321"), "{}", reason(11));
    assert!(failures[0].to_string().starts_with("line 3: Width: "));

    // The good lines were applied.
    assert_eq!(map.integer("Width").unwrap(), 320);
    assert_eq!(map.enumeration("Mode").unwrap(), "On");
    assert!(map.boolean("Flag").unwrap());
    map.set_enumeration("GainSelector", "Red").unwrap();
    assert_eq!(map.float("Gain").unwrap(), 7.5);
    map.set_enumeration("GainSelector", "All").unwrap();
    assert_eq!(map.float("Gain").unwrap(), 0.0);
    assert_eq!(map.integer("Temperature").unwrap(), 0);
}

#[test]
fn load_accepts_crlf_line_ends() {
    let (mut map, _port) = open();
    let failures = map.load_features(&format!("{MAGIC}\r\nWidth\t48\r\nMode\tOn\r\n"));
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(map.integer("Width").unwrap(), 48);
    assert_eq!(map.enumeration("Mode").unwrap(), "On");
}

#[test]
fn load_retries_a_line_that_a_later_line_unlocks() {
    let text = xml(&format!(
        r#"<Integer Name="Width"><pIsLocked>Lock</pIsLocked><pValue>WidthReg</pValue></Integer>
           {}{}"#,
        int_reg("WidthReg", 0x10, "RW", ""),
        int_reg("Lock", 0x14, "RW", "")
    ));
    let mut map = NodeMap::from_xml(&text).unwrap();
    let port = TestPort::new(0x100);
    port.mem.lock().unwrap()[0x14] = 1;
    map.connect("Device", Box::new(port.clone())).unwrap();
    assert!(map.set_integer("Width", 1).is_err(), "locked at first");

    let failures = map.load_features(&format!("{MAGIC}\nWidth\t640\nLock\t0\n"));
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(map.integer("Width").unwrap(), 640);
    assert_eq!(map.integer("Lock").unwrap(), 0);
}

/// Saves a map whose Label holds `s` and loads the file into a fresh map.
fn string_round_trip(s: &str) -> (String, Vec<Failure>) {
    let (mut map, _port) = open();
    configure(&mut map);
    map.set_string("Label", s).unwrap();
    let text = map.save_features();
    let (mut fresh, _fresh_port) = open();
    let failures = fresh.load_features(&text);
    (fresh.string("Label").unwrap(), failures)
}

#[test]
fn string_values_with_special_characters_round_trip() {
    for s in [
        "a\\b",
        "tab\there",
        "line\nbreak",
        "\\t",
        "\\",
        " lead",
        "trail ",
        "{x}",
        "a=b,c",
        "",
        "#hash",
    ] {
        let (back, failures) = string_round_trip(s);
        assert!(failures.is_empty(), "{s:?}: {failures:?}");
        assert_eq!(back, s);
    }
}

#[test]

fn string_value_ending_in_carriage_return_round_trips() {
    let (back, failures) = string_round_trip("cr\r");
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(back, "cr\r");
}
