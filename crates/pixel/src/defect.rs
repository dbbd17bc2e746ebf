//! Defect pixel correction, defect lists and defect detection.
//!
//! # Defect list
//!
//! A [`DefectList`] is a sorted (row-major: by `y`, then `x`), deduplicated
//! set of pixel coordinates with `O(log n)` lookup. It is checked against
//! the image size before use ([`DefectList::validate`]); a coordinate
//! outside the image is an error that names it. The text form
//! ([`DefectList::parse`], [`DefectList::to_text`]) holds one `x,y` pair of
//! decimal integers per line; spaces around the numbers are allowed, `#`
//! starts a comment that runs to the end of the line, blank lines are
//! ignored, and an error names the (1-based) line at fault.
//!
//! # Correction
//!
//! [`correct`] replaces, in place, every listed pixel of a mono, Bayer or
//! RGB/BGR image (`u8` or `u16`) by an estimate from its *same-colour*
//! neighbours at distance `d` along the two axes and the two diagonals:
//! `d = 2` for Bayer mosaics (the nearest pixels of the same colour filter),
//! `d = 1` for mono and RGB (each RGB channel is estimated separately). A
//! neighbour counts only if it lies inside the image and is **not** itself
//! in the list, so clusters (adjacent defects, 2×2 blocks, short lines) and
//! defects on borders and in corners are handled.
//!
//! The estimate, at search radius `r = d`:
//!
//! 1. Of the four directions (horizontal, vertical, the two diagonals)
//!    whose **both** neighbours are valid, take the one with the smallest
//!    absolute difference between its two neighbours (the direction along
//!    which the image varies least, so edges are not blurred across; ties go
//!    to the first in the order above) and use the mean of those two,
//!    rounded half up.
//! 2. If no direction has both neighbours valid, use the mean of all valid
//!    neighbours (rounded half up).
//! 3. If there is no valid neighbour at all, widen the search to
//!    `r = 2d`, then `r = 3d` ([`MAX_SEARCH_RADIUS`]) and repeat 1–2.
//! 4. If even then no valid neighbour exists (e.g. a 1×1 image, or a large
//!    cluster), the pixel is left unchanged and counted in
//!    [`CorrectionSummary::uncorrectable`].
//!
//! Since only non-listed pixels are read and only listed pixels written, the
//! result does not depend on the order of correction.
//!
//! # Detection
//!
//! [`detect_hot`] finds hot pixels in an averaged dark frame and
//! [`detect_dead`] dead or weak pixels in an averaged bright (flat,
//! unsaturated) frame; [`detect`] runs both and merges the lists. Statistics
//! are taken per colour plane: the four phases of the 2×2 cell for Bayer
//! (R, Gr, Gb, B), each channel for RGB (an RGB pixel is listed if any of
//! its channels is), the whole image for mono. [`DetectParams`] documents
//! the thresholds.

use std::fmt;
use std::str::FromStr;

use crate::geometry::PixelLayout;
use crate::sample::Sample;

/// Largest search radius, in multiples of the same-colour distance, used
/// when a defect has no valid neighbour (see the
/// [module documentation](self)).
pub const MAX_SEARCH_RADIUS: usize = 3;

/// Errors reported by the defect functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefectError {
    /// `width * height * samples_per_pixel` does not fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// An image buffer is shorter than the image.
    #[error("image buffer too short: need {needed} samples, got {actual}")]
    ImageTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// A defect coordinate lies outside the image.
    #[error("defect pixel ({x}, {y}) is outside the {width}x{height} image")]
    OutOfRange {
        /// Column of the defect.
        x: u32,
        /// Row of the defect.
        y: u32,
        /// Image width.
        width: usize,
        /// Image height.
        height: usize,
    },
    /// A line of a defect list text could not be parsed.
    #[error("defect list line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A detection parameter is out of its range.
    #[error("invalid detection parameter {name}: {reason}")]
    InvalidParameter {
        /// Field of [`DetectParams`].
        name: &'static str,
        /// Allowed range.
        reason: &'static str,
    },
}

// ---------------------------------------------------------------------------
// Defect list
// ---------------------------------------------------------------------------

/// A defective pixel's coordinates. Ordered row-major (by `y`, then `x`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Defect {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

