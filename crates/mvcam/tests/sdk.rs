//! The SDK against the built-in virtual camera, in process.

use std::time::Duration;

use mvcam::{
    AcquisitionMode, ClockMode, Error, Event, FeatureFilter, Level, Model, QueuePolicy,
    StreamOptions, System, SystemOptions, UserSetAction, Value,
};

const T: Duration = Duration::from_secs(10);

fn system(models: Vec<Model>) -> System {
    System::new(SystemOptions {
        virtual_models: models,
        usb: false,
        clock: ClockMode::AsFastAsPossible,
        ..SystemOptions::default()
    })
    .expect("system")
}

fn small(cam: &mvcam::Camera, w: i64, h: i64) {
    cam.set("Width", w).unwrap();
    cam.set("Height", h).unwrap();
}

#[test]
fn discovery_lists_the_builtin_camera_and_parses_models() {
    let s = system(vec![Model::Color5MP, Model::Mono5MP]);
    let d = s.devices();
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.devices.len(), 2);
    let c = &d.devices[0];
    assert_eq!(c.vendor, "mvcam");
    assert_eq!(c.model, "MV-U3-500C");
    assert_eq!(c.serial, "MV500C0001");
    assert_eq!(c.access, mvcam::Access::Available);
    assert_eq!(d.devices[1].serial, "MV500M0001");
    assert_eq!(c.to_json()["interface"], "virtual");
    assert_eq!(
        mvcam::system::parse_models("color5mp,highspeed").unwrap(),
        vec![Model::Color5MP, Model::HighSpeed1_6MP]
    );
    assert!(mvcam::system::parse_models("0").unwrap().is_empty());
    assert!(mvcam::system::parse_models("nosuch").is_err());
    // Off entirely.
    assert!(system(vec![]).devices().devices.is_empty());
    assert!(matches!(
        system(vec![]).open(""),
        Err(Error::NoDevice { .. })
    ));
}

#[test]
fn exclusive_open_second_refused_reopen_after_drop() {
    let s = system(vec![Model::Color5MP]);
    let cam = s.open("0").unwrap();
    assert_eq!(s.devices().devices[0].access, mvcam::Access::InUse);
    let second = s.open("MV500C0001");
    match second {
        Err(Error::InUse { device }) => assert!(device.contains("MV500C0001")),
        other => panic!("expected InUse, got {other:?}"),
    }
    drop(cam);
    let again = s.open("MV500C0001").unwrap();
    // Open by user id.
    again.set("DeviceUserID", "line-3").unwrap();
    drop(again);
    assert_eq!(s.devices().devices[0].user_id, "line-3");
    let by_id = s.open("line-3").unwrap();
    assert_eq!(by_id.get_str("DeviceSerialNumber").unwrap(), "MV500C0001");
    assert!(matches!(s.open("nosuch"), Err(Error::NoDevice { .. })));
}

#[test]
fn typed_features_and_errors_name_the_range_or_entries() {
    let s = system(vec![Model::Color5MP]);
    let cam = s.open("").unwrap();
    assert_eq!(cam.integer("Width").unwrap(), 2448);
    cam.set_str("Width", "640").unwrap();
    assert_eq!(cam.get("Width").unwrap(), Value::Integer(640));
    let e = cam.set_str("Width", "5000").unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"Width\": 5000 is out of range 16..=2448 (step 2)"
    );
    assert_eq!(cam.integer("Width").unwrap(), 640, "nothing changed");
    let e = cam.set_str("PixelFormat", "Foo").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("\"PixelFormat\": no entry \"Foo\"; entries: BayerRG8"),
        "{msg}"
    );
    cam.set_str("PixelFormat", "Mono8").unwrap();
    assert_eq!(cam.string("PixelFormat").unwrap(), "Mono8");
    let e = cam.set_str("Width", "wide").unwrap_err();
    assert!(matches!(e, Error::WrongType { .. }), "{e}");
    assert!(e.to_string().contains("integer"));
    let e = cam.set_str("NoSuchFeature", "1").unwrap_err();
    assert_eq!(e.to_string(), "no feature named \"NoSuchFeature\"");
    // Booleans from text.
    cam.set_str("ReverseX", "true").unwrap();
    assert!(cam.boolean("ReverseX").unwrap());
    cam.set_str("ReverseX", "0").unwrap();
    assert!(!cam.boolean("ReverseX").unwrap());
    // Floats accept integers.
    cam.set("ExposureTime", 5000i64).unwrap();
    assert_eq!(cam.float("ExposureTime").unwrap(), 5000.0);
    // Commands are executed, not set; read-only features refuse writes.
    assert!(matches!(
        cam.set_str("AcquisitionStart", "1"),
        Err(Error::WrongType { .. })
    ));
    assert!(matches!(
        cam.set_str("SensorWidth", "100"),
        Err(Error::NotWritable { .. })
    ));
    cam.set_all(["Height=100", "OffsetY=10"]).unwrap();
    assert_eq!(cam.integer("OffsetY").unwrap(), 10);
    assert!(cam.set_all(["Height"]).is_err());
}

