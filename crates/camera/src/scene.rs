//! The scene: what the camera looks at.
//!
//! A [`Scene`] gives, for every pixel of the sensor, the relative radiance
//! reaching it in the colour channel the pixel sees (the colour filter array
//! applied), in linear light: 1.0 is the scene's white, values are ≥ 0. The
//! sensor model turns it into photons and electrons.
//!
//! # Scenes
//!
//! * [`Scene::synthetic`]: a moving, textured, coloured test scene (below).
//! * [`Scene::uniform`] / [`Scene::dark`]: the same radiance everywhere.
//! * [`Scene::from_file`] / [`Scene::from_folder`]: image files, one per
//!   frame, cycling.
//!
//! # Channels
//!
//! With a colour filter array `p`, sensor pixel (`x`, `y`) receives the
//! channel `p.channel_at(x, y)` of the scene's RGB radiance; on a
//! monochrome sensor it receives the luminance
//! `0.2126 R + 0.7152 G + 0.0722 B` (Rec. 709 / sRGB primaries).
//!
//! # The synthetic scene
//!
//! Lengths are in pixels; `W × H` is the sensor size, `S = min(W, H)`, and
//! `t` the time in seconds. Each pixel is evaluated at its centre
//! (`x + 0.5`, `y + 0.5`), so a window renders exactly the same values as
//! the same pixels of a full render. Layers, later ones on top:
//!
//! 1. **Background**: neutral grey rising from 0.05 at the top to 0.20 at
//!    the bottom.
//! 2. **Colour chart**: a 6 × 4 grid of Macbeth-like patches (the
//!    ColorChecker's published sRGB values, decoded to linear light), patch
//!    pitch `0.1 S`, on a black (0.03) body, centred on the sensor and
//!    rotating clockwise on screen (x right, y down) about the sensor centre
//!    at one revolution per minute. Each patch carries a fine texture
//!    attached to the chart: cells of `1/24` of the pitch whose brightness
//!    varies by up to ±8 % (a hash of the cell index).
//! 3. **Zone plate** (fixed): a disc of radius `R = 0.14 S` centred at
//!    (`0.16 S`, `0.16 S`), grey `0.5 + 0.45 cos(π r² / (2 R))`: its local
//!    frequency rises linearly from 0 at the centre to 0.5 cycles/pixel
//!    (the sensor's Nyquist limit; twice the Bayer red/blue limit) at the
//!    rim, so aliasing and demosaicing artefacts show as rings.
//! 4. **Line gratings** (fixed): a square of side `0.26 S` with its top-right
//!    corner at (`W − 0.02 S`, `0.02 S`), in four bands of bar periods 2, 3,
//!    4 and 6 pixels; vertical bars in the left half, horizontal bars in the
//!    right half; bars 0.9 and gaps 0.05.
//! 5. **Grey wedge** (fixed): eleven steps of radiance 0, 0.1, …, 1.0 across
//!    `0.05 W ≤ x < 0.95 W`, for `H − 0.1 S ≤ y < H − 0.02 S`.
//! 6. **Sweeping bar**: a white (1.0) vertical bar `0.03 W` wide, crossing
//!    the sensor from left to right every 5 s.
//!
//! Rendering is fast (a 5 Mpixel frame in a few milliseconds on two
//! cores) without changing any value:
//!
//! * The fixed layers that lie over the chart (zone plate, gratings, wedge)
//!   are grey, so they are the same for every colour filter array. They
//!   are evaluated once per sensor size, on first use, and kept as runs of
//!   covered pixels per row (about `0.2 S²` values: 3.6 MB for a
//!   2448 × 2048 sensor); a scene keeps those of the sensor size it rendered
//!   last. A frame copies them.
//! * The chart is drawn only over the columns of each row its rotated body
//!   can reach, in runs of pixels that share one look (the same patch and
//!   texture cell, or the body): along a row the chart coordinates are
//!   linear, so the columns where they cross a patch, gap or texture-cell
//!   edge are solved for, and one pixel per run is evaluated. Pixels within
//!   a rounding margin of an edge are evaluated alone, so every pixel keeps
//!   exactly the value of its own evaluation.
//! * The background and the sweeping bar are fills.
//! * Rows are rendered in parallel.
//!
//! # Image files
//!
//! Files are read with [`pixel::file::load`] (PNG, TIFF, BMP; 8- or 16-bit,
//! grey or RGB(A), alpha ignored). **8-bit samples are taken as sRGB** and
//! decoded with the sRGB transfer function (that is how 8-bit pictures are
//! encoded). **Samples of more than 8 bits are taken as linear**,
//! `v / (2^bits − 1)`: 16-bit files are in practice camera data or
//! scientific images, which are linear (the camera's own 10/12/16-bit saves
//! are raw sensor samples), and there is no common 16-bit sRGB convention
//! to follow. A mono or Bayer file is used as a grey image.
//!
//! The image is scaled to cover the sensor with its aspect ratio kept,
//! centred, the rest black. Resampling is separable: enlarging interpolates
//! bilinearly between source pixel centres (edge pixels repeated), reducing
//! averages the source pixels each sensor pixel covers, weighted by the
//! covered area (so reductions do not alias). A sensor pixel whose centre
//! falls outside the image is black.
//! The two columns and rows beyond the sensor's right and bottom edges
//! repeat the last column and row.
//!
//! The resampled planes are made once per image and sensor size, on first
//! use, and kept (up to 1 GiB per scene; beyond that the cache is
//! emptied and refilled), so rendering an image scene is a copy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pixel::demosaic::BayerPattern;
use pixel::file::{FileError, Image};
use pixel::format::PixelFormat;
use pixel::geometry::Roi;
use rayon::prelude::*;

/// Largest total size of the resampled image planes kept per scene, bytes.
const CACHE_BUDGET_BYTES: usize = 1 << 30;

/// Largest sensor the scene renders, in pixels (width × height).
const MAX_SENSOR_PIXELS: u64 = 1 << 28;

/// Pixels a render window may extend beyond the sensor's right and bottom
/// edges.
const MARGIN: usize = 2;

/// Luminance weights of R, G, B (Rec. 709).
const LUMA: [f32; 3] = [0.2126, 0.7152, 0.0722];

/// Errors of the scenes.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    /// An image file could not be read or decoded (the error names the file).
    #[error("scene image: {0}")]
    File(#[from] FileError),
    /// A folder could not be listed.
    #[error("{}: cannot list the folder: {source}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A folder holds no PNG, TIFF or BMP file.
    #[error("{}: the folder holds no image file (.png, .tif, .tiff, .bmp)", path.display())]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A file decoded to a pixel format the scene cannot use.
    #[error("{}: pixel format {format} cannot be used as a scene", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Its pixel format.
        format: PixelFormat,
    },
    /// A file holds an image with no pixels.
    #[error("{}: the image is empty ({width}x{height})", path.display())]
    EmptyImage {
        /// The file.
        path: PathBuf,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The sensor size is zero or too large.
    #[error("invalid sensor size {width}x{height}")]
    InvalidSensorSize {
        /// Sensor width.
        width: u32,
        /// Sensor height.
        height: u32,
    },
    /// The window reaches more than 2 pixels beyond the sensor.
    #[error(
        "window {}x{} at ({}, {}) exceeds the {sensor_width}x{sensor_height} sensor by more than 2 pixels",
        roi.width, roi.height, roi.x, roi.y
    )]
    WindowOutOfRange {
        /// The window.
        roi: Roi,
        /// Sensor width.
        sensor_width: u32,
        /// Sensor height.
        sensor_height: u32,
    },
    /// The output buffer does not hold exactly `roi.width × roi.height`
    /// values.
    #[error("output buffer has {actual} values, the window needs {needed}")]
    SizeMismatch {
        /// Values the window needs.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
}

/// What the camera looks at (see the [module documentation](self)).
pub struct Scene {
    kind: Kind,
}

enum Kind {
    Synthetic(Box<SyntheticTables>),
    Uniform(f32),
    Dark,
    Images(ImageSet),
}

impl std::fmt::Debug for Scene {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Scene").field(&self.describe()).finish()
    }
}

impl Scene {
    /// A moving, textured, coloured synthetic scene: a rotating colour
    /// chart, a sweeping bright bar, a zone plate, line gratings and a grey
    /// wedge (see the [module documentation](self)). Motion is a function of
    /// the time passed to [`render`](Self::render).
    pub fn synthetic() -> Scene {
        Scene {
            kind: Kind::Synthetic(Box::new(SyntheticTables::new())),
        }
    }

    /// A uniform field at `level` (relative radiance, e.g. 0.5), the same in
    /// every channel. Negative and non-finite levels give 0.
    pub fn uniform(level: f32) -> Scene {
        let level = if level.is_finite() && level > 0.0 {
            level
        } else {
            0.0
        };
        Scene {
            kind: Kind::Uniform(level),
        }
    }

    /// Darkness (radiance 0 everywhere).
    pub fn dark() -> Scene {
        Scene { kind: Kind::Dark }
    }

    /// An image file (PNG, TIFF or BMP through [`pixel::file::load`]; 8- or
    /// 16-bit, mono or RGB): 8-bit samples are decoded as sRGB, deeper ones
    /// taken as linear (see the [module documentation](self)), scaled to
    /// cover the sensor.
    pub fn from_file(path: &Path) -> Result<Scene, SceneError> {
        let source = Source::load(path)?;
        let label = format!("file {}", file_label(path));
        Ok(Scene {
            kind: Kind::Images(ImageSet::new(label, vec![source])),
        })
    }

