//! `mvcam` against the built-in virtual camera, one invocation per
//! command as a user runs them; the camera's state lives in a temporary
//! MVCAM_STATE_DIR.

mod support;

use support::{Mvcam, TempDir};

#[test]
fn list_and_info_show_the_built_in_camera() {
    let m = Mvcam::new("list");
    let devices = m.json_lines(&["list", "--json"]);
    let virtuals: Vec<_> = devices
        .iter()
        .filter(|d| d["interface"] == "virtual")
        .collect();
    assert_eq!(virtuals.len(), 1, "{devices:?}");
    assert_eq!(virtuals[0]["serial"], "MV500C0001");
    assert_eq!(virtuals[0]["access"], "available");
    assert_eq!(devices[0]["index"], 0);

    let info = m.json(&["info", "--json"]);
    assert_eq!(info["serial"], "MV500C0001");
    assert_eq!(info["features"]["SensorWidth"], 2448);
    assert_eq!(info["features"]["PixelFormat"], "BayerRG8");

    let two = Mvcam::new("list2").with_args(&["--virtual", "color5mp,mono5mp"]);
    let serials: Vec<_> = two
        .json_lines(&["list", "--json"])
        .iter()
        .filter(|d| d["interface"] == "virtual")
        .map(|d| d["serial"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(serials, ["MV500C0001", "MV500M0001"]);
    assert_eq!(
        two.ok(&["-d", "MV500M0001", "get", "PixelFormat"]).trim(),
        "Mono8"
    );
    let none = Mvcam::new("list0").with_args(&["--virtual", "0"]);
    assert!(none
        .json_lines(&["list", "--json"])
        .iter()
        .all(|d| d["interface"] != "virtual"));
}

#[test]
fn settings_survive_between_invocations() {
    let m = Mvcam::new("persist");
    assert_eq!(m.get("Width"), "2448");
    m.ok(&["set", "Width=640", "Height=480", "PixelFormat=Mono8"]);
    let v = m.json(&["get", "Width", "Height", "PixelFormat", "--json"]);
    assert_eq!(
        v,
        serde_json::json!({"Width": 640, "Height": 480, "PixelFormat": "Mono8"})
    );
    assert!(m.state.path().join("live-MV500C0001.txt").is_file());
    // Another state directory is another, freshly powered camera.
    assert_eq!(Mvcam::new("persist-other").get("Width"), "2448");
    // Features by level and filter.
    let beginner = m.json_lines(&["features", "--filter", "Width", "--json"]);
    assert!(beginner
        .iter()
        .any(|f| f["name"] == "Width" && f["value"] == 640));
    let guru = m.json_lines(&["features", "--level", "guru", "--json"]);
    assert!(guru.iter().any(|f| f["name"] == "SimulationScene"));
    assert!(!m
        .json_lines(&["features", "--json"])
        .iter()
        .any(|f| f["name"] == "SimulationScene"));
}

/// The grey horizontal ramp's value at column `x`.
fn ramp(x: u32) -> u8 {
    (x % 256) as u8
}

#[test]
fn acquire_writes_the_test_image_to_files() {
    let m = Mvcam::new("acquire");
    let out = TempDir::new("frames");
    let dir = out.path().join("png");
    let stats = m.json(&[
        "acquire",
        "-n",
        "5",
        "--set",
        "TestImageSelector=GreyHorizontalRamp",
        "--set",
        "PixelFormat=Mono8",
        "--set",
        "Width=640",
        "--set",
        "Height=32",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(stats["images_received"], 5);
    assert_eq!(stats["frames_lost"], 0);
    assert_eq!(stats["error_images"], 0);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 5);
    assert!(files[0].ends_with("frame_00000.png"), "{files:?}");
    for f in &files {
        let img = pixel::file::load(f).unwrap();
        assert_eq!((img.width(), img.height()), (640, 32));
        assert_eq!(img.format(), pixel::format::PixelFormat::Mono8);
        for y in [0usize, 31] {
            for x in [0u32, 1, 255, 256, 300, 639] {
                assert_eq!(img.data()[y * 640 + x as usize], ramp(x), "{f:?} ({x},{y})");
            }
        }
    }

    // Raw files hold the wire bytes: exactly width x height for Mono8.
    let raw = out.path().join("raw");
    m.ok(&[
        "acquire",
        "-n",
        "3",
        "--mode",
        "multi",
        "--format",
        "raw",
        "--pattern",
        "img_{n}.raw",
        "--out",
        raw.to_str().unwrap(),
    ]);
    for n in 0..3 {
        let bytes = std::fs::read(raw.join(format!("img_{n}.raw"))).unwrap();
        assert_eq!(bytes.len(), 640 * 32);
        assert_eq!(bytes[300], ramp(300));
    }
    // Single frame as TIFF and BMP.
    for format in ["tiff", "bmp"] {
        let d = out.path().join(format);
        m.ok(&[
            "acquire",
            "--mode",
            "single",
            "--format",
            format,
            "--out",
            d.to_str().unwrap(),
        ]);
        let f = d.join(format!("frame_00000.{format}"));
        let img = pixel::file::load(&f).unwrap();
        assert_eq!((img.width(), img.height()), (640, 32));
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }
}

#[test]
fn statistics_count_dropped_transfers_and_nothing_else() {
    let m = Mvcam::new("stats");
    m.ok(&["set", "Width=256", "Height=64", "PixelFormat=Mono8"]);
    let clean = m.json(&["acquire", "-n", "200", "--json"]);
    assert_eq!(clean["images_received"], 200);
    assert_eq!(clean["frames_lost"], 0);
    assert_eq!(clean["error_images"], 0);
    assert_eq!(clean["underruns"], 0);
    // The camera drops the payload of the next two frames: two error
    // images among the frames it sent.
    let faulty = m.json(&[
        "acquire",
        "-n",
        "100",
        "--set",
        "SimulationFaultDropTransfers=2",
        "--json",
    ]);
    assert_eq!(faulty["images_received"], 100);
    assert_eq!(faulty["error_images"], 2);
    let rate = faulty["error_image_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 102.0).abs() < 1e-9, "{rate}");

    // Live statistics: one JSON object a second, counting up.
    let lines = m.json_lines(&["stats", "--seconds", "2", "--json"]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first = lines[0]["images_received"].as_u64().unwrap();
    let second = lines[1]["images_received"].as_u64().unwrap();
    assert!(first > 0 && second > first, "{lines:?}");
    assert_eq!(lines[1]["frames_lost"], 0);
}

#[test]
fn config_files_round_trip_and_report_failures() {
    let m = Mvcam::new("config");
    let dir = TempDir::new("config-files");
    let file = dir.path().join("cam.txt");
    m.ok(&["set", "Width=800", "ExposureTime=2500", "PixelFormat=Mono8"]);
    m.ok(&["config", "save", file.to_str().unwrap()]);
    m.ok(&[
        "set",
        "Width=1024",
        "ExposureTime=9000",
        "PixelFormat=BayerRG8",
    ]);
    m.ok(&["config", "load", file.to_str().unwrap()]);
    let v = m.json(&["get", "Width", "ExposureTime", "PixelFormat", "--json"]);
    assert_eq!(v["Width"], 800);
    assert_eq!(v["PixelFormat"], "Mono8");
    assert!(
        (v["ExposureTime"].as_f64().unwrap() - 2500.0).abs() < 1.0,
        "{v}"
    );

    // A file with a value the camera refuses: applied except that line,
    // which is reported, and the exit status says so.
    let text = std::fs::read_to_string(&file).unwrap();
    let bad: String = text
        .lines()
        .map(|l| {
            if l.starts_with("Width\t") {
                "Width\t99999"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let bad_file = dir.path().join("bad.txt");
    std::fs::write(&bad_file, bad).unwrap();
    m.ok(&["set", "Width=1024"]);
    let out = m.run(&["config", "load", bad_file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Width") && err.contains("could not be set"),
        "{err}"
    );
    assert_eq!(m.get("Width"), "1024");
}

#[test]
fn user_sets_save_load_and_power_up() {
    let m = Mvcam::new("userset");
    m.ok(&["set", "Gain=6"]);
    m.ok(&["userset", "save", "UserSet1"]);
    m.ok(&["set", "Gain=0"]);
    m.ok(&["userset", "load", "UserSet1"]);
    assert_eq!(m.get("Gain").parse::<f64>().unwrap(), 6.0);
    m.ok(&["userset", "load", "Default"]);
    assert_eq!(m.get("Gain").parse::<f64>().unwrap(), 0.0);
    // The default set is loaded at power-up: forget the live settings to
    // power the camera up afresh.
    m.ok(&["userset", "default", "UserSet1"]);
    std::fs::remove_file(m.state.path().join("live-MV500C0001.txt")).unwrap();
    assert_eq!(m.get("Gain").parse::<f64>().unwrap(), 6.0);
    assert_eq!(m.get("UserSetDefault"), "UserSet1");
    let err = m.fails(&["userset", "save", "UserSet9"]);
    assert!(
        err.contains("UserSet9") && err.contains("UserSet1"),
        "{err}"
    );
}

#[test]
fn events_show_device_and_sdk_events() {
    let m = Mvcam::new("events");
    m.ok(&["set", "Width=256", "Height=64"]);
    let events = m.json_lines(&[
        "events",
        "--seconds",
        "1",
        "--enable",
        "ExposureEnd",
        "--json",
    ]);
    let device: Vec<_> = events.iter().filter(|e| e["kind"] == "device").collect();
    assert!(!device.is_empty(), "{events:?}");
    assert!(
        device.iter().all(|e| e["name"] == "ExposureEnd"),
        "{device:?}"
    );
    assert!(events
        .iter()
        .any(|e| e["name"] == "FeatureChanged" && e["feature"] == "EventNotification"));
    // Without notifications on, the camera sends nothing.
    let quiet = m.json_lines(&["events", "--seconds", "0.3", "--json"]);
    assert!(quiet.iter().all(|e| e["kind"] != "device"), "{quiet:?}");
}

#[test]
fn trigger_takes_one_frame_and_ffc_calibrates() {
    let m = Mvcam::new("trigger");
    let dir = TempDir::new("trigger-out");
    let file = dir.path().join("t.png");
    m.ok(&["set", "Width=320", "Height=40", "PixelFormat=Mono8"]);
    let v = m.json(&["trigger", "--out", file.to_str().unwrap(), "--json"]);
    assert_eq!(v["width"], 320);
    let img = pixel::file::load(&file).unwrap();
    assert_eq!((img.width(), img.height()), (320, 40));
    assert_eq!(m.get("TriggerMode"), "Off");

    assert_eq!(m.get("FFCStatus"), "NotCalibrated");
    m.ok(&["ffc", "--yes", "--simulate", "--frames", "2"]);
    assert_eq!(m.get("FFCStatus"), "Calibrated");
    assert_eq!(m.get("FFCEnable"), "true");
    assert_eq!(m.get("SimulationScene"), "Synthetic");
    m.ok(&[
        "ffc",
        "--yes",
        "--simulate",
        "--frames",
        "2",
        "--enable",
        "off",
    ]);
    assert_eq!(m.get("FFCEnable"), "false");
}

#[test]
fn xml_and_exec() {
    let m = Mvcam::new("xml");
    let xml = m.ok(&["xml"]);
    assert!(xml.starts_with("<?xml") && xml.contains("RegisterDescription"));
    let dir = TempDir::new("xml-out");
    let file = dir.path().join("cam.xml");
    m.ok(&["xml", "--out", file.to_str().unwrap()]);
    assert!(!std::fs::read(&file).unwrap().is_empty());
    m.ok(&["exec", "TriggerSoftware"]);
    let err = m.fails(&["exec", "Width"]);
    assert!(err.contains("Width") && err.contains("command"), "{err}");
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let m = Mvcam::new("bad");
    m.ok(&["set", "Width=640", "PixelFormat=Mono8"]);
    let err = m.fails(&["get", "NoSuchFeature"]);
    assert!(err.contains("NoSuchFeature"), "{err}");
    let err = m.fails(&["set", "NoSuchFeature=1"]);
    assert!(err.contains("NoSuchFeature"), "{err}");
    let err = m.fails(&["set", "Width=99999"]);
    assert!(err.contains("Width") && err.contains("range"), "{err}");
    let err = m.fails(&["set", "Width=wide"]);
    assert!(err.contains("Width") && err.contains("integer"), "{err}");
    let err = m.fails(&["set", "PixelFormat=Purple"]);
    assert!(err.contains("Purple") && err.contains("Mono8"), "{err}");
    // The first assignment is put back when the second fails.
    let err = m.fails(&["set", "Width=800", "Height=-5"]);
    assert!(err.contains("Height"), "{err}");
    let err = m.fails(&[
        "acquire",
        "-n",
        "1",
        "--set",
        "Width=800",
        "--set",
        "Gain=1e9",
    ]);
    assert!(err.contains("Gain"), "{err}");
    let err = m.fails(&["set", "Width"]);
    assert!(err.contains("FEATURE=VALUE"), "{err}");
    let dir = TempDir::new("bad-config");
    let file = dir.path().join("junk.txt");
    std::fs::write(&file, "this is not a configuration\n").unwrap();
    let err = m.fails(&["config", "load", file.to_str().unwrap()]);
    assert!(err.contains("malformed configuration file"), "{err}");
    let err = m.fails(&["-d", "usbip://127.0.0.1:9/1-1", "get", "Width"]);
    assert!(err.contains("127.0.0.1:9"), "{err}");
    let err = m.fails(&["-d", "CAM-NOT-HERE", "get", "Width"]);
    assert!(err.contains("CAM-NOT-HERE"), "{err}");
    let v = m.json(&["get", "Width", "Height", "PixelFormat", "--json"]);
    assert_eq!(
        v,
        serde_json::json!({"Width": 640, "Height": 2048, "PixelFormat": "Mono8"})
    );
}

#[test]
fn acquire_records_the_session_as_a_pcap_wireshark_reads() {
    let m = Mvcam::new("pcap");
    let file = m.state.path().join("session.pcap");
    let file_arg = file.to_str().unwrap();
    m.ok(&[
        "acquire",
        "-n",
        "3",
        "--set",
        "Width=256",
        "--set",
        "Height=8",
        "--set",
        "PixelFormat=Mono8",
        "--pcap",
        file_arg,
    ]);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(&bytes[20..24], &220u32.to_le_bytes(), "link type 220");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("U3VC") && text.contains("U3VL") && text.contains("U3VT"));
    match std::process::Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .output()
    {
        Ok(out) if out.status.success() => {
            let listing = String::from_utf8_lossy(&out.stdout);
            let leaders = listing
                .lines()
                .filter(|l| l.contains("Stream Leader"))
                .count();
            let trailers = listing
                .lines()
                .filter(|l| l.contains("Stream Trailer"))
                .count();
            assert!(
                leaders >= 3 && trailers >= 3,
                "{leaders} leaders, {trailers} trailers"
            );
            assert!(listing.contains("READMEM_CMD") && listing.contains("WRITEMEM_CMD"));
        }
        _ => println!("SKIPPED the Wireshark check: tshark is not installed"),
    }
}
