//! The auto functions' control laws: `ExposureAuto`, `GainAuto`,
//! `BalanceWhiteAuto` and `BlackLevelAuto`.
//!
//! Every law is a pure function of a measurement and the current value; it
//! keeps no state. The caller runs one step per frame:
//!
//! * **`Once`**: run a step on every frame and apply the returned value
//!   until the step reports convergence (the returned `bool`), then set the
//!   feature back to `Off` (the value reached stays).
//! * **`Continuous`**: run a step on every frame and apply the returned
//!   value, forever; convergence only says that nothing needed changing.
//! * **`Off`**: no steps; the feature's value is the user's.
//!
//! # Measurement
//!
//! [`measure`] reads a raw frame on a sparse grid: on a mono sensor every
//! 4th pixel of every 4th row; on a Bayer mosaic the whole 2×2 cell at
//! every 4th cell column and row (so that every colour is sampled). Samples
//! are normalised to 0..255 (`v · 255 / (2^bits − 1)`). The mean is over
//! all sampled samples; the channel means are R, G (both greens) and B
//! (all three equal on a mono sensor); `saturated` is the fraction of
//! samples at the ADC maximum.
//!
//! # Laws
//!
//! * **Exposure** ([`exposure_step`]) and **gain** ([`gain_step`]): with
//!   `r = target / mean`, the next value is `exposure · r^0.8` (gain:
//!   `gain_dB + 0.8 · 20 log10 r`). For a camera whose brightness is
//!   proportional to exposure time and linear gain, the logarithmic error
//!   shrinks to a fifth per frame without overshoot. One step changes the
//!   value by at most ×4 (12 dB); a black frame (mean below 0.5) counts as
//!   mean 0.5. The result is clamped to the limits. Converged: the mean is
//!   within ±3 % of the target, or the value is at the limit the law pushes
//!   towards (the target cannot be reached).
//! * **White balance** ([`balance_step`]): grey world on a measurement of
//!   the frame *before* white balance (the raw frame, as [`measure`] reads
//!   it): `ratio = [G / R, 1, G / B]`, clamped to 0..=15. Converged when
//!   no ratio changed by more than 1 % of its current value. A channel mean
//!   below 0.5 (nothing to balance on) keeps the current ratios.
//! * **Black level** ([`black_level_step`]): the dark floor is the 1st
//!   percentile of the raw samples (sampled on a sparse grid); the target
//!   floor is 1 % of full scale. Since the black level is an offset added
//!   to every sample, the floor moves one for one with it, so the law is
//!   `black_level + (target − floor)`, clamped to the range. Converged when
//!   the floor is within `max(1, 0.25 % of full scale)` of the target, or
//!   the level is at the limit the law pushes towards.

use pixel::demosaic::BayerPattern;

/// Tolerance of the brightness target: ±3 %.
const BRIGHTNESS_TOLERANCE: f64 = 0.03;

/// Fraction of the logarithmic error corrected per step.
const DAMPING: f64 = 0.8;

/// Largest change of one exposure step (×4 or ÷4), and of one gain step
/// (the same in dB).
const MAX_STEP_FACTOR: f64 = 4.0;

/// Means below this (on the 0..255 scale) are treated as this.
const MIN_MEAN: f64 = 0.5;

/// Relative change of the balance ratios below which they have converged.
const BALANCE_TOLERANCE: f64 = 0.01;

/// Largest `BalanceRatio`.
const MAX_BALANCE: f64 = 15.0;

/// Percentile of the dark floor.
const DARK_PERCENTILE: f64 = 0.01;

/// Target dark floor as a fraction of full scale.
const DARK_TARGET: f64 = 0.01;

/// Tolerance of the dark floor as a fraction of full scale (at least 1).
const DARK_TOLERANCE: f64 = 0.0025;

/// Grid spacing of the sparse measurement.
const GRID: usize = 4;

/// Stride through the raw samples of [`black_level_step`] (odd, so that
/// every Bayer phase is sampled).
const DARK_STRIDE: usize = 7;