    /// Every image file (`.png`, `.tif`, `.tiff`, `.bmp`, any case) of a
    /// folder, sorted by name, one per frame, cycling. Every file is decoded
    /// here; errors name the file. Other files are ignored.
    pub fn from_folder(path: &Path) -> Result<Scene, SceneError> {
        let folder_err = |source| SceneError::Folder {
            path: path.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(folder_err)? {
            let entry = entry.map_err(folder_err)?;
            let file = entry.path();
            let is_image = file
                .extension()
                .and_then(|e| e.to_str())
                .map(|e| {
                    matches!(
                        e.to_ascii_lowercase().as_str(),
                        "png" | "tif" | "tiff" | "bmp"
                    )
                })
                .unwrap_or(false);
            if is_image && file.is_file() {
                files.push(file);
            }
        }
        if files.is_empty() {
            return Err(SceneError::EmptyFolder {
                path: path.to_path_buf(),
            });
        }
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        let sources = files
            .iter()
            .map(|f| Source::load(f))
            .collect::<Result<Vec<_>, _>>()?;
        let label = format!("folder {} ({} images)", path.display(), sources.len());
        Ok(Scene {
            kind: Kind::Images(ImageSet::new(label, sources)),
        })
    }

    /// Whether successive frames are identical (uniform, dark, one image):
    /// the camera may then cache what it derives from the scene.
    pub fn is_static(&self) -> bool {
        match &self.kind {
            Kind::Synthetic(_) => false,
            Kind::Uniform(_) | Kind::Dark => true,
            Kind::Images(set) => set.sources.len() == 1,
        }
    }

    /// A short human-readable name ("synthetic", "uniform 0.50", "dark",
    /// "file foo.png", "folder …").
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Synthetic(_) => "synthetic".to_string(),
            Kind::Uniform(level) => format!("uniform {level:.2}"),
            Kind::Dark => "dark".to_string(),
            Kind::Images(set) => set.label.clone(),
        }
    }

    /// Renders the window `roi` of a sensor of `sensor_width` ×
    /// `sensor_height` pixels at time `t_us` (µs) for frame number `frame`
    /// into `out` (`roi.width × roi.height`, row-major, exactly that long).
    ///
    /// The window may extend up to 2 pixels beyond the sensor on the right
    /// and bottom; those pixels are rendered too. With `cfa = Some(p)` each
    /// pixel gets the channel `p.channel_at(x, y)` (sensor coordinates);
    /// with `None` (monochrome sensor) the luminance
    /// `0.2126 R + 0.7152 G + 0.0722 B`. The synthetic scene moves with
    /// `t_us`; a folder shows image `frame mod n`.
    #[allow(clippy::too_many_arguments)]
    pub fn render(
        &self,
        t_us: u64,
        frame: u64,
        sensor_width: u32,
        sensor_height: u32,
        roi: Roi,
        cfa: Option<BayerPattern>,
        out: &mut [f32],
    ) -> Result<(), SceneError> {
        let sensor_pixels = u64::from(sensor_width) * u64::from(sensor_height);
        if sensor_pixels == 0 || sensor_pixels > MAX_SENSOR_PIXELS {
            return Err(SceneError::InvalidSensorSize {
                width: sensor_width,
                height: sensor_height,
            });
        }
        let out_of_range = SceneError::WindowOutOfRange {
            roi,
            sensor_width,
            sensor_height,
        };
        let fits = |offset: usize, size: usize, limit: u32| {
            offset
                .checked_add(size)
                .is_some_and(|end| end <= limit as usize + MARGIN)
        };
        if !fits(roi.x, roi.width, sensor_width) || !fits(roi.y, roi.height, sensor_height) {
            return Err(out_of_range);
        }
        // The window lies within a sensor of at most 2^28 pixels plus margins,
        // so this product cannot overflow.
        let needed = roi.width * roi.height;
        if out.len() != needed {
            return Err(SceneError::SizeMismatch {
                needed,
                actual: out.len(),
            });
        }
        if needed == 0 {
            return Ok(());
        }
        match &self.kind {
            Kind::Uniform(level) => out.fill(*level),
            Kind::Dark => out.fill(0.0),
            Kind::Synthetic(tables) => {
                let fixed = tables.fixed_layers(sensor_width, sensor_height);
                let f = SyntheticFrame::new(tables, &fixed, t_us);
                out.par_chunks_mut(roi.width)
                    .enumerate()
                    .for_each(|(i, row)| f.render_row(roi.y + i, roi.x, cfa, row));
            }
            Kind::Images(set) => {
                let planes = set.planes(frame, sensor_width, sensor_height)?;
                out.par_chunks_mut(roi.width)
                    .enumerate()
                    .for_each(|(i, row)| planes.copy_row(roi.y + i, roi.x, cfa, row));
            }
        }
        Ok(())
    }
}

/// The channel index (0 R, 1 G, 2 B, 3 luminance) of the even and odd
/// columns of sensor row `y`.
#[inline]
fn row_channels(cfa: Option<BayerPattern>, y: usize) -> [usize; 2] {
    match cfa {
        Some(p) => [p.channel_at(0, y), p.channel_at(1, y)],
        None => [3, 3],
    }
}

/// `[R, G, B, luminance]` of an RGB triple.
fn with_luma([r, g, b]: [f32; 3]) -> [f32; 4] {
    [r, g, b, LUMA[0] * r + LUMA[1] * g + LUMA[2] * b]
}

/// The sRGB transfer function, 8-bit code → linear.
fn srgb_to_linear(code: u8) -> f32 {
    let v = f64::from(code) / 255.0;
    let l = if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    };
    l as f32
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

// ---------------------------------------------------------------------------
// The synthetic scene

/// Macbeth ColorChecker patches, sRGB 8-bit, row by row (dark skin …
/// black).
const CHART_SRGB: [[u8; 3]; 24] = [
    [115, 82, 68],
    [194, 150, 130],
    [98, 122, 157],
    [87, 108, 67],
    [133, 128, 177],
    [103, 189, 170],
    [214, 126, 44],
    [80, 91, 166],
    [193, 90, 99],
    [94, 60, 108],
    [157, 188, 64],
    [224, 163, 46],
    [56, 61, 150],
    [70, 148, 73],
    [175, 54, 60],
    [231, 199, 31],
    [187, 86, 149],
    [8, 133, 161],
    [243, 243, 242],
    [200, 200, 200],
    [160, 160, 160],
    [122, 122, 121],
    [85, 85, 85],
    [52, 52, 52],
];
/// Chart columns and rows.
const CHART_COLS: f32 = 6.0;
const CHART_ROWS: f32 = 4.0;
/// Patch pitch as a fraction of `S`.
const PATCH_PITCH: f32 = 0.1;
/// Black border of the chart body around the patches, in pitches.
const CHART_BORDER: f32 = 0.15;
/// Gap between patches: the part of each pitch at either side that is body.
const PATCH_GAP: f32 = 0.08;
/// Radiance of the chart body.
const CHART_BODY: f32 = 0.03;
/// Texture cells per patch pitch, and their brightness amplitude.
const TEXTURE_CELLS: f32 = 24.0;
const TEXTURE_AMPLITUDE: f32 = 0.08;
/// Seconds per chart revolution.
const ROTATION_PERIOD_S: f64 = 60.0;
/// Zone plate centre and radius, fractions of `S`.
const ZONE_CENTRE: f32 = 0.16;
const ZONE_RADIUS: f32 = 0.14;
/// Cosine table size of the zone plate (a power of two).
const COS_TABLE: usize = 4096;
/// Line gratings: side and margin (fractions of `S`), periods, levels.
const GRATING_SIDE: f32 = 0.26;
const GRATING_MARGIN: f32 = 0.02;
const GRATING_PERIODS: [usize; 4] = [2, 3, 4, 6];
const BAR_HIGH: f32 = 0.9;
const BAR_LOW: f32 = 0.05;
/// Grey wedge: steps, band top and bottom above the sensor's bottom edge
/// (fractions of `S`).
const WEDGE_STEPS: usize = 11;
const WEDGE_TOP: f32 = 0.1;
const WEDGE_BOTTOM: f32 = 0.02;
/// Sweeping bar: width (fraction of `W`), seconds per sweep, radiance.
const SWEEP_WIDTH: f32 = 0.03;
const SWEEP_PERIOD_S: f64 = 5.0;
const SWEEP_LEVEL: f32 = 1.0;
/// Background at the top and bottom of the sensor.
const BACKGROUND_TOP: f32 = 0.05;
const BACKGROUND_BOTTOM: f32 = 0.20;

/// Tables of the synthetic scene, made once, and the cache of its fixed
/// layers.
struct SyntheticTables {
    /// Linear `[R, G, B, luminance]` of every patch.
    patches: [[f32; 4]; 24],
    /// `0.5 + 0.45 cos(2π i / COS_TABLE)`.
    zone_cos: Vec<f32>,
    /// Brightness factor of every texture cell of the chart, row-major,
    /// `texture_cols` cells wide (see [`texture_factor`]).
    texture: Vec<f32>,
    texture_cols: usize,
    /// Edges of the chart's looks along U and V (see [`chart_edges`]).
    u_edges: Vec<f64>,
    v_edges: Vec<f64>,
    /// The fixed layers for the sensor size rendered last (see
    /// [`FixedLayers`]); replaced when the sensor size changes.
    fixed: Mutex<Option<Arc<FixedLayers>>>,
}

