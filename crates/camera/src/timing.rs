//! The frame-rate model: how fast the camera can go with the current
//! settings (the manual's 3.1 "Frame Rate" and 3.2, `ResultingFrameRate`).
//!
//! Three things limit the frame period, and the slowest one wins:
//!
//! - **the sensor readout**: every sensor row of the region of interest is
//!   read one after another, `rows_read × row_time`, plus a fixed blanking
//!   overhead per frame. Binning and decimation are done by the camera's
//!   pipeline after the sensor, so the sensor still reads every row they
//!   cover ([`sensor_rows_read`]);
//! - **the link**: one frame's bytes over the link bandwidth. The bytes are
//!   `PayloadSize` plus the USB3 Vision image leader and trailer
//!   ([`STREAM_OVERHEAD_BYTES`]), so the pixel format and the image size both
//!   count;
//! - **the exposure**, in a way that depends on the shutter:
//!   - *Global*: the exposure of frame n+1 runs while frame n is read out of
//!     the pixels' storage nodes, so the period is
//!     `max(readout, exposure + ε, transfer)`, where ε
//!     ([`GLOBAL_SHUTTER_RESET_NS`]) is the time to reset the photodiodes and
//!     transfer the charge to storage between two exposures;
//!   - *Rolling*: rows are exposed while other rows are read, so the period is
//!     `max(readout, exposure, transfer)`;
//!   - *GlobalReset*: all rows start exposing together and end as they are
//!     read, so a frame's exposure cannot begin before the previous frame is
//!     read out: `max(exposure + readout, transfer)`.
//!
//! Everything is in nanoseconds on the camera clock; nothing here reads a
//! clock. The link bandwidth is the caller's (the camera models a USB3 link
//! of about 400 MB/s unless `DeviceLinkThroughputLimit` lowers it).

use crate::model::ShutterMode;

/// Bytes sent on the stream besides the payload for every frame: the USB3
/// Vision image leader and image trailer.
pub const STREAM_OVERHEAD_BYTES: u64 =
    (u3v::stream::IMAGE_LEADER_LEN + u3v::stream::IMAGE_TRAILER_LEN) as u64;

/// Time a global shutter needs between the end of one exposure and the start
/// of the next (photodiode reset and charge transfer to storage), ns.
pub const GLOBAL_SHUTTER_RESET_NS: u64 = 10_000;

/// What the frame period depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingInput {
    /// `PayloadSize` of one frame, bytes (the leader and trailer are added:
    /// [`STREAM_OVERHEAD_BYTES`]).
    pub payload_bytes: u64,
    /// Link bandwidth, bytes/s: `DeviceLinkSpeed`, or the smaller
    /// `DeviceLinkThroughputLimit` when its mode is On. A value that is not
    /// a positive number means nothing can be sent (the period is unbounded).
    pub link_bytes_per_s: f64,
    /// Sensor rows read out per frame (see [`sensor_rows_read`]).
    pub rows_read: u32,
    /// Time to read one sensor row, ns ([`SensorSpec::row_time_ns`](crate::model::SensorSpec)).
    pub row_time_ns: u32,
    /// Fixed readout overhead per frame, µs
    /// ([`SensorSpec::frame_overhead_us`](crate::model::SensorSpec)).
    pub frame_overhead_us: u32,
    /// `ExposureTime`, µs (negative or NaN counts as 0).
    pub exposure_us: f64,
    /// `SensorShutterMode`.
    pub shutter: ShutterMode,
}

/// The frame timing the settings allow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Sensor readout of one frame: rows × row time + overhead, ns.
    pub readout_ns: u64,
    /// One frame (payload, leader and trailer) over the link, ns.
    pub transfer_ns: u64,
    /// Exposure time, ns.
    pub exposure_ns: u64,
    /// The shortest frame period these settings allow, ns (at least 1).
    pub min_period_ns: u64,
    /// `ResultingFrameRate`: `1e9 / min_period_ns`, Hz.
    pub resulting_frame_rate: f64,
    /// Whether the exposure of frame n+1 overlaps the readout of frame n
    /// (Global and Rolling shutters; not GlobalReset).
    pub overlapped: bool,
}

