//! The SDK against virtual cameras served over USB/IP on loopback, the
//! USB descriptor matching, and the stream benchmark.

use std::time::Duration;

use mvcam::{
    emulate, AcquisitionMode, ClockMode, EmulatorOptions, Error, Model, StreamOptions, System,
    SystemOptions,
};

const T: Duration = Duration::from_secs(10);

fn emulator(models: Vec<Model>) -> mvcam::Emulator {
    emulate(&EmulatorOptions {
        models,
        address: "127.0.0.1:0".into(),
        clock: ClockMode::AsFastAsPossible,
        ..EmulatorOptions::default()
    })
    .expect("emulator")
}

fn system_for(em: &mvcam::Emulator) -> System {
    System::new(SystemOptions {
        virtual_models: vec![],
        usbip_servers: vec![em.local_addr().unwrap().to_string()],
        usb: false,
        ..SystemOptions::default()
    })
    .unwrap()
}

#[test]
fn usbip_devices_are_listed_opened_exclusively_and_stream() {
    let em = emulator(vec![Model::Mono5MP, Model::Color5MP]);
    let s = system_for(&em);
    let d = s.devices();
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.devices.len(), 2);
    assert_eq!(d.devices[0].serial, "MV500M0001");
    assert_eq!(d.devices[0].model, "MV-U3-500M");
    assert_eq!(d.devices[0].vendor, "mvcam");
    assert_eq!(d.devices[1].serial, "MV500C0001");
    assert!(d.devices[0].link_speed.starts_with("SuperSpeed"));
    let url = em.devices()[0].url.clone();
    assert_eq!(d.devices[0].transport.to_string(), url);

    let cam = s.open(&url).unwrap();
    assert_eq!(cam.get_str("DeviceSerialNumber").unwrap(), "MV500M0001");
    match s.open("MV500M0001") {
        Err(Error::InUse { .. }) => {}
        other => panic!("expected InUse, got {other:?}"),
    }
    assert_eq!(s.devices().devices[0].access, mvcam::Access::InUse);

    cam.set_str("Width", "320").unwrap();
    cam.set_str("Height", "10").unwrap();
    cam.set_str("TestImageSelector", "GreyHorizontalRamp")
        .unwrap();
    let e = cam.set_str("Width", "99999").unwrap_err();
    assert!(e.to_string().contains("out of range"), "{e}");
    // The camera runs as fast as it can: all 20 frames arrive within a few
    // milliseconds, so the pool holds all of them, however late this thread
    // is scheduled (with fewer buffers a late reader sees underruns).
    let stream = cam
        .start_stream(&StreamOptions {
            mode: AcquisitionMode::MultiFrame(20),
            buffers: 20,
            ..Default::default()
        })
        .unwrap();
    let mut n = 0;
    loop {
        match stream.next_frame(T) {
            Ok(f) => {
                assert_eq!(f.data().len(), 320 * 10);
                for (i, v) in f.data().iter().enumerate() {
                    assert_eq!(*v as usize, (i % 320) % 256);
                }
                n += 1;
            }
            Err(Error::StreamEnded) => break,
            Err(e) => panic!("{e}"),
        }
    }
    let st = stream.stop().unwrap();
    assert_eq!(
        (
            n,
            st.images_received,
            st.frames_lost,
            st.error_images,
            st.underruns
        ),
        (20, 20, 0, 0, 0),
        "{st:?}"
    );
    // Config round trip over the network.
    let text = cam.save_config().unwrap();
    cam.set_str("Width", "640").unwrap();
    assert!(cam.load_config(&text).unwrap().failures.is_empty());
    assert_eq!(cam.integer("Width").unwrap(), 320);
    drop(cam);
    // Released: it opens again.
    let again = s.open(&url).unwrap();
    assert_eq!(again.integer("Width").unwrap(), 320);
    em.stop();
}

#[test]
fn unreachable_server_is_an_error_for_open_and_a_warning_for_listing() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let s = System::new(SystemOptions {
        virtual_models: vec![Model::Mono5MP],
        usbip_servers: vec![addr.clone()],
        usb: false,
        ..SystemOptions::default()
    })
    .unwrap();
    let d = s.devices();
    assert_eq!(d.devices.len(), 1, "the virtual camera is still listed");
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].contains(&addr), "{}", d.warnings[0]);
    match s.open(&format!("usbip://{addr}/1-1")) {
        Err(Error::Unreachable { address, .. }) => assert_eq!(address, addr),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.open("usbip://nohost"),
        Err(Error::BadAddress(_))
    ));
}