impl SyntheticTables {
    fn new() -> SyntheticTables {
        let patches = CHART_SRGB.map(|c| with_luma(c.map(srgb_to_linear)));
        let zone_cos = (0..COS_TABLE)
            .map(|i| {
                let phase = std::f64::consts::TAU * i as f64 / COS_TABLE as f64;
                (0.5 + 0.45 * phase.cos()) as f32
            })
            .collect();
        // Cells are counted from the chart body's corner; the patches end
        // before `CHART_COLS + CHART_BORDER` pitches.
        let texture_cols = ((CHART_COLS + CHART_BORDER) * TEXTURE_CELLS).ceil() as usize + 1;
        let texture_rows = ((CHART_ROWS + CHART_BORDER) * TEXTURE_CELLS).ceil() as usize + 1;
        let texture = (0..texture_rows)
            .flat_map(|v| (0..texture_cols).map(move |u| texture_factor(u as u32, v as u32)))
            .collect();
        SyntheticTables {
            patches,
            zone_cos,
            texture,
            texture_cols,
            u_edges: chart_edges(CHART_COLS as usize),
            v_edges: chart_edges(CHART_ROWS as usize),
            fixed: Mutex::new(None),
        }
    }

    /// The brightness factor of texture cell (`cell_u`, `cell_v`).
    #[inline(always)]
    fn texture_at(&self, cell_u: u32, cell_v: u32) -> f32 {
        let (u, v) = (cell_u as usize, cell_v as usize);
        if u < self.texture_cols {
            if let Some(&f) = self.texture.get(v * self.texture_cols + u) {
                return f;
            }
        }
        texture_factor(cell_u, cell_v)
    }

    /// The fixed layers of a `width × height` sensor, made on first use.
    ///
    /// The layers are made without holding the lock (making them uses the
    /// thread pool, which may be running other renders waiting for it).
    fn fixed_layers(&self, width: u32, height: u32) -> Arc<FixedLayers> {
        let lock = || match self.fixed.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(layers) = lock().as_ref() {
            if layers.layout.width == width && layers.layout.height == height {
                return Arc::clone(layers);
            }
        }
        let layers = Arc::new(FixedLayers::new(self, width, height));
        *lock() = Some(Arc::clone(&layers));
        layers
    }
}

/// Integer hash of a texture cell (a few multiply-xorshift rounds).
#[inline(always)]
fn hash2(a: u32, b: u32) -> u32 {
    let mut h = a.wrapping_mul(0x9E37_79B1) ^ b.wrapping_mul(0x85EB_CA77);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^ (h >> 15)
}

/// The brightness factor of a texture cell, `1 ± TEXTURE_AMPLITUDE`.
fn texture_factor(cell_u: u32, cell_v: u32) -> f32 {
    let noise = (hash2(cell_u, cell_v) >> 8) as f32 * (1.0 / 16_777_216.0);
    1.0 + TEXTURE_AMPLITUDE * (2.0 * noise - 1.0)
}

/// A half-open pixel range `[start, end)` clipped to `0..limit`.
fn clip_range(start: f32, end: f32, limit: usize) -> (usize, usize) {
    let clip = |v: f32| {
        if v.is_nan() || v <= 0.0 {
            0
        } else {
            (v.ceil() as usize).min(limit)
        }
    };
    (clip(start), clip(end))
}

/// Where the layers of the synthetic scene lie on one sensor size.
struct Layout {
    /// Sensor size.
    width: u32,
    height: u32,
    /// Sensor centre (the chart's centre of rotation).
    cx: f32,
    cy: f32,
    /// Chart patch pitch.
    pitch: f32,
    /// Zone plate centre, radius, and the phase scale in table steps per px².
    zx: f32,
    zy: f32,
    zr: f32,
    zone_scale: f32,
    /// Grating square.
    gx0: f32,
    gy0: f32,
    gside: f32,
    /// Wedge rows and columns.
    wedge_y: (f32, f32),
    wedge_x: (f32, f32),
}

impl Layout {
    fn new(width: u32, height: u32) -> Layout {
        let (w, h) = (width as f32, height as f32);
        let s = w.min(h);
        let zr = ZONE_RADIUS * s;
        let gside = GRATING_SIDE * s;
        Layout {
            width,
            height,
            cx: 0.5 * w,
            cy: 0.5 * h,
            pitch: PATCH_PITCH * s,
            zx: ZONE_CENTRE * s,
            zy: ZONE_CENTRE * s,
            zr,
            // Phase π r² / (2R) in table steps of 2π / COS_TABLE.
            zone_scale: COS_TABLE as f32 / (4.0 * zr),
            gx0: w - GRATING_MARGIN * s - gside,
            gy0: GRATING_MARGIN * s,
            gside,
            wedge_y: (h - WEDGE_TOP * s, h - WEDGE_BOTTOM * s),
            wedge_x: (0.05 * w, 0.95 * w),
        }
    }

    /// The background radiance of row `y`.
    fn background(&self, y: usize) -> f32 {
        let yc = y as f32 + 0.5;
        BACKGROUND_TOP + (BACKGROUND_BOTTOM - BACKGROUND_TOP) * (yc / self.height as f32).min(1.0)
    }

    /// Draws the fixed layers that lie over the chart (zone plate, gratings,
    /// grey wedge, in that order) on sensor row `y`, columns
    /// `0 .. row.len()`; pixels they do not cover are left untouched.
    fn draw_fixed_layers(&self, tables: &SyntheticTables, y: usize, row: &mut [Option<f32>]) {
        let n = row.len();
        let yc = y as f32 + 0.5;
        let columns = |(a, b): (f32, f32)| clip_range(a - 0.5, b - 0.5, n);

        // Zone plate.
        let zdy = yc - self.zy;
        if zdy.abs() < self.zr {
            let half = (self.zr * self.zr - zdy * zdy).sqrt();
            let (a, b) = columns((self.zx - half, self.zx + half));
            let zdy2 = zdy * zdy;
            for (x, o) in row.iter_mut().enumerate().take(b).skip(a) {
                let zdx = x as f32 + 0.5 - self.zx;
                let r2 = zdx * zdx + zdy2;
                let step = (r2 * self.zone_scale) as u32 as usize & (COS_TABLE - 1);
                *o = Some(tables.zone_cos.get(step).copied().unwrap_or(0.5));
            }
        }

        // Line gratings: vertical bars left, horizontal bars right.
        let gy = yc - self.gy0;
        if (0.0..self.gside).contains(&gy) {
            let band = ((gy / self.gside * 4.0) as usize).min(3);
            let period = GRATING_PERIODS[band];
            let level = |phase: usize| {
                if 2 * phase < period {
                    BAR_HIGH
                } else {
                    BAR_LOW
                }
            };
            let mid = self.gx0 + 0.5 * self.gside;
            let (a, m) = columns((self.gx0, mid));
            for (x, o) in row.iter_mut().enumerate().take(m).skip(a) {
                let phase = (x as f32 + 0.5 - self.gx0) as usize % period;
                *o = Some(level(phase));
            }
            let (m, b) = columns((mid, self.gx0 + self.gside));
            let value = level(gy as usize % period);
            for o in row.iter_mut().take(b).skip(m) {
                *o = Some(value);
            }
        }

        // Grey wedge.
        if (self.wedge_y.0..self.wedge_y.1).contains(&yc) {
            let (x_start, x_end) = self.wedge_x;
            let step_w = (x_end - x_start) / WEDGE_STEPS as f32;
            let (a, b) = columns(self.wedge_x);
            for (x, o) in row.iter_mut().enumerate().take(b).skip(a) {
                let k = ((x as f32 + 0.5 - x_start) / step_w) as usize;
                *o = Some(k.min(WEDGE_STEPS - 1) as f32 / (WEDGE_STEPS - 1) as f32);
            }
        }
    }
}

/// A run of consecutive pixels of one sensor row covered by a fixed layer.
struct Span {
    /// Sensor column of the first pixel.
    x: usize,
    /// Radiance of each pixel (grey: the same in every channel).
    values: Vec<f32>,
}

/// The fixed layers that lie over the rotating chart (zone plate, line
/// gratings, grey wedge) rendered once for one sensor size, rows and
/// columns `0 .. size + 2`, as runs of covered pixels per row.
///
/// These layers are grey, so one copy serves every colour filter array and
/// monochrome. They hold one value per covered pixel (about 0.2 S² values:
/// some 3.5 MB for a 2448 × 2048 sensor) plus a few runs per row; a scene
/// keeps only the layers of the sensor size it rendered last.
struct FixedLayers {
    layout: Layout,
    /// The runs of every sensor row, left to right.
    rows: Vec<Vec<Span>>,
}

impl FixedLayers {
    fn new(tables: &SyntheticTables, width: u32, height: u32) -> FixedLayers {
        let layout = Layout::new(width, height);
        let columns = width as usize + MARGIN;
        let rows = (0..height as usize + MARGIN)
            .into_par_iter()
            .map(|y| {
                let mut row = vec![None; columns];
                layout.draw_fixed_layers(tables, y, &mut row);
                let mut spans: Vec<Span> = Vec::new();
                let mut open = false;
                for (x, value) in row.iter().enumerate() {
                    match (value, spans.last_mut()) {
                        (Some(v), Some(span)) if open => span.values.push(*v),
                        (Some(v), _) => {
                            spans.push(Span {
                                x,
                                values: vec![*v],
                            });
                            open = true;
                        }
                        (None, _) => open = false,
                    }
                }
                spans
            })
            .collect();
        FixedLayers { layout, rows }
    }