/// Sensor rows read out for an image of `height` rows with vertical binning
/// and decimation factors: `height × binning × decimation`. Binning and
/// decimation are applied by the camera's pipeline after the sensor, so the
/// sensor reads every row they cover. A factor of 0 counts as 1; the result
/// saturates at `u32::MAX`.
pub fn sensor_rows_read(height: u32, binning_vertical: u32, decimation_vertical: u32) -> u32 {
    height
        .saturating_mul(binning_vertical.max(1))
        .saturating_mul(decimation_vertical.max(1))
}

/// The frame timing for `input` (see the module documentation for the model).
pub fn timing(input: &TimingInput) -> Timing {
    let readout_ns = u64::from(input.rows_read)
        .saturating_mul(u64::from(input.row_time_ns))
        .saturating_add(u64::from(input.frame_overhead_us).saturating_mul(1_000));
    let transfer_ns = transfer_ns(
        input.payload_bytes.saturating_add(STREAM_OVERHEAD_BYTES),
        input.link_bytes_per_s,
    );
    let exposure_ns = ns_from_us(input.exposure_us);
    let (sensor_period_ns, overlapped) = match input.shutter {
        ShutterMode::Global => (
            readout_ns.max(exposure_ns.saturating_add(GLOBAL_SHUTTER_RESET_NS)),
            true,
        ),
        ShutterMode::Rolling => (readout_ns.max(exposure_ns), true),
        ShutterMode::GlobalReset => (exposure_ns.saturating_add(readout_ns), false),
    };
    let min_period_ns = sensor_period_ns.max(transfer_ns).max(1);
    Timing {
        readout_ns,
        transfer_ns,
        exposure_ns,
        min_period_ns,
        resulting_frame_rate: 1e9 / min_period_ns as f64,
        overlapped,
    }
}

/// The frame period actually used, ns: `min_period_ns`, or the period of
/// `AcquisitionFrameRate` (`frame_rate_hz`) when `AcquisitionFrameRateEnable`
/// is set and that period is longer. A rate that is not a positive number
/// sets no limit.
pub fn frame_period_ns(t: &Timing, frame_rate_enable: bool, frame_rate_hz: f64) -> u64 {
    if frame_rate_enable && frame_rate_hz > 0.0 && frame_rate_hz.is_finite() {
        // `as` saturates: a tiny rate gives u64::MAX.
        let requested_ns = (1e9 / frame_rate_hz).round() as u64;
        t.min_period_ns.max(requested_ns)
    } else {
        t.min_period_ns
    }
}

/// Microseconds to nanoseconds, rounded; negative and NaN give 0, values too
/// large saturate.
fn ns_from_us(us: f64) -> u64 {
    // `as` from f64 saturates and maps NaN to 0.
    (us * 1e3).round() as u64
}

