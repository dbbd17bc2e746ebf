//! The viewer's state and what it does, apart from drawing: devices,
//! the connected camera, acquisition, configuration files, events.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use mvcam::{Camera, DeviceInfo, Statistics, System};

use crate::acquisition::{Acquisition, PlayMode};
use crate::display::DisplayFrame;
use crate::error::ViewerError;
use crate::events::EventLog;
use crate::features::FeaturePanel;
use crate::ffc::FfcWizard;
use crate::recent::RecentFiles;
use crate::tools::Tools;

/// How the image is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewSettings {
    /// Screen points per sensor pixel (when not fitting).
    pub zoom: f32,
    /// Scale the image to the window.
    pub fit: bool,
    /// Mirror left-right.
    pub mirror_x: bool,
    /// Mirror top-bottom.
    pub mirror_y: bool,
}

impl Default for ViewSettings {
    fn default() -> Self {
        ViewSettings {
            zoom: 1.0,
            fit: true,
            mirror_x: false,
            mirror_y: false,
        }
    }
}

/// Which windows are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenWindows {
    /// Statistics.
    pub statistics: bool,
    /// Event notifications.
    pub events: bool,
    /// User sets.
    pub user_sets: bool,
    /// Defect pixel tool.
    pub defects: bool,
}

/// The configuration file dialog (File > Open / Save As).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDialog {
    pub(crate) save: bool,
    pub(crate) path: String,
}

/// Counts redraws and new images per second.
#[derive(Debug, Clone)]
pub(crate) struct RateMeter {
    window_start: Instant,
    count: u32,
    rate: f64,
}

impl Default for RateMeter {
    fn default() -> Self {
        RateMeter {
            window_start: Instant::now(),
            count: 0,
            rate: 0.0,
        }
    }
}

impl RateMeter {
    pub(crate) fn tick(&mut self) {
        self.count += 1;
        let dt = self.window_start.elapsed().as_secs_f64();
        if dt >= 1.0 {
            self.rate = f64::from(self.count) / dt;
            self.count = 0;
            self.window_start = Instant::now();
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }
}

/// The whole viewer: state, separate from drawing ([`App::ui`] draws it).
pub struct App {
    pub(crate) system: Arc<System>,
    pub(crate) devices: Vec<DeviceInfo>,
    pub(crate) warnings: Vec<String>,
    pub(crate) selected: Option<usize>,
    pub(crate) camera: Option<Camera>,
    pub(crate) acquisition: Option<Acquisition>,
    pub(crate) last_statistics: Statistics,
    pub(crate) play_mode: PlayMode,
    pub(crate) multi_count: u32,
    pub(crate) save_count: u32,
    pub(crate) save_dir: PathBuf,
    pub(crate) view: ViewSettings,
    pub(crate) features: FeaturePanel,
    pub(crate) events: EventLog,
    pub(crate) windows: OpenWindows,
    pub(crate) recent: RecentFiles,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) file_dialog: Option<FileDialog>,
    pub(crate) ffc: Option<FfcWizard>,
    pub(crate) tools: Tools,
    pub(crate) usbip_address: String,
    pub(crate) message: String,
    pub(crate) texture: Option<egui::TextureHandle>,
    pub(crate) shown_seq: u64,
    pub(crate) shown: Option<Arc<DisplayFrame>>,
    pub(crate) display_rate: RateMeter,
    pub(crate) redraw_rate: RateMeter,
    pub(crate) cursor: Option<(usize, usize)>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("camera", &self.camera)
            .field("play_mode", &self.play_mode)
            .finish_non_exhaustive()
    }
}

