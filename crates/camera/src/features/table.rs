//! The feature table: every feature of the manual (see the reference's
//! `camera-features.md`) with its SFNC name, type, access, user level,
//! range and rules.

use super::def::{Access, Entry, FeatureDef, Kind, Limits, Visibility};
use crate::model::{ModelSpec, ShutterMode};

/// The top-level categories, in the order a client lists them.
pub const CATEGORIES: &[&str] = &[
    "DeviceControl",
    "ImageFormatControl",
    "AcquisitionControl",
    "DigitalIOControl",
    "AnalogControl",
    "ColorTransformationControl",
    "LUTControl",
    "FlatFieldCorrection",
    "DefectPixelCorrection",
    "UserSetControl",
    "EventControl",
    "ChunkDataControl",
    "TransportLayerControl",
    "Simulation",
];

/// Events the camera sends: EventSelector entry, event id, and the
/// features holding the last such event's id, timestamp and frame id.
pub const EVENTS: &[(&str, u16, [&str; 3])] = &[
    (
        "ExposureEnd",
        0x9001,
        [
            "EventExposureEnd",
            "EventExposureEndTimestamp",
            "EventExposureEndFrameID",
        ],
    ),
    (
        "FrameStart",
        0x9002,
        [
            "EventFrameStart",
            "EventFrameStartTimestamp",
            "EventFrameStartFrameID",
        ],
    ),
    (
        "FrameTriggerMissed",
        0x9003,
        [
            "EventFrameTriggerMissed",
            "EventFrameTriggerMissedTimestamp",
            "EventFrameTriggerMissedFrameID",
        ],
    ),
    (
        "AcquisitionStart",
        0x9004,
        [
            "EventAcquisitionStart",
            "EventAcquisitionStartTimestamp",
            "EventAcquisitionStartFrameID",
        ],
    ),
    (
        "AcquisitionEnd",
        0x9005,
        [
            "EventAcquisitionEnd",
            "EventAcquisitionEndTimestamp",
            "EventAcquisitionEndFrameID",
        ],
    ),
    (
        "Line1RisingEdge",
        0x9006,
        [
            "EventLine1RisingEdge",
            "EventLine1RisingEdgeTimestamp",
            "EventLine1RisingEdgeFrameID",
        ],
    ),
    (
        "Line1FallingEdge",
        0x9007,
        [
            "EventLine1FallingEdge",
            "EventLine1FallingEdgeTimestamp",
            "EventLine1FallingEdgeFrameID",
        ],
    ),
];

/// Chunks the camera can append: (ChunkSelector entry, chunk id, value
/// feature, whether the value is a float).
pub const CHUNKS: &[(&str, u32, &str, bool)] = &[
    ("Timestamp", 0x0A00_0001, "ChunkTimestamp", false),
    ("FrameID", 0x0A00_0002, "ChunkFrameID", false),
    ("ExposureTime", 0x0A00_0003, "ChunkExposureTime", true),
    ("Gain", 0x0A00_0004, "ChunkGain", true),
    ("LineStatusAll", 0x0A00_0005, "ChunkLineStatusAll", false),
];

/// Chunk id of the image data itself in a payload with chunks: the image
/// is the first chunk, its tag right after the pixels.
pub const CHUNK_IMAGE_ID: u32 = 0x0A00_0000;

/// Length of the LUT: 12-bit index.
pub const LUT_LEN: usize = 4096;
/// Entries of a defect list register block (x: u16, y: u16 each).
pub const DEFECT_LIST_CAPACITY: usize = 4096;
/// Recorded output edges readable per line.
pub const OUTPUT_EDGE_CAPACITY: usize = 256;
/// Bytes of one recorded output edge: logic time, start time and reach
/// time (u64 ns each), rising (u64 0/1).
pub const OUTPUT_EDGE_LEN: usize = 32;

struct B(FeatureDef);