/// The mode of an auto function (SFNC `ExposureAuto`, `GainAuto`,
/// `BalanceWhiteAuto`, `BlackLevelAuto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoMode {
    /// Manual: the value is the user's.
    Off,
    /// Adjust until converged, then return to `Off`.
    Once,
    /// Adjust on every frame.
    Continuous,
}

impl AutoMode {
    /// Every mode, in enumeration order.
    pub const ALL: [AutoMode; 3] = [AutoMode::Off, AutoMode::Once, AutoMode::Continuous];

    /// The SFNC entry name: `"Off"`, `"Once"` or `"Continuous"`.
    pub const fn name(self) -> &'static str {
        match self {
            AutoMode::Off => "Off",
            AutoMode::Once => "Once",
            AutoMode::Continuous => "Continuous",
        }
    }

    /// The mode of an SFNC entry name (exact match).
    pub fn from_name(name: &str) -> Option<AutoMode> {
        AutoMode::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Errors of the measurements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutoError {
    /// The bit depth is not in 1..=16.
    #[error("invalid bit depth {0} (must be 1..=16)")]
    InvalidBitDepth(u32),
    /// The buffer does not hold `width * height` samples.
    #[error("raw buffer holds {actual} samples, the frame needs {needed}")]
    BufferLength {
        /// `width * height`, saturated on overflow.
        needed: usize,
        /// Samples passed.
        actual: usize,
    },
    /// The frame has no pixel to measure.
    #[error("empty frame")]
    Empty,
}

/// Image brightness as the auto functions see it (see the
/// [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Brightness {
    /// Mean of the sampled values, on 0..255.
    pub mean: f64,
    /// Means of R, G and B on 0..255 (equal on a mono sensor).
    pub channel_means: [f64; 3],
    /// Fraction (0..=1) of samples at the ADC maximum.
    pub saturated: f64,
}

/// Limits and target of `ExposureAuto` / `GainAuto`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExposureLimits {
    /// `AutoTargetBrightness` on 0..255.
    pub target: f64,
    /// `AutoExposureTimeLowerLimit` in µs.
    pub exposure_min_us: f64,
    /// `AutoExposureTimeUpperLimit` in µs.
    pub exposure_max_us: f64,
    /// Lower gain limit in dB.
    pub gain_min_db: f64,
    /// Upper gain limit in dB.
    pub gain_max_db: f64,
}

fn max_of(bits: u32) -> Result<u32, AutoError> {
    if (1..=16).contains(&bits) {
        Ok((1u32 << bits) - 1)
    } else {
        Err(AutoError::InvalidBitDepth(bits))
    }
}

/// Measures a raw frame (`width × height` samples at `bits`, a Bayer
/// mosaic of `cfa` or mono) on a sparse grid (see the
/// [module documentation](self)).
///
/// Errors: invalid bit depth, a buffer that is not `width * height`
/// samples, an empty frame.
pub fn measure(
    raw: &[u16],
    width: u32,
    height: u32,
    bits: u32,
    cfa: Option<BayerPattern>,
) -> Result<Brightness, AutoError> {
    let max = max_of(bits)?;
    let (w, h) = (width as usize, height as usize);
    let needed = w.saturating_mul(h);
    if raw.len() != needed {
        return Err(AutoError::BufferLength {
            needed,
            actual: raw.len(),
        });
    }
    if needed == 0 {
        return Err(AutoError::Empty);
    }
    let mut sums = [0u64; 3];
    let mut counts = [0u64; 3];
    let mut saturated = 0u64;
    let mut add = |c: usize, v: u16| {
        let v = u32::from(v).min(max);
        sums[c] += u64::from(v);
        counts[c] += 1;
        saturated += u64::from(v == max);
    };
    match cfa {
        Some(pattern) if w >= 2 && h >= 2 => {
            for y in (0..h - 1).step_by(2 * GRID) {
                for x in (0..w - 1).step_by(2 * GRID) {
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        if let Some(&v) = raw.get((y + dy) * w + x + dx) {
                            add(pattern.channel_at(x + dx, y + dy), v);
                        }
                    }
                }
            }
        }
        _ => {
            for row in raw.chunks_exact(w).step_by(GRID) {
                for &v in row.iter().step_by(GRID) {
                    add(1, v);
                }
            }
        }
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err(AutoError::Empty);
    }
    let scale = 255.0 / f64::from(max);
    let mean = sums.iter().sum::<u64>() as f64 / total as f64 * scale;
    let channel_means = if cfa.is_some() && counts.iter().all(|&c| c > 0) {
        [0, 1, 2].map(|c| sums[c] as f64 / counts[c] as f64 * scale)
    } else {
        [mean; 3]
    };
    Ok(Brightness {
        mean,
        channel_means,
        saturated: saturated as f64 / total as f64,
    })
}