/// Frames over USB/IP arrive in the receiver's own transfer buffers (one
/// transfer per frame, no copy): every frame held at once keeps its own
/// content, and dropped transfers are counted as error images.
#[test]
fn usbip_frames_stay_whole_and_dropped_transfers_are_counted() {
    let em = emulator(vec![Model::Mono5MP]);
    let s = system_for(&em);
    let cam = s.open(&em.devices()[0].url).unwrap();
    // 300 KB frames: one transfer each, read with a raised low-water mark.
    cam.set_str("Width", "640").unwrap();
    cam.set_str("Height", "480").unwrap();
    cam.set_str("TestImageSelector", "FrameCounter").unwrap();
    let stream = cam
        .start_stream(&StreamOptions {
            buffers: 16,
            ..Default::default()
        })
        .unwrap();
    let counter = |f: &mvcam::Frame| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&f.data()[..8]);
        u64::from_le_bytes(b)
    };
    let mut held = std::collections::VecDeque::new();
    let mut delivered = 0u64;
    while delivered + stream.statistics().error_images < 1000 {
        let f = stream.next_frame(T).unwrap();
        assert_eq!(f.data().len(), 640 * 480);
        delivered += 1;
        if f.info().block_id % 100 == 50 {
            cam.set("SimulationFaultDropTransfers", 1i64).unwrap();
        }
        held.push_back(f);
        if held.len() > 8 {
            held.pop_front();
        }
        // Every frame still held shows the counter of its own block.
        let first = &held[0];
        let offset = counter(first).wrapping_sub(first.info().block_id);
        for h in &held {
            assert_eq!(
                counter(h).wrapping_sub(h.info().block_id),
                offset,
                "block {} holds another frame's pixels",
                h.info().block_id
            );
        }
    }
    drop(held);
    let st = stream.stop().unwrap();
    assert!(st.images_received + st.error_images >= 1000);
    // One dropped transfer every 100 frames: 1 % error images.
    assert!(
        (st.error_image_rate - 0.01).abs() <= 0.002,
        "error rate {} ({st:?})",
        st.error_image_rate
    );
    // (Block-id gaps are not checked: a camera running as fast as it can
    // drops frames the network cannot take, as a real one does, and a
    // fault can also cost the block queued behind it.)
}

#[test]
fn disconnect_over_usbip_is_an_error_not_a_hang() {
    let em = emulator(vec![Model::Mono5MP]);
    let s = system_for(&em);
    let cam = s.open(&em.devices()[0].url).unwrap();
    cam.set_str("Height", "4").unwrap();
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
    assert!(t0.elapsed() < Duration::from_secs(8), "{:?}", t0.elapsed());
    assert!(err.is_disconnected(), "{err}");
    assert!(cam.get("Width").unwrap_err().is_disconnected());
    assert!(stream.stop().unwrap_err().is_disconnected());
}

#[test]
fn usb3_vision_descriptors_are_recognised() {
    use u3v::descriptor::{DeviceDescriptors, DeviceIdentity};
    let id = DeviceIdentity::new(0x1209, 0x0001, "mvcam", "MV-U3-500C", "SN1");
    let d = DeviceDescriptors::new(&id).unwrap();
    let c = mvcam::usb::u3v_configuration(d.configuration()).expect("a USB3 Vision device");
    assert_eq!(
        c.control.bulk_out.address,
        DeviceDescriptors::CONTROL_OUT_EP
    );
    assert_eq!(
        c.stream.unwrap().bulk_in.address,
        DeviceDescriptors::STREAM_IN_EP
    );
    assert!(mvcam::usb::has_u3v_interface([(0xEF, 0x05)]));
    // A mass-storage configuration: one interface of class 8.
    let msc = [
        9u8, 2, 32, 0, 1, 1, 0, 0x80, 50, // configuration
        9, 4, 0, 0, 2, 8, 6, 0x50, 0, // interface: mass storage
        7, 5, 0x81, 2, 0, 2, 0, // bulk in
        7, 5, 0x02, 2, 0, 2, 0, // bulk out
    ];
    assert!(mvcam::usb::u3v_configuration(&msc).is_none());
    assert!(!mvcam::usb::has_u3v_interface([(0x08, 0x06), (0xEF, 0x02)]));
    // Truncated or garbage blobs are not cameras and do not panic.
    for n in 0..d.configuration().len() {
        let _ = mvcam::usb::u3v_configuration(&d.configuration()[..n]);
    }
    assert!(mvcam::usb::u3v_configuration(&[0xFF; 40]).is_none());
}

#[test]
#[ignore]
fn bench_stream_memory_and_usbip() {
    for link in [
        mvcam::bench::BenchLink::Memory,
        mvcam::bench::BenchLink::UsbIp,
    ] {
        let r = mvcam::bench::bench_stream(link, Duration::from_secs(5)).unwrap();
        println!("{link:?}: {}", r.to_json());
    }
}