impl App {
    /// A viewer on `system`, keeping its recent-files list in
    /// `state_dir` (`None`: in memory only). Lists the devices.
    pub fn new(system: System, state_dir: Option<&Path>) -> App {
        let mut app = App {
            system: Arc::new(system),
            devices: Vec::new(),
            warnings: Vec::new(),
            selected: None,
            camera: None,
            acquisition: None,
            last_statistics: Statistics::default(),
            play_mode: PlayMode::Continuous,
            multi_count: 10,
            save_count: 1,
            save_dir: std::env::temp_dir().join("mvcam-frames"),
            view: ViewSettings::default(),
            features: FeaturePanel::default(),
            events: EventLog::default(),
            windows: OpenWindows::default(),
            recent: RecentFiles::load(state_dir),
            config_path: None,
            file_dialog: None,
            ffc: None,
            tools: Tools::default(),
            usbip_address: String::new(),
            message: String::new(),
            texture: None,
            shown_seq: 0,
            shown: None,
            display_rate: RateMeter::default(),
            redraw_rate: RateMeter::default(),
            cursor: None,
        };
        app.refresh_devices();
        app
    }

    /// Lists the devices again.
    pub fn refresh_devices(&mut self) {
        let d = self.system.devices();
        self.devices = d.devices;
        self.warnings = d.warnings;
        if self.selected.is_some_and(|i| i >= self.devices.len()) {
            self.selected = None;
        }
        if self.selected.is_none() && !self.devices.is_empty() {
            self.selected = Some(0);
        }
    }

    /// The devices of the last listing.
    pub fn devices(&self) -> &[DeviceInfo] {
        &self.devices
    }

    /// Connects the listed device `index`, disconnecting the camera
    /// connected before (one camera at a time).
    pub fn connect(&mut self, index: usize) -> Result<(), ViewerError> {
        let info = self
            .devices
            .get(index)
            .cloned()
            .ok_or_else(|| ViewerError::NotNow(format!("no device {index} in the list")))?;
        self.disconnect();
        let camera = self.system.open_device(&info)?;
        self.selected = Some(index);
        self.attach(camera);
        Ok(())
    }

    /// Connects a USB/IP device by address (`host:port/busid` or
    /// `usbip://host:port/busid`).
    pub fn connect_usbip(&mut self, address: &str) -> Result<(), ViewerError> {
        let a = address.trim();
        let url = if a.starts_with("usbip://") {
            a.to_string()
        } else {
            format!("usbip://{a}")
        };
        self.disconnect();
        let camera = self.system.open(&url)?;
        self.attach(camera);
        Ok(())
    }

    fn attach(&mut self, camera: Camera) {
        self.events.subscribe(&camera);
        self.message = format!("connected to {}", camera.info().id());
        self.camera = Some(camera);
        self.features.clear();
        self.refresh_marks();
    }

    fn refresh_marks(&mut self) {
        let d = self.system.devices();
        self.devices = d.devices;
        self.warnings = d.warnings;
    }

    /// Stops acquisition and releases the camera.
    pub fn disconnect(&mut self) {
        self.stop();
        self.ffc = None;
        if let Some(c) = self.camera.take() {
            self.message = format!("disconnected from {}", c.info().id());
        }
        self.events.unsubscribe();
        self.features.clear();
        self.shown = None;
        self.texture = None;
        self.refresh_marks();
    }

    /// The connected camera.
    pub fn camera(&self) -> Option<&Camera> {
        self.camera.as_ref()
    }

    /// Whether the listed device `index` is the connected one.
    pub fn is_connected_to(&self, index: usize) -> bool {
        match (&self.camera, self.devices.get(index)) {
            (Some(c), Some(d)) => c.info().transport == d.transport,
            _ => false,
        }
    }

    /// The play mode the next Play uses.
    pub fn play_mode(&self) -> PlayMode {
        self.play_mode
    }

    /// Changes the play mode; refused while playing.
    pub fn set_play_mode(&mut self, mode: PlayMode) -> Result<(), ViewerError> {
        if self.is_playing() {
            return Err(ViewerError::NotNow(
                "stop the acquisition to change the play mode".into(),
            ));
        }
        self.play_mode = mode;
        Ok(())
    }