impl Ord for Defect {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.y, self.x).cmp(&(other.y, other.x))
    }
}

impl PartialOrd for Defect {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A sorted, deduplicated set of defective pixels (see the
/// [module documentation](self) for the text form).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DefectList {
    /// Sorted row-major, no duplicates.
    points: Vec<Defect>,
}

impl DefectList {
    /// An empty list.
    pub const fn new() -> Self {
        DefectList { points: Vec::new() }
    }

    /// A list of the `(x, y)` pairs, sorted and deduplicated.
    pub fn from_points<I: IntoIterator<Item = (u32, u32)>>(points: I) -> Self {
        points.into_iter().collect()
    }

    /// Like [`from_points`](Self::from_points), then
    /// [`validate`](Self::validate)d against a `width × height` image.
    pub fn from_points_checked<I: IntoIterator<Item = (u32, u32)>>(
        points: I,
        width: usize,
        height: usize,
    ) -> Result<Self, DefectError> {
        let list = Self::from_points(points);
        list.validate(width, height)?;
        Ok(list)
    }

    fn from_vec(mut points: Vec<Defect>) -> Self {
        points.sort_unstable();
        points.dedup();
        DefectList { points }
    }

    /// Number of defects.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// `true` if the list is empty.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The defects in row-major order.
    pub fn as_slice(&self) -> &[Defect] {
        &self.points
    }

    /// Iterates over the defects in row-major order.
    pub fn iter(&self) -> std::slice::Iter<'_, Defect> {
        self.points.iter()
    }

    /// `true` if (`x`, `y`) is in the list (binary search).
    #[inline]
    pub fn contains(&self, x: u32, y: u32) -> bool {
        self.points.binary_search(&Defect { x, y }).is_ok()
    }

    /// The defects of row `y`, sorted by `x` (two binary searches).
    pub fn row(&self, y: u32) -> &[Defect] {
        let start = self.points.partition_point(|d| d.y < y);
        let end = self.points.partition_point(|d| d.y <= y);
        &self.points[start..end]
    }

    /// Adds (`x`, `y`); returns `false` if it was already listed.
    pub fn insert(&mut self, x: u32, y: u32) -> bool {
        let d = Defect { x, y };
        match self.points.binary_search(&d) {
            Ok(_) => false,
            Err(i) => {
                self.points.insert(i, d);
                true
            }
        }
    }

