//! A picture of the main window with the virtual camera streaming,
//! rendered headless with wgpu (a software adapter such as Mesa's
//! lavapipe or llvmpipe on machines without a GPU). It is written to the
//! test's scratch directory, and to `docs/viewer.png` at the workspace
//! root (the README's picture) when `MVCAM_UPDATE_DOCS` is set.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{click, connect, harness_with, step_until};
use egui_kittest::wgpu::WgpuTestRenderer;
use egui_kittest::Harness;

#[test]
fn main_window_snapshot_while_streaming() {
    // Creating the renderer panics when no adapter exists: skip then.
    let renderer = match std::panic::catch_unwind(WgpuTestRenderer::new) {
        Ok(r) => r,
        Err(_) => {
            eprintln!(
                "SKIPPED main_window_snapshot_while_streaming: no wgpu adapter \
                 (install a software Vulkan/GL driver, e.g. Debian's mesa-vulkan-drivers)"
            );
            return;
        }
    };
    let state = tempfile::tempdir().unwrap();
    let mut h = harness_with(state.path(), Harness::builder().renderer(renderer));
    h.set_size(egui::Vec2::new(1400.0, 860.0));
    connect(&mut h);
    click(&mut h, "Play");
    step_until(&mut h, "frames on screen", Duration::from_secs(20), |a| {
        a.shown_frame().is_some_and(|f| f.block_id >= 3)
    });
    // A second of streaming, so that the rates settle.
    let t0 = std::time::Instant::now();
    while t0.elapsed() < Duration::from_millis(1200) {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.state().is_playing());
    let image = h.render().expect("render");
    assert_eq!((image.width(), image.height()), (1400, 860));
    // Not a blank window: the camera image gives many distinct colours.
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 200, "{} colours", colours.len());
    let out = if std::env::var_os("MVCAM_UPDATE_DOCS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/viewer.png")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("viewer.png")
    };
    image.save(&out).expect("write the snapshot");
    eprintln!("wrote {}", out.display());
    click(&mut h, "Stop");
    assert!(!h.state().is_playing());
}