    /// Copies the covered pixels of sensor row `y`, columns
    /// `x0 .. x0 + row.len()`, into `row`.
    fn draw_row(&self, y: usize, x0: usize, row: &mut [f32]) {
        let Some(spans) = self.rows.get(y) else {
            return;
        };
        let x1 = x0 + row.len();
        for span in spans {
            let start = span.x.max(x0);
            let end = (span.x + span.values.len()).min(x1);
            if start >= end {
                continue;
            }
            if let (Some(dst), Some(src)) = (
                row.get_mut(start - x0..end - x0),
                span.values.get(start - span.x..end - span.x),
            ) {
                dst.copy_from_slice(src);
            }
        }
    }

    /// Total bytes of the cached values.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        let values: usize = self.rows.iter().flatten().map(|s| s.values.len()).sum();
        values * std::mem::size_of::<f32>()
    }
}

/// What the chart shows at a pixel.
#[derive(Clone, Copy)]
enum ChartLook {
    /// The black body around and between the patches.
    Body,
    /// Patch `index` (row by row), brightness scaled by `texture`.
    Patch { index: usize, texture: f32 },
}

/// The chart values along one axis (U or V, in pitches) at which the look
/// of a pixel can change: the body's and the patch area's edges, the gap
/// edges of every patch and the texture cell edges; sorted.
fn chart_edges(patches: usize) -> Vec<f64> {
    let border = f64::from(CHART_BORDER);
    let count = patches as f64;
    let mut edges = vec![-border, 0.0, count, count + border];
    for k in 0..patches {
        let k = k as f64;
        edges.push(k);
        edges.push(k + f64::from(PATCH_GAP));
        edges.push(k + f64::from(1.0 - PATCH_GAP));
    }
    // Texture cell c starts where (U + B) · cells = c.
    let cells = ((count + 2.0 * border) * f64::from(TEXTURE_CELLS)).ceil() as usize + 1;
    for c in 0..=cells {
        edges.push(c as f64 / f64::from(TEXTURE_CELLS) - border);
    }
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    edges
}

/// One chart coordinate along a sensor row, `base + slope · xc` at pixel
/// centre `xc`, and where runs of pixels with the same chart look end.
///
/// The look of a pixel is decided by its `f32` coordinates; those differ
/// from the exact line by a few units of their last place. A pixel whose
/// exact coordinate lies farther than `slack` (far beyond that rounding)
/// from every edge of [`chart_edges`] therefore looks like every other such
/// pixel between the same two edges, so a run that starts at a pixel and
/// stops `slack` short of the next edge has one look.
struct ChartAxis<'a> {
    base: f64,
    slope: f64,
    inv_slope: f64,
    slack: f64,
    edges: &'a [f64],
    /// Moving right: the index of the first edge beyond the coordinate less
    /// the slack; moving left: the number of edges below the coordinate
    /// plus the slack. Pixels are visited left to right, so it only
    /// moves one way.
    next: usize,
}

impl<'a> ChartAxis<'a> {
    /// The axis of a row, for pixels visited from column `x_start` on;
    /// `columns` is the width the row may reach.
    fn new(base: f32, slope: f32, columns: f64, edges: &'a [f64], x_start: usize) -> Self {
        let (base, slope) = (f64::from(base), f64::from(slope));
        // 2⁻¹⁶ of the largest magnitude the f32 evaluation meets: over 100
        // times its rounding error.
        let slack = (base.abs() + slope.abs() * columns + 8.0) / 65_536.0;
        let value = base + slope * (x_start as f64 + 0.5);
        let next = if slope > 0.0 {
            edges.partition_point(|&e| e <= value - slack)
        } else {
            edges.partition_point(|&e| e < value + slack)
        };
        ChartAxis {
            base,
            slope,
            inv_slope: 1.0 / slope,
            slack,
            edges,
            next,
        }
    }

    /// The first column after `x` whose coordinate may lie across an edge
    /// from the coordinate of `x` (or `usize::MAX` if none). Calls must come
    /// with non-decreasing `x`.
    #[inline]
    fn run_end(&mut self, x: usize) -> usize {
        if self.slope == 0.0 {
            return usize::MAX;
        }
        let value = self.base + self.slope * (x as f64 + 0.5);
        let stop = if self.slope > 0.0 {
            while self
                .edges
                .get(self.next)
                .is_some_and(|&e| e <= value - self.slack)
            {
                self.next += 1;
            }
            match self.edges.get(self.next) {
                Some(edge) => edge - self.slack,
                None => return usize::MAX,
            }
        } else {
            while self.next > 0
                && self
                    .edges
                    .get(self.next - 1)
                    .is_some_and(|&e| e >= value + self.slack)
            {
                self.next -= 1;
            }
            match self.next.checked_sub(1).and_then(|i| self.edges.get(i)) {
                Some(edge) => edge + self.slack,
                None => return usize::MAX,
            }
        };
        // Pixels whose centre lies before the stop, `xc < limit`.
        let limit = (stop - self.base) * self.inv_slope - 0.5;
        if limit.is_nan() {
            return x + 1;
        }
        // Rounded up; the conversions saturate (rows are far shorter than
        // i64::MAX, and negative values give 0).
        let whole = limit as i64;
        let up = if (whole as f64) < limit {
            whole.saturating_add(1)
        } else {
            whole
        };
        usize::try_from(up.max(0)).unwrap_or(usize::MAX)
    }
}

/// The synthetic scene at one instant for one sensor size.
struct SyntheticFrame<'a> {
    tables: &'a SyntheticTables,
    fixed: &'a FixedLayers,
    /// Rotation of the chart: chart coordinates in pitches are
    /// `U = (cos·dx + sin·dy) / pitch + 3`, `V = (−sin·dx + cos·dy) / pitch + 2`.
    cos_p: f32,
    sin_p: f32,
    /// Sweeping bar columns.
    sweep_x: (f32, f32),
}

impl<'a> SyntheticFrame<'a> {
    fn new(tables: &'a SyntheticTables, fixed: &'a FixedLayers, t_us: u64) -> Self {
        let layout = &fixed.layout;
        let w = layout.width as f32;
        let t = t_us as f64 * 1e-6;
        let angle = std::f64::consts::TAU * (t / ROTATION_PERIOD_S).fract();
        let (sin, cos) = angle.sin_cos();
        let sweep_w = SWEEP_WIDTH * w;
        let sweep_x0 = (t / SWEEP_PERIOD_S).fract() as f32 * (w + sweep_w) - sweep_w;
        SyntheticFrame {
            tables,
            fixed,
            cos_p: cos as f32 / layout.pitch,
            sin_p: sin as f32 / layout.pitch,
            sweep_x: (sweep_x0, sweep_x0 + sweep_w),
        }
    }

    /// Chart coordinates `(U, V)` at column 0 of the row whose centre is
    /// `dy` below the sensor centre, extrapolated to `xc = 0`: at pixel
    /// centre `xc`, `U = u_base + cos_p·xc` and `V = v_base − sin_p·xc`.
    fn chart_bases(&self, dy: f32) -> (f32, f32) {
        let cx = self.fixed.layout.cx;
        let u_base = self.sin_p * dy - self.cos_p * cx + CHART_COLS * 0.5;
        let v_base = self.cos_p * dy + self.sin_p * cx + CHART_ROWS * 0.5;
        (u_base, v_base)
    }