    /// Whether an acquisition runs.
    pub fn is_playing(&self) -> bool {
        self.acquisition.is_some()
    }

    /// Starts acquisition in the play mode, with `repaint` called for
    /// every new display frame.
    pub fn play(&mut self, repaint: impl Fn() + Send + Sync + 'static) -> Result<(), ViewerError> {
        if self.acquisition.is_some() {
            return Ok(());
        }
        let camera = self.camera.as_ref().ok_or(ViewerError::NotConnected)?;
        let a = Acquisition::start(camera, self.play_mode, self.save_dir.clone(), repaint)?;
        self.acquisition = Some(a);
        self.features.mark_stale();
        self.message = "acquiring".into();
        Ok(())
    }

    /// Stops acquisition (nothing when stopped).
    pub fn stop(&mut self) {
        if let Some(a) = self.acquisition.take() {
            let (saved, _) = a.saved();
            match a.stop() {
                Ok(s) => {
                    self.last_statistics = s;
                    self.message = format!("stopped; {} images received", s.images_received);
                }
                Err(e) => self.message = e.to_string(),
            }
            if saved > 0 {
                self.message.push_str(&format!(
                    "; {saved} frames saved in {}",
                    self.save_dir.display()
                ));
            }
            self.features.mark_stale();
        }
    }

    /// The statistics of the running acquisition, else of the last one.
    pub fn statistics(&self) -> Statistics {
        self.acquisition
            .as_ref()
            .map_or(self.last_statistics, Acquisition::statistics)
    }

    /// The frame on screen.
    pub fn shown_frame(&self) -> Option<&Arc<DisplayFrame>> {
        self.shown.as_ref()
    }

    /// Saves the next `count` frames of the running acquisition as PNG
    /// files in the frame folder.
    pub fn save_frames(&mut self, count: u32) -> Result<(), ViewerError> {
        let a = self
            .acquisition
            .as_ref()
            .ok_or_else(|| ViewerError::NotNow("press Play to save frames".into()))?;
        a.save_next(count);
        self.message = format!("saving {count} frames in {}", self.save_dir.display());
        Ok(())
    }

    /// Sets the folder saved frames go to.
    pub fn set_save_dir(&mut self, dir: PathBuf) {
        self.save_dir = dir;
    }

    /// The feature panel's state.
    pub fn feature_panel(&self) -> &FeaturePanel {
        &self.features
    }

    /// The view settings (zoom, fit, mirror).
    pub fn view(&self) -> ViewSettings {
        self.view
    }

    /// The recent configuration files.
    pub fn recent(&self) -> &RecentFiles {
        &self.recent
    }

    /// The FFC wizard, when open.
    pub fn ffc(&self) -> Option<&FfcWizard> {
        self.ffc.as_ref()
    }

    /// The status bar's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The event log.
    pub fn event_log(&self) -> &EventLog {
        &self.events
    }

    /// Loads a configuration file into the camera and remembers it.
    pub fn open_config(&mut self, path: &Path) -> Result<(), ViewerError> {
        let camera = self.camera.as_ref().ok_or(ViewerError::NotConnected)?;
        let report = camera.load_config_file(path)?;
        self.config_path = Some(path.to_path_buf());
        self.features.mark_stale();
        self.message = if report.failures.is_empty() {
            format!("{}: {} settings loaded", path.display(), report.lines)
        } else {
            let first = &report.failures[0];
            format!(
                "{}: {} of {} settings failed (line {}: {}: {})",
                path.display(),
                report.failures.len(),
                report.lines,
                first.line,
                first.feature,
                first.reason
            )
        };
        self.recent.push(path)
    }

