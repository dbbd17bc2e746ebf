//! The camera models: sensor geometry, shutter, pixel formats, and the
//! sensor's physical parameters (EMVA 1288 terms).

use pixel::demosaic::BayerPattern;
use pixel::format::PixelFormat;

/// Which camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// 5 MP global-shutter colour camera, 2448 × 2048, BayerRG.
    Color5MP,
    /// Its monochrome twin.
    Mono5MP,
    /// 1.6 MP high-speed colour camera, 1440 × 1080, rolling shutter with
    /// global reset.
    HighSpeed1_6MP,
}

/// How the sensor exposes its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutterMode {
    /// Every row exposed over the same interval.
    Global,
    /// Rows exposed one after another, each shifted by the row time.
    Rolling,
    /// Every row starts together, rows end one after another as they are read.
    GlobalReset,
}

/// The physical sensor, in EMVA 1288 terms. Values are at 25 °C and 0 dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorSpec {
    /// Active pixels.
    pub width: u32,
    /// Active rows.
    pub height: u32,
    /// Pixel pitch, µm.
    pub pixel_pitch_um: f32,
    /// The colour filter array, `None` for a monochrome sensor.
    pub bayer: Option<BayerPattern>,
    /// Quantum efficiency per channel (R, G, B; all three equal for mono).
    pub quantum_efficiency: [f32; 3],
    /// Saturation capacity, electrons.
    pub full_well_e: f32,
    /// Temporal dark noise, electrons rms.
    pub read_noise_e: f32,
    /// Dark current at 25 °C, electrons per second.
    pub dark_current_e_per_s: f32,
    /// Dark current doubles every this many °C.
    pub dark_current_doubling_c: f32,
    /// Dark signal non-uniformity, electrons rms (spatial).
    pub dsnu_e: f32,
    /// Photo response non-uniformity, fraction rms (spatial), e.g. 0.006.
    pub prnu: f32,
    /// Fraction of pixels that are hot (bright in the dark).
    pub hot_pixel_fraction: f32,
    /// Fraction of pixels that are dead (no response).
    pub dead_pixel_fraction: f32,
    /// Relative illumination at the image corners (lens shading), e.g. 0.8.
    pub corner_shading: f32,
    /// Time to read one row out, ns.
    pub row_time_ns: u32,
    /// Fixed overhead per frame (blanking), µs.
    pub frame_overhead_us: u32,
    /// Largest analog gain, dB.
    pub max_analog_gain_db: f32,
    /// Sensor temperature above ambient when running, °C.
    pub self_heating_c: f32,
}

/// Everything fixed about a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Which model.
    pub model: Model,
    /// DeviceModelName.
    pub model_name: &'static str,
    /// DeviceFamilyName.
    pub family_name: &'static str,
    /// USB product id.
    pub product_id: u16,
    /// The sensor.
    pub sensor: SensorSpec,
    /// SensorShutterMode entries, the first being the default.
    pub shutter_modes: &'static [ShutterMode],
    /// PixelFormat entries, the first being the default.
    pub pixel_formats: &'static [PixelFormat],
}

/// DeviceVendorName of every model.
pub const VENDOR_NAME: &str = "mvcam";
/// DeviceManufacturerInfo.
pub const MANUFACTURER_INFO: &str = "mvcam virtual camera";
/// DeviceFirmwareVersion (and DeviceVersion).
pub const FIRMWARE_VERSION: &str = concat!("mvcam-fw ", env!("CARGO_PKG_VERSION"));
/// USB vendor id of the virtual cameras (a test id, not assigned to anyone).
pub const USB_VENDOR_ID: u16 = 0x1209;

const COLOR_FORMATS: &[PixelFormat] = &[
    PixelFormat::BayerRG8,
    PixelFormat::BayerRG10,
    PixelFormat::BayerRG12,
    PixelFormat::BayerRG10p,
    PixelFormat::BayerRG12p,
    PixelFormat::RGB8,
    PixelFormat::BGR8,
    PixelFormat::YUV422_8,
    PixelFormat::Mono8,
];

const MONO_FORMATS: &[PixelFormat] = &[
    PixelFormat::Mono8,
    PixelFormat::Mono10,
    PixelFormat::Mono12,
    PixelFormat::Mono10p,
    PixelFormat::Mono12p,
    PixelFormat::Mono12Packed,
];

const SENSOR_5MP: SensorSpec = SensorSpec {
    width: 2448,
    height: 2048,
    pixel_pitch_um: 3.45,
    bayer: Some(BayerPattern::RG),
    quantum_efficiency: [0.52, 0.65, 0.48],
    full_well_e: 10_500.0,
    read_noise_e: 2.4,
    dark_current_e_per_s: 3.0,
    dark_current_doubling_c: 6.5,
    dsnu_e: 1.2,
    prnu: 0.006,
    hot_pixel_fraction: 2e-5,
    dead_pixel_fraction: 5e-6,
    corner_shading: 0.82,
    row_time_ns: 6_000,
    frame_overhead_us: 150,
    max_analog_gain_db: 24.0,
    self_heating_c: 12.0,
};

impl Model {
    /// Every model.
    pub const ALL: [Model; 3] = [Model::Color5MP, Model::Mono5MP, Model::HighSpeed1_6MP];

    /// The model's fixed description.
    pub fn spec(self) -> ModelSpec {
        match self {
            Model::Color5MP => ModelSpec {
                model: self,
                model_name: "MV-U3-500C",
                family_name: "MV-U3",
                product_id: 0x0501,
                sensor: SENSOR_5MP,
                shutter_modes: &[ShutterMode::Global],
                pixel_formats: COLOR_FORMATS,
            },
            Model::Mono5MP => ModelSpec {
                model: self,
                model_name: "MV-U3-500M",
                family_name: "MV-U3",
                product_id: 0x0502,
                sensor: SensorSpec {
                    bayer: None,
                    quantum_efficiency: [0.70; 3],
                    ..SENSOR_5MP
                },
                shutter_modes: &[ShutterMode::Global],
                pixel_formats: MONO_FORMATS,
            },
            Model::HighSpeed1_6MP => ModelSpec {
                model: self,
                model_name: "MV-U3-160C",
                family_name: "MV-U3",
                product_id: 0x0161,
                sensor: SensorSpec {
                    width: 1440,
                    height: 1080,
                    full_well_e: 9_800.0,
                    read_noise_e: 2.1,
                    row_time_ns: 2_900,
                    frame_overhead_us: 80,
                    ..SENSOR_5MP
                },
                shutter_modes: &[ShutterMode::Rolling, ShutterMode::GlobalReset],
                pixel_formats: COLOR_FORMATS,
            },
        }
    }

    /// The model's command-line name: `color5mp`, `mono5mp`, `highspeed`.
    pub fn name(self) -> &'static str {
        match self {
            Model::Color5MP => "color5mp",
            Model::Mono5MP => "mono5mp",
            Model::HighSpeed1_6MP => "highspeed",
        }
    }

    /// The model called `name` (see [`name`](Self::name)), case-insensitive.
    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}