fn feat(
    name: &'static str,
    category: &'static str,
    kind: Kind,
    access: Access,
    visibility: Visibility,
    description: &'static str,
) -> B {
    let streamable = access == Access::RW && kind != Kind::Command && category != "Simulation";
    B(FeatureDef {
        name,
        category,
        kind,
        access,
        visibility,
        description,
        unit: "",
        selector: None,
        count: 1,
        limits: Limits::None,
        locked_while_acquiring: false,
        conditional: false,
        streamable,
        address: 0,
        chunk_id: None,
    })
}

impl B {
    fn unit(mut self, unit: &'static str) -> B {
        self.0.unit = unit;
        self
    }
    fn sel(mut self, selector: &'static str, count: usize) -> B {
        self.0.selector = Some(selector);
        self.0.count = count;
        self
    }
    fn range(mut self, min: f64, max: f64) -> B {
        self.0.limits = Limits::Fixed { min, max, inc: 1 };
        self
    }
    fn dynamic(mut self) -> B {
        self.0.limits = Limits::Dynamic;
        self
    }
    fn locked(mut self) -> B {
        self.0.locked_while_acquiring = true;
        self
    }
    fn cond(mut self) -> B {
        self.0.conditional = true;
        self
    }
    fn nostream(mut self) -> B {
        self.0.streamable = false;
        self
    }
    fn chunk(mut self, id: u32) -> B {
        self.0.chunk_id = Some(id);
        self.0.streamable = false;
        self
    }
}

