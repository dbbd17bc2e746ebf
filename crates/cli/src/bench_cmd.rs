//! `mvcam bench`: throughput of the image kernels on synthetic frames.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use pixel::color::ColorMatrix;
use pixel::defect::DefectList;
use pixel::demosaic::{self, BayerPattern};
use pixel::ffc::{FlatField, GAIN_ONE};
use pixel::format::PixelFormat;
use pixel::lut::Lut8;
use pixel::pack;
use pixel::pipeline::{ColorPipeline, PipelineSettings};

use crate::output::outln;
use crate::synthetic::splitmix64;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Mpix/s of the pixel kernels on a random frame.
    Pixel(PixelArgs),
    /// MB/s streamed from a virtual camera running as fast as it can.
    Stream(StreamArgs),
}

/// `mvcam bench stream`.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// The link: memory (in-process) or usbip (USB/IP over loopback TCP).
    #[arg(long, default_value = "memory", value_parser = parse_link)]
    link: mvcam::bench::BenchLink,
    /// How long to measure, seconds.
    #[arg(long, default_value = "5")]
    seconds: f64,
    /// Print `{"mb_per_s","frames","lost",...}`.
    #[arg(long)]
    json: bool,
}

fn parse_link(s: &str) -> Result<mvcam::bench::BenchLink, String> {
    mvcam::bench::BenchLink::from_name(s).ok_or_else(|| format!("{s:?}: expected memory or usbip"))
}

#[derive(Debug, Args)]
pub struct PixelArgs {
    /// Frame width in pixels.
    #[arg(long, default_value = "2448", value_parser = clap::value_parser!(u32).range(1..=65535))]
    width: u32,
    /// Frame height in pixels.
    #[arg(long, default_value = "2048", value_parser = clap::value_parser!(u32).range(1..=65535))]
    height: u32,
    /// Print a JSON object of Mpix/s per kernel.
    #[arg(long)]
    json: bool,
    /// Time spent on each kernel, in milliseconds.
    #[arg(long, default_value = "600")]
    millis: u64,
    /// Run only the kernels whose names contain this text.
    #[arg(long)]
    only: Option<String>,
}

type CmdResult = Result<(), Box<dyn std::error::Error>>;

pub fn run(cmd: BenchCommand) -> CmdResult {
    match cmd {
        BenchCommand::Pixel(a) => bench_pixel(&a),
        BenchCommand::Stream(a) => bench_stream(&a),
    }
}