    /// Removes (`x`, `y`); returns `false` if it was not listed.
    pub fn remove(&mut self, x: u32, y: u32) -> bool {
        match self.points.binary_search(&Defect { x, y }) {
            Ok(i) => {
                self.points.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Adds all defects of `other`.
    pub fn merge(&mut self, other: &DefectList) {
        if other.is_empty() {
            return;
        }
        let mut all = std::mem::take(&mut self.points);
        all.extend_from_slice(&other.points);
        *self = Self::from_vec(all);
    }

    /// Checks that every defect lies inside a `width × height` image; the
    /// error names the first one (row-major) that does not.
    pub fn validate(&self, width: usize, height: usize) -> Result<(), DefectError> {
        match self
            .points
            .iter()
            .find(|d| d.x as usize >= width || d.y as usize >= height)
        {
            Some(d) => Err(DefectError::OutOfRange {
                x: d.x,
                y: d.y,
                width,
                height,
            }),
            None => Ok(()),
        }
    }

    /// Parses the text form: one `x,y` per line, `#` comments, blank lines
    /// ignored. Errors name the 1-based line.
    pub fn parse(text: &str) -> Result<Self, DefectError> {
        let mut points = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = match raw.find('#') {
                Some(p) => &raw[..p],
                None => raw,
            }
            .trim();
            if content.is_empty() {
                continue;
            }
            let err = |reason: String| DefectError::Parse { line, reason };
            let mut fields = content.split(',');
            let (Some(xs), Some(ys), None) = (fields.next(), fields.next(), fields.next()) else {
                return Err(err(format!("expected \"x,y\", got \"{content}\"")));
            };
            let coord = |name: &str, s: &str| {
                let s = s.trim();
                s.parse::<u32>().map_err(|_| {
                    err(format!(
                        "invalid {name} coordinate \"{s}\" (expected an integer 0..={})",
                        u32::MAX
                    ))
                })
            };
            let x = coord("x", xs)?;
            let y = coord("y", ys)?;
            points.push(Defect { x, y });
        }
        Ok(Self::from_vec(points))
    }

    /// The text form: a comment header, then one `x,y` line per defect in
    /// row-major order. [`parse`](Self::parse) reads it back unchanged.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(48 + 12 * self.points.len());
        s.push_str("# mvcam defect pixel list: one \"x,y\" per line\n");
        let _ = writeln!(s, "# {} defects", self.points.len());
        for d in &self.points {
            let _ = writeln!(s, "{},{}", d.x, d.y);
        }
        s
    }
}

impl FromIterator<(u32, u32)> for DefectList {
    fn from_iter<I: IntoIterator<Item = (u32, u32)>>(iter: I) -> Self {
        Self::from_vec(iter.into_iter().map(|(x, y)| Defect { x, y }).collect())
    }
}

impl FromIterator<Defect> for DefectList {
    fn from_iter<I: IntoIterator<Item = Defect>>(iter: I) -> Self {
        Self::from_vec(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a DefectList {
    type Item = &'a Defect;
    type IntoIter = std::slice::Iter<'a, Defect>;
    fn into_iter(self) -> Self::IntoIter {
        self.points.iter()
    }
}

impl FromStr for DefectList {
    type Err = DefectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DefectList {
    /// Writes [`to_text`](DefectList::to_text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

// ---------------------------------------------------------------------------
// Correction
// ---------------------------------------------------------------------------

/// What [`correct`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CorrectionSummary {
    /// Defects replaced by an estimate.
    pub corrected: usize,
    /// Defects left unchanged because no valid same-colour neighbour was
    /// found within [`MAX_SEARCH_RADIUS`].
    pub uncorrectable: usize,
}

fn image_len(layout: PixelLayout, width: usize, height: usize) -> Result<usize, DefectError> {
    crate::geometry::image_len(layout, width, height)
        .map_err(|_| DefectError::SizeOverflow { width, height })
}

fn check_image<T>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    image: &[T],
) -> Result<usize, DefectError> {
    let n = image_len(layout, width, height)?;
    if image.len() < n {
        return Err(DefectError::ImageTooShort {
            needed: n,
            actual: image.len(),
        });
    }
    Ok(n)
}

/// Distance between same-colour neighbours.
const fn colour_step(layout: PixelLayout) -> usize {
    if layout.is_bayer() {
        2
    } else {
        1
    }
}

/// Replaces every pixel of `defects` in `image` (`width × height` of
/// `layout`) by the estimate from its valid same-colour neighbours (see the
/// [module documentation](self) for the exact rule).
///
/// The list is validated against the image size first; nothing is changed
/// if it does not fit.
pub fn correct<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    defects: &DefectList,
    image: &mut [T],
) -> Result<CorrectionSummary, DefectError> {
    let n = check_image(layout, width, height, image)?;
    defects.validate(width, height)?;
    let image = &mut image[..n];
    let spp = layout.samples_per_pixel();
    let step = colour_step(layout);
    let mut summary = CorrectionSummary::default();
    for d in defects {
        let (x, y) = (d.x as usize, d.y as usize);
        let base = (y * width + x) * spp;
        let mut ok = true;
        for c in 0..spp {
            match estimate(image, width, height, spp, c, x, y, step, defects) {
                Some(v) => image[base + c] = T::from_u32_clamped(v),
                None => ok = false,
            }
        }
        if ok {
            summary.corrected += 1;
        } else {
            summary.uncorrectable += 1;
        }
    }
    Ok(summary)
}

/// The correction [`correct`] would write at pixel (`x`, `y`) of `image`
/// (`width × height` of `layout`), computed from the neighbours that are
/// not in `defects`, without changing anything: useful to correct rows on
/// the fly (the result does not depend on whether other defects were
/// already corrected). For RGB / BGR it is the estimate of the pixel's
/// first sample.
///
/// `None` if no valid same-colour neighbour exists within
/// [`MAX_SEARCH_RADIUS`], or if the image buffer is too short or
/// (`x`, `y`) lies outside the image.
pub fn estimate_in<T: Sample>(
    layout: PixelLayout,
    image: &[T],
    width: usize,
    height: usize,
    x: usize,
    y: usize,
    defects: &DefectList,
) -> Option<u32> {
    let n = check_image(layout, width, height, image).ok()?;
    if x >= width || y >= height {
        return None;
    }
    estimate(
        &image[..n],
        width,
        height,
        layout.samples_per_pixel(),
        0,
        x,
        y,
        colour_step(layout),
        defects,
    )
}

/// Direction pairs: horizontal, vertical, main diagonal, anti-diagonal.
const DIRECTIONS: [[(isize, isize); 2]; 4] = [
    [(-1, 0), (1, 0)],
    [(0, -1), (0, 1)],
    [(-1, -1), (1, 1)],
    [(1, -1), (-1, 1)],
];

/// The estimate for channel `c` of defect (`x`, `y`), or `None` if no valid
/// neighbour exists within the largest search radius.
#[allow(clippy::too_many_arguments)]
fn estimate<T: Sample>(
    image: &[T],
    width: usize,
    height: usize,
    spp: usize,
    c: usize,
    x: usize,
    y: usize,
    step: usize,
    defects: &DefectList,
) -> Option<u32> {
    for k in 1..=MAX_SEARCH_RADIUS {
        let r = (k * step) as isize;
        let sample = |(dx, dy): (isize, isize)| -> Option<u32> {
            let nx = x.checked_add_signed(dx * r)?;
            let ny = y.checked_add_signed(dy * r)?;
            if nx >= width || ny >= height {
                return None;
            }
            if let (Ok(ux), Ok(uy)) = (u32::try_from(nx), u32::try_from(ny)) {
                if defects.contains(ux, uy) {
                    return None;
                }
            }
            image.get((ny * width + nx) * spp + c).map(|s| s.to_u32())
        };
        let mut best: Option<(u32, u32)> = None; // (gradient, mean)
        let mut sum = 0u32;
        let mut count = 0u32;
        for pair in DIRECTIONS {
            let a = sample(pair[0]);
            let b = sample(pair[1]);
            for v in [a, b].into_iter().flatten() {
                sum += v;
                count += 1;
            }
            if let (Some(a), Some(b)) = (a, b) {
                let grad = a.abs_diff(b);
                if best.is_none_or_greater(grad) {
                    // Mean rounded half up.
                    best = Some((grad, (a + b).div_ceil(2)));
                }
            }
        }
        if let Some((_, v)) = best {
            return Some(v);
        }
        if let Some(mean) = (sum + count / 2).checked_div(count) {
            return Some(mean);
        }
    }
    None
}

/// `Option::is_none_or` without needing Rust 1.82.
trait BestGradient {
    fn is_none_or_greater(&self, grad: u32) -> bool;
}

impl BestGradient for Option<(u32, u32)> {
    #[inline]
    fn is_none_or_greater(&self, grad: u32) -> bool {
        match self {
            None => true,
            Some((g, _)) => grad < *g,
        }
    }
}

// ---------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------

/// Thresholds of defect detection. All values are in the units (DN) of the
/// frames passed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectParams {
    /// Hot-pixel test on the dark frame: a pixel is hot if its value exceeds
    /// its colour plane's mean by more than `hot_sigma` standard deviations
    /// (and by at least [`hot_min_excess`](Self::hot_min_excess)). Mean and
    /// deviation are sigma-clipped: recomputed without the pixels above the
    /// threshold until stable (at most 10 rounds), so the hot pixels do not
    /// inflate them. `None` disables this test. Default `Some(6.0)`; must be
    /// finite and ≥ 0.
    pub hot_sigma: Option<f64>,
    /// Smallest excess over the plane mean for the `hot_sigma` test, so that
    /// a nearly noiseless dark frame (deviation ≈ 0) does not flag pixels
    /// one step above the mean. Default 4.0; must be finite and ≥ 0.
    pub hot_min_excess: f64,
    /// Absolute hot-pixel test: a pixel whose dark value is above this is
    /// hot, whatever the statistics. `None` (default) disables it.
    pub hot_threshold: Option<u32>,
    /// Dead / weak test on the bright frame: a pixel is listed if its value
    /// is below `weak_ratio` times the mean of the same-colour pixels around
    /// it (its colour plane's `(2r+1) × (2r+1)` neighbourhood, `r` =
    /// [`local_radius`](Self::local_radius), clipped to the image, the pixel
    /// itself excluded). The local mean follows lens shading and vignetting.
    /// Default 0.5; must be finite and in `0..=1` (0 disables the test).
    pub weak_ratio: f64,
    /// Radius of the neighbourhood of the `weak_ratio` test, in same-colour
    /// pixels (for Bayer, 2 sensor pixels per step). Default 2 (up to 24
    /// neighbours); must be ≥ 1.
    pub local_radius: usize,
}

impl Default for DetectParams {
    fn default() -> Self {
        DetectParams {
            hot_sigma: Some(6.0),
            hot_min_excess: 4.0,
            hot_threshold: None,
            weak_ratio: 0.5,
            local_radius: 2,
        }
    }
}

impl DetectParams {
    /// Checks the ranges documented on each field.
    pub fn validate(&self) -> Result<(), DefectError> {
        let bad = |name, reason| Err(DefectError::InvalidParameter { name, reason });
        if let Some(k) = self.hot_sigma {
            if !(k.is_finite() && k >= 0.0) {
                return bad("hot_sigma", "must be finite and >= 0");
            }
        }
        if !(self.hot_min_excess.is_finite() && self.hot_min_excess >= 0.0) {
            return bad("hot_min_excess", "must be finite and >= 0");
        }
        if !(self.weak_ratio.is_finite() && (0.0..=1.0).contains(&self.weak_ratio)) {
            return bad("weak_ratio", "must be in 0..=1");
        }
        if self.local_radius == 0 {
            return bad("local_radius", "must be >= 1");
        }
        Ok(())
    }
}

/// One colour plane: the samples at columns `x0, x0 + step, …` of rows
/// `y0, y0 + step, …`, channel `channel`.
#[derive(Clone, Copy)]
struct Plane {
    x0: usize,
    y0: usize,
    channel: usize,
    /// Plane width and height in plane pixels.
    pw: usize,
    ph: usize,
}

fn planes(layout: PixelLayout, width: usize, height: usize) -> Vec<Plane> {
    let step = colour_step(layout);
    let span = |n: usize, o: usize| if n > o { (n - o).div_ceil(step) } else { 0 };
    let mut out = Vec::with_capacity(4);
    for c in 0..layout.samples_per_pixel() {
        for y0 in 0..step {
            for x0 in 0..step {
                let plane = Plane {
                    x0,
                    y0,
                    channel: c,
                    pw: span(width, x0),
                    ph: span(height, y0),
                };
                if plane.pw > 0 && plane.ph > 0 {
                    out.push(plane);
                }
            }
        }
    }
    out
}

/// Finds hot pixels in an averaged dark frame (see [`DetectParams`]).
pub fn detect_hot<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    dark: &[T],
    params: &DetectParams,
) -> Result<DefectList, DefectError> {
    params.validate()?;
    let n = check_image(layout, width, height, dark)?;
    let dark = &dark[..n];
    let spp = layout.samples_per_pixel();
    let step = colour_step(layout);
    let mut found = Vec::new();
    for p in planes(layout, width, height) {
        let rows = || {
            dark.chunks_exact(width * spp)
                .skip(p.y0)
                .step_by(step)
                .enumerate()
                .map(move |(j, row)| (p.y0 + j * step, row))
        };
        let (first, stride) = (p.x0 * spp + p.channel, step * spp);
        let values = |row| plane_values(row, first, stride);
        // Statistical threshold, sigma-clipped.
        let mut limit = f64::INFINITY;
        if let Some(k) = params.hot_sigma {
            let mut last_count = u64::MAX;
            for _ in 0..10 {
                let (mut count, mut sum, mut sumsq) = (0u64, 0u128, 0u128);
                for (_, row) in rows() {
                    for v in values(row) {
                        if f64::from(v) <= limit {
                            count += 1;
                            sum += u128::from(v);
                            sumsq += u128::from(v) * u128::from(v);
                        }
                    }
                }
                if count == 0 || count == last_count {
                    break;
                }
                last_count = count;
                let mean = sum as f64 / count as f64;
                let var = (sumsq as f64 / count as f64 - mean * mean).max(0.0);
                limit = mean + (k * var.sqrt()).max(params.hot_min_excess);
            }
        }
        let abs = params.hot_threshold.map_or(f64::INFINITY, f64::from);
        let limit = limit.min(abs);
        if limit.is_infinite() {
            continue;
        }
        for (y, row) in rows() {
            for (i, v) in values(row).enumerate() {
                if f64::from(v) > limit {
                    push(&mut found, p.x0 + i * step, y);
                }
            }
        }
    }
    Ok(DefectList::from_vec(found))
}

/// Finds dead and weak pixels in an averaged bright frame: pixels below
/// `weak_ratio` × the local same-colour mean (see [`DetectParams`]).
pub fn detect_dead<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    bright: &[T],
    params: &DetectParams,
) -> Result<DefectList, DefectError> {
    params.validate()?;
    let n = check_image(layout, width, height, bright)?;
    let bright = &bright[..n];
    let mut found = Vec::new();
    if params.weak_ratio == 0.0 || n == 0 {
        return Ok(DefectList::from_vec(found));
    }
    let spp = layout.samples_per_pixel();
    let step = colour_step(layout);
    let r = params.local_radius;
    let mut integral: Vec<u64> = Vec::new();
    for p in planes(layout, width, height) {
        let at = |i: usize, j: usize| -> u64 {
            let x = p.x0 + i * step;
            let y = p.y0 + j * step;
            bright
                .get((y * width + x) * spp + p.channel)
                .map_or(0, |s| u64::from(s.to_u32()))
        };
        // Summed-area table of the plane, (pw + 1) × (ph + 1).
        let iw = p.pw + 1;
        let Some(len) = iw.checked_mul(p.ph + 1) else {
            return Err(DefectError::SizeOverflow { width, height });
        };
        integral.clear();
        integral.resize(len, 0);
        for j in 0..p.ph {
            let mut row_sum = 0u64;
            for i in 0..p.pw {
                row_sum += at(i, j);
                integral[(j + 1) * iw + i + 1] = integral[j * iw + i + 1] + row_sum;
            }
        }
        for j in 0..p.ph {
            let (j0, j1) = (j.saturating_sub(r), j.saturating_add(r + 1).min(p.ph));
            for i in 0..p.pw {
                let (i0, i1) = (i.saturating_sub(r), i.saturating_add(r + 1).min(p.pw));
                let count = ((i1 - i0) * (j1 - j0)) as u64 - 1;
                if count == 0 {
                    continue;
                }
                let v = at(i, j);
                let boxed = integral[j1 * iw + i1] + integral[j0 * iw + i0]
                    - integral[j0 * iw + i1]
                    - integral[j1 * iw + i0];
                let local = (boxed - v) as f64 / count as f64;
                if (v as f64) < params.weak_ratio * local {
                    push(&mut found, p.x0 + i * step, p.y0 + j * step);
                }
            }
        }
    }
    Ok(DefectList::from_vec(found))
}

/// Runs [`detect_hot`] on `dark` and [`detect_dead`] on `bright` (either may
/// be `None`) and merges the results.
pub fn detect<T: Sample>(
    layout: PixelLayout,
    width: usize,
    height: usize,
    dark: Option<&[T]>,
    bright: Option<&[T]>,
    params: &DetectParams,
) -> Result<DefectList, DefectError> {
    params.validate()?;
    let mut list = match dark {
        Some(d) => detect_hot(layout, width, height, d, params)?,
        None => DefectList::new(),
    };
    if let Some(b) = bright {
        list.merge(&detect_dead(layout, width, height, b, params)?);
    }
    Ok(list)
}

/// The samples `first, first + stride, …` of `row`.
#[inline]
fn plane_values<T: Sample>(
    row: &[T],
    first: usize,
    stride: usize,
) -> impl Iterator<Item = u32> + '_ {
    row.iter().skip(first).step_by(stride).map(|s| s.to_u32())
}

/// Records pixel (`x`, `y`); coordinates beyond `u32` cannot be listed and
/// are skipped.
fn push(found: &mut Vec<Defect>, x: usize, y: usize) {
    if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
        found.push(Defect { x, y });
    }
}
