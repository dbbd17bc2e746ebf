//! The camera's behaviours as the manual describes them, seen from a host:
//! acquisition modes, triggers, I/O lines, user sets, calibration, auto
//! functions, chunks, events and the frame-rate model.

mod support;

use std::time::{Duration, Instant};

use camera::features::table::EVENTS;
use camera::{CameraConfig, ClockMode, Model};
use support::Host;

const T: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_millis(300);

fn small(h: &mut Host, w: i64, hgt: i64) {
    h.map.set_integer("Width", w).unwrap();
    h.map.set_integer("Height", hgt).unwrap();
}

fn wall(model: Model) -> Host {
    let mut c = CameraConfig::new(model);
    c.clock = ClockMode::WallTime;
    Host::with(c)
}

fn mean(data: &[u8]) -> f64 {
    data.iter().map(|&v| f64::from(v)).sum::<f64>() / data.len().max(1) as f64
}

#[test]
fn single_and_multi_frame_deliver_their_count_then_stop() {
    let mut h = Host::new(Model::Mono5MP);
    small(&mut h, 64, 16);
    h.map
        .set_enumeration("AcquisitionMode", "SingleFrame")
        .unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    h.frame(T);
    assert!(h.try_frame(SHORT).is_err(), "SingleFrame sends one frame");
    // The acquisition ended by itself: the format is writable again.
    h.map.set_integer("Width", 128).unwrap();
    h.map
        .set_enumeration("AcquisitionMode", "MultiFrame")
        .unwrap();
    h.map.set_integer("AcquisitionFrameCount", 5).unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let ids: Vec<u64> = (0..5).map(|_| h.frame(T).0.block_id).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert!(
        h.try_frame(SHORT).is_err(),
        "MultiFrame sends AcquisitionFrameCount frames"
    );
    assert!(h.map.set_integer("AcquisitionFrameCount", 256).is_err());
}

#[test]
fn every_pixel_format_of_every_model_streams_its_payload_size() {
    for model in Model::ALL {
        let mut h = Host::new(model);
        small(&mut h, 64, 8);
        let entries: Vec<String> = h
            .map
            .enum_entries("PixelFormat")
            .unwrap()
            .into_iter()
            .filter(|e| e.access != genapi::AccessMode::NA)
            .map(|e| e.symbolic.clone())
            .collect();
        assert!(entries.len() >= 6, "{model:?}: {entries:?}");
        h.map
            .set_enumeration("AcquisitionMode", "SingleFrame")
            .unwrap();
        for f in &entries {
            h.map.set_enumeration("PixelFormat", f).unwrap();
            for mirror in [false, true] {
                h.map.set_boolean("ReverseX", mirror).unwrap();
                h.map.set_boolean("ReverseY", mirror).unwrap();
                let size = h.map.integer("PayloadSize").unwrap() as usize;
                h.configure_stream();
                h.map.execute("AcquisitionStart").unwrap();
                let (info, data) = h.frame(T);
                assert_eq!(data.len(), size, "{model:?} {f}");
                let code = camera::features::table::features(&model.spec())
                    .into_iter()
                    .find(|d| d.name == "PixelFormat")
                    .and_then(|d| d.entry(f).map(|e| e.value))
                    .unwrap();
                assert_eq!(i64::from(info.image.pixel_format), code, "{f}");
            }
        }
    }
}