    /// The sensor columns `[a, b)` of a row with chart bases `(u_base,
    /// v_base)` outside of which no pixel centre lies on the chart body.
    ///
    /// The chart body is `−B ≤ U < 6 + B`, `−B ≤ V < 4 + B`; with `U` and
    /// `V` linear in `x` that is an interval of `x`, solved here in `f64`
    /// with the body widened by 10⁻³ pitch (far beyond the rounding of the
    /// per-pixel `f32` evaluation) and the columns widened by 2 pixels, so
    /// the per-pixel test alone decides which pixels are on the chart.
    fn chart_columns(&self, u_base: f32, v_base: f32) -> (usize, usize) {
        const SLACK: f64 = 1e-3;
        let limit = (self.fixed.layout.width as usize + MARGIN) as f64;
        let border = f64::from(CHART_BORDER);
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        for (base, slope, extent) in [
            (u_base, self.cos_p, CHART_COLS),
            (v_base, -self.sin_p, CHART_ROWS),
        ] {
            let (base, slope) = (f64::from(base), f64::from(slope));
            let (min, max) = (-border - SLACK, f64::from(extent) + border + SLACK);
            if slope == 0.0 {
                if base < min || base > max {
                    return (0, 0);
                }
            } else {
                let (p, q) = ((min - base) / slope, (max - base) / slope);
                lo = lo.max(p.min(q));
                hi = hi.min(p.max(q));
            }
        }
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return (0, 0);
        }
        // Pixel x has its centre at x + 0.5.
        let a = ((lo - 0.5).floor() - 2.0).clamp(0.0, limit);
        let b = ((hi - 0.5).ceil() + 2.0).clamp(0.0, limit);
        (a as usize, b as usize)
    }

    /// What the chart shows at sensor column `x` of the row with chart
    /// bases `(u_base, v_base)`: nothing (off the chart), its body, or a
    /// patch with its texture factor.
    #[inline(always)]
    fn chart_look(&self, x: usize, u_base: f32, v_base: f32) -> Option<ChartLook> {
        let xc = x as f32 + 0.5;
        let u = u_base + self.cos_p * xc;
        let v = v_base - self.sin_p * xc;
        if !(-CHART_BORDER..CHART_COLS + CHART_BORDER).contains(&u)
            || !(-CHART_BORDER..CHART_ROWS + CHART_BORDER).contains(&v)
        {
            return None;
        }
        if (0.0..CHART_COLS).contains(&u) && (0.0..CHART_ROWS).contains(&v) {
            let (col, line) = (u as usize, v as usize);
            let (fu, fv) = (u - col as f32, v - line as f32);
            if (PATCH_GAP..1.0 - PATCH_GAP).contains(&fu)
                && (PATCH_GAP..1.0 - PATCH_GAP).contains(&fv)
            {
                let cell_u = ((u + CHART_BORDER) * TEXTURE_CELLS) as u32;
                let cell_v = ((v + CHART_BORDER) * TEXTURE_CELLS) as u32;
                return Some(ChartLook::Patch {
                    index: line * 6 + col,
                    texture: self.tables.texture_at(cell_u, cell_v),
                });
            }
        }
        Some(ChartLook::Body)
    }

    /// Renders sensor row `y`, columns `x0 .. x0 + row.len()`.
    fn render_row(&self, y: usize, x0: usize, cfa: Option<BayerPattern>, row: &mut [f32]) {
        let ch = row_channels(cfa, y);
        let n = row.len();
        let layout = &self.fixed.layout;

        // 1. Background.
        row.fill(layout.background(y));

        // 2. Colour chart, over the columns its body may reach, run by run.
        let dy = y as f32 + 0.5 - layout.cy;
        let (u_base, v_base) = self.chart_bases(dy);
        let (a, b) = self.chart_columns(u_base, v_base);
        let (a, b) = (a.max(x0), b.min(x0 + n));
        let limit = (layout.width as usize + MARGIN) as f64;
        let mut u_axis = ChartAxis::new(u_base, self.cos_p, limit, &self.tables.u_edges, a);
        let mut v_axis = ChartAxis::new(v_base, -self.sin_p, limit, &self.tables.v_edges, a);
        // Where each axis's current run ends: it holds for every pixel up to
        // there, so it is recomputed only once reached.
        let (mut u_end, mut v_end) = (a, a);
        let mut x = a;
        while x < b {
            if x >= u_end {
                u_end = u_axis.run_end(x).max(x + 1);
            }
            if x >= v_end {
                v_end = v_axis.run_end(x).max(x + 1);
            }
            let end = u_end.min(v_end).min(b);
            if let Some(look) = self.chart_look(x, u_base, v_base) {
                let values = match look {
                    ChartLook::Body => [CHART_BODY; 2],
                    ChartLook::Patch { index, texture } => {
                        let patch = &self.tables.patches[index.min(23)];
                        [patch[ch[0]] * texture, patch[ch[1]] * texture]
                    }
                };
                if let Some(run) = row.get_mut(x - x0..end - x0) {
                    for (i, o) in run.iter_mut().enumerate() {
                        *o = values[(x + i) & 1];
                    }
                }
            }
            x = end;
        }

        // 3.–5. Zone plate, gratings, grey wedge (cached).
        self.fixed.draw_row(y, x0, row);

        // 6. Sweeping bar.
        let (a, b) = clip_range(
            self.sweep_x.0 - x0 as f32 - 0.5,
            self.sweep_x.1 - x0 as f32 - 0.5,
            n,
        );
        row[a..b.max(a)].fill(SWEEP_LEVEL);
    }
}

// ---------------------------------------------------------------------------
// Image scenes

/// One decoded image file.
struct Source {
    path: PathBuf,
    image: Image,
}

impl Source {
    fn load(path: &Path) -> Result<Source, SceneError> {
        let image = pixel::file::load(path)?;
        let format = image.format();
        let usable = format.is_single_sample()
            || matches!(
                format,
                PixelFormat::RGB8 | PixelFormat::BGR8 | PixelFormat::RGBa8 | PixelFormat::BGRa8
            );
        if !usable {
            return Err(SceneError::UnsupportedFormat {
                path: path.to_path_buf(),
                format,
            });
        }
        if image.width() == 0 || image.height() == 0 {
            return Err(SceneError::EmptyImage {
                path: path.to_path_buf(),
                width: image.width(),
                height: image.height(),
            });
        }
        Ok(Source {
            path: path.to_path_buf(),
            image,
        })
    }

    /// The image as linear RGB, row-major.
    fn linear_rgb(&self) -> Result<Vec<[f32; 3]>, SceneError> {
        let image = &self.image;
        let format = image.format();
        let (w, h) = (image.width() as usize, image.height() as usize);
        let srgb: Vec<f32> = (0..=255u8).map(srgb_to_linear).collect();
        let decode8 = |c: u8| srgb[c as usize];
        let unsupported = || SceneError::UnsupportedFormat {
            path: self.path.clone(),
            format,
        };
        let rgb = match format {
            PixelFormat::RGB8 | PixelFormat::BGR8 | PixelFormat::RGBa8 | PixelFormat::BGRa8 => {
                let step = format.channels() as usize;
                let bgr = matches!(format, PixelFormat::BGR8 | PixelFormat::BGRa8);
                image
                    .data()
                    .chunks_exact(step)
                    .map(|px| {
                        let (r, g, b) = if bgr {
                            (px[2], px[1], px[0])
                        } else {
                            (px[0], px[1], px[2])
                        };
                        [decode8(r), decode8(g), decode8(b)]
                    })
                    .collect()
            }
            f if f.is_single_sample() => {
                let mut samples = vec![0u16; w * h];
                pixel::pack::unpack_to_u16(f, w, h, image.data(), &mut samples)
                    .map_err(|_| unsupported())?;
                let bits = f.pixel_bits();
                if bits <= 8 {
                    samples
                        .iter()
                        .map(|&v| [decode8(v.min(255) as u8); 3])
                        .collect()
                } else {
                    let scale = 1.0 / ((1u32 << bits.min(16)) - 1) as f32;
                    samples.iter().map(|&v| [v as f32 * scale; 3]).collect()
                }
            }
            _ => return Err(unsupported()),
        };
        Ok(rgb)
    }
}

/// The images of a file or folder scene and their resampled planes.
struct ImageSet {
    label: String,
    sources: Vec<Source>,
    cache: Mutex<HashMap<(u32, u32, usize), Arc<Planes>>>,
}

impl ImageSet {
    fn new(label: String, sources: Vec<Source>) -> ImageSet {
        ImageSet {
            label,
            sources,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The planes of the image for `frame` on a `width × height` sensor,
    /// resampled on first use.
    fn planes(&self, frame: u64, width: u32, height: u32) -> Result<Arc<Planes>, SceneError> {
        let n = self.sources.len().max(1) as u64;
        let index = (frame % n) as usize;
        let key = (width, height, index);
        let mut cache = match self.cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(p) = cache.get(&key) {
            return Ok(Arc::clone(p));
        }
        let Some(source) = self.sources.get(index) else {
            return Err(SceneError::EmptyFolder {
                path: PathBuf::new(),
            });
        };
        let planes = Arc::new(Planes::resample(source, width, height)?);
        let used: usize = cache.values().map(|p| p.bytes()).sum();
        if used + planes.bytes() > CACHE_BUDGET_BYTES {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&planes));
        Ok(planes)
    }
}

/// An image resampled to a sensor: R, G, B and luminance planes of
/// `(sensor width + 2) × (sensor height + 2)` values.
struct Planes {
    stride: usize,
    rows: usize,
    channels: [Vec<f32>; 4],
}

/// The source samples contributing to one output pixel along one axis.
type Taps = Vec<(usize, f32)>;

/// Resampling taps of the `out_len` output pixels (the last `MARGIN`
/// repeat the one before them) for a source of `src_len` pixels placed at
/// `offset` with `scale` output pixels per source pixel; `covered` output
/// pixels belong to the sensor. Enlarging interpolates linearly between the
/// two nearest source pixels; reducing weights every source pixel by the
/// length of it that the output pixel covers.
fn axis_taps(src_len: usize, covered: usize, out_len: usize, scale: f64, offset: f64) -> Vec<Taps> {
    let mut all: Vec<Taps> = Vec::with_capacity(out_len);
    let last = src_len.saturating_sub(1);
    for d in 0..out_len {
        if d >= covered {
            let previous = all.last().cloned().unwrap_or_default();
            all.push(previous);
            continue;
        }
        let s = (d as f64 + 0.5 - offset) / scale;
        if src_len == 0 || s < 0.0 || s >= src_len as f64 {
            all.push(Vec::new());
            continue;
        }
        let mut taps: Taps = if scale >= 1.0 {
            // Linear interpolation between the pixel centres around s.
            let centre = s - 0.5;
            let i0 = centre.floor();
            let frac = (centre - i0) as f32;
            let clamp = |i: f64| i.clamp(0.0, last as f64) as usize;
            vec![(clamp(i0), 1.0 - frac), (clamp(i0 + 1.0), frac)]
        } else {
            // The source interval the output pixel covers, clipped to the image.
            let s0 = ((d as f64 - offset) / scale).max(0.0);
            let s1 = ((d as f64 + 1.0 - offset) / scale).min(src_len as f64);
            let first = s0.floor() as usize;
            let end = (s1.ceil() as usize).min(src_len);
            (first..end)
                .filter_map(|i| {
                    let overlap = s1.min(i as f64 + 1.0) - s0.max(i as f64);
                    (overlap > 0.0).then_some((i, overlap as f32))
                })
                .collect()
        };
        let sum: f32 = taps.iter().map(|t| t.1).sum();
        if sum > 0.0 {
            for t in &mut taps {
                t.1 /= sum;
            }
        } else {
            taps = vec![((s as usize).min(last), 1.0)];
        }
        all.push(taps);
    }
    all
}

impl Planes {
    fn resample(source: &Source, width: u32, height: u32) -> Result<Planes, SceneError> {
        let rgb = source.linear_rgb()?;
        let (iw, ih) = (
            source.image.width() as usize,
            source.image.height() as usize,
        );
        let (sw, sh) = (width as usize, height as usize);
        let scale = (sw as f64 / iw as f64).min(sh as f64 / ih as f64);
        let ox = (sw as f64 - iw as f64 * scale) * 0.5;
        let oy = (sh as f64 - ih as f64 * scale) * 0.5;
        let (stride, rows) = (sw + MARGIN, sh + MARGIN);
        let col_taps = axis_taps(iw, sw, stride, scale, ox);
        let row_taps = axis_taps(ih, sh, rows, scale, oy);

        // Horizontal pass: every source row to `stride` columns.
        let mut wide = vec![[0f32; 3]; stride * ih];
        wide.par_chunks_mut(stride)
            .zip(rgb.par_chunks(iw))
            .for_each(|(dst, src)| {
                for (d, taps) in dst.iter_mut().zip(&col_taps) {
                    let mut acc = [0f32; 3];
                    for &(i, w) in taps {
                        if let Some(p) = src.get(i) {
                            for c in 0..3 {
                                acc[c] += p[c] * w;
                            }
                        }
                    }
                    *d = acc;
                }
            });
        drop(rgb);

        // Vertical pass, then split into planes with the luminance.
        let mut interleaved = vec![[0f32; 4]; stride * rows];
        interleaved
            .par_chunks_mut(stride)
            .zip(row_taps.par_iter())
            .for_each(|(dst, taps)| {
                let mut acc = vec![[0f32; 3]; stride];
                for &(i, w) in taps {
                    if let Some(src) = wide.get(i * stride..(i + 1) * stride) {
                        for (a, p) in acc.iter_mut().zip(src) {
                            for c in 0..3 {
                                a[c] += p[c] * w;
                            }
                        }
                    }
                }
                for (d, a) in dst.iter_mut().zip(acc) {
                    *d = with_luma(a);
                }
            });
        let channels = [0, 1, 2, 3].map(|c| interleaved.iter().map(|p| p[c]).collect());
        Ok(Planes {
            stride,
            rows,
            channels,
        })
    }