#[test]
fn feature_listing_by_level_and_filter() {
    let s = system(vec![Model::Color5MP]);
    let cam = s.open("0").unwrap();
    let beginner = cam.features(&FeatureFilter::default()).unwrap();
    let guru = cam
        .features(&FeatureFilter {
            level: Level::Guru,
            text: None,
        })
        .unwrap();
    assert!(beginner.len() < guru.len());
    assert!(beginner.iter().any(|f| f.name == "Width"));
    assert!(!beginner.iter().any(|f| f.name == "SimulationDisconnect"));
    assert!(guru.iter().any(|f| f.name == "SimulationDisconnect"));
    let w = beginner.iter().find(|f| f.name == "Width").unwrap();
    assert_eq!(w.category, "ImageFormatControl");
    assert_eq!(w.range.as_deref(), Some("16..=2448 (step 2)"));
    assert_eq!(w.value, Some(Value::Integer(2448)));
    // A float with the description's own bounds, and one without any.
    let et = cam.feature("ExposureTime").unwrap();
    assert_eq!(et.range.as_deref(), Some("10..=1000000"));
    let rate = cam.feature("ResultingFrameRate").unwrap();
    assert!(matches!(rate.value, Some(Value::Float(f)) if f > 0.0));
    assert_eq!(rate.range, None, "no range for an unbounded float");
    let exp = cam
        .features(&FeatureFilter {
            level: Level::Expert,
            text: Some("pixelformat".into()),
        })
        .unwrap();
    assert_eq!(exp.len(), 1);
    assert!(
        exp[0].entries.contains(&"Mono8".to_string())
            || exp[0].entries.contains(&"BayerRG8".to_string())
    );
    let info = cam.feature("PixelFormat").unwrap();
    assert_eq!(info.kind, mvcam::FeatureKind::Enumeration);
    assert!(info.writable);
}

#[test]
fn genicam_file_downloads() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    let xml = cam.genicam_xml().unwrap();
    assert!(xml.contains("<RegisterDescription"));
    assert!(xml.contains("ExposureTime"));
    assert!(cam.genicam_file().1, "the camera serves a zip");
}

fn check_ramp(frame: &mvcam::Frame, w: usize, offset_x: usize) {
    let d = frame.data();
    assert_eq!(d.len(), w * frame.info().height as usize);
    let shift = d[0].wrapping_sub(offset_x as u8);
    for (i, v) in d.iter().enumerate() {
        let x = i % w + offset_x;
        assert_eq!(*v as usize, (x + shift as usize) % 256, "pixel {i}");
    }
}

