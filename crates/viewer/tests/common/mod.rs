//! Shared helpers for the viewer's UI tests: a viewer on one virtual
//! camera in a kittest harness.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use viewer::App;

/// A viewer on one virtual colour 5 MP camera, recent list in `state`.
pub fn harness(state: &std::path::Path) -> Harness<'static, App> {
    harness_with(state, egui_kittest::Harness::<App>::builder())
}

/// As [`harness`], from a builder (e.g. one with a renderer).
pub fn harness_with(
    state: &std::path::Path,
    builder: egui_kittest::HarnessBuilder<App>,
) -> Harness<'static, App> {
    let system = mvcam::System::new(mvcam::SystemOptions {
        usb: false,
        ..Default::default()
    })
    .expect("virtual camera");
    let app = App::new(system, Some(state));
    builder
        .with_size([1600.0, 1200.0])
        .with_max_steps(10_000)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// Steps the UI until `done` holds; fails after `timeout`.
pub fn step_until(
    h: &mut Harness<'static, App>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&App) -> bool,
) {
    let t0 = Instant::now();
    while !done(h.state()) {
        assert!(t0.elapsed() < timeout, "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}

/// Clicks the widget labelled `label` and lets the UI take it in.
pub fn click(h: &mut Harness<'static, App>, label: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Connects the first device through the UI.
pub fn connect(h: &mut Harness<'static, App>) {
    click(h, "Connect");
    step_until(h, "the camera", Duration::from_secs(10), |a| {
        a.camera().is_some()
    });
}