fn en(entries: &[(&'static str, i64)]) -> Kind {
    Kind::Enumeration(
        entries
            .iter()
            .map(|&(name, value)| Entry {
                name,
                value,
                conditional: false,
            })
            .collect(),
    )
}

/// An enumeration whose entries named in `conditional` are available only
/// when the firmware says so.
fn en_c(entries: &[(&'static str, i64)], conditional: &[&str]) -> Kind {
    Kind::Enumeration(
        entries
            .iter()
            .map(|&(name, value)| Entry {
                name,
                value,
                conditional: conditional.contains(&name),
            })
            .collect(),
    )
}

const AUTO: &[(&str, i64)] = &[("Off", 0), ("Once", 1), ("Continuous", 2)];
const OFF_ON: &[(&str, i64)] = &[("Off", 0), ("On", 1)];

use Access::{RO, RW, WO};
use Kind::{Boolean as Bool, Command as Cmd, Float, Integer as Int};
use Visibility::{Beginner, Expert, Guru, Invisible};

/// The shutter mode entries of a model.
fn shutter_entries(spec: &ModelSpec) -> Vec<(&'static str, i64)> {
    spec.shutter_modes
        .iter()
        .map(|m| match m {
            ShutterMode::Global => ("Global", 0),
            ShutterMode::Rolling => ("Rolling", 1),
            ShutterMode::GlobalReset => ("GlobalReset", 2),
        })
        .collect()
}

/// Every feature of a camera of model `spec`, in category order.
pub fn features(spec: &ModelSpec) -> Vec<FeatureDef> {
    let color = spec.sensor.bayer.is_some();
    let formats: Vec<(&'static str, i64)> = spec
        .pixel_formats
        .iter()
        .map(|f| (f.name(), i64::from(f.code())))
        .collect();
    let shutter = shutter_entries(spec);
    let events: Vec<(&'static str, i64)> = EVENTS
        .iter()
        .enumerate()
        .map(|(i, e)| (e.0, i as i64))
        .collect();
    let chunks: Vec<(&'static str, i64)> = CHUNKS
        .iter()
        .enumerate()
        .map(|(i, c)| (c.0, i as i64))
        .collect();
    let lines = &[("Line0", 0), ("Line1", 1), ("Line2", 2)];
    let gains_00_22: Vec<(&'static str, i64)> = [
        "Gain00", "Gain01", "Gain02", "Gain10", "Gain11", "Gain12", "Gain20", "Gain21", "Gain22",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| (*n, i as i64))
    .collect();

    let dc = "DeviceControl";
    let ifc = "ImageFormatControl";
    let acq = "AcquisitionControl";
    let dio = "DigitalIOControl";
    let ana = "AnalogControl";
    let ctc = "ColorTransformationControl";
    let lut = "LUTControl";
    let ffc = "FlatFieldCorrection";
    let dpc = "DefectPixelCorrection";
    let usc = "UserSetControl";
    let evc = "EventControl";
    let chc = "ChunkDataControl";
    let tlc = "TransportLayerControl";
    let sim = "Simulation";
    let s64 = Kind::String(64);

    let mut v: Vec<B> = vec![
        // Device control.
        feat("DeviceVendorName", dc, s64.clone(), RO, Beginner, "Name of the camera's manufacturer."),
        feat("DeviceModelName", dc, s64.clone(), RO, Beginner, "Model of the camera."),
        feat("DeviceFamilyName", dc, s64.clone(), RO, Beginner, "Product family of the camera."),
        feat("DeviceVersion", dc, s64.clone(), RO, Beginner, "Version of the camera."),
        feat("DeviceFirmwareVersion", dc, s64.clone(), RO, Beginner, "Version of the camera's firmware."),
        feat("DeviceManufacturerInfo", dc, s64.clone(), RO, Beginner, "Additional information from the manufacturer."),
        feat("DeviceSerialNumber", dc, s64.clone(), RO, Beginner, "Serial number of the camera."),
        feat("DeviceUserID", dc, Kind::String(16), RW, Beginner, "A name the user gives the camera (up to 15 characters), kept in non-volatile memory and shown in device lists."),
        feat("DeviceSFNCVersionMajor", dc, Int, RO, Guru, "Major version of the SFNC the camera follows."),
        feat("DeviceSFNCVersionMinor", dc, Int, RO, Guru, "Minor version of the SFNC the camera follows."),
        feat("DeviceSFNCVersionSubMinor", dc, Int, RO, Guru, "Sub-minor version of the SFNC the camera follows."),
        feat("DeviceTLType", dc, en(&[("USB3Vision", 4)]), RO, Expert, "Transport layer of the camera."),
        feat("DeviceLinkSpeed", dc, Int, RO, Expert, "Speed of the USB link.").unit("B/s"),
        feat("DeviceLinkThroughputLimitMode", dc, en(OFF_ON), RW, Expert, "Whether the camera limits the bandwidth it uses on the link."),
        feat("DeviceLinkThroughputLimit", dc, Int, RW, Expert, "The bandwidth the camera may use when the limit is on.").unit("B/s").range(10_000_000.0, 400_000_000.0).cond(),
        feat("DeviceTemperature", dc, Float, RO, Expert, "Temperature of the sensor board.").unit("C"),
        feat("DeviceReset", dc, Cmd, WO, Guru, "Resets the camera: it disconnects and comes back with its power-up settings."),
        feat("TimestampLatch", dc, Cmd, WO, Expert, "Latches the current timestamp into TimestampLatchValue."),
        feat("TimestampLatchValue", dc, Int, RO, Expert, "The latched timestamp.").unit("ns"),
        feat("TimestampReset", dc, Cmd, WO, Expert, "Resets the timestamp counter to 0."),
        // Image format.
        feat("SensorWidth", ifc, Int, RO, Expert, "Effective width of the sensor in pixels.").unit("px"),
        feat("SensorHeight", ifc, Int, RO, Expert, "Effective height of the sensor in pixels.").unit("px"),
        feat("WidthMax", ifc, Int, RO, Expert, "Largest Width at the current binning and decimation (OffsetX 0).").unit("px"),
        feat("HeightMax", ifc, Int, RO, Expert, "Largest Height at the current binning and decimation (OffsetY 0).").unit("px"),
        feat("Width", ifc, Int, RW, Beginner, "Width of the image the camera sends.").unit("px").dynamic().locked(),
        feat("Height", ifc, Int, RW, Beginner, "Height of the image the camera sends.").unit("px").dynamic().locked(),
        feat("OffsetX", ifc, Int, RW, Beginner, "Horizontal offset of the region of interest.").unit("px").dynamic().locked(),
        feat("OffsetY", ifc, Int, RW, Beginner, "Vertical offset of the region of interest.").unit("px").dynamic().locked(),
        feat("BinningSelector", ifc, en(&[("Sensor", 0)]), RW, Expert, "Where binning is done."),
        feat("BinningHorizontal", ifc, Int, RW, Expert, "Horizontal binning factor: 1, 2 or 4.").range(1.0, 4.0).locked(),
        feat("BinningVertical", ifc, Int, RW, Expert, "Vertical binning factor: 1, 2 or 4.").range(1.0, 4.0).locked(),
        feat("BinningHorizontalMode", ifc, en(&[("Sum", 0), ("Average", 1)]), RW, Expert, "How horizontally binned pixels combine.").locked(),
        feat("BinningVerticalMode", ifc, en(&[("Sum", 0), ("Average", 1)]), RW, Expert, "How vertically binned pixels combine.").locked(),
        feat("DecimationHorizontal", ifc, Int, RW, Expert, "Horizontal decimation factor: 1, 2 or 4.").range(1.0, 4.0).locked(),
        feat("DecimationVertical", ifc, Int, RW, Expert, "Vertical decimation factor: 1, 2 or 4.").range(1.0, 4.0).locked(),
        feat("ReverseX", ifc, Bool, RW, Expert, "Mirrors the image horizontally."),
        feat("ReverseY", ifc, Bool, RW, Expert, "Mirrors the image vertically."),
        feat("PixelFormat", ifc, en(&formats), RW, Beginner, "Format of the pixels the camera sends.").locked(),
        feat("PixelSize", ifc, en(&[("Bpp8", 8), ("Bpp10", 10), ("Bpp12", 12), ("Bpp16", 16), ("Bpp24", 24)]), RO, Expert, "Bits per pixel of the current pixel format."),
        feat("AdcBitDepth", ifc, en(&[("Bit8", 8), ("Bit10", 10), ("Bit12", 12)]), RW, Expert, "Resolution of the sensor's analog-to-digital converter; the black level range follows it.").locked(),
        feat("TestImageSelector", ifc, en(&[("Off", 0), ("GreyHorizontalRamp", 1), ("GreyVerticalRamp", 2), ("GreyHorizontalRampMoving", 3), ("GreyDiagonalRampMoving", 4), ("ColorBar", 5), ("Checkerboard", 6), ("FrameCounter", 7)]), RW, Expert, "Outputs a generated test image instead of the sensor's, to tell sensor problems from transport problems."),
        // Acquisition.
        feat("AcquisitionMode", acq, en(&[("Continuous", 0), ("SingleFrame", 1), ("MultiFrame", 2)]), RW, Beginner, "How many frames one AcquisitionStart captures.").locked(),
        feat("AcquisitionStart", acq, Cmd, WO, Beginner, "Starts the acquisition."),
        feat("AcquisitionStop", acq, Cmd, RW, Beginner, "Stops the acquisition after the current frame. Done (reads 0) once the acquisition has ended and that frame is queued to send."),
        feat("AcquisitionAbort", acq, Cmd, WO, Expert, "Ends the acquisition at once, dropping the current frame."),
        feat("AcquisitionFrameCount", acq, Int, RW, Beginner, "Frames captured in MultiFrame mode.").range(1.0, 255.0).locked(),
        feat("AcquisitionFrameRateEnable", acq, Bool, RW, Beginner, "Whether AcquisitionFrameRate limits the frame rate."),
        feat("AcquisitionFrameRate", acq, Float, RW, Beginner, "The frame rate the camera keeps when enabled (never more than ResultingFrameRate).").unit("Hz").range(0.1, 10_000.0),
        feat("ResultingFrameRate", acq, Float, RO, Beginner, "The highest frame rate the current settings allow (link bandwidth, pixel format, image size, exposure).").unit("Hz"),
        feat("SensorShutterMode", acq, en(&shutter), RW, Expert, "How the sensor exposes its rows.").locked(),
        feat("ExposureMode", acq, en(&[("Timed", 0), ("TriggerWidth", 1)]), RW, Expert, "Whether ExposureTime or the trigger pulse width sets the exposure."),
        feat("ExposureTime", acq, Float, RW, Beginner, "Exposure time.").unit("us").range(10.0, 1_000_000.0).cond(),
        feat("ExposureAuto", acq, en(AUTO), RW, Beginner, "Automatic exposure: Once adjusts then returns to Off; Continuous keeps adjusting."),
        feat("AutoTargetBrightness", acq, Int, RW, Expert, "Mean grey level (0-255) the automatic exposure and gain aim at.").range(0.0, 255.0),
        feat("AutoExposureTimeLowerLimit", acq, Float, RW, Expert, "Shortest exposure the automatic exposure uses (at most the upper limit).").unit("us").dynamic(),
        feat("AutoExposureTimeUpperLimit", acq, Float, RW, Expert, "Longest exposure the automatic exposure uses (at least the lower limit).").unit("us").dynamic(),
        feat("TriggerSelector", acq, en(&[("FrameStart", 0), ("AcquisitionStart", 1)]), RW, Beginner, "The trigger the following features configure."),
        feat("TriggerMode", acq, en(OFF_ON), RW, Beginner, "Whether the selected trigger is active.").sel("TriggerSelector", 2),
        feat("TriggerSource", acq, en_c(&[("Software", 0), ("Line0", 1), ("Line1", 2), ("Line2", 3)], &["Line0", "Line1", "Line2"]), RW, Beginner, "Source of the selected trigger; an input line only while it is in input mode.").sel("TriggerSelector", 2),
        feat("TriggerActivation", acq, en(&[("RisingEdge", 0), ("FallingEdge", 1)]), RW, Beginner, "Which edge of a line triggers.").sel("TriggerSelector", 2),
        feat("TriggerSoftware", acq, Cmd, WO, Beginner, "Generates a software trigger.").sel("TriggerSelector", 2),
        feat("TriggerDelay", acq, Float, RW, Expert, "Delay between the trigger and its effect.").unit("us").range(0.0, 1_000_000.0).sel("TriggerSelector", 2),
        feat("TriggerMissedCount", acq, Int, RO, Expert, "Frame triggers the camera could not take since the acquisition started (each also sends a FrameTriggerMissed event)."),
        // Digital I/O.
        feat("LineSelector", dio, en(lines), RW, Beginner, "The I/O line the following features configure."),
        feat("LineMode", dio, en(&[("Input", 0), ("Output", 1)]), RW, Beginner, "Input or output; only Line2 can change (Line0 is an output, Line1 an input).").sel("LineSelector", 3),
        feat("LineInverter", dio, Bool, RW, Beginner, "Inverts the line's signal.").sel("LineSelector", 3),
        feat("LineStatus", dio, Bool, RO, Expert, "Current logic level of the line.").sel("LineSelector", 3),
        feat("LineStatusAll", dio, Int, RO, Expert, "Logic levels of all lines, bit n = Line n."),
        feat("LineSource", dio, en(&[("Off", 0), ("ExposureActive", 1), ("FrameTriggerWait", 2), ("AcquisitionActive", 3), ("UserOutput0", 4), ("UserOutput1", 5)]), RW, Beginner, "The internal signal an output line drives.").sel("LineSelector", 3).cond(),
        feat("LineFormat", dio, en(&[("OptoCoupled", 0), ("TTL", 1)]), RO, Expert, "Electrical format of the line.").sel("LineSelector", 3),
        feat("LineDebouncerTime", dio, Float, RW, Expert, "Input pulses shorter than this are filtered out (input mode only).").unit("us").range(0.0, 5_000_000.0).sel("LineSelector", 3).cond(),
        feat("UserOutputSelector", dio, en(&[("UserOutput0", 0), ("UserOutput1", 1)]), RW, Expert, "The user output UserOutputValue sets."),
        feat("UserOutputValue", dio, Bool, RW, Expert, "Level of the selected user output.").sel("UserOutputSelector", 2),
        // Analog control.
        feat("BlackLevelSelector", ana, en(&[("All", 0)]), RW, Expert, "The black level the following features configure."),
        feat("BlackLevel", ana, Float, RW, Expert, "Grey level of darkness, in ADC counts; its range follows the ADC bit depth (0-255 at 12 bits).").dynamic().sel("BlackLevelSelector", 1),
        feat("BlackLevelAuto", ana, en(AUTO), RW, Expert, "Automatic black level."),
        feat("GainSelector", ana, en(&[("AnalogAll", 0), ("DigitalAll", 1)]), RW, Beginner, "The gain the following features configure."),
        feat("Gain", ana, Float, RW, Beginner, "Gain: analog before the ADC, digital after it.").unit("dB").dynamic().sel("GainSelector", 2),
        feat("GainRaw", ana, Int, RW, Expert, "Gain in raw steps of 0.1 dB.").dynamic().sel("GainSelector", 2).nostream(),
        feat("GainAuto", ana, en(AUTO), RW, Beginner, "Automatic analog gain: Once adjusts then returns to Off; Continuous keeps adjusting."),
        feat("AutoGainLowerLimit", ana, Float, RW, Expert, "Lowest analog gain the automatic gain uses.").unit("dB").dynamic(),
        feat("AutoGainUpperLimit", ana, Float, RW, Expert, "Highest analog gain the automatic gain uses.").unit("dB").dynamic(),
        feat("DigitalShift", ana, Int, RW, Expert, "Shifts the output left by this many bits (x2 each), clipping.").range(0.0, 4.0),
        feat("BalanceRatioSelector", ana, en(&[("Red", 0), ("Green", 1), ("Blue", 2)]), RW, Expert, "The colour channel BalanceRatio sets.").cond(),
        feat("BalanceRatio", ana, Float, RW, Expert, "White balance gain of the selected channel.").range(0.0, 15.0).sel("BalanceRatioSelector", 3).cond(),
        feat("BalanceWhiteAuto", ana, en(AUTO), RW, Beginner, "Automatic white balance.").cond(),
        feat("ColorInterpolation", ana, en(&[("Bilinear", 0), ("GradientCorrected", 1)]), RW, Expert, "Demosaicing method for colour output formats.").cond(),
        feat("GammaEnable", ana, Bool, RW, Expert, "Whether Gamma is applied."),
        feat("Gamma", ana, Float, RW, Expert, "Gamma correction: out = max (in/max)^Gamma; smaller is brighter. Ignored while GammaEnable is false.").range(0.0, 3.99998),
        // Colour transformation.
        feat("ColorTransformationSelector", ctc, en(&[("RGBtoRGB", 0)]), RW, Expert, "The colour transformation the following features configure.").cond(),
        feat("ColorTransformationEnable", ctc, Bool, RW, Expert, "Whether the colour matrix is applied.").cond(),
        feat("ColorTransformationValueSelector", ctc, en(&gains_00_22), RW, Expert, "The matrix coefficient ColorTransformationValue sets.").cond(),
        feat("ColorTransformationValue", ctc, Float, RW, Expert, "The selected coefficient of the colour matrix.").range(-8.0, 8.0).sel("ColorTransformationValueSelector", 9).cond(),
        feat("Saturation", ctc, Float, RW, Expert, "Colour saturation: 0 grey, 1 unchanged, 2 double.").range(0.0, 2.0).cond(),
        feat("Hue", ctc, Float, RW, Expert, "Rotation of the hue.").unit("deg").range(-180.0, 180.0).cond(),
        // LUT.
        feat("LUTSelector", lut, en(&[("Luminance", 0)]), RW, Expert, "The LUT the following features configure.").cond(),
        feat("LUTEnable", lut, Bool, RW, Expert, "Whether the LUT is applied. Not available while Gamma is enabled and not 1.").cond(),
        feat("LUTIndex", lut, Int, RW, Guru, "Index (12-bit input level) of the LUT entry LUTValue reads and writes.").range(0.0, (LUT_LEN - 1) as f64).cond().nostream(),
        feat("LUTValue", lut, Int, RW, Guru, "Output level (12 bits) of the selected LUT entry.").range(0.0, 4095.0).sel("LUTIndex", LUT_LEN).cond(),
        feat("LUTValueAll", lut, Kind::Register(LUT_LEN * 4), RW, Guru, "The whole LUT: 4096 little-endian 32-bit output levels.").cond().nostream(),
        // Flat-field correction.
        feat("FFCEnable", ffc, Bool, RW, Beginner, "Whether flat-field correction is applied; available once a calibration exists.").cond(),
        feat("FFCCalibrationStep", ffc, en(&[("Idle", 0), ("DarkField", 1), ("BrightField", 2), ("Done", 3)]), RW, Beginner, "The calibration step FFCCalibrate runs: DarkField (lens covered), then BrightField (uniform light, brightest/darkest ratio at most 2), then Done stores the coefficients.").nostream(),
        feat("FFCCalibrate", ffc, Cmd, WO, Beginner, "Runs the selected calibration step."),
        feat("FFCStatus", ffc, en(&[("NotCalibrated", 0), ("DarkFieldDone", 1), ("BrightFieldDone", 2), ("Calibrated", 3), ("BrightFieldRejected", 4), ("Busy", 5)]), RO, Beginner, "State of the flat-field calibration."),
        feat("FFCFrameCount", ffc, Int, RW, Expert, "Frames averaged by each calibration step.").range(1.0, 64.0),
        // Defect pixels.
        feat("DefectPixelCorrectionEnable", dpc, Bool, RW, Expert, "Whether listed defective pixels are corrected."),
        feat("DefectPixelListSelector", dpc, en(&[("Factory", 0), ("User", 1)]), RW, Expert, "The defect list the following features show."),
        feat("DefectPixelCount", dpc, Int, RO, Expert, "Pixels in the selected list.").sel("DefectPixelListSelector", 2),
        feat("DefectPixelList", dpc, Kind::Register(DEFECT_LIST_CAPACITY * 4), RW, Guru, "The selected list: little-endian (x: u16, y: u16) pairs, ended by x = 0xFFFF; the Factory list is read-only.").sel("DefectPixelListSelector", 2).nostream(),
        feat("DefectPixelDetectSelector", dpc, en(&[("Hot", 0), ("Dead", 1)]), RW, Expert, "What DefectPixelDetect looks for: hot pixels in darkness, or dead pixels under uniform light."),
        feat("DefectPixelDetect", dpc, Cmd, WO, Expert, "Captures frames under the present conditions and adds the defective pixels found to the User list."),
        // User sets.
        feat("UserSetSelector", usc, en(&[("Default", 0), ("UserSet1", 1), ("UserSet2", 2)]), RW, Beginner, "The user set UserSetLoad and UserSetSave act on.").nostream(),
        feat("UserSetLoad", usc, Cmd, WO, Beginner, "Loads the selected user set."),
        feat("UserSetSave", usc, Cmd, WO, Beginner, "Saves the current settings to the selected user set (not Default)."),
        feat("UserSetDefault", usc, en_c(&[("Default", 0), ("UserSet1", 1), ("UserSet2", 2)], &["UserSet1", "UserSet2"]), RW, Beginner, "The user set loaded at power-up.").nostream(),
        // Events.
        feat("EventSelector", evc, en(&events), RW, Expert, "The event EventNotification configures."),
        feat("EventNotification", evc, en(OFF_ON), RW, Expert, "Whether the selected event is sent.").sel("EventSelector", EVENTS.len()),
        // Chunks.
        feat("ChunkModeActive", chc, Bool, RW, Expert, "Whether chunk data is appended to images.").locked(),
        feat("ChunkSelector", chc, en(&chunks), RW, Expert, "The chunk ChunkEnable configures."),
        feat("ChunkEnable", chc, Bool, RW, Expert, "Whether the selected chunk is appended.").sel("ChunkSelector", CHUNKS.len()).locked(),
        // Transport layer.
        feat("PayloadSize", tlc, Int, RO, Expert, "Bytes of one frame's payload.").unit("B"),
        feat("TLParamsLocked", tlc, Int, RW, Invisible, "Set by the transport layer while it acquires; locks the image format.").range(0.0, 1.0).nostream(),
        // Simulation.
        feat("SimulationScene", sim, en(&[("Synthetic", 0), ("Uniform", 1), ("Dark", 2), ("ImageFile", 3), ("ImageFolder", 4)]), RW, Guru, "What the sensor looks at."),
        feat("SimulationImagePath", sim, Kind::String(256), RW, Guru, "Image file or folder for the ImageFile and ImageFolder scenes."),
        feat("SimulationUniformLevel", sim, Float, RW, Guru, "Radiance of the Uniform scene (1 = white).").range(0.0, 16.0),
        feat("SimulationLightLevel", sim, Float, RW, Guru, "Photons per pixel per microsecond that white delivers.").range(0.0, 1000.0),
        feat("SimulationAmbientTemperature", sim, Float, RW, Guru, "Air temperature around the camera.").unit("C").range(-20.0, 60.0),
        feat("SimulationClockMode", sim, en(&[("WallTime", 0), ("AsFastAsPossible", 1)]), RW, Guru, "Whether the camera clock follows wall time or runs as fast as the camera can compute."),
        feat("SimulationLineVoltage", sim, Float, RW, Guru, "Voltage applied to the selected line; input lines only.").unit("V").range(-30.0, 60.0).sel("LineSelector", 3).cond(),
        feat("SimulationLinePulseVoltage", sim, Float, RW, Guru, "High level of the pulses SimulationLinePulse applies.").unit("V").range(0.0, 60.0),
        feat("SimulationLinePulseWidth", sim, Float, RW, Guru, "Width of the pulses SimulationLinePulse applies.").unit("us").range(0.1, 10_000_000.0),
        feat("SimulationLinePulse", sim, Cmd, WO, Guru, "Applies one pulse to the selected line; input lines only.").sel("LineSelector", 3).cond(),
        feat("SimulationLineDamaged", sim, Bool, RO, Guru, "Whether the selected line was damaged by overvoltage.").sel("LineSelector", 3),
        feat("SimulationPullUpVoltage", sim, en(&[("V5", 5), ("V12", 12), ("V24", 24)]), RW, Guru, "External pull-up supply of the opto-isolated output (sets its edge timing, manual Table 3-4)."),
        feat("SimulationOutputEdgeCount", sim, Int, RO, Guru, "Recorded edges of the selected output line.").sel("LineSelector", 3),
        feat("SimulationOutputEdges", sim, Kind::Register(OUTPUT_EDGE_CAPACITY * OUTPUT_EDGE_LEN), RO, Guru, "Recorded edges of the selected line, oldest first: logic, start and reach times (u64 ns) and rising (u64).").sel("LineSelector", 3),
        feat("SimulationOutputEdgesClear", sim, Cmd, WO, Guru, "Forgets the recorded output edges."),
        feat("SimulationFaultDropTransfers", sim, Int, RW, Guru, "Drops the payload of the next N frames on the stream endpoint.").range(0.0, 1000.0),
        feat("SimulationFaultStallStream", sim, Cmd, WO, Guru, "Halts the stream endpoint as a device error would."),
        feat("SimulationDisconnect", sim, Cmd, WO, Guru, "Unplugs the camera."),
    ];
    // Event data: id, timestamp and frame id of the last event of each kind.
    for (_, _, [id, timestamp, frame_id]) in EVENTS {
        v.push(feat(
            id,
            evc,
            Int,
            RO,
            Expert,
            "Id of the last event of this kind.",
        ));
        v.push(
            feat(
                timestamp,
                evc,
                Int,
                RO,
                Expert,
                "Timestamp of the last event of this kind.",
            )
            .unit("ns"),
        );
        v.push(feat(
            frame_id,
            evc,
            Int,
            RO,
            Expert,
            "Frame id of the last event of this kind.",
        ));
    }
    for &(_, id, feature, float) in CHUNKS {
        let kind = if float { Float } else { Int };
        v.push(
            feat(
                feature,
                chc,
                kind,
                RO,
                Expert,
                "Value carried by the image's chunk data.",
            )
            .chunk(id),
        );
    }
    let mut out: Vec<FeatureDef> = v.into_iter().map(|b| b.0).collect();
    if !color {
        // Colour features make no sense on a monochrome sensor; they stay in
        // the table (same layout on every model) but are never available.
        for d in &mut out {
            if matches!(d.category, "ColorTransformationControl")
                || matches!(
                    d.name,
                    "BalanceRatioSelector"
                        | "BalanceRatio"
                        | "BalanceWhiteAuto"
                        | "ColorInterpolation"
                )
            {
                d.conditional = true;
            }
        }
    }
    out
}
