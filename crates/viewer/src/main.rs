//! `mvcam-viewer`: the desktop client. Cameras come from the environment
//! as for the `mvcam` command (`MVCAM_VIRTUAL`, `MVCAM_USBIP`).

use std::process::ExitCode;

use viewer::recent::RecentFiles;
use viewer::App;

fn main() -> ExitCode {
    let system = match mvcam::System::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mvcam-viewer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state_dir = RecentFiles::default_dir();
    let app = App::new(system, state_dir.as_deref());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("mvcam viewer")
            .with_inner_size([1400.0, 900.0]),
        ..Default::default()
    };
    match eframe::run_native("mvcam-viewer", options, Box::new(|_cc| Ok(Box::new(app)))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mvcam-viewer: {e}");
            ExitCode::FAILURE
        }
    }
}