#[test]
fn acquisition_in_every_mode_with_test_image_content() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 512, 8);
    cam.set_str("OffsetX", "100").unwrap();
    cam.set_str("TestImageSelector", "GreyHorizontalRampMoving")
        .unwrap();
    // Continuous.
    let stream = cam.start_stream(&StreamOptions::default()).unwrap();
    assert!(matches!(
        cam.set_str("Width", "256"),
        Err(Error::NotWritable { .. })
    ));
    assert!(cam
        .set_str("Width", "256")
        .unwrap_err()
        .to_string()
        .contains("locked while acquiring"));
    assert!(matches!(
        cam.start_stream(&StreamOptions::default()),
        Err(Error::AlreadyStreaming { .. })
    ));
    let mut last = None;
    for _ in 0..5 {
        let f = stream.next_frame(T).unwrap();
        let i = f.info();
        assert_eq!((i.width, i.height, i.offset_x), (512, 8, 100));
        assert_eq!(f.pixel_format(), Some(mvcam::PixelFormat::Mono8));
        check_ramp(&f, 512, 100);
        if let Some(p) = last {
            assert_eq!(i.block_id, p + 1);
        }
        last = Some(i.block_id);
    }
    let stats = stream.stop().unwrap();
    assert!(stats.images_received >= 5);
    assert_eq!(stats.frames_lost, 0);
    cam.set_str("Width", "256").unwrap();
    // SingleFrame: one frame, then the end.
    let stream = cam
        .start_stream(&StreamOptions {
            mode: AcquisitionMode::SingleFrame,
            ..Default::default()
        })
        .unwrap();
    let f = stream.next_frame(T).unwrap();
    check_ramp(&f, 256, 100);
    assert!(matches!(stream.next_frame(T), Err(Error::StreamEnded)));
    drop(f);
    stream.stop().unwrap();
    // MultiFrame 7.
    let stream = cam
        .start_stream(&StreamOptions {
            mode: AcquisitionMode::MultiFrame(7),
            ..Default::default()
        })
        .unwrap();
    let mut n = 0;
    loop {
        match stream.next_frame(T) {
            Ok(f) => {
                check_ramp(&f, 256, 100);
                n += 1;
            }
            Err(Error::StreamEnded) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(n, 7);
    let stats = stream.stop().unwrap();
    assert_eq!(stats.images_received, 7);
    assert!(stats.configured_frame_rate > 0.0);
}

#[test]
fn callbacks_receive_frames() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 128, 16);
    let (tx, rx) = std::sync::mpsc::channel();
    let stream = cam.start_stream(&StreamOptions::default()).unwrap();
    let cb = stream.on_frame(move |f| {
        let _ = tx.send(f.info().block_id);
        true
    });
    let ids: Vec<u64> = (0..10).map(|_| rx.recv_timeout(T).unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] > w[0]));
    let stats = cb.stop().unwrap();
    assert!(stats.images_received >= 10);
    assert!(!cam.is_streaming());
}

#[test]
fn newest_only_and_underruns() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 64, 4);
    // Oldest first, two buffers held by the caller: the next frames
    // find no free buffer.
    let stream = cam
        .start_stream(&StreamOptions {
            buffers: 2,
            ..Default::default()
        })
        .unwrap();
    let events = cam.events();
    let a = stream.next_frame(T).unwrap();
    let b = stream.next_frame(T).unwrap();
    let t0 = std::time::Instant::now();
    while stream.statistics().underruns < 3 && t0.elapsed() < T {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(stream.statistics().underruns >= 3);
    assert!(events
        .try_iter()
        .any(|e| matches!(e, Event::StreamUnderrun { .. })));
    drop((a, b));
    stream.stop().unwrap();
    // Newest only: after a pause the frame handed out is recent, and
    // nothing underruns.
    let stream = cam
        .start_stream(&StreamOptions {
            buffers: 3,
            policy: QueuePolicy::NewestOnly,
            ..Default::default()
        })
        .unwrap();
    let first = stream.next_frame(T).unwrap().info().block_id;
    std::thread::sleep(Duration::from_millis(300));
    let later = stream.next_frame(T).unwrap().info().block_id;
    assert!(later > first + 3, "{first} {later}");
    let st = stream.stop().unwrap();
    assert_eq!(st.underruns, 0);
}

#[test]
fn statistics_count_error_images_from_dropped_transfers() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 256, 16);
    let stream = cam
        .start_stream(&StreamOptions {
            buffers: 16,
            ..Default::default()
        })
        .unwrap();
    let mut delivered = 0u64;
    while delivered + stream.statistics().error_images < 2000 {
        let f = stream.next_frame(T).unwrap();
        delivered += 1;
        if f.info().block_id % 100 == 50 {
            cam.set("SimulationFaultDropTransfers", 1i64).unwrap();
        }
    }
    let st = stream.stop().unwrap();
    let total = st.images_received + st.error_images + st.frames_lost;
    assert!(total >= 2000);
    assert!(
        (st.error_image_rate - 0.01).abs() <= 0.002,
        "error rate {} ({st:?})",
        st.error_image_rate
    );
    assert_eq!(st.frames_lost, 0, "{st:?}");
    assert!(st.measured_frame_rate > 0.0 && st.bandwidth > 0.0);
    // Without faults nothing is lost. The pool holds every frame, so a
    // reader scheduled late on a busy machine cannot underrun either.
    let stream = cam
        .start_stream(&StreamOptions {
            buffers: 500,
            ..Default::default()
        })
        .unwrap();
    for _ in 0..500 {
        stream.next_frame(T).unwrap();
    }
    let st = stream.stop().unwrap();
    assert_eq!(
        (st.frames_lost, st.error_images, st.underruns),
        (0, 0, 0),
        "{st:?}"
    );
    assert_eq!(st.error_image_rate, 0.0);
}