/// `v` limited to `lo..=hi` (either order), without panicking on NaN: a NaN
/// value gives `lo`.
fn clamp(v: f64, a: f64, b: f64) -> f64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if v.is_nan() {
        lo
    } else {
        v.max(lo).min(hi)
    }
}

/// The damped log-ratio step `DAMPING · ln(target / mean)`, limited to
/// `±ln(MAX_STEP_FACTOR)`, and whether the mean is within tolerance.
fn brightness_error(b: &Brightness, target: f64) -> (f64, bool) {
    let target = clamp(target, 1.0, 255.0);
    let mean = if b.mean.is_nan() {
        MIN_MEAN
    } else {
        b.mean.max(MIN_MEAN)
    };
    let within = (mean - target).abs() <= BRIGHTNESS_TOLERANCE * target;
    let limit = MAX_STEP_FACTOR.ln();
    let step = clamp(DAMPING * (target / mean).ln(), -limit, limit);
    (step, within)
}

/// One step of `ExposureAuto`: the exposure time for the next frame (µs,
/// within the limits) and whether the target is reached (within ±3 %, or
/// the limit in the needed direction reached). See the
/// [module documentation](self).
pub fn exposure_step(b: &Brightness, exposure_us: f64, limits: &ExposureLimits) -> (f64, bool) {
    let (lo, hi) = (limits.exposure_min_us, limits.exposure_max_us);
    let current = clamp(exposure_us, lo, hi);
    let (step, within) = brightness_error(b, limits.target);
    if within {
        return (current, true);
    }
    let next = clamp(current * step.exp(), lo, hi);
    let at_limit = next == lo.min(hi) && step < 0.0 || next == lo.max(hi) && step > 0.0;
    (next, at_limit)
}

/// One step of `GainAuto`: the gain for the next frame (dB, within the
/// limits) and whether the target is reached, as [`exposure_step`].
pub fn gain_step(b: &Brightness, gain_db: f64, limits: &ExposureLimits) -> (f64, bool) {
    let (lo, hi) = (limits.gain_min_db, limits.gain_max_db);
    let current = clamp(gain_db, lo, hi);
    let (step, within) = brightness_error(b, limits.target);
    if within {
        return (current, true);
    }
    // A factor e^step is 20 log10(e^step) dB.
    let next = clamp(current + 20.0 * step / std::f64::consts::LN_10, lo, hi);
    let at_limit = next == lo.min(hi) && step < 0.0 || next == lo.max(hi) && step > 0.0;
    (next, at_limit)
}

/// One step of `BalanceWhiteAuto`: the ratios `[R, G, B]` (green 1.0)
/// that make the grey-world means of a frame measured before white
/// balance equal, clamped to 0..=15, and whether they changed by less than
/// 1 %. See the [module documentation](self).
pub fn balance_step(b: &Brightness, current: [f64; 3]) -> ([f64; 3], bool) {
    let [r, g, bl] = b.channel_means;
    if !(r >= MIN_MEAN && g >= MIN_MEAN && bl >= MIN_MEAN) {
        return (current, true);
    }
    let next = [g / r, 1.0, g / bl].map(|v| clamp(v, 0.0, MAX_BALANCE));
    let converged = next
        .iter()
        .zip(&current)
        .all(|(n, c)| (n - c).abs() <= BALANCE_TOLERANCE * c.abs());
    (next, converged)
}