    /// Saves the camera's settings to a configuration file and remembers it.
    pub fn save_config(&mut self, path: &Path) -> Result<(), ViewerError> {
        let camera = self.camera.as_ref().ok_or(ViewerError::NotConnected)?;
        camera.save_config_file(path)?;
        self.config_path = Some(path.to_path_buf());
        self.message = format!("settings saved to {}", path.display());
        self.recent.push(path)
    }

    /// Opens the FFC wizard on the connected camera.
    pub fn open_ffc_wizard(&mut self) -> Result<(), ViewerError> {
        let camera = self.camera.as_ref().ok_or(ViewerError::NotConnected)?;
        self.ffc = Some(FfcWizard::new(camera));
        Ok(())
    }

    /// Shows an outcome in the status bar.
    pub(crate) fn report(&mut self, r: Result<(), ViewerError>) {
        if let Err(e) = r {
            self.message = e.to_string();
        }
    }

    /// Takes in what happened since the last drawing: a finished
    /// acquisition, the newest display frame, events, a finished
    /// wizard step.
    pub(crate) fn poll(&mut self, ctx: &egui::Context) {
        self.redraw_rate.tick();
        if self
            .acquisition
            .as_ref()
            .is_some_and(Acquisition::is_finished)
        {
            self.stop();
        }
        let latest = self.acquisition.as_ref().map(|a| {
            a.set_max_side(ctx.input(|i| i.max_texture_side).max(1));
            (a.latest(), a.saved().1)
        });
        if let Some(((seq, frame), save_error)) = latest {
            if seq != self.shown_seq {
                if let Some(frame) = frame {
                    self.upload(ctx, frame);
                }
                self.shown_seq = seq;
            }
            if let Some(e) = save_error {
                self.message = e;
            }
        }
        if self.events.poll() {
            self.features.mark_stale();
        }
        if self.camera.as_ref().is_some_and(Camera::is_disconnected) {
            self.disconnect();
            self.message = "the camera went away".into();
        }
        if let (Some(w), Some(c)) = (self.ffc.as_mut(), self.camera.as_ref()) {
            if w.poll(c) {
                self.features.mark_stale();
            }
        }
        if let Some(c) = self.camera.as_ref() {
            if let Some(m) = self.tools.poll(c) {
                self.message = m;
                self.features.mark_stale();
            }
        }
    }

    /// Puts a display frame on the texture.
    fn upload(&mut self, ctx: &egui::Context, frame: Arc<DisplayFrame>) {
        let image = egui::ImageData::from(frame.preview.clone());
        match &mut self.texture {
            Some(t) if t.size() == frame.preview.size => {
                t.set(image, egui::TextureOptions::NEAREST)
            }
            _ => {
                self.texture =
                    Some(ctx.load_texture("camera-image", image, egui::TextureOptions::NEAREST))
            }
        }
        self.shown = Some(frame);
        self.display_rate.tick();
    }

    /// Draws the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.poll(&ctx);
        egui::Panel::top("menu").show(ui, |ui| crate::menu::ui(self, ui));
        egui::Panel::top("toolbar").show(ui, |ui| crate::toolbar::ui(self, ui));
        egui::Panel::bottom("status").show(ui, |ui| crate::stats::status_bar(self, ui));
        egui::Panel::left("devices")
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| crate::devices::ui(self, ui));
        egui::Panel::right("features")
            .resizable(true)
            .default_size(340.0)
            .show(ui, |ui| {
                let m = self.features.ui(ui, self.camera.as_ref());
                if let Some(m) = m {
                    self.message = m;
                }
            });
        egui::CentralPanel::default().show(ui, |ui| crate::image_view::ui(self, ui));
        crate::menu::file_dialog(self, &ctx);
        crate::stats::window(self, &ctx);
        crate::events::window(self, &ctx);
        crate::tools::windows(self, &ctx);
        crate::ffc::window(self, &ctx);
        if self.acquisition.is_some()
            || self.tools.busy()
            || self.ffc.as_ref().is_some_and(FfcWizard::busy)
        {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }
}
