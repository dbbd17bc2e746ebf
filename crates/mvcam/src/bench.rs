//! Stream throughput measurement (`mvcam bench stream`): a virtual camera
//! streaming full frames as fast as it can, received in process or over
//! USB/IP on loopback.

use std::time::{Duration, Instant};

use camera::{ClockMode, Model};

use crate::error::{Error, Result};
use crate::stream::StreamOptions;
use crate::system::{System, SystemOptions};

/// The link a benchmark streams over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchLink {
    /// The in-process cable.
    Memory,
    /// USB/IP over TCP on 127.0.0.1.
    UsbIp,
}

impl BenchLink {
    /// `memory` or `usbip`.
    pub fn from_name(name: &str) -> Option<BenchLink> {
        match name.to_ascii_lowercase().as_str() {
            "memory" => Some(BenchLink::Memory),
            "usbip" => Some(BenchLink::UsbIp),
            _ => None,
        }
    }
}

/// What a benchmark measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    /// Payload megabytes (10^6 bytes) per second received.
    pub mb_per_s: f64,
    /// Frames received.
    pub frames: u64,
    /// Frames lost or received with errors.
    pub lost: u64,
    /// Seconds measured.
    pub seconds: f64,
    /// Host CPU seconds (user + system, all threads of this process) spent
    /// per GB received, when the platform tells (`/proc/self/stat`).
    pub cpu_s_per_gb: Option<f64>,
}

impl BenchReport {
    /// `{"mb_per_s", "frames", "lost", ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "mb_per_s": self.mb_per_s,
            "frames": self.frames,
            "lost": self.lost,
            "seconds": self.seconds,
            "cpu_s_per_gb": self.cpu_s_per_gb,
        })
    }
}

/// CPU seconds this process has used (user + system), from
/// `/proc/self/stat`, assuming the usual 100 clock ticks per second.
pub fn process_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = s.get(s.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Streams full frames from a fresh monochrome 5 MP virtual camera running
/// as fast as possible for `duration` over `link`.
pub fn bench_stream(link: BenchLink, duration: Duration) -> Result<BenchReport> {
    let options = SystemOptions {
        virtual_models: Vec::new(),
        usb: false,
        ..SystemOptions::default()
    };
    let system = System::new(options)?;
    let (camera, _emulator, _local) = match link {
        BenchLink::Memory => {
            let local = System::new(SystemOptions {
                virtual_models: vec![Model::Mono5MP],
                usb: false,
                clock: ClockMode::AsFastAsPossible,
                ..SystemOptions::default()
            })?;
            (local.open("0")?, None, Some(local))
        }
        BenchLink::UsbIp => {
            let em = crate::emulate::emulate(&crate::emulate::EmulatorOptions {
                models: vec![Model::Mono5MP],
                address: "127.0.0.1:0".into(),
                clock: ClockMode::AsFastAsPossible,
                ..Default::default()
            })?;
            let url = em
                .devices()
                .first()
                .map(|d| d.url.clone())
                .ok_or_else(|| Error::InvalidArgument("no emulated camera".into()))?;
            (system.open(&url)?, Some(em), None)
        }
    };
    // The link model's throughput limit off: measure the transport itself.
    let _ = camera.set_str("DeviceLinkThroughputLimitMode", "Off");
    let _ = camera.set_str("TestImageSelector", "GreyHorizontalRamp");
    let _ = camera.set_str("ExposureTime", "10");
    let stream = camera.start_stream(&StreamOptions {
        buffers: 16,
        ..StreamOptions::default()
    })?;
    // Warm up, then measure.
    let _ = stream.next_frame(Duration::from_secs(5))?;
    let base = stream.statistics();
    let cpu0 = process_cpu_seconds();
    let t0 = Instant::now();
    while t0.elapsed() < duration {
        match stream.next_frame(Duration::from_secs(5)) {
            Ok(f) => drop(f),
            Err(Error::Timeout(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a);
    let s = stream.statistics();
    drop(stream.stop());
    let bytes = s.bytes.saturating_sub(base.bytes) as f64;
    Ok(BenchReport {
        mb_per_s: bytes / 1e6 / seconds,
        frames: s.images_received.saturating_sub(base.images_received),
        lost: (s.frames_lost + s.error_images + s.underruns)
            .saturating_sub(base.frames_lost + base.error_images + base.underruns),
        seconds,
        cpu_s_per_gb: cpu.filter(|_| bytes > 0.0).map(|c| c / (bytes / 1e9)),
    })
}