    fn bytes(&self) -> usize {
        4 * self.stride * self.rows * std::mem::size_of::<f32>()
    }

    /// Copies sensor row `y`, columns `x0 .. x0 + row.len()`.
    fn copy_row(&self, y: usize, x0: usize, cfa: Option<BayerPattern>, row: &mut [f32]) {
        let ch = row_channels(cfa, y);
        let start = y * self.stride + x0;
        let end = start + row.len();
        let (Some(even), Some(odd)) = (
            self.channels[ch[0]].get(start..end),
            self.channels[ch[1]].get(start..end),
        ) else {
            row.fill(0.0);
            return;
        };
        if ch[0] == ch[1] {
            row.copy_from_slice(even);
            return;
        }
        for (i, o) in row.iter_mut().enumerate() {
            *o = if (x0 + i) & 1 == 0 { even[i] } else { odd[i] };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn full(w: u32, h: u32) -> Roi {
        Roi {
            x: 0,
            y: 0,
            width: w as usize,
            height: h as usize,
        }
    }

    fn draw(
        scene: &Scene,
        t_us: u64,
        frame: u64,
        w: u32,
        h: u32,
        roi: Roi,
        cfa: Option<BayerPattern>,
    ) -> Vec<f32> {
        let mut out = vec![f32::NAN; roi.width * roi.height];
        scene
            .render(t_us, frame, w, h, roi, cfa, &mut out)
            .expect("render");
        out
    }

    /// A scratch folder for the test `name`, empty.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mvcam-scene-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn save_rgb8(path: &Path, w: u32, h: u32, data: Vec<u8>) {
        let image = Image::new(PixelFormat::RGB8, w, h, data).expect("image");
        pixel::file::save(&image, path).expect("save");
    }

    fn save_mono16(path: &Path, w: u32, h: u32, samples: &[u16]) {
        let data = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
        let image = Image::new(PixelFormat::Mono16, w, h, data).expect("image");
        pixel::file::save(&image, path).expect("save");
    }

    #[test]
    fn uniform_and_dark() {
        let u = Scene::uniform(0.5);
        assert!(u.is_static());
        assert_eq!(u.describe(), "uniform 0.50");
        for cfa in [None, Some(BayerPattern::RG), Some(BayerPattern::GB)] {
            let roi = Roi {
                x: 3,
                y: 5,
                width: 9,
                height: 4,
            };
            assert!(draw(&u, 7, 1, 10, 8, roi, cfa).iter().all(|&v| v == 0.5));
            let d = draw(&Scene::dark(), 7, 1, 10, 8, roi, cfa);
            assert!(d.iter().all(|&v| v == 0.0));
        }
        assert!(Scene::dark().is_static());
        assert_eq!(Scene::dark().describe(), "dark");
        for bad in [-1.0, f32::NAN, f32::INFINITY] {
            let s = Scene::uniform(bad);
            assert!(draw(&s, 0, 0, 4, 4, full(4, 4), None)
                .iter()
                .all(|&v| v == 0.0));
        }
    }

    #[test]
    fn render_checks_window_and_buffer() {
        let s = Scene::synthetic();
        let mut out = vec![0.0; 12 * 10];
        // The window may reach 2 pixels beyond the sensor, not 3.
        let ok = Roi {
            x: 0,
            y: 0,
            width: 12,
            height: 10,
        };
        s.render(0, 0, 10, 8, ok, None, &mut out)
            .expect("margin allowed");
        assert!(out.iter().all(|v| v.is_finite() && *v >= 0.0));
        let wide = Roi { width: 13, ..ok };
        let mut out13 = vec![0.0; 13 * 10];
        assert!(matches!(
            s.render(0, 0, 10, 8, wide, None, &mut out13),
            Err(SceneError::WindowOutOfRange { .. })
        ));
        let shifted = Roi { x: 1, ..ok };
        assert!(matches!(
            s.render(0, 0, 10, 8, shifted, None, &mut out),
            Err(SceneError::WindowOutOfRange { .. })
        ));
        let huge = Roi {
            x: usize::MAX,
            y: 0,
            width: 2,
            height: 1,
        };
        assert!(matches!(
            s.render(0, 0, 10, 8, huge, None, &mut [0.0; 2]),
            Err(SceneError::WindowOutOfRange { .. })
        ));
        let err = s
            .render(0, 0, 10, 8, ok, None, &mut out[..119])
            .unwrap_err();
        assert!(matches!(
            err,
            SceneError::SizeMismatch {
                needed: 120,
                actual: 119
            }
        ));
        assert!(err.to_string().contains("120"));
        for (w, h) in [(0, 8), (10, 0), (u32::MAX, u32::MAX)] {
            assert!(matches!(
                Scene::uniform(1.0).render(0, 0, w, h, Roi::default(), None, &mut []),
                Err(SceneError::InvalidSensorSize { .. })
            ));
        }
    }

    #[test]
    fn synthetic_windows_equal_the_full_render() {
        let s = Scene::synthetic();
        assert!(!s.is_static());
        assert_eq!(s.describe(), "synthetic");
        let (w, h) = (480u32, 360u32);
        for t in [0u64, 1_234_567, 17_000_000] {
            for cfa in [None, Some(BayerPattern::RG), Some(BayerPattern::GB)] {
                let whole = draw(
                    &s,
                    t,
                    0,
                    w,
                    h,
                    Roi {
                        x: 0,
                        y: 0,
                        width: 482,
                        height: 362,
                    },
                    cfa,
                );
                assert!(whole.iter().all(|v| v.is_finite() && *v >= 0.0));
                for roi in [
                    Roi {
                        x: 0,
                        y: 0,
                        width: 17,
                        height: 9,
                    },
                    Roi {
                        x: 101,
                        y: 33,
                        width: 200,
                        height: 150,
                    },
                    Roi {
                        x: 470,
                        y: 350,
                        width: 12,
                        height: 12,
                    },
                    Roi {
                        x: 7,
                        y: 300,
                        width: 473,
                        height: 1,
                    },
                ] {
                    let win = draw(&s, t, 0, w, h, roi, cfa);
                    for y in 0..roi.height {
                        for x in 0..roi.width {
                            assert_eq!(
                                win[y * roi.width + x],
                                whole[(roi.y + y) * 482 + roi.x + x],
                                "t {t} {cfa:?} {roi:?} ({x}, {y})"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Sensor row `y`, columns `0 .. row.len()`, of the synthetic scene
    /// evaluated pixel by pixel, every layer in turn, nothing cached: the
    /// definition the fast renderer must reproduce exactly.
    fn reference_row(
        tables: &SyntheticTables,
        f: &SyntheticFrame,
        y: usize,
        cfa: Option<BayerPattern>,
        row: &mut [f32],
    ) {
        let l = &f.fixed.layout;
        let ch = row_channels(cfa, y);
        let yc = y as f32 + 0.5;
        row.fill(l.background(y));
        let dy = yc - l.cy;
        let u_base = f.sin_p * dy - f.cos_p * l.cx + CHART_COLS * 0.5;
        let v_base = f.cos_p * dy + f.sin_p * l.cx + CHART_ROWS * 0.5;
        for (x, o) in row.iter_mut().enumerate() {
            let xc = x as f32 + 0.5;
            let u = u_base + f.cos_p * xc;
            let v = v_base - f.sin_p * xc;
            if !(-CHART_BORDER..CHART_COLS + CHART_BORDER).contains(&u)
                || !(-CHART_BORDER..CHART_ROWS + CHART_BORDER).contains(&v)
            {
                continue;
            }
            let mut value = CHART_BODY;
            if (0.0..CHART_COLS).contains(&u) && (0.0..CHART_ROWS).contains(&v) {
                let (col, line) = (u as usize, v as usize);
                let (fu, fv) = (u - col as f32, v - line as f32);
                if (PATCH_GAP..1.0 - PATCH_GAP).contains(&fu)
                    && (PATCH_GAP..1.0 - PATCH_GAP).contains(&fv)
                {
                    let cell_u = ((u + CHART_BORDER) * TEXTURE_CELLS) as u32;
                    let cell_v = ((v + CHART_BORDER) * TEXTURE_CELLS) as u32;
                    let texture = texture_factor(cell_u, cell_v);
                    value = tables.patches[line * 6 + col][ch[x & 1]] * texture;
                }
            }
            *o = value;
        }
        let mut fixed = vec![None; row.len()];
        l.draw_fixed_layers(tables, y, &mut fixed);
        for (o, v) in row.iter_mut().zip(fixed) {
            if let Some(v) = v {
                *o = v;
            }
        }
        for (x, o) in row.iter_mut().enumerate() {
            let xc = x as f32 + 0.5;
            if xc >= f.sweep_x.0 && xc < f.sweep_x.1 {
                *o = SWEEP_LEVEL;
            }
        }
    }

    #[test]
    fn fast_render_equals_the_pixel_by_pixel_definition() {
        let s = Scene::synthetic();
        let Kind::Synthetic(tables) = &s.kind else {
            panic!("not synthetic");
        };
        // Angles 0, tiny, 45°, quarter and half turns, arbitrary; bar
        // positions across the sensor.
        let times = [
            0u64, 1, 1_234, 7_500_000, 15_000_000, 30_000_000, 45_000_000, 52_345_678, 59_999_999,
        ];
        for (w, h) in [(640u32, 480u32), (480, 640), (333, 97), (61, 200)] {
            let roi = Roi {
                x: 0,
                y: 0,
                width: w as usize + 2,
                height: h as usize + 2,
            };
            let fixed = tables.fixed_layers(w, h);
            for t in times {
                let f = SyntheticFrame::new(tables, &fixed, t);
                for cfa in [None, Some(BayerPattern::RG), Some(BayerPattern::GB)] {
                    let fast = draw(&s, t, 0, w, h, roi, cfa);
                    let mut want = vec![0f32; roi.width];
                    for y in 0..roi.height {
                        reference_row(tables, &f, y, cfa, &mut want);
                        let got = &fast[y * roi.width..(y + 1) * roi.width];
                        for (x, (g, r)) in got.iter().zip(&want).enumerate() {
                            assert_eq!(
                                g.to_bits(),
                                r.to_bits(),
                                "{w}x{h} t {t} {cfa:?} ({x}, {y}): {g} vs {r}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn fixed_layers_follow_the_sensor_size() {
        let s = Scene::synthetic();
        let t = 2_500_000;
        let a = draw(&s, t, 0, 300, 200, full(300, 200), None);
        let b = draw(&s, t, 0, 200, 300, full(200, 300), None);
        assert_ne!(a[..200], b[..200]);
        assert_eq!(
            draw(&s, t, 0, 300, 200, full(300, 200), None),
            draw(&Scene::synthetic(), t, 0, 300, 200, full(300, 200), None)
        );
        assert_eq!(
            b,
            draw(&Scene::synthetic(), t, 0, 200, 300, full(200, 300), None)
        );
        // The grating square's vertical bars (2-pixel period) at its top
        // left corner, on a 300 × 200 sensor: columns from 300 − 4 − 52.
        let x = 245;
        let y = 5;
        let bars: Vec<f32> = (x..x + 4).map(|x| a[y * 300 + x]).collect();
        assert!(
            bars.contains(&BAR_HIGH) && bars.contains(&BAR_LOW),
            "{bars:?}"
        );
    }

    /// The R, G, B planes of a scene, gathered from the four Bayer phases.
    fn rgb_planes(s: &Scene, t: u64, frame: u64, w: u32, h: u32) -> [Vec<f32>; 3] {
        let mut planes = [
            vec![f32::NAN; (w * h) as usize],
            vec![f32::NAN; (w * h) as usize],
            vec![f32::NAN; (w * h) as usize],
        ];
        for p in BayerPattern::ALL {
            let img = draw(s, t, frame, w, h, full(w, h), Some(p));
            for y in 0..h as usize {
                for x in 0..w as usize {
                    planes[p.channel_at(x, y)][y * w as usize + x] = img[y * w as usize + x];
                }
            }
        }
        planes
    }

    #[test]
    fn cfa_channels_and_mono_luminance_agree() {
        let (w, h) = (320u32, 240u32);
        let s = Scene::synthetic();
        let [r, g, b] = rgb_planes(&s, 3_000_000, 0, w, h);
        let mono = draw(&s, 3_000_000, 0, w, h, full(w, h), None);
        let mut coloured = 0;
        for i in 0..(w * h) as usize {
            let l = 0.2126 * r[i] + 0.7152 * g[i] + 0.0722 * b[i];
            assert!((mono[i] - l).abs() < 1e-5, "pixel {i}: {} vs {l}", mono[i]);
            if (r[i] - b[i]).abs() > 0.1 {
                coloured += 1;
            }
        }
        assert!(coloured > 1000, "the chart has colour: {coloured} pixels");
    }

    #[test]
    fn chart_patches_have_their_colour_and_rotate() {
        let (w, h) = (1200u32, 1000u32);
        let s = Scene::synthetic();
        let pitch = 0.1 * 1000.0;
        let (cx, cy) = (600.0f64, 500.0f64);
        let at = |planes: &[Vec<f32>; 3], x: f64, y: f64| {
            let i = y as usize * w as usize + x as usize;
            [planes[0][i], planes[1][i], planes[2][i]]
        };
        let expect = |k: usize| CHART_SRGB[k].map(srgb_to_linear);
        let close = |got: [f32; 3], want: [f32; 3]| {
            got.iter()
                .zip(want)
                .all(|(g, w)| (g - w).abs() <= 0.081 * w + 1e-6)
        };
        // t = 0: patch 0 (dark skin) centred at chart (0.5, 0.5) pitches.
        let p0 = rgb_planes(&s, 0, 0, w, h);
        let dark_skin = at(&p0, cx - 2.5 * pitch, cy - 1.5 * pitch);
        assert!(close(dark_skin, expect(0)), "{dark_skin:?}");
        assert!(dark_skin[0] > dark_skin[1] && dark_skin[1] > dark_skin[2]);
        // White patch (row 3, column 0) and blue patch (row 2, column 0).
        assert!(close(
            at(&p0, cx - 2.5 * pitch, cy + 1.5 * pitch),
            expect(18)
        ));
        assert!(close(
            at(&p0, cx - 2.5 * pitch, cy + 0.5 * pitch),
            expect(12)
        ));
        // t = 15 s: a quarter turn; the point (u, v) of the chart appears at
        // (cx − v, cy + u) relative to its centre.
        let p15 = rgb_planes(&s, 15_000_000, 0, w, h);
        let moved = at(&p15, cx + 1.5 * pitch, cy - 2.5 * pitch);
        assert!(close(moved, expect(0)), "{moved:?}");
        assert!(!close(
            at(&p15, cx - 2.5 * pitch, cy - 1.5 * pitch),
            expect(0)
        ));
        // Texture: the patch is not flat.
        let row: Vec<f32> = (0..60)
            .map(|d| {
                p0[1][(cy - 1.5 * pitch) as usize * w as usize + (cx - 2.8 * pitch) as usize + d]
            })
            .collect();
        let (lo, hi) = row
            .iter()
            .fold((f32::MAX, 0f32), |(l, h), &v| (l.min(v), h.max(v)));
        assert!(hi > lo * 1.05, "texture {lo}..{hi}");
    }

    #[test]
    fn bar_sweeps_and_zone_plate_has_fine_detail() {
        let (w, h) = (1000u32, 800u32);
        let s = Scene::synthetic();
        // Row 600 crosses no other white structure.
        let roi = Roi {
            x: 0,
            y: 600,
            width: w as usize,
            height: 1,
        };
        let bar = |t: u64| {
            let r = draw(&s, t, 0, w, h, roi, None);
            let lit: Vec<usize> = (0..r.len()).filter(|&x| r[x] == 1.0).collect();
            (lit[0], lit.len())
        };
        let (x1, n1) = bar(1_000_000);
        let (x2, n2) = bar(2_000_000);
        assert_eq!((n1, n2), (30, 30));
        // (W + bar) / 5 s = 206 pixels per second.
        assert!((x2 as i64 - x1 as i64 - 206).abs() <= 1, "{x1} → {x2}");

        // Zone plate: smooth at the centre, alternating at the rim.
        let z = draw(&s, 0, 0, w, h, full(w, h), None);
        let (zc, zr) = (0.16 * 800.0, 0.14 * 800.0);
        let y = zc as usize;
        let near = |x: usize| (z[y * w as usize + x + 1] - z[y * w as usize + x]).abs();
        assert!(near(zc as usize) < 0.01);
        let rim = (zc + zr - 12.0) as usize;
        let rim_contrast = (rim..rim + 10).map(near).fold(0f32, f32::max);
        assert!(rim_contrast > 0.5, "{rim_contrast}");
        let zone: Vec<f32> = (0..zr as usize)
            .map(|d| z[y * w as usize + zc as usize + d])
            .collect();
        assert!(zone.iter().any(|&v| v < 0.1) && zone.iter().any(|&v| v > 0.9));
    }

    #[test]
    fn image_file_is_linearised_and_fitted() {
        let dir = scratch("file");
        // 4 × 2 sRGB image: codes 0, 128, 255 and a red pixel.
        let path = dir.join("wide.png");
        let mut data = Vec::new();
        for _ in 0..2 {
            for px in [[0u8, 0, 0], [128, 128, 128], [255, 255, 255], [255, 0, 0]] {
                data.extend_from_slice(&px);
            }
        }
        save_rgb8(&path, 4, 2, data);
        let s = Scene::from_file(&path).expect("load");
        assert!(s.is_static());
        assert_eq!(s.describe(), "file wide.png");
        // 8 × 8 sensor: scale 2, the image covers rows 2..6.
        let mono = draw(
            &s,
            0,
            0,
            8,
            8,
            Roi {
                x: 0,
                y: 0,
                width: 10,
                height: 10,
            },
            None,
        );
        let px = |x: usize, y: usize| mono[y * 10 + x];
        for x in 0..10 {
            for y in [0, 1, 6, 7, 8, 9] {
                assert_eq!(px(x, y), 0.0, "black outside ({x}, {y})");
            }
        }
        // Pixel centres at 0.25 of a source pixel interpolate towards the
        // neighbour; pixels 2, 3 straddle codes 128 and 255.
        assert_eq!(px(0, 3), 0.0);
        let grey = srgb_to_linear(128);
        assert!((grey - 0.2158605).abs() < 1e-6);
        assert!(
            (px(2, 3) - (0.75 * grey + 0.25 * 0.0)).abs() < 1e-6,
            "{}",
            px(2, 3)
        );
        assert!((px(3, 3) - (0.75 * grey + 0.25 * 1.0)).abs() < 1e-6);
        // The last column is red: luminance 0.2126; the margin repeats it.
        assert!((px(7, 4) - 0.2126).abs() < 1e-6);
        assert_eq!(px(8, 4), px(7, 4));
        assert_eq!(px(9, 4), px(7, 4));
        // Bayer RG: red at (even, even), and the red pixel has no green.
        let bayer = draw(&s, 0, 0, 8, 8, full(8, 8), Some(BayerPattern::RG));
        assert!((bayer[4 * 8 + 6] - 1.0).abs() < 1e-6);
        assert!(bayer[4 * 8 + 7].abs() < 1e-6);
        // Cached: a second render is identical; another sensor size differs.
        assert_eq!(
            draw(
                &s,
                9,
                5,
                8,
                8,
                Roi {
                    x: 0,
                    y: 0,
                    width: 10,
                    height: 10
                },
                None
            ),
            mono
        );
        let tall = draw(&s, 0, 0, 4, 8, full(4, 8), None);
        assert_eq!(tall[0], 0.0);
        assert!(tall[3 * 4 + 1] > 0.0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sixteen_bit_files_are_linear_and_reductions_average() {
        let dir = scratch("sixteen");
        let path = dir.join("grey.tif");
        // 8 × 8, left half 65535, right half 32768 → 1.0 and 0.5 linear.
        let samples: Vec<u16> = (0..64)
            .map(|i| if i % 8 < 4 { 65535 } else { 32768 })
            .collect();
        save_mono16(&path, 8, 8, &samples);
        let s = Scene::from_file(&path).expect("load");
        let big = draw(&s, 0, 0, 8, 8, full(8, 8), Some(BayerPattern::RG));
        assert!((big[0] - 1.0).abs() < 1e-6);
        assert!((big[7] - 32768.0 / 65535.0).abs() < 1e-6);
        // Reduced to 2 × 2: each output pixel averages a 4 × 4 block.
        let small = draw(&s, 0, 0, 2, 2, full(2, 2), None);
        assert!((small[0] - 1.0).abs() < 1e-6, "{small:?}");
        assert!((small[1] - 32768.0 / 65535.0).abs() < 1e-6, "{small:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn folder_cycles_sorted_images() {
        let dir = scratch("folder");
        let grey = |v: u8| vec![v; 2 * 2 * 3];
        save_rgb8(&dir.join("b.png"), 2, 2, grey(255));
        save_rgb8(&dir.join("a.png"), 2, 2, grey(0));
        let bmp = Image::new(PixelFormat::Mono8, 2, 2, vec![128; 4]).expect("image");
        pixel::file::save(&bmp, dir.join("c.BMP")).expect("save");
        std::fs::write(dir.join("notes.txt"), b"not an image").expect("write");
        let s = Scene::from_folder(&dir).expect("folder");
        assert!(!s.is_static());
        assert!(s.describe().contains("3 images"), "{}", s.describe());
        let value = |frame| draw(&s, 0, frame, 4, 4, full(4, 4), None)[5];
        let expected = [0.0, 1.0, srgb_to_linear(128)];
        for frame in 0..7u64 {
            assert!(
                (value(frame) - expected[frame as usize % 3]).abs() < 1e-6,
                "frame {frame}"
            );
        }
        // One image in a folder is static.
        let one = scratch("folder-one");
        save_rgb8(&one.join("only.png"), 2, 2, grey(9));
        assert!(Scene::from_folder(&one).expect("folder").is_static());
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&one);
    }

    #[test]
    fn errors_name_the_file_or_folder() {
        let dir = scratch("errors");
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).expect("mkdir");
        std::fs::write(empty.join("readme.txt"), b"x").expect("write");
        let err = Scene::from_folder(&empty).unwrap_err();
        assert!(matches!(err, SceneError::EmptyFolder { .. }));
        assert!(err.to_string().contains("empty"));

        let missing = dir.join("missing");
        let err = Scene::from_folder(&missing).unwrap_err();
        assert!(matches!(err, SceneError::Folder { .. }));
        assert!(err.to_string().contains("missing"));
        let err = Scene::from_file(&dir.join("nope.png")).unwrap_err();
        assert!(err.to_string().contains("nope.png"), "{err}");

        let bad = dir.join("bad");
        std::fs::create_dir_all(&bad).expect("mkdir");
        save_rgb8(&bad.join("a.png"), 2, 2, vec![0; 12]);
        std::fs::write(bad.join("broken.png"), b"\x89PNG\r\n\x1a\ngarbage").expect("write");
        let err = Scene::from_folder(&bad).unwrap_err();
        assert!(matches!(err, SceneError::File(_)));
        assert!(err.to_string().contains("broken.png"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    #[ignore]
    fn bench_render() {
        let (w, h) = (2448u32, 2048u32);
        let roi = full(w, h);
        let mut out = vec![0f32; roi.width * roi.height];
        let dir = scratch("bench");
        let path = dir.join("bench.png");
        let data = (0..1920u32 * 1080 * 3)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        save_rgb8(&path, 1920, 1080, data);
        let image = Scene::from_file(&path).expect("load");
        let start = Instant::now();
        image
            .render(0, 0, w, h, roi, Some(BayerPattern::RG), &mut out)
            .expect("render");
        println!(
            "image 1920x1080 resampled to {w}x{h} (first render): {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
        let synthetic = Scene::synthetic();
        let start = Instant::now();
        synthetic
            .render(0, 0, w, h, roi, Some(BayerPattern::RG), &mut out)
            .expect("render");
        println!(
            "synthetic (first render, fixed layers made): {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );
        if let Kind::Synthetic(tables) = &synthetic.kind {
            println!(
                "synthetic fixed layers cached: {:.2} MB",
                tables.fixed_layers(w, h).bytes() as f64 / 1e6
            );
        }
        for (name, scene, cfa) in [
            (
                "synthetic, BayerRG",
                Scene::synthetic(),
                Some(BayerPattern::RG),
            ),
            ("synthetic, mono", synthetic, None),
            ("uniform", Scene::uniform(0.5), Some(BayerPattern::RG)),
            ("image (cached), BayerRG", image, Some(BayerPattern::RG)),
        ] {
            // Warm-up: caches are made on first use.
            scene
                .render(0, 0, w, h, roi, cfa, &mut out)
                .expect("render");
            let runs = 20;
            let start = Instant::now();
            for i in 0..runs {
                scene
                    .render(i * 33_000, i, w, h, roi, cfa, &mut out)
                    .expect("render");
            }
            let s = start.elapsed().as_secs_f64() / runs as f64;
            println!(
                "{name}: {:.2} ms/frame, {:.0} Mpixel/s",
                s * 1e3,
                (w * h) as f64 / s / 1e6
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
