//! mvcam-viewer: the desktop client the camera manual calls MV Viewer
//! (section 2.2): device list, device and image information, toolbar,
//! feature panel by user level, configuration files, events, statistics,
//! and the FFC, defect pixel and user set tools.
//!
//! [`App`] holds the state and draws itself with [`App::ui`]; the
//! binary runs it in an eframe window, tests drive it with egui_kittest.
//! Frames never wait for the window: the SDK's callback thread keeps only
//! the newest frame, a converter thread prepares it
//! ([`display::DisplayFrame`]), and the window uploads whatever is newest
//! when it redraws.

#![warn(missing_docs)]

pub mod acquisition;
pub mod app;
pub mod devices;
pub mod display;
pub mod error;
pub mod events;
pub mod features;
pub mod ffc;
mod image_view;
mod menu;
pub mod recent;
pub mod stats;
mod toolbar;
pub mod tools;
pub mod worker;

pub use acquisition::PlayMode;
pub use app::{App, ViewSettings};
pub use error::ViewerError;
pub use ffc::{FfcStep, FfcWizard};
pub use image_view::value_text;
