//! egui_kittest interaction tests on the virtual camera.

mod common;

use std::time::Duration;

use common::{click, connect, harness, step_until};
use egui_kittest::kittest::Queryable;
use viewer::{FfcStep, PlayMode};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn connects_plays_and_stops_and_changes_play_mode_only_when_stopped() {
    let state = tempfile::tempdir().unwrap();
    let mut h = harness(state.path());
    assert!(h
        .state()
        .devices()
        .iter()
        .any(|d| matches!(d.transport, mvcam::Transport::Virtual(0))));
    assert!(h.query_by_label("Virtual (1)").is_some());
    connect(&mut h);
    assert!(h.state().is_connected_to(0));

    click(&mut h, "Play");
    assert!(h.state().is_playing());
    assert!(h.state().camera().unwrap().is_streaming());
    step_until(&mut h, "a frame on screen", WAIT, |a| {
        a.shown_frame().is_some()
    });
    let f = h.state().shown_frame().unwrap().clone();
    assert_eq!((f.width, f.height), (2448, 2048));

    // While playing the play-mode box is disabled: clicking it opens nothing.
    h.get_by_label("Play mode:").click();
    h.step();
    h.step();
    assert!(h.query_by_label("Single frame").is_none());
    assert!(h.state_mut().set_play_mode(PlayMode::SingleFrame).is_err());
    assert_eq!(h.state().play_mode(), PlayMode::Continuous);

    click(&mut h, "Stop");
    assert!(!h.state().is_playing());
    assert!(!h.state().camera().unwrap().is_streaming());
    assert!(h.state().statistics().images_received >= 1);

    // Stopped: the mode can change; single frame acquires one frame and ends.
    h.get_by_label("Play mode:").click();
    h.step();
    h.step();
    click(&mut h, "Single frame");
    assert_eq!(h.state().play_mode(), PlayMode::SingleFrame);
    click(&mut h, "Play");
    step_until(&mut h, "the single frame to end", WAIT, |a| !a.is_playing());
    assert_eq!(
        h.state().statistics().images_received,
        1,
        "{}",
        h.state().message()
    );
}

#[test]
fn a_feature_changed_in_the_panel_changes_on_the_camera() {
    let state = tempfile::tempdir().unwrap();
    let mut h = harness(state.path());
    connect(&mut h);
    h.step();
    let cam = h.state().camera().unwrap().clone();
    assert!(!cam.boolean("AcquisitionFrameRateEnable").unwrap());
    click(&mut h, "AcquisitionFrameRateEnable");
    assert!(cam.boolean("AcquisitionFrameRateEnable").unwrap());

    // An enumeration through its combo box.
    assert_eq!(cam.get_str("GainAuto").unwrap(), "Off");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "GainAuto")
        .click();
    h.step();
    h.step();
    click(&mut h, "Continuous");
    assert_eq!(cam.get_str("GainAuto").unwrap(), "Continuous");
}

#[test]
fn switching_the_user_level_shows_more_features() {
    let state = tempfile::tempdir().unwrap();
    let mut h = harness(state.path());
    connect(&mut h);
    h.step();
    assert!(h.query_all_by_label("Gain").next().is_some());
    assert!(h.query_all_by_label("SimulationScene").next().is_none());
    let beginner = h.state().feature_panel().features().len();
    click(&mut h, "Guru");
    h.step();
    assert_eq!(h.state().feature_panel().level(), mvcam::Level::Guru);
    assert!(h.state().feature_panel().features().len() > beginner);
    assert!(h.query_all_by_label("SimulationScene").next().is_some());
    click(&mut h, "Expert");
    h.step();
    assert!(h.query_all_by_label("SimulationScene").next().is_none());
}

#[test]
fn configuration_files_save_and_open_through_the_file_menu() {
    let state = tempfile::tempdir().unwrap();
    let mut h = harness(state.path());
    connect(&mut h);
    let cam = h.state().camera().unwrap().clone();
    cam.set("Gain", 6.0).unwrap();
    let path = state.path().join("settings.txt");
    let path_text = path.to_string_lossy().to_string();

    click(&mut h, "File");
    click(&mut h, "Save As…");
    h.get_by_role_and_label(
        egui::accesskit::Role::TextInput,
        "Configuration file (GenApi persistence format):",
    )
    .focus();
    h.step();
    h.get_by_role_and_label(
        egui::accesskit::Role::TextInput,
        "Configuration file (GenApi persistence format):",
    )
    .type_text(&path_text);
    h.step();
    click(&mut h, "Save");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}: {}", h.state().message()));
    assert!(text.contains("Gain"), "{text}");
    assert_eq!(h.state().recent().entries().first(), Some(&path));

    cam.set("Gain", 12.0).unwrap();
    click(&mut h, "File");
    click(&mut h, "Open…");
    // The dialog offers the file last saved.
    let field = h.get_by_role_and_label(
        egui::accesskit::Role::TextInput,
        "Configuration file (GenApi persistence format):",
    );
    assert_eq!(field.value().as_deref(), Some(path_text.as_str()));
    click(&mut h, "Open");
    assert!(
        (cam.float("Gain").unwrap() - 6.0).abs() < 1e-6,
        "{}",
        h.state().message()
    );

    // The recent list outlives the viewer, and Open Recent loads from it.
    let again = viewer::recent::RecentFiles::load(Some(state.path()));
    assert_eq!(again.entries(), std::slice::from_ref(&path));
    cam.set("Gain", 3.0).unwrap();
    click(&mut h, "File");
    click(&mut h, "Open Recent");
    click(&mut h, &path_text);
    assert!((cam.float("Gain").unwrap() - 6.0).abs() < 1e-6);
}

#[test]
fn the_ffc_wizard_runs_to_the_ffcenable_dialog() {
    let state = tempfile::tempdir().unwrap();
    let mut h = harness(state.path());
    connect(&mut h);
    click(&mut h, "Play");
    click(&mut h, "Tools");
    click(&mut h, "FFC wizard…");
    assert!(h.state().ffc().unwrap().is_simulated());
    click(&mut h, "Start");
    assert!(!h.state().is_playing(), "the wizard stops acquisition");
    assert!(h.query_by_label_contains("Dark for this step").is_some());
    click(&mut h, "Capture dark field");
    step_until(&mut h, "the dark field", WAIT, |a| {
        a.ffc().is_some_and(|w| w.step() == FfcStep::BrightField)
    });
    click(&mut h, "Capture bright field");
    step_until(&mut h, "the bright field", WAIT, |a| {
        a.ffc().is_some_and(|w| w.step() == FfcStep::Store)
    });
    click(&mut h, "Store calibration");
    step_until(&mut h, "the stored calibration", WAIT, |a| {
        a.ffc().is_some_and(|w| w.step() == FfcStep::Enable)
    });
    let cam = h.state().camera().unwrap().clone();
    assert_eq!(cam.get_str("FFCStatus").unwrap(), "Calibrated");
    assert_eq!(cam.get_str("SimulationScene").unwrap(), "Synthetic");
    click(&mut h, "ON");
    assert_eq!(h.state().ffc().unwrap().step(), FfcStep::Done);
    assert!(cam.boolean("FFCEnable").unwrap());
    click(&mut h, "Close");
    assert!(h.state().ffc().is_none());
}
