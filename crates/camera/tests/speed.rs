//! How fast the camera makes frames when its clock runs as fast as
//! possible, against the link-limited rate its frame-rate model reports.
//! Run with `cargo test --release -p camera --test speed -- --ignored
//! --nocapture`; figures only, no timing assertions.

mod support;

use std::time::{Duration, Instant};

use camera::Model;
use support::Host;

fn measure(model: Model, format: &str, scene: &str, frames: usize) {
    let mut h = Host::new(model);
    h.map.set_enumeration("PixelFormat", format).unwrap();
    h.map.set_enumeration("SimulationScene", scene).unwrap();
    h.map.set_float("ExposureTime", 1000.0).unwrap();
    let link_rate = h.map.float("ResultingFrameRate").unwrap();
    let payload = h.map.integer("PayloadSize").unwrap() as usize;
    h.configure_stream();
    let mut buf = vec![0u8; payload + 4096];
    h.map.execute("AcquisitionStart").unwrap();
    h.stream.receive(&mut buf, Duration::from_secs(10)).unwrap();
    let start = Instant::now();
    for _ in 0..frames {
        h.stream.receive(&mut buf, Duration::from_secs(10)).unwrap();
    }
    let s = start.elapsed().as_secs_f64();
    h.map.execute("AcquisitionStop").unwrap();
    let fps = frames as f64 / s;
    println!(
        "{model:?} {format} {scene}: {fps:.1} frames/s made and received ({:.0} MB/s); link-limited rate {link_rate:.1}; ratio {:.2}",
        fps * payload as f64 / 1e6,
        fps / link_rate
    );
}

#[test]
#[ignore]
fn frames_per_second_against_the_link() {
    measure(Model::Color5MP, "BayerRG8", "Synthetic", 60);
    measure(Model::Color5MP, "BayerRG8", "Uniform", 60);
    measure(Model::Color5MP, "RGB8", "Synthetic", 30);
    measure(Model::Mono5MP, "Mono8", "Synthetic", 60);
    measure(Model::Mono5MP, "Mono12p", "Uniform", 40);
    measure(Model::HighSpeed1_6MP, "BayerRG8", "Uniform", 100);
}