/// One step of `BlackLevelAuto` from a raw frame (`bits` deep): the black
/// level (in raw units, clamped to `range`) that brings the 1st-percentile
/// dark floor to 1 % of full scale, and whether it is there. See the
/// [module documentation](self).
///
/// Errors: invalid bit depth, an empty frame.
pub fn black_level_step(
    raw: &[u16],
    bits: u32,
    black_level: f64,
    range: (f64, f64),
) -> Result<(f64, bool), AutoError> {
    let max = max_of(bits)?;
    if raw.is_empty() {
        return Err(AutoError::Empty);
    }
    let mut histogram = vec![0u64; max as usize + 1];
    let mut count = 0u64;
    for &v in raw.iter().step_by(DARK_STRIDE) {
        if let Some(h) = histogram.get_mut(usize::from(v).min(max as usize)) {
            *h += 1;
            count += 1;
        }
    }
    // The smallest value with at least 1 % of the samples at or below it.
    let wanted = ((count as f64 * DARK_PERCENTILE).ceil() as u64).max(1);
    let mut seen = 0u64;
    let floor = histogram
        .iter()
        .position(|&n| {
            seen += n;
            seen >= wanted
        })
        .unwrap_or(0) as f64;
    let full = f64::from(max);
    let target = DARK_TARGET * full;
    let tolerance = (DARK_TOLERANCE * full).max(1.0);
    let (lo, hi) = (range.0.min(range.1), range.0.max(range.1));
    let current = clamp(black_level, lo, hi);
    let error = target - floor;
    if error.abs() <= tolerance {
        return Ok((current, true));
    }
    let next = clamp(current + error, lo, hi);
    let at_limit = next == lo && error < 0.0 || next == hi && error > 0.0;
    Ok((next, at_limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ExposureLimits = ExposureLimits {
        target: 120.0,
        exposure_min_us: 10.0,
        exposure_max_us: 100_000.0,
        gain_min_db: 0.0,
        gain_max_db: 24.0,
    };

    /// A linear camera: brightness ∝ exposure × linear gain, clipped at
    /// 255, with per-channel sensitivities.
    struct LinearCamera {
        /// Brightness per µs at 0 dB, per channel.
        sensitivity: [f64; 3],
    }

    impl LinearCamera {
        fn brightness(&self, exposure_us: f64, gain_db: f64) -> Brightness {
            let g = 10f64.powf(gain_db / 20.0);
            let channel_means = self.sensitivity.map(|s| (s * exposure_us * g).min(255.0));
            let mean = (channel_means[0] + 2.0 * channel_means[1] + channel_means[2]) / 4.0;
            Brightness {
                mean,
                channel_means,
                saturated: f64::from(u8::from(mean >= 255.0)),
            }
        }
    }

    #[test]
    fn mode_names_round_trip() {
        for m in AutoMode::ALL {
            assert_eq!(AutoMode::from_name(m.name()), Some(m));
        }
        assert_eq!(AutoMode::from_name("Once"), Some(AutoMode::Once));
        assert_eq!(AutoMode::from_name("once"), None);
    }

    #[test]
    fn measure_known_images() {
        // Mono 12-bit, constant 2047: mean 127.47, nothing saturated.
        let m = measure(&vec![2047; 64 * 32], 64, 32, 12, None).expect("mono");
        assert!((m.mean - 2047.0 * 255.0 / 4095.0).abs() < 1e-9);
        assert_eq!(m.channel_means, [m.mean; 3]);
        assert_eq!(m.saturated, 0.0);
        // Half the rows at the maximum, half black: sampled rows 0, 4, 8, …
        // alternate between the halves of 8-row stripes.
        let raw: Vec<u16> = (0..64 * 32)
            .map(|i| if (i / 64) % 8 < 4 { 255 } else { 0 })
            .collect();
        let m = measure(&raw, 64, 32, 8, None).expect("stripes");
        assert!((m.mean - 127.5).abs() < 1e-9);
        assert!((m.saturated - 0.5).abs() < 1e-9);
        // A BayerRG mosaic with R 200, G 100, B 50 (8 bits).
        let raw: Vec<u16> = (0..32 * 16)
            .map(|i| [200, 100, 100, 50][(i / 32 % 2) * 2 + i % 2])
            .collect();
        let m = measure(&raw, 32, 16, 8, Some(BayerPattern::RG)).expect("bayer");
        assert_eq!(m.channel_means, [200.0, 100.0, 50.0]);
        assert!((m.mean - 112.5).abs() < 1e-9);
        // The same mosaic read as a BG pattern swaps red and blue.
        let m = measure(&raw, 32, 16, 8, Some(BayerPattern::BG)).expect("bayer");
        assert_eq!(m.channel_means, [50.0, 100.0, 200.0]);
        // Errors.
        assert_eq!(
            measure(&[0; 10], 4, 4, 8, None),
            Err(AutoError::BufferLength {
                needed: 16,
                actual: 10
            })
        );
        assert_eq!(measure(&[], 0, 0, 8, None), Err(AutoError::Empty));
        assert_eq!(
            measure(&[0; 4], 2, 2, 17, None),
            Err(AutoError::InvalidBitDepth(17))
        );
        assert!(measure(&[], u32::MAX, u32::MAX, 8, None).is_err());
        // A single pixel is enough.
        assert!(measure(&[7], 1, 1, 8, Some(BayerPattern::RG)).is_ok());
    }

    #[test]
    fn exposure_converges_in_closed_loop() {
        for (start, sensitivity) in [(10.0, 0.05), (100_000.0, 0.05), (1000.0, 2.0)] {
            let cam = LinearCamera {
                sensitivity: [sensitivity; 3],
            };
            let mut e = start;
            let mut done = false;
            for _ in 0..40 {
                let (next, converged) = exposure_step(&cam.brightness(e, 0.0), e, &LIMITS);
                if converged {
                    done = true;
                    break;
                }
                assert!((LIMITS.exposure_min_us..=LIMITS.exposure_max_us).contains(&next));
                e = next;
            }
            assert!(done, "no convergence from {start}");
            let b = cam.brightness(e, 0.0).mean;
            assert!((b - 120.0).abs() <= 0.03 * 120.0, "{b} at {e} µs");
        }
    }

    #[test]
    fn exposure_reports_limits() {
        // Too dark even at the longest exposure.
        let dark = LinearCamera {
            sensitivity: [1e-5; 3],
        };
        let mut e = 1000.0;
        let mut steps = 0;
        loop {
            let (next, done) = exposure_step(&dark.brightness(e, 0.0), e, &LIMITS);
            e = next;
            steps += 1;
            if done {
                break;
            }
            assert!(steps < 40);
        }
        assert_eq!(e, LIMITS.exposure_max_us);
        // Too bright even at the shortest: saturated frames push down.
        let bright = LinearCamera {
            sensitivity: [1000.0; 3],
        };
        let (e, done) = exposure_step(&bright.brightness(10.0, 0.0), 10.0, &LIMITS);
        assert_eq!((e, done), (10.0, true));
        // One step changes by at most ×4.
        let (e, done) = exposure_step(&dark.brightness(100.0, 0.0), 100.0, &LIMITS);
        assert_eq!((e, done), (400.0, false));
        // Nonsense inputs do not panic and stay within the limits.
        let nan = Brightness {
            mean: f64::NAN,
            channel_means: [f64::NAN; 3],
            saturated: 0.0,
        };
        let (e, _) = exposure_step(&nan, f64::NAN, &LIMITS);
        assert!((10.0..=100_000.0).contains(&e));
    }

    #[test]
    fn gain_converges_in_closed_loop_and_respects_limits() {
        let cam = LinearCamera {
            sensitivity: [0.01; 3],
        };
        // At 5000 µs the camera gives 50: +7.6 dB are needed.
        let mut g = 0.0;
        let mut done = false;
        for _ in 0..40 {
            let (next, converged) = gain_step(&cam.brightness(5000.0, g), g, &LIMITS);
            assert!((0.0..=24.0).contains(&next));
            if converged {
                done = true;
                break;
            }
            g = next;
        }
        assert!(done);
        assert!((cam.brightness(5000.0, g).mean - 120.0).abs() <= 3.6);
        assert!((g - 20.0 * (120.0f64 / 50.0).log10()).abs() < 0.3, "{g}");
        // 1 µs-equivalent: unreachable, stops at 24 dB.
        let mut g = 0.0;
        for _ in 0..40 {
            let (next, converged) = gain_step(&cam.brightness(10.0, g), g, &LIMITS);
            g = next;
            if converged {
                break;
            }
        }
        assert_eq!(g, 24.0);
    }

    #[test]
    fn exposure_and_gain_together() {
        // The usual arrangement: exposure first, gain once exposure is at
        // its upper limit.
        let limits = ExposureLimits {
            exposure_max_us: 2000.0,
            ..LIMITS
        };
        let cam = LinearCamera {
            sensitivity: [0.01; 3],
        };
        let (mut e, mut g) = (100.0, 0.0);
        for _ in 0..60 {
            let b = cam.brightness(e, g);
            let (ne, e_done) = exposure_step(&b, e, &limits);
            e = ne;
            if e_done && e == limits.exposure_max_us {
                g = gain_step(&b, g, &limits).0;
            }
        }
        assert_eq!(e, 2000.0);
        assert!((cam.brightness(e, g).mean - 120.0).abs() <= 3.6, "{g} dB");
    }

    #[test]
    fn balance_equalises_channel_means() {
        let raw = Brightness {
            mean: 55.0,
            channel_means: [40.0, 80.0, 20.0],
            saturated: 0.0,
        };
        let (ratios, done) = balance_step(&raw, [1.0; 3]);
        assert!(!done);
        assert_eq!(ratios, [2.0, 1.0, 4.0]);
        let balanced: Vec<f64> = raw
            .channel_means
            .iter()
            .zip(&ratios)
            .map(|(m, r)| m * r)
            .collect();
        assert!(balanced.iter().all(|&m| (m - 80.0).abs() < 1e-9));
        // The next frame gives the same ratios: converged.
        assert_eq!(balance_step(&raw, ratios), (ratios, true));
        // Clamped to 15.
        let b = Brightness {
            mean: 50.0,
            channel_means: [1.0, 100.0, 50.0],
            saturated: 0.0,
        };
        assert_eq!(balance_step(&b, [1.0; 3]).0, [15.0, 1.0, 2.0]);
        // A black frame keeps the current ratios.
        let black = Brightness {
            mean: 0.0,
            channel_means: [0.0; 3],
            saturated: 0.0,
        };
        assert_eq!(
            balance_step(&black, [1.5, 1.0, 2.0]),
            ([1.5, 1.0, 2.0], true)
        );
    }

    /// A 12-bit sensor whose dark frame is `pedestal + black level + noise`.
    fn dark_frame(black_level: f64, pedestal: f64) -> Vec<u16> {
        let mut state = 12345u64;
        (0..64 * 64)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((state >> 33) % 9) as f64; // 0..=8
                (pedestal + black_level + noise).clamp(0.0, 4095.0) as u16
            })
            .collect()
    }

    #[test]
    fn black_level_converges_and_respects_range() {
        let range = (0.0, 255.0);
        let mut level = 0.0;
        let mut done = false;
        for _ in 0..10 {
            let (next, converged) =
                black_level_step(&dark_frame(level, -30.0), 12, level, range).expect("step");
            assert!((0.0..=255.0).contains(&next));
            if converged {
                done = true;
                break;
            }
            level = next;
        }
        assert!(done);
        let (floor_target, tolerance) = (0.01 * 4095.0, 0.0025 * 4095.0);
        // The 1st percentile of pedestal + level + noise is about
        // pedestal + level.
        assert!(
            (level - 30.0 - floor_target).abs() <= tolerance + 1.0,
            "{level}"
        );
        // A pedestal that needs more than the range: stops at the limit.
        let (next, done) = black_level_step(&dark_frame(0.0, -1000.0), 12, 0.0, range).expect("x");
        assert!(next > 0.0 && !done);
        let (next, done) =
            black_level_step(&dark_frame(255.0, -1000.0), 12, 255.0, range).expect("x");
        assert_eq!((next, done), (255.0, true));
        // Too bright a floor lowers the level.
        let (next, _) = black_level_step(&dark_frame(100.0, 0.0), 12, 100.0, range).expect("x");
        assert!(next < 100.0);
        assert_eq!(black_level_step(&[], 12, 0.0, range), Err(AutoError::Empty));
        assert_eq!(
            black_level_step(&[1], 0, 0.0, range),
            Err(AutoError::InvalidBitDepth(0))
        );
    }
}