fn bench_stream(args: &StreamArgs) -> CmdResult {
    let duration = Duration::try_from_secs_f64(args.seconds)
        .map_err(|_| format!("--seconds: {} is not a number of seconds", args.seconds))?;
    let report = mvcam::bench::bench_stream(args.link, duration)?;
    if args.json {
        outln!("{}", report.to_json())?;
    } else {
        outln!(
            "{:.0} MB/s, {} frames, {} lost, over {:.1} s{}",
            report.mb_per_s,
            report.frames,
            report.lost,
            report.seconds,
            report
                .cpu_s_per_gb
                .map(|c| format!(", {c:.3} CPU s per GB"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// Runs `f` once to warm up, then repeatedly for about `budget`; returns the
/// median throughput in Mpix/s (the median resists the disturbances of a
/// shared machine better than the mean).
fn measure(
    pixels: usize,
    budget: Duration,
    mut f: impl FnMut() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<f64, Box<dyn std::error::Error>> {
    f()?;
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 3 || (start.elapsed() < budget && times.len() < 10_000) {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2].max(1e-12);
    Ok(pixels as f64 / median / 1e6)
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        state = splitmix64(state);
        v.extend_from_slice(&state.to_le_bytes());
    }
    v.truncate(n);
    v
}

/// The colour pipeline as a camera runs it: a few hundred defects, flat-field
/// maps, white balance, bilinear demosaic, a colour matrix with saturation
/// and gamma 0.45.
fn color_pipeline(w: usize, h: usize) -> Result<ColorPipeline, Box<dyn std::error::Error>> {
    let mut settings = PipelineSettings::new(BayerPattern::RG);
    let mut state = 3u64;
    let mut next = move || {
        state = splitmix64(state);
        state
    };
    let defects = (w * h / 10_000).max(1);
    settings.defects = DefectList::from_points(
        (0..defects).map(|_| ((next() % w as u64) as u32, (next() % h as u64) as u32)),
    );
    // Offsets of a few DN and gains of 0.9..1.1 (1.0 = GAIN_ONE).
    let offsets: Vec<u16> = (0..w * h).map(|_| (next() % 4) as u16).collect();
    let gains: Vec<u16> = (0..w * h)
        .map(|_| (u64::from(GAIN_ONE) * 9 / 10 + next() % (u64::from(GAIN_ONE) / 5)) as u16)
        .collect();
    settings.flat_field = Some(FlatField::new(w, h, offsets, gains)?);
    settings.white_balance = [1.8, 1.0, 1.5];
    let ccm = ColorMatrix::from_matrix([
        [1.55, -0.40, -0.15],
        [-0.25, 1.45, -0.20],
        [-0.05, -0.50, 1.55],
    ]);
    settings.matrix = ccm.then(&ColorMatrix::saturation_hue(1.2, 0.0)?);
    settings.lut = Some(Lut8::gamma(0.45)?);
    Ok(ColorPipeline::new(w, h, settings)?)
}

fn bench_pixel(a: &PixelArgs) -> CmdResult {
    let (w, h) = (a.width as usize, a.height as usize);
    let n = w * h;
    let budget = Duration::from_millis(a.millis.max(1));
    let mosaic = random_bytes(n, 1);
    let mut rgb8 = vec![0u8; 3 * n];
    let mut results: Vec<(&str, f64)> = Vec::new();
    let wanted = |name: &str| a.only.as_deref().map_or(true, |o| name.contains(o));

    let rg = BayerPattern::RG;
    if wanted("demosaic_bilinear_rg8_rgb8") {
        results.push((
            "demosaic_bilinear_rg8_rgb8",
            measure(n, budget, || {
                Ok(demosaic::bilinear_u8(rg, w, h, &mosaic, &mut rgb8)?)
            })?,
        ));
    }
    if wanted("demosaic_mhc_rg8_rgb8") {
        results.push((
            "demosaic_mhc_rg8_rgb8",
            measure(n, budget, || {
                Ok(demosaic::mhc_u8(rg, w, h, &mosaic, &mut rgb8)?)
            })?,
        ));
    }
    let mosaic12: Vec<u16> = mosaic.iter().map(|&v| u16::from(v) << 4).collect();
    let mut rgb16 = vec![0u16; 3 * n];
    if wanted("demosaic_bilinear_rg12_rgb16") {
        results.push((
            "demosaic_bilinear_rg12_rgb16",
            measure(n, budget, || {
                Ok(demosaic::bilinear_u16(rg, w, h, &mosaic12, &mut rgb16)?)
            })?,
        ));
    }
    if wanted("demosaic_mhc_rg12_rgb16") {
        results.push((
            "demosaic_mhc_rg12_rgb16",
            measure(n, budget, || {
                Ok(demosaic::mhc_u16(rg, w, h, &mosaic12, &mut rgb16, 12)?)
            })?,
        ));
    }

    let fmt = PixelFormat::Mono12p;
    let packed = random_bytes(fmt.image_bytes(w, h).ok_or("frame too large")?, 2);
    let mut mono16 = vec![0u16; n];
    if wanted("unpack_mono12p_mono16") {
        results.push((
            "unpack_mono12p_mono16",
            measure(n, budget, || {
                Ok(pack::unpack_to_u16(fmt, w, h, &packed, &mut mono16)?)
            })?,
        ));
    }

    if wanted("pipeline_color") {
        let pipeline = color_pipeline(w, h)?;
        results.push((
            "pipeline_color",
            measure(n, budget, || Ok(pipeline.run(&mosaic, &mut rgb8)?))?,
        ));
    }

    if a.json {
        let body: Vec<String> = results
            .iter()
            .map(|(k, v)| format!("\"{k}\": {v:.1}"))
            .collect();
        println!("{{{}}}", body.join(", "));
    } else {
        println!(
            "{w}x{h}, {} thread(s) available",
            std::thread::available_parallelism().map_or(1, |p| p.get())
        );
        for (k, v) in &results {
            println!("{k:32} {v:9.1} Mpix/s");
        }
    }
    Ok(())
}