#[test]
fn config_round_trip_and_malformed_file() {
    let s = system(vec![Model::Color5MP]);
    let cam = s.open("0").unwrap();
    cam.set_str("Width", "1000").unwrap();
    cam.set_str("ExposureTime", "12345").unwrap();
    cam.set_str("PixelFormat", "BayerRG12").unwrap();
    let dir = tempdir("config");
    let path = dir.join("cam.txt");
    cam.save_config_file(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(genapi::persist::MAGIC));
    cam.set_str("Width", "640").unwrap();
    cam.set_str("ExposureTime", "500").unwrap();
    cam.set_str("PixelFormat", "BayerRG8").unwrap();
    let report = cam.load_config_file(&path).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(cam.integer("Width").unwrap(), 1000);
    assert_eq!(cam.float("ExposureTime").unwrap(), 12345.0);
    assert_eq!(cam.string("PixelFormat").unwrap(), "BayerRG12");
    // Malformed: refused whole, nothing changed.
    cam.set_str("Width", "800").unwrap();
    let bad = format!(
        "{}\nWidth\t640\nthis is not a feature line\nNoSuch\t3\n",
        genapi::persist::MAGIC
    );
    match cam.load_config(&bad) {
        Err(Error::MalformedConfig { problems }) => {
            assert_eq!(problems.len(), 2, "{problems:?}");
            assert!(problems[0].contains("line 3"));
            assert!(problems[1].contains("NoSuch"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(cam.integer("Width").unwrap(), 800);
    // Well formed, a bad value: every failure is reported with the reason.
    let partly = "Width\t640\nExposureTime\t-5\nPixelFormat\tFoo\n";
    let r = cam.load_config(partly).unwrap();
    assert_eq!(r.failures.len(), 2, "{:?}", r.failures);
    assert!(r.failures.iter().any(|f| f.feature == "ExposureTime"));
    assert!(r
        .failures
        .iter()
        .any(|f| f.feature == "PixelFormat" && f.reason.contains("Foo")));
    assert_eq!(cam.integer("Width").unwrap(), 640);
}

#[test]
fn user_sets_save_and_load() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    assert_eq!(
        cam.user_sets().unwrap(),
        vec!["Default", "UserSet1", "UserSet2"]
    );
    cam.set_str("ExposureTime", "4321").unwrap();
    cam.user_set(UserSetAction::Save, "UserSet1").unwrap();
    cam.user_set(UserSetAction::Load, "Default").unwrap();
    assert_ne!(cam.float("ExposureTime").unwrap(), 4321.0);
    cam.user_set(UserSetAction::Load, "UserSet1").unwrap();
    assert_eq!(cam.float("ExposureTime").unwrap(), 4321.0);
    cam.user_set(UserSetAction::MakeDefault, "UserSet1")
        .unwrap();
    assert_eq!(cam.string("UserSetDefault").unwrap(), "UserSet1");
    assert!(matches!(
        cam.user_set(UserSetAction::Load, "UserSet9"),
        Err(Error::NoSuchEntry { .. })
    ));
}

#[test]
fn device_and_sdk_events() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 64, 4);
    let events = cam.events();
    cam.set_str("EventSelector", "ExposureEnd").unwrap();
    cam.set_str("EventNotification", "On").unwrap();
    let stream = cam
        .start_stream(&StreamOptions {
            mode: AcquisitionMode::MultiFrame(3),
            ..Default::default()
        })
        .unwrap();
    let mut exposure_ends = 0;
    let mut changed = false;
    let t0 = std::time::Instant::now();
    while exposure_ends < 3 && t0.elapsed() < T {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(Event::Device { name, .. }) if name == "ExposureEnd" => exposure_ends += 1,
            Ok(Event::FeatureChanged { name }) if name == "EventNotification" => changed = true,
            _ => {}
        }
    }
    assert!(changed);
    assert_eq!(exposure_ends, 3);
    drop(stream);
}