#[test]
fn software_triggers_take_one_frame_each_and_missed_ones_are_counted_and_sent() {
    let mut h = wall(Model::Mono5MP);
    small(&mut h, 64, 16);
    h.map
        .set_enumeration("TriggerSelector", "FrameStart")
        .unwrap();
    h.map.set_enumeration("TriggerMode", "On").unwrap();
    h.map.set_enumeration("TriggerSource", "Software").unwrap();
    h.map.set_float("ExposureTime", 300_000.0).unwrap();
    h.map
        .set_enumeration("EventSelector", "FrameTriggerMissed")
        .unwrap();
    h.map.set_enumeration("EventNotification", "On").unwrap();
    h.configure_events();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    assert!(h.try_frame(SHORT).is_err(), "no frame without a trigger");
    h.map.execute("TriggerSoftware").unwrap();
    // A second trigger during the 300 ms exposure cannot be taken.
    h.map.execute("TriggerSoftware").unwrap();
    let (a, _) = h.frame(T);
    assert!(
        h.try_frame(Duration::from_millis(600)).is_err(),
        "the missed trigger made no frame"
    );
    assert_eq!(h.map.integer("TriggerMissedCount").unwrap(), 1);
    let events = h.events.next(T).unwrap();
    let missed = EVENTS
        .iter()
        .find(|e| e.0 == "FrameTriggerMissed")
        .unwrap()
        .1;
    assert!(events.iter().any(|e| e.event_id == missed), "{events:?}");
    h.map.execute("TriggerSoftware").unwrap();
    let (b, _) = h.frame(T);
    assert_eq!(b.block_id, a.block_id + 1);
    h.map.execute("AcquisitionStop").unwrap();
}

#[test]
fn line1_pulses_trigger_frames_and_the_debouncer_filters_short_ones() {
    let mut h = wall(Model::Mono5MP);
    small(&mut h, 64, 16);
    h.map.set_float("ExposureTime", 1000.0).unwrap();
    h.map.set_enumeration("TriggerMode", "On").unwrap();
    // Line0 is an output: it cannot trigger.
    let entries = h.map.enum_entries("TriggerSource").unwrap();
    let names: Vec<&str> = entries
        .iter()
        .filter(|e| e.access != genapi::AccessMode::NA)
        .map(|e| e.symbolic.as_str())
        .collect();
    assert!(
        !names.contains(&"Line0") && names.contains(&"Line1"),
        "{names:?}"
    );
    h.map.set_enumeration("TriggerSource", "Line1").unwrap();
    h.map
        .set_enumeration("TriggerActivation", "RisingEdge")
        .unwrap();
    h.map.set_enumeration("LineSelector", "Line1").unwrap();
    h.map.set_float("SimulationLinePulseVoltage", 12.0).unwrap();
    h.map.set_float("SimulationLinePulseWidth", 4000.0).unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    h.map.execute("SimulationLinePulse").unwrap();
    h.frame(T);
    // A debouncer longer than the pulses lets nothing through (manual 3.8).
    h.map.set_float("LineDebouncerTime", 5000.0).unwrap();
    h.map.execute("SimulationLinePulse").unwrap();
    assert!(h.try_frame(Duration::from_millis(500)).is_err());
    // A pulse below the logic-1 threshold (2.2 V) does nothing either.
    h.map.set_float("LineDebouncerTime", 0.0).unwrap();
    h.map.set_float("SimulationLinePulseVoltage", 1.8).unwrap();
    h.map.execute("SimulationLinePulse").unwrap();
    assert!(h.try_frame(Duration::from_millis(500)).is_err());
    h.map.set_float("SimulationLinePulseVoltage", 5.0).unwrap();
    h.map.execute("SimulationLinePulse").unwrap();
    h.frame(T);
    // Line2 as an output cannot be a trigger source.
    h.map.execute("AcquisitionStop").unwrap();
    h.map.set_enumeration("LineSelector", "Line2").unwrap();
    h.map.set_enumeration("LineMode", "Output").unwrap();
    let e = h.map.enum_entries("TriggerSource").unwrap();
    assert!(!e
        .iter()
        .any(|e| e.symbolic == "Line2" && e.access != genapi::AccessMode::NA));
}

