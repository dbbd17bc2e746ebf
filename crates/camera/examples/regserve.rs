//! Serves a virtual camera's registers on stdin/stdout, line by line, so
//! that another program (such as a GenApi in another language) can drive
//! the real firmware through the GenCP control channel.
//!
//! Usage: `regserve <color5mp|mono5mp|highspeed> <xml-out-path>`
//!
//! The camera is powered up on a clock that runs as fast as possible, its
//! GenICam XML is written to `xml-out-path`, then `ready` is printed and
//! every input line is answered with exactly one output line:
//!
//! | request | answer |
//! |---|---|
//! | `r <addr-hex> <len>` | `ok <hex-bytes>` or `err <message>` |
//! | `w <addr-hex> <hex-bytes>` | `ok` or `err <message>` |
//!
//! Addresses may carry a `0x` prefix. An empty line or `q` ends the
//! session, as does the end of stdin.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use camera::{Camera, CameraConfig, ClockMode, Model};
use u3v::control_channel::{ChannelConfig, ControlChannel};

/// Largest read one request may ask for (the reference GenApi reads
/// features a few bytes at a time; only registers such as LUTs are large).
const MAX_READ_LEN: usize = 1 << 20;

/// Why a request line could not be served.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    /// The line is not one of the two request forms.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A number or hex string did not parse.
    #[error("bad {what} {text:?}")]
    BadNumber {
        /// What the field holds.
        what: &'static str,
        /// The text found.
        text: String,
    },
    /// A read asked for too many bytes.
    #[error("read of {0} bytes refused (at most {MAX_READ_LEN})")]
    TooLong(usize),
    /// The control channel failed.
    #[error("{0}")]
    Channel(#[from] u3v::control_channel::ControlError),
}

fn parse_model(name: &str) -> Option<Model> {
    match name.to_ascii_lowercase().as_str() {
        "color5mp" => Some(Model::Color5MP),
        "mono5mp" => Some(Model::Mono5MP),
        "highspeed" => Some(Model::HighSpeed1_6MP),
        _ => None,
    }
}

fn parse_address(text: &str) -> Result<u64, RequestError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u64::from_str_radix(digits, 16).map_err(|_| RequestError::BadNumber {
        what: "address",
        text: text.to_string(),
    })
}

fn parse_hex_bytes(text: &str) -> Result<Vec<u8>, RequestError> {
    let bad = || RequestError::BadNumber {
        what: "hex bytes",
        text: text.chars().take(64).collect(),
    };
    if text.len() % 2 != 0 || !text.is_ascii() {
        return Err(bad());
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing into a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Answers one request line (without the `ok`/`err` framing of errors).
fn serve_line(channel: &ControlChannel, line: &str) -> Result<String, RequestError> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields.as_slice() {
        ["r", address, length] => {
            let address = parse_address(address)?;
            let length: usize = length.parse().map_err(|_| RequestError::BadNumber {
                what: "length",
                text: length.to_string(),
            })?;
            if length > MAX_READ_LEN {
                return Err(RequestError::TooLong(length));
            }
            let mut buf = vec![0u8; length];
            channel.read(address, &mut buf)?;
            Ok(format!("ok {}", to_hex(&buf)))
        }
        ["w", address, data] => {
            let address = parse_address(address)?;
            let data = parse_hex_bytes(data)?;
            channel.write(address, &data)?;
            Ok("ok".to_string())
        }
        _ => Err(RequestError::Malformed(line.chars().take(80).collect())),
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (model_name, xml_path) = match args.as_slice() {
        [_, model, path] => (model, path),
        _ => return Err("usage: regserve <color5mp|mono5mp|highspeed> <xml-out-path>".into()),
    };
    let model = parse_model(model_name).ok_or_else(|| format!("unknown model {model_name:?}"))?;
    let mut config = CameraConfig::new(model);
    config.clock = ClockMode::AsFastAsPossible;
    let camera = Camera::new(config).map_err(|e| format!("camera does not power up: {e}"))?;
    std::fs::write(xml_path, camera.xml()).map_err(|e| format!("writing {xml_path}: {e}"))?;
    let link = camera
        .connect()
        .map_err(|e| format!("camera does not connect: {e}"))?;
    let channel = Arc::new(
        ControlChannel::open(link, ChannelConfig::default())
            .map_err(|e| format!("control channel: {e}"))?,
    );
    channel
        .configure()
        .map_err(|e| format!("bootstrap registers: {e}"))?;

    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io_error = |e: std::io::Error| format!("stdout: {e}");
    writeln!(out, "ready").map_err(io_error)?;
    out.flush().map_err(io_error)?;
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| format!("stdin: {e}"))?;
        let line = line.trim();
        if line.is_empty() || line == "q" {
            break;
        }
        let answer = match serve_line(&channel, line) {
            Ok(answer) => answer,
            Err(e) => format!("err {}", e.to_string().replace('\n', " ")),
        };
        writeln!(out, "{answer}").map_err(io_error)?;
        out.flush().map_err(io_error)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("regserve: {message}");
            ExitCode::FAILURE
        }
    }
}
