//! The `mvcam genapi` commands, run as a user runs them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

const XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<RegisterDescription ModelName="Cam" VendorName="Acme" StandardNameSpace="None" SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="0" VersionGuid="0" xmlns="http://www.genicam.org/GenApi/Version_1_1">
  <Category Name="Root"><pFeature>Width</pFeature><pFeature>Gain</pFeature><pFeature>Secret</pFeature><pFeature>Mode</pFeature></Category>
  <Integer Name="Width"><Visibility>Beginner</Visibility><pValue>WidthReg</pValue><Min>0</Min><Max>65535</Max></Integer>
  <IntReg Name="WidthReg"><Address>0x100</Address><Length>2</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>BigEndian</Endianess></IntReg>
  <Float Name="Gain"><Visibility>Expert</Visibility><pValue>GainReg</pValue><Unit>dB</Unit></Float>
  <FloatReg Name="GainReg"><Address>0x200</Address><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Endianess>LittleEndian</Endianess></FloatReg>
  <Integer Name="Secret"><Visibility>Guru</Visibility><Value>42</Value></Integer>
  <Enumeration Name="Mode"><EnumEntry Name="Off"><Value>0</Value></EnumEntry><EnumEntry Name="On"><Value>1</Value></EnumEntry><pValue>ModeReg</pValue></Enumeration>
  <MaskedIntReg Name="ModeReg"><Address>0x300</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort><Bit>0</Bit><Endianess>LittleEndian</Endianess></MaskedIntReg>
  <Port Name="Device"/>
</RegisterDescription>
"#;

fn mvcam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mvcam"))
        .args(args)
        .output()
        .expect("mvcam runs")
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mvcam-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn splitmix64(x: u64) -> u64 {
    let x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn records(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn dump_reads_the_synthetic_register_space() {
    let xml = temp("cam.xml", XML.as_bytes());
    let recs = records(&mvcam(&[
        "genapi",
        "dump",
        xml.to_str().unwrap(),
        "--seed",
        "7",
    ]));
    let names: Vec<&str> = recs.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "records are sorted by name");
    let width = recs.iter().find(|r| r["name"] == "Width").unwrap();
    let byte = |a: u64| splitmix64(a ^ 7) & 0xFF;
    assert_eq!(
        width["value"].as_u64().unwrap(),
        (byte(0x100) << 8) | byte(0x101),
        "big-endian 2-byte register"
    );
    assert_eq!(width["access"], "RW");
    assert_eq!(
        (
            width["min"].as_i64(),
            width["max"].as_i64(),
            width["inc"].as_i64()
        ),
        (Some(0), Some(65535), Some(1))
    );
    assert_eq!(
        recs.iter().find(|r| r["name"] == "Secret").unwrap()["value"],
        42
    );
    let mode = recs.iter().find(|r| r["name"] == "Mode").unwrap();
    let expected = if byte(0x300) & 1 == 1 { "On" } else { "Off" };
    assert_eq!(mode["value"], expected);
    assert!(
        recs.iter().all(|r| r["name"] != "Device"),
        "ports are not dumped"
    );

    let zero = records(&mvcam(&["genapi", "dump", xml.to_str().unwrap(), "--zero"]));
    assert_eq!(
        zero.iter().find(|r| r["name"] == "Width").unwrap()["value"],
        0
    );
}

#[test]
fn zipped_descriptions_dump_like_plain_ones() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("Acme_Cam.xml", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(XML.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let zipped = temp("cam.zip", buf.get_ref());
    let plain = temp("plain.xml", XML.as_bytes());
    let a = mvcam(&["genapi", "dump", zipped.to_str().unwrap(), "--seed", "3"]);
    let b = mvcam(&["genapi", "dump", plain.to_str().unwrap(), "--seed", "3"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn features_follow_the_user_level() {
    let xml = temp("levels.xml", XML.as_bytes());
    let show = |level: &str| {
        let o = mvcam(&[
            "genapi",
            "features",
            xml.to_str().unwrap(),
            "--level",
            level,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let beginner = show("beginner");
    assert!(beginner.contains("Width [Integer RW] = "), "{beginner}");
    assert!(!beginner.contains("Gain"));
    let expert = show("expert");
    assert!(
        expert.contains("Gain [Float RW] = ") && expert.contains(" dB"),
        "{expert}"
    );
    assert!(!expert.contains("Secret"));
    assert!(show("guru").contains("Secret [Integer RW] = 42"));
}

#[test]
fn bench_prints_its_figures_as_json() {
    let xml = temp("bench.xml", XML.as_bytes());
    let o = mvcam(&[
        "genapi",
        "bench",
        xml.to_str().unwrap(),
        "--json",
        "--loads",
        "3",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert!(v["load_ms"].as_f64().unwrap() > 0.0);
    assert!(v["read_ns"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let missing = mvcam(&["genapi", "dump", "/nonexistent/cam.xml"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/cam.xml"));

    let broken = temp(
        "broken.xml",
        XML.replace("</Category>", "</Categ>").as_bytes(),
    );
    let o = mvcam(&["genapi", "features", broken.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("line 3") && err.contains("column"), "{err}");
    assert!(!err.contains("panicked"));

    let seed = mvcam(&["genapi", "dump", "x.xml", "--seed", "seven"]);
    assert!(!seed.status.success());
    assert!(String::from_utf8_lossy(&seed.stderr).contains("seven"));
}

#[test]
fn bench_pixel_prints_mpix_per_kernel() {
    let o = mvcam(&[
        "bench", "pixel", "--width", "67", "--height", "9", "--json", "--millis", "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for key in [
        "demosaic_bilinear_rg8_rgb8",
        "demosaic_mhc_rg8_rgb8",
        "unpack_mono12p_mono16",
        "pipeline_color",
    ] {
        let mpix = v[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {v}"));
        assert!(mpix > 0.0 && mpix.is_finite(), "{key}: {mpix}");
    }
    let o = mvcam(&["bench", "pixel", "--width", "0"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--width"), "{err}");
}