#[test]
fn line0_follows_exposure_active_with_the_manuals_output_timing() {
    let mut h = wall(Model::Mono5MP);
    small(&mut h, 64, 16);
    h.map.set_float("ExposureTime", 2000.0).unwrap();
    h.map.set_enumeration("LineSelector", "Line0").unwrap();
    assert!(h.map.set_enumeration("LineMode", "Input").is_err());
    h.map
        .set_enumeration("LineSource", "ExposureActive")
        .unwrap();
    h.map
        .set_enumeration("SimulationPullUpVoltage", "V24")
        .unwrap();
    h.map.execute("SimulationOutputEdgesClear").unwrap();
    h.map
        .set_enumeration("AcquisitionMode", "SingleFrame")
        .unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    h.frame(T);
    let n = h.map.integer("SimulationOutputEdgeCount").unwrap() as usize;
    assert!(n >= 2, "{n} edges");
    let raw = h.map.register("SimulationOutputEdges").unwrap();
    let field = |i: usize, f: usize| {
        u64::from_le_bytes(raw[i * 32 + f * 8..i * 32 + f * 8 + 8].try_into().unwrap())
    };
    let (rise, fall) = (0, 1);
    assert_eq!(field(rise, 3), 1);
    assert_eq!(field(fall, 3), 0);
    // Table 3-4 at 24 V: tDR 44.8 µs, tDF 53.2 µs.
    assert_eq!(field(rise, 2) - field(rise, 0), 44_800);
    assert_eq!(field(fall, 2) - field(fall, 0), 53_200);
    // The exposure lasted ExposureTime.
    assert_eq!(field(fall, 0) - field(rise, 0), 2_000_000);
    // User outputs drive the line too.
    h.map.set_enumeration("LineSource", "UserOutput1").unwrap();
    h.map
        .set_enumeration("UserOutputSelector", "UserOutput1")
        .unwrap();
    h.map.set_boolean("UserOutputValue", true).unwrap();
    assert!(h.map.boolean("LineStatus").unwrap());
    assert_eq!(h.map.integer("LineStatusAll").unwrap() & 1, 1);
    h.map.set_boolean("LineInverter", true).unwrap();
    assert!(!h.map.boolean("LineStatus").unwrap());
}