/// Time to send `bytes` at `bytes_per_s`, ns, rounded up.
fn transfer_ns(bytes: u64, bytes_per_s: f64) -> u64 {
    if bytes_per_s.is_nan() || bytes_per_s <= 0.0 {
        return u64::MAX;
    }
    (bytes as f64 * 1e9 / bytes_per_s).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    const LINK: f64 = 400e6;
    const FAST_LINK: f64 = 100e9;

    /// The 5 MP sensor, full frame at `bytes_per_pixel`, `rows` rows.
    fn input_5mp(rows: u32, bytes_per_pixel: u64, exposure_us: f64) -> TimingInput {
        let sensor = Model::Mono5MP.spec().sensor;
        TimingInput {
            payload_bytes: u64::from(sensor.width) * u64::from(rows) * bytes_per_pixel,
            link_bytes_per_s: LINK,
            rows_read: rows,
            row_time_ns: sensor.row_time_ns,
            frame_overhead_us: sensor.frame_overhead_us,
            exposure_us,
            shutter: ShutterMode::Global,
        }
    }

    #[test]
    fn mono8_full_frame_is_link_limited() {
        let t = timing(&input_5mp(2048, 1, 5_000.0));
        assert_eq!(t.readout_ns, 2048 * 6_000 + 150_000);
        let bytes = 2448 * 2048 + STREAM_OVERHEAD_BYTES;
        assert_eq!(STREAM_OVERHEAD_BYTES, 84);
        assert_eq!(t.transfer_ns, (bytes as f64 / LINK * 1e9).ceil() as u64);
        assert_eq!(t.min_period_ns, t.transfer_ns);
        assert!(t.transfer_ns > t.readout_ns);
        assert!((t.resulting_frame_rate - 400e6 / 5_013_504.0).abs() < 0.01);
        assert!((t.resulting_frame_rate - 79.78).abs() < 0.01);
        assert_eq!(t.exposure_ns, 5_000_000);
        assert!(t.overlapped);
    }

    #[test]
    fn wider_pixel_format_halves_link_limited_rate() {
        let mono8 = timing(&input_5mp(2048, 1, 1_000.0));
        let mono16 = timing(&input_5mp(2048, 2, 1_000.0));
        let ratio = mono8.resulting_frame_rate / mono16.resulting_frame_rate;
        assert!((ratio - 2.0).abs() < 1e-3, "ratio {ratio}");
        assert_eq!(mono16.min_period_ns, mono16.transfer_ns);
    }

    #[test]
    fn half_height_doubles_sensor_limited_rate() {
        let mut full = input_5mp(2048, 1, 100.0);
        full.link_bytes_per_s = FAST_LINK;
        let mut half = input_5mp(1024, 1, 100.0);
        half.link_bytes_per_s = FAST_LINK;
        let (full, half) = (timing(&full), timing(&half));
        assert_eq!(full.min_period_ns, full.readout_ns);
        assert_eq!(half.min_period_ns, half.readout_ns);
        assert_eq!(half.readout_ns, 1024 * 6_000 + 150_000);
        let ratio = half.resulting_frame_rate / full.resulting_frame_rate;
        // The fixed overhead keeps it slightly under 2.
        assert!(ratio > 1.95 && ratio < 2.0, "ratio {ratio}");
    }

    #[test]
    fn long_exposure_caps_rate() {
        for shutter in [ShutterMode::Global, ShutterMode::Rolling] {
            let mut input = input_5mp(2048, 1, 100_000.0);
            input.shutter = shutter;
            let t = timing(&input);
            assert!(
                t.resulting_frame_rate <= 10.0 && t.resulting_frame_rate > 9.99,
                "{shutter:?}: {}",
                t.resulting_frame_rate
            );
        }
        let mut rolling = input_5mp(2048, 1, 100_000.0);
        rolling.shutter = ShutterMode::Rolling;
        assert_eq!(timing(&rolling).min_period_ns, 100_000_000);
        let global = timing(&input_5mp(2048, 1, 100_000.0));
        assert_eq!(global.min_period_ns, 100_000_000 + GLOBAL_SHUTTER_RESET_NS);
    }

    #[test]
    fn global_reset_does_not_overlap() {
        let mut input = input_5mp(2048, 1, 100_000.0);
        input.shutter = ShutterMode::GlobalReset;
        let reset = timing(&input);
        let global = timing(&input_5mp(2048, 1, 100_000.0));
        assert!(!reset.overlapped);
        assert_eq!(reset.min_period_ns, 100_000_000 + reset.readout_ns);
        assert!(reset.resulting_frame_rate < global.resulting_frame_rate);
        assert!((reset.resulting_frame_rate - 1e9 / 112_438_000.0).abs() < 1e-9);
    }

    #[test]
    fn global_reset_short_exposure_can_be_link_limited() {
        let mut input = input_5mp(2048, 1, 10.0);
        input.shutter = ShutterMode::GlobalReset;
        input.link_bytes_per_s = 200e6;
        let t = timing(&input);
        assert_eq!(t.min_period_ns, t.transfer_ns);
    }

    #[test]
    fn binning_shrinks_payload_not_rows_read() {
        assert_eq!(sensor_rows_read(1024, 2, 1), 2048);
        assert_eq!(sensor_rows_read(512, 2, 2), 2048);
        assert_eq!(sensor_rows_read(100, 0, 0), 100);
        assert_eq!(sensor_rows_read(u32::MAX, 4, 4), u32::MAX);
        // 2 × 2 binning of the full sensor: a quarter of the payload, the same
        // sensor rows: the link stops being the limit.
        let full = timing(&input_5mp(2048, 1, 1_000.0));
        let mut binned = input_5mp(1024, 1, 1_000.0);
        binned.payload_bytes /= 2;
        binned.rows_read = sensor_rows_read(1024, 2, 1);
        let binned = timing(&binned);
        assert_eq!(binned.readout_ns, full.readout_ns);
        assert!(binned.transfer_ns * 3 < full.transfer_ns);
        assert_eq!(full.min_period_ns, full.transfer_ns);
        assert_eq!(binned.min_period_ns, binned.readout_ns);
        assert!(binned.resulting_frame_rate > full.resulting_frame_rate);
    }

    #[test]
    fn high_speed_model_is_link_limited_at_8_bit() {
        let sensor = Model::HighSpeed1_6MP.spec().sensor;
        let t = timing(&TimingInput {
            payload_bytes: 1440 * 1080,
            link_bytes_per_s: LINK,
            rows_read: 1080,
            row_time_ns: sensor.row_time_ns,
            frame_overhead_us: sensor.frame_overhead_us,
            exposure_us: 1_000.0,
            shutter: ShutterMode::Rolling,
        });
        assert_eq!(t.readout_ns, 1080 * 2_900 + 80_000);
        // 8-bit full frame at 400 MB/s: the link limits it to about 257 fps,
        // the sensor alone would do about 311.
        assert_eq!(t.min_period_ns, t.transfer_ns);
        assert!((t.resulting_frame_rate - 400e6 / 1_555_284.0).abs() < 0.01);
        assert!((1e9 / t.readout_ns as f64 - 311.3).abs() < 0.1);
    }

    #[test]
    fn acquisition_frame_rate_only_slows_down() {
        let t = timing(&input_5mp(2048, 1, 1_000.0));
        assert_eq!(frame_period_ns(&t, false, 10.0), t.min_period_ns);
        assert_eq!(frame_period_ns(&t, true, 10.0), 100_000_000);
        assert_eq!(frame_period_ns(&t, true, 1_000.0), t.min_period_ns);
        assert_eq!(frame_period_ns(&t, true, 0.0), t.min_period_ns);
        assert_eq!(frame_period_ns(&t, true, f64::NAN), t.min_period_ns);
        assert_eq!(frame_period_ns(&t, true, 1e-300), u64::MAX);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut input = input_5mp(0, 1, f64::NAN);
        input.row_time_ns = 0;
        input.frame_overhead_us = 0;
        input.payload_bytes = 0;
        input.link_bytes_per_s = f64::INFINITY;
        let t = timing(&input);
        assert_eq!(t.exposure_ns, 0);
        assert_eq!(t.transfer_ns, 0);
        assert_eq!(t.min_period_ns, GLOBAL_SHUTTER_RESET_NS);

        input.shutter = ShutterMode::Rolling;
        input.exposure_us = -5.0;
        let t = timing(&input);
        assert_eq!(t.min_period_ns, 1);
        assert_eq!(t.resulting_frame_rate, 1e9);

        for link in [0.0, -1.0, f64::NAN] {
            input.link_bytes_per_s = link;
            let t = timing(&input);
            assert_eq!(t.transfer_ns, u64::MAX);
            assert_eq!(t.min_period_ns, u64::MAX);
        }

        let t = timing(&TimingInput {
            payload_bytes: u64::MAX,
            link_bytes_per_s: 1.0,
            rows_read: u32::MAX,
            row_time_ns: u32::MAX,
            frame_overhead_us: u32::MAX,
            exposure_us: f64::INFINITY,
            shutter: ShutterMode::GlobalReset,
        });
        assert_eq!(t.min_period_ns, u64::MAX);
        assert!(t.resulting_frame_rate > 0.0);
    }
}