#[test]
fn disconnect_mid_stream_is_an_error_not_a_hang_and_reopen_works() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 64, 4);
    let events = cam.events();
    let stream = cam.start_stream(&StreamOptions::default()).unwrap();
    stream.next_frame(T).unwrap();
    cam.execute("SimulationDisconnect").unwrap();
    let t0 = std::time::Instant::now();
    let err = loop {
        match stream.next_frame(T) {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert!(err.is_disconnected(), "{err}");
    assert!(cam.get("Width").unwrap_err().is_disconnected());
    assert!(cam
        .set_str("Width", "64")
        .unwrap_err()
        .to_string()
        .contains("disconnected"));
    assert!(events.try_iter().any(|e| e == Event::Disconnected));
    assert!(stream.stop().unwrap_err().is_disconnected());
    drop(cam);
    // The camera comes back once released; it opens again.
    let again = s.open("0").unwrap();
    assert_eq!(again.integer("Width").unwrap(), 2448);
}

#[test]
fn frames_convert_and_save_in_every_format() {
    let s = system(vec![Model::Color5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 64, 32);
    cam.set_str("TestImageSelector", "ColorBar").unwrap();
    let stream = cam
        .start_stream(&StreamOptions {
            mode: AcquisitionMode::SingleFrame,
            ..Default::default()
        })
        .unwrap();
    let f = stream.next_frame(T).unwrap();
    assert_eq!(f.pixel_format(), Some(mvcam::PixelFormat::BayerRG8));
    let mono = f.to_mono8().unwrap();
    assert_eq!(mono.data().len(), 64 * 32);
    let rgb = f.to_rgb8().unwrap();
    assert_eq!(rgb.data().len(), 64 * 32 * 3);
    let bgra = f.to_bgra8().unwrap();
    assert_eq!(bgra.data().len(), 64 * 32 * 4);
    // BGRa is RGB reordered with opaque alpha.
    assert_eq!(bgra.data()[0], rgb.data()[2]);
    assert_eq!(bgra.data()[3], 255);
    let dir = tempdir("frames");
    for ext in ["png", "tiff", "bmp", "raw"] {
        let p = dir.join(format!("f.{ext}"));
        f.save(&p).unwrap();
        let back = pixel::file::load(&p).unwrap();
        assert_eq!((back.width(), back.height()), (64, 32), "{ext}");
        assert_eq!(back.data(), f.data(), "{ext}");
    }
    // Recording with a pattern.
    let mut rec = mvcam::Recorder::new(dir.join("seq"), "frame_{n:05}.png").unwrap();
    let p0 = rec.record(&f).unwrap();
    let p1 = rec.record(&f).unwrap();
    assert!(p0.ends_with("frame_00000.png") && p1.ends_with("frame_00001.png"));
    assert!(p1.exists());
    assert!(mvcam::Recorder::new(dir.join("x"), "same.png").is_err());
    assert!(rec.file_name(3, 9).is_ok());
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("mvcam-sdk-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn raw_register_access_reaches_the_device() {
    let system = mvcam::System::new(mvcam::SystemOptions::default()).unwrap();
    let camera = system.open("0").unwrap();
    // ABRM: the serial number at 0x144.
    let mut serial = [0u8; 64];
    camera.read_registers(0x144, &mut serial).unwrap();
    let end = serial.iter().position(|&b| b == 0).unwrap_or(64);
    assert_eq!(
        std::str::from_utf8(&serial[..end]).unwrap(),
        camera.string("DeviceSerialNumber").unwrap()
    );
    // The manifest and SBRM are read-only.
    assert!(camera.write_registers(0x144, b"x").is_err());
}

/// Once `stop` returns, the camera takes new image-format settings at once.
#[test]
fn after_stop_the_image_format_is_writable_at_once() {
    let s = system(vec![Model::Mono5MP]);
    let cam = s.open("0").unwrap();
    small(&cam, 512, 64);
    for (i, format) in ["Mono12", "Mono8"].iter().cycle().take(20).enumerate() {
        let stream = cam.start_stream(&StreamOptions::default()).unwrap();
        stream.next_frame(T).unwrap();
        stream.stop().unwrap();
        cam.set_str("PixelFormat", format)
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
    }
    // On wall time with a long exposure, a frame is always in flight when
    // stop is given: stop waits for it, and the stream still receives it.
    cam.set_str("SimulationClockMode", "WallTime").unwrap();
    cam.set("ExposureTime", 300_000.0).unwrap();
    for (i, format) in ["Mono12", "Mono8"].iter().enumerate() {
        let stream = cam.start_stream(&StreamOptions::default()).unwrap();
        stream.next_frame(T).unwrap();
        let st = stream.stop().unwrap();
        assert!(st.images_received >= 2, "round {i}: {st:?}");
        assert_eq!((st.frames_lost, st.error_images), (0, 0), "{st:?}");
        cam.set_str("PixelFormat", format)
            .unwrap_or_else(|e| panic!("wall-time round {i}: {e}"));
    }
}
