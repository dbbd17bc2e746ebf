//! Figures: redraws per second of the whole window at 5 MP while
//! streaming, and the acquisition frame rate with and without the viewer.
//! Run with `cargo test --release -p viewer --test bench -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant};

use common::{click, connect, harness, step_until};

const RUN: Duration = Duration::from_secs(4);

fn camera_alone() -> f64 {
    let system = mvcam::System::new(mvcam::SystemOptions {
        usb: false,
        ..Default::default()
    })
    .unwrap();
    let cam = system.open("0").unwrap();
    let stream = cam.start_stream(&mvcam::StreamOptions::default()).unwrap();
    let t0 = Instant::now();
    while t0.elapsed() < RUN {
        let _ = stream.next_frame(Duration::from_secs(2));
    }
    stream.stop().unwrap().measured_frame_rate
}

#[test]
#[ignore]
fn redraws_and_frame_rate_at_5mp() {
    let alone = camera_alone();
    for paced in [false, true] {
        with_viewer(paced, alone);
    }
}

fn with_viewer(paced: bool, alone: f64) {
    let state = tempfile::tempdir().unwrap();
    let mut h = harness(state.path());
    connect(&mut h);
    let configured = h.state().camera().unwrap().configured_frame_rate().unwrap();
    click(&mut h, "Play");
    step_until(&mut h, "a frame", Duration::from_secs(20), |a| {
        a.shown_frame().is_some()
    });
    let first = h.state().shown_frame().unwrap().block_id;
    let t0 = Instant::now();
    let mut redraws = 0u32;
    let mut shown = std::collections::HashSet::new();
    let mut slowest = Duration::ZERO;
    while t0.elapsed() < RUN {
        let t = Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed());
        if paced {
            // A display refreshing at 60 Hz.
            std::thread::sleep(Duration::from_micros(16_667).saturating_sub(t.elapsed()));
        }
        redraws += 1;
        if let Some(f) = h.state().shown_frame() {
            shown.insert(f.block_id);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let stats = h.state().statistics();
    click(&mut h, "Stop");
    println!(
        "5 MP BayerRG8, whole window 1600x1200, no GPU rendering, {}:",
        if paced {
            "redraws paced at 60 Hz"
        } else {
            "redrawing as fast as possible"
        }
    );
    println!(
        "  redraws per second       {:.0} (slowest redraw {:.1} ms)",
        f64::from(redraws) / secs,
        slowest.as_secs_f64() * 1e3
    );
    println!(
        "  frames displayed per s   {:.1}",
        shown.len() as f64 / secs
    );
    println!("  acquisition, viewer      {:.1} fps ({} images, {} lost, {} underruns; first shown {first})", stats.measured_frame_rate, stats.images_received, stats.frames_lost, stats.underruns);
    println!("  acquisition, no viewer   {alone:.1} fps");
    println!("  camera configured rate   {configured:.1} fps");
}