#[test]
fn user_sets_and_user_id_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("mvcam-nv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = CameraConfig::new(Model::Color5MP);
    config.clock = ClockMode::AsFastAsPossible;
    config.store = Some(dir.clone());
    {
        let mut h = Host::with(config.clone());
        h.map.set_float("ExposureTime", 1234.0).unwrap();
        h.map.set_integer("Width", 640).unwrap();
        h.map.set_enumeration("PixelFormat", "RGB8").unwrap();
        h.map.set_string("DeviceUserID", "cam-a").unwrap();
        h.map.set_enumeration("UserSetSelector", "Default").unwrap();
        assert!(
            h.map.execute("UserSetSave").is_err(),
            "Default is read-only"
        );
        h.map
            .set_enumeration("UserSetSelector", "UserSet1")
            .unwrap();
        h.map.execute("UserSetSave").unwrap();
        h.map.set_enumeration("UserSetDefault", "UserSet1").unwrap();
        h.map.set_float("ExposureTime", 5000.0).unwrap();
    }
    let mut h = Host::with(config.clone());
    assert_eq!(h.map.float("ExposureTime").unwrap(), 1234.0);
    assert_eq!(h.map.integer("Width").unwrap(), 640);
    assert_eq!(h.map.enumeration("PixelFormat").unwrap(), "RGB8");
    assert_eq!(h.map.string("DeviceUserID").unwrap(), "cam-a");
    assert_eq!(h.map.enumeration("UserSetDefault").unwrap(), "UserSet1");
    h.map.set_enumeration("UserSetSelector", "Default").unwrap();
    h.map.execute("UserSetLoad").unwrap();
    assert_eq!(h.map.float("ExposureTime").unwrap(), 10_000.0);
    assert_eq!(h.map.integer("Width").unwrap(), 2448);
    assert_eq!(h.map.string("DeviceUserID").unwrap(), "cam-a");
    // UserSet2 was never saved.
    h.map
        .set_enumeration("UserSetSelector", "UserSet2")
        .unwrap();
    assert!(h.map.execute("UserSetLoad").is_err());
    drop(h);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gamma_and_lut_exclude_each_other() {
    let mut h = Host::new(Model::Mono5MP);
    assert!(h.map.set_boolean("LUTEnable", true).is_ok());
    h.map.set_boolean("LUTEnable", false).unwrap();
    h.map.set_boolean("GammaEnable", true).unwrap();
    h.map.set_float("Gamma", 0.5).unwrap();
    assert!(
        h.map.set_boolean("LUTEnable", true).is_err(),
        "LUT unavailable while Gamma is on"
    );
    h.map.set_float("Gamma", 1.0).unwrap();
    h.map.set_boolean("LUTEnable", true).unwrap();
    // The LUT, written entry by entry and as a block, inverts the image.
    let all: Vec<u8> = (0..4096u32)
        .flat_map(|i| (4095 - i).to_le_bytes())
        .collect();
    h.map.set_register("LUTValueAll", &all).unwrap();
    h.map.set_integer("LUTIndex", 10).unwrap();
    assert_eq!(h.map.integer("LUTValue").unwrap(), 4085);
    small(&mut h, 256, 4);
    h.map.set_enumeration("TestImageSelector", "Off").unwrap();
    h.map.set_enumeration("SimulationScene", "Dark").unwrap();
    h.map
        .set_enumeration("AcquisitionMode", "SingleFrame")
        .unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let (_, data) = h.frame(T);
    assert!(
        mean(&data) > 240.0,
        "a dark scene through an inverting LUT is bright: {}",
        mean(&data)
    );
}

#[test]
fn chunks_carry_timestamp_frame_id_and_exposure() {
    let mut h = Host::new(Model::Mono5MP);
    small(&mut h, 64, 8);
    h.map.set_float("ExposureTime", 777.0).unwrap();
    h.map.set_boolean("ChunkModeActive", true).unwrap();
    for c in ["Timestamp", "FrameID", "ExposureTime"] {
        h.map.set_enumeration("ChunkSelector", c).unwrap();
        h.map.set_boolean("ChunkEnable", true).unwrap();
    }
    assert_eq!(h.map.integer("PayloadSize").unwrap(), 64 * 8 + 8 + 3 * 16);
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let (info, data) = h.frame(T);
    assert_eq!(
        info.payload_type,
        u3v::stream::PayloadType::ImageExtendedChunk
    );
    let chunks = u3v::stream::parse_chunks(&data).unwrap();
    // The image is the first chunk, the pixels the first 512 bytes.
    assert_eq!(chunks[0].id, camera::features::table::CHUNK_IMAGE_ID);
    assert_eq!(chunks[0].data, 0..512);
    assert_eq!(chunks.len(), 4);
    let find = |id: u32| {
        chunks
            .iter()
            .find(|c| c.id == id)
            .map(|c| data[c.data.clone()].to_vec())
    };
    let ids = camera::features::table::CHUNKS;
    let ts = find(ids[0].1).unwrap();
    assert_eq!(u64::from_le_bytes(ts.try_into().unwrap()), info.timestamp);
    let fid = find(ids[1].1).unwrap();
    assert_eq!(u64::from_le_bytes(fid.try_into().unwrap()), info.block_id);
    let exp = find(ids[2].1).unwrap();
    assert_eq!(f64::from_le_bytes(exp.try_into().unwrap()), 777.0);
    h.map.execute("AcquisitionStop").unwrap();
}

#[test]
fn exposure_auto_once_reaches_the_target_then_turns_off() {
    let mut h = Host::new(Model::Mono5MP);
    small(&mut h, 512, 256);
    h.map.set_enumeration("SimulationScene", "Uniform").unwrap();
    h.map.set_float("ExposureTime", 200.0).unwrap();
    h.map.set_integer("AutoTargetBrightness", 100).unwrap();
    h.map.set_enumeration("PixelFormat", "Mono8").unwrap();
    h.map.set_enumeration("ExposureAuto", "Once").unwrap();
    assert!(
        h.map.set_float("ExposureTime", 300.0).is_err(),
        "locked while automatic"
    );
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let mut last = Vec::new();
    for _ in 0..60 {
        last = h.frame(T).1;
        if h.map.enumeration("ExposureAuto").unwrap() == "Off" {
            break;
        }
    }
    assert_eq!(h.map.enumeration("ExposureAuto").unwrap(), "Off");
    let e = h.map.float("ExposureTime").unwrap();
    assert!(e > 1000.0, "exposure rose from 200 µs to {e}");
    // The next frames are at the target.
    let _ = h.frame(T);
    let (_, data) = h.frame(T);
    let m = mean(&data);
    assert!(
        (m - 100.0).abs() < 10.0,
        "mean {m} (last during auto {})",
        mean(&last)
    );
    h.map.execute("AcquisitionStop").unwrap();
}

#[test]
fn white_balance_once_equalises_the_channels_of_a_grey_scene() {
    let mut h = Host::new(Model::Color5MP);
    small(&mut h, 256, 128);
    h.map.set_enumeration("SimulationScene", "Uniform").unwrap();
    h.map.set_enumeration("PixelFormat", "RGB8").unwrap();
    h.map.set_enumeration("BalanceWhiteAuto", "Once").unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    for _ in 0..30 {
        h.frame(T);
        if h.map.enumeration("BalanceWhiteAuto").unwrap() == "Off" {
            break;
        }
    }
    assert_eq!(h.map.enumeration("BalanceWhiteAuto").unwrap(), "Off");
    let _ = h.frame(T);
    let (_, data) = h.frame(T);
    let ch = |c: usize| mean(&data.iter().skip(c).step_by(3).copied().collect::<Vec<_>>());
    let (r, g, b) = (ch(0), ch(1), ch(2));
    assert!(
        (r - g).abs() < 0.05 * g && (b - g).abs() < 0.05 * g,
        "r {r} g {g} b {b}"
    );
    h.map
        .set_enumeration("BalanceRatioSelector", "Red")
        .unwrap();
    let red = h.map.float("BalanceRatio").unwrap();
    assert!(
        red > 1.1,
        "red ratio {red}: the sensor's red QE is below green"
    );
    h.map.execute("AcquisitionStop").unwrap();
}

#[test]
fn flat_field_calibration_follows_the_manuals_steps() {
    let mut h = Host::new(Model::Mono5MP);
    h.map.set_integer("FFCFrameCount", 2).unwrap();
    assert!(
        h.map.set_boolean("FFCEnable", true).is_err(),
        "nothing to enable yet"
    );
    // A bright field out of order is refused.
    h.map
        .set_enumeration("FFCCalibrationStep", "BrightField")
        .unwrap();
    assert!(h.map.execute("FFCCalibrate").is_err());
    h.map.set_enumeration("SimulationScene", "Dark").unwrap();
    h.map
        .set_enumeration("FFCCalibrationStep", "DarkField")
        .unwrap();
    h.map.execute("FFCCalibrate").unwrap();
    assert_eq!(h.map.enumeration("FFCStatus").unwrap(), "DarkFieldDone");
    // The synthetic scene is far from flat: refused (ratio above 2).
    h.map
        .set_enumeration("SimulationScene", "Synthetic")
        .unwrap();
    h.map
        .set_enumeration("FFCCalibrationStep", "BrightField")
        .unwrap();
    h.map.execute("FFCCalibrate").unwrap();
    assert_eq!(
        h.map.enumeration("FFCStatus").unwrap(),
        "BrightFieldRejected"
    );
    h.map.set_enumeration("SimulationScene", "Uniform").unwrap();
    h.map.execute("FFCCalibrate").unwrap();
    assert_eq!(h.map.enumeration("FFCStatus").unwrap(), "BrightFieldDone");
    h.map.set_enumeration("FFCCalibrationStep", "Done").unwrap();
    h.map.execute("FFCCalibrate").unwrap();
    assert_eq!(h.map.enumeration("FFCStatus").unwrap(), "Calibrated");
    // Lens shading darkens the corners; the correction flattens them.
    let corner_ratio = |h: &mut Host| {
        h.map
            .set_enumeration("AcquisitionMode", "SingleFrame")
            .unwrap();
        h.configure_stream();
        h.map.execute("AcquisitionStart").unwrap();
        let (_, data) = h.frame(T);
        let (w, hh) = (2448usize, 2048usize);
        let block = |x0: usize, y0: usize| {
            let mut s = 0f64;
            for y in y0..y0 + 64 {
                for x in x0..x0 + 64 {
                    s += f64::from(data[y * w + x]);
                }
            }
            s / 4096.0
        };
        block(0, 0) / block(w / 2 - 32, hh / 2 - 32)
    };
    let before = corner_ratio(&mut h);
    h.map.set_boolean("FFCEnable", true).unwrap();
    let after = corner_ratio(&mut h);
    assert!(before < 0.9, "shaded corner {before}");
    assert!((after - 1.0).abs() < 0.03, "corrected corner {after}");
}

#[test]
fn defect_lists_export_import_and_detection() {
    let mut h = Host::new(Model::Mono5MP);
    h.map
        .set_enumeration("DefectPixelListSelector", "Factory")
        .unwrap();
    let factory = h.map.integer("DefectPixelCount").unwrap();
    assert!(factory > 0);
    assert!(
        h.map
            .set_register("DefectPixelList", &vec![0; 4096 * 4])
            .is_err(),
        "factory list is read-only"
    );
    h.map
        .set_enumeration("DefectPixelListSelector", "User")
        .unwrap();
    assert_eq!(h.map.integer("DefectPixelCount").unwrap(), 0);
    let mut list = Vec::new();
    for (x, y) in [(10u16, 20u16), (30, 40), (2000, 1000)] {
        list.extend_from_slice(&x.to_le_bytes());
        list.extend_from_slice(&y.to_le_bytes());
    }
    list.extend_from_slice(&[0xFF; 4]);
    let mut block = list.clone();
    block.resize(4096 * 4, 0);
    h.map.set_register("DefectPixelList", &block).unwrap();
    assert_eq!(h.map.integer("DefectPixelCount").unwrap(), 3);
    let back = h.map.register("DefectPixelList").unwrap();
    assert_eq!(&back[..16], &list[..]);
    // Out-of-sensor coordinates are refused.
    let mut bad = vec![0xA0, 0x0F, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
    bad.resize(4096 * 4, 0);
    assert!(h.map.set_register("DefectPixelList", &bad).is_err());
    assert_eq!(
        h.map.integer("DefectPixelCount").unwrap(),
        3,
        "a refused list changes nothing"
    );
    // Hot-pixel detection in darkness finds the sensor's hot pixels, which
    // the factory list (corrected during detection) already holds: next to
    // the three user entries it adds at most a few noise outliers, far fewer
    // than the sensor's hot pixels.
    h.map.set_enumeration("SimulationScene", "Dark").unwrap();
    h.map.set_float("ExposureTime", 500_000.0).unwrap();
    h.map.set_integer("FFCFrameCount", 4).unwrap();
    h.map
        .set_enumeration("DefectPixelDetectSelector", "Hot")
        .unwrap();
    h.map.execute("DefectPixelDetect").unwrap();
    let after = h.map.integer("DefectPixelCount").unwrap();
    assert!(
        after >= 3 && after - 3 <= factory / 10,
        "user list after detection: {after} (factory list {factory})"
    );
}

#[test]
fn the_frame_rate_model_follows_the_link_the_rows_and_the_exposure() {
    let mut h = Host::new(Model::Mono5MP);
    h.map.set_float("ExposureTime", 1000.0).unwrap();
    let full = h.map.float("ResultingFrameRate").unwrap();
    assert!((full - 79.8).abs() < 1.0, "link-limited 5 MP Mono8: {full}");
    h.map
        .set_enumeration("DeviceLinkThroughputLimitMode", "On")
        .unwrap();
    h.map
        .set_integer("DeviceLinkThroughputLimit", 100_000_000)
        .unwrap();
    let limited = h.map.float("ResultingFrameRate").unwrap();
    assert!((limited - full / 4.0).abs() < 1.0, "{limited}");
    h.map
        .set_enumeration("DeviceLinkThroughputLimitMode", "Off")
        .unwrap();
    h.map.set_enumeration("PixelFormat", "Mono12").unwrap();
    let twelve = h.map.float("ResultingFrameRate").unwrap();
    assert!((twelve - full / 2.0).abs() < 1.0, "{twelve}");
    h.map.set_enumeration("PixelFormat", "Mono8").unwrap();
    h.map.set_integer("Height", 512).unwrap();
    let rows = h.map.float("ResultingFrameRate").unwrap();
    assert!(rows > 3.0 * full, "a quarter of the rows: {rows}");
    h.map.set_float("ExposureTime", 100_000.0).unwrap();
    let long = h.map.float("ResultingFrameRate").unwrap();
    assert!((long - 10.0).abs() < 0.1, "100 ms exposure: {long}");
}

#[test]
fn wall_time_frames_come_at_the_acquisition_frame_rate() {
    let mut h = wall(Model::Mono5MP);
    small(&mut h, 64, 16);
    h.map.set_float("ExposureTime", 1000.0).unwrap();
    h.map
        .set_boolean("AcquisitionFrameRateEnable", true)
        .unwrap();
    h.map.set_float("AcquisitionFrameRate", 20.0).unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let start = Instant::now();
    let stamps: Vec<u64> = (0..8).map(|_| h.frame(T).0.timestamp).collect();
    let elapsed = start.elapsed();
    h.map.execute("AcquisitionStop").unwrap();
    for w in stamps.windows(2) {
        assert_eq!(w[1] - w[0], 50_000_000, "timestamps {stamps:?}");
    }
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
}

/// AcquisitionStop lets the frame in flight complete: the command is done
/// (its IsDone true) only once the acquisition has ended, and the image
/// format stays locked until then.
#[test]
fn acquisition_stop_is_done_once_the_frame_in_flight_is_complete() {
    let mut h = wall(Model::Mono5MP);
    small(&mut h, 64, 16);
    // Long enough that the next frame is still exposing when the host,
    // however late it is scheduled, gives the stop.
    h.map.set_float("ExposureTime", 600_000.0).unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    assert!(h.map.is_done("AcquisitionStop").unwrap(), "no stop given");
    let first = h.frame(T).0.block_id;
    let stopped_at = Instant::now();
    h.map.execute("AcquisitionStop").unwrap();
    assert!(!h.map.is_done("AcquisitionStop").unwrap());
    let e = h.map.set_enumeration("PixelFormat", "Mono12").unwrap_err();
    assert!(e.to_string().contains("PixelFormat"), "{e}");
    while !h.map.is_done("AcquisitionStop").unwrap() {
        assert!(stopped_at.elapsed() < T, "the stop never completes");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The frame that was exposing arrives, and nothing after it.
    assert_eq!(h.frame(T).0.block_id, first + 1);
    assert!(h.try_frame(Duration::from_millis(700)).is_err());
    h.map.set_enumeration("PixelFormat", "Mono12").unwrap();
}

#[test]
fn events_report_exposure_end_with_the_frame_id() {
    let mut h = Host::new(Model::Mono5MP);
    small(&mut h, 64, 8);
    h.map
        .set_enumeration("EventSelector", "ExposureEnd")
        .unwrap();
    h.map.set_enumeration("EventNotification", "On").unwrap();
    h.map
        .set_enumeration("AcquisitionMode", "SingleFrame")
        .unwrap();
    h.configure_events();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let (info, _) = h.frame(T);
    let id = EVENTS.iter().find(|e| e.0 == "ExposureEnd").unwrap().1;
    let got = h.events.next(T).unwrap();
    let e = got
        .iter()
        .find(|e| e.event_id == id)
        .expect("an ExposureEnd event");
    assert_eq!(
        u64::from_le_bytes(e.data[..8].try_into().unwrap()),
        info.block_id
    );
    assert_eq!(h.map.integer("EventExposureEnd").unwrap(), i64::from(id));
    assert_eq!(
        h.map.integer("EventExposureEndFrameID").unwrap() as u64,
        info.block_id
    );
}

#[test]
fn a_second_host_is_refused_and_a_disconnect_fails_fast() {
    let mut h = Host::new(Model::Mono5MP);
    assert!(matches!(
        h.camera.connect(),
        Err(camera::CameraError::InUse(_))
    ));
    small(&mut h, 64, 8);
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    h.frame(T);
    let _ = h.map.execute("SimulationDisconnect");
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    assert!(h.stream.receive(&mut buf, T).is_err());
    assert!(h.map.integer("Width").is_err());
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(!h.camera.is_plugged());
}

#[test]
fn a_camera_comes_back_after_a_reset_and_after_being_plugged_in() {
    let mut h = Host::new(Model::Mono5MP);
    h.map.set_integer("Width", 640).unwrap();
    let _ = h.map.execute("DeviceReset");
    assert!(
        h.map.integer("Width").is_err(),
        "the old connection is gone"
    );
    let Host { camera, .. } = h;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !camera.is_plugged() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(camera.is_plugged(), "back after the reset");
    let mut h = Host::connect(camera);
    assert_eq!(h.map.integer("Width").unwrap(), 2448, "power-up settings");
    small(&mut h, 64, 8);
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    h.frame(T);
    let _ = h.map.execute("SimulationDisconnect");
    let Host { camera, .. } = h;
    assert!(!camera.is_plugged());
    camera.plug_in();
    let mut h = Host::connect(camera);
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    h.frame(T);
}

#[test]
fn trigger_width_exposes_for_as_long_as_the_pulse() {
    let mut h = wall(Model::Mono5MP);
    small(&mut h, 64, 16);
    h.map.set_enumeration("SimulationScene", "Uniform").unwrap();
    h.map.set_enumeration("PixelFormat", "Mono12").unwrap();
    h.map.set_enumeration("TriggerMode", "On").unwrap();
    h.map.set_enumeration("TriggerSource", "Line1").unwrap();
    h.map
        .set_enumeration("ExposureMode", "TriggerWidth")
        .unwrap();
    assert!(
        h.map.set_float("ExposureTime", 100.0).is_err(),
        "unavailable"
    );
    h.map.set_enumeration("LineSelector", "Line1").unwrap();
    h.map.set_float("SimulationLinePulseVoltage", 12.0).unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let level = |width_us: f64, h: &mut Host| {
        h.map
            .set_float("SimulationLinePulseWidth", width_us)
            .unwrap();
        h.map.execute("SimulationLinePulse").unwrap();
        let (_, data) = h.frame(T);
        let samples: Vec<f64> = data
            .chunks_exact(2)
            .map(|c| f64::from(u16::from_le_bytes([c[0], c[1]])))
            .collect();
        samples.iter().sum::<f64>() / samples.len() as f64
    };
    let short = level(2_000.0, &mut h);
    let long = level(8_000.0, &mut h);
    assert!(
        (long / short - 4.0).abs() < 0.4,
        "4x the pulse, 4x the signal: {short} {long}"
    );
}

#[test]
fn the_user_defect_list_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("mvcam-nv-defects-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = CameraConfig::new(Model::Mono5MP);
    config.clock = ClockMode::AsFastAsPossible;
    config.store = Some(dir.clone());
    let mut block = vec![];
    for v in [5u16, 6, 0xFFFF, 0xFFFF] {
        block.extend_from_slice(&v.to_le_bytes());
    }
    block.resize(4096 * 4, 0);
    {
        let mut h = Host::with(config.clone());
        h.map
            .set_enumeration("DefectPixelListSelector", "User")
            .unwrap();
        h.map.set_register("DefectPixelList", &block).unwrap();
    }
    let mut h = Host::with(config);
    h.map
        .set_enumeration("DefectPixelListSelector", "User")
        .unwrap();
    assert_eq!(h.map.integer("DefectPixelCount").unwrap(), 1);
    assert_eq!(
        &h.map.register("DefectPixelList").unwrap()[..8],
        &block[..8]
    );
    drop(h);
    let _ = std::fs::remove_dir_all(&dir);
}
