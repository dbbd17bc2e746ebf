//! `mvcam genapi ...`: dump, browse and benchmark GenICam descriptions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use genapi::{DisplayNotation, Interface, NodeMap, Visibility};

use crate::synthetic::SyntheticPort;

#[derive(Debug, Subcommand)]
pub enum GenapiCommand {
    /// Print every feature as evaluated over a synthetic register space, as JSON lines
    /// (the format of genapi-ref-dump.py).
    Dump(DumpArgs),
    /// Print the feature tree with type, access and value.
    Features(FeaturesArgs),
    /// Measure load time and cached read time.
    Bench(BenchArgs),
    /// Print the node names in node-map order.
    #[command(hide = true)]
    Order { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// A GenICam XML file or a zip archive holding one.
    file: PathBuf,
    /// Every register byte reads as zero.
    #[arg(long, conflicts_with = "seed")]
    zero: bool,
    /// Seed of the synthetic register space (decimal or 0x hex).
    #[arg(long, value_parser = parse_seed, default_value = "0")]
    seed: u64,
    /// The port to connect (default: the first Port node, else "Device").
    #[arg(long)]
    port: Option<String>,
    /// Dump only these nodes, evaluated in the order given.
    #[arg(long = "node")]
    nodes: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Level {
    Beginner,
    Expert,
    Guru,
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// A GenICam XML file or a zip archive holding one.
    file: PathBuf,
    /// Show the features of this user level and below.
    #[arg(long, value_enum, default_value = "guru")]
    level: Level,
    /// Read values from the pseudo-random register space of this seed
    /// (by default every register reads as zero).
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A GenICam XML file or a zip archive holding one.
    file: PathBuf,
    /// Print the figures as a JSON object.
    #[arg(long)]
    json: bool,
    /// How many times to load the file.
    #[arg(long, default_value = "20")]
    loads: u32,
}

fn parse_seed(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let r = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    };
    r.map_err(|e| format!("'{s}' is not a seed (a decimal or 0x-hex unsigned integer): {e}"))
}

type CmdResult = Result<(), Box<dyn std::error::Error>>;

pub fn run(cmd: GenapiCommand) -> CmdResult {
    match cmd {
        GenapiCommand::Dump(a) => dump(&a),
        GenapiCommand::Features(a) => features(&a),
        GenapiCommand::Bench(a) => bench(&a),
        GenapiCommand::Order { file } => {
            let map = load(&file)?;
            for n in map.node_names() {
                println!("{n}");
            }
            Ok(())
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

fn load(path: &Path) -> Result<NodeMap, Box<dyn std::error::Error>> {
    let bytes = read_file(path)?;
    NodeMap::from_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Connects `port` under the given name, or the first Port node, or "Device".
pub fn connect(map: &mut NodeMap, name: Option<&str>, port: SyntheticPort) {
    let name = match name {
        Some(n) => n.to_string(),
        None => map
            .port_names()
            .first()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "Device".into()),
    };
    // A description without that port leaves every register unreadable, as in the reference.
    let _ = map.connect(&name, Box::new(port));
}

/// A float as Python's `json.dumps` writes it.
pub fn py_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{v:?}")
    }
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The dump record of one node, or `None` for nodes the dump skips.
pub fn record(map: &mut NodeMap, name: &str) -> Option<String> {
    let kind = match map.interface(name).ok()? {
        Interface::Integer => "Integer",
        Interface::Float => "Float",
        Interface::Enumeration => "Enumeration",
        Interface::Boolean => "Boolean",
        Interface::String => "String",
        Interface::Command => "Command",
        Interface::Register => "Register",
        Interface::Category => "Category",
        _ => return None,
    };
    let error = |e: genapi::Error| {
        let class = format!("{e:?}");
        let class = class
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("Error")
            .to_string();
        format!(
            "{{\"error\": {}, \"kind\": \"{kind}\", \"name\": {}}}",
            json_str(&class),
            json_str(name)
        )
    };
    let body = (|| -> genapi::Result<String> {
        let access = map.access_mode(name)?;
        let readable = access.is_readable();
        // Fields in sorted key order, as json.dumps(sort_keys=True) writes them.
        let mut fields: Vec<(&str, String)> = vec![("access", json_str(access.as_str()))];
        match kind {
            "Integer" if readable => {
                let v = map.integer(name)?;
                let (min, max, inc) = (
                    map.integer_min(name)?,
                    map.integer_max(name)?,
                    map.integer_inc(name)?,
                );
                fields.extend([
                    ("value", v.to_string()),
                    ("min", min.to_string()),
                    ("max", max.to_string()),
                    ("inc", inc.to_string()),
                ]);
            }
            "Float" if readable => {
                let v = map.float(name)?;
                let (min, max) = (map.float_min(name)?, map.float_max(name)?);
                fields.extend([
                    ("value", py_float(v)),
                    ("min", py_float(min)),
                    ("max", py_float(max)),
                ]);
            }
            "Enumeration" if readable => fields.push(("value", json_str(&map.enumeration(name)?))),
            "Boolean" if readable => fields.push(("value", map.boolean(name)?.to_string())),
            "String" if readable => fields.push(("value", json_str(&map.string(name)?))),
            "Register" => {
                let length = map.register_length(name)?;
                let address = map.register_address(name)?;
                fields.extend([
                    ("length", length.to_string()),
                    ("address", address.to_string()),
                ]);
            }
            _ => {}
        }
        fields.push(("kind", json_str(kind)));
        fields.push(("name", json_str(name)));
        fields.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::from("{");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "\"{k}\": {v}");
        }
        out.push('}');
        Ok(out)
    })();
    Some(body.unwrap_or_else(error))
}

/// Every record of the dump, sorted by node name.
///
/// Nodes are evaluated in node-map order, as the reference dump does: an
/// evaluation that fails leaves marks in the cache that later reads see, so the
/// order matters for agreement.
pub fn dump_lines(map: &mut NodeMap) -> Vec<String> {
    let names: Vec<String> = map.node_names().map(str::to_string).collect();
    let mut records: Vec<(String, String)> = names
        .into_iter()
        .filter_map(|n| record(map, &n).map(|r| (n, r)))
        .collect();
    records.sort();
    records.into_iter().map(|(_, r)| r).collect()
}

fn dump(a: &DumpArgs) -> CmdResult {
    let mut map = load(&a.file)?;
    connect(
        &mut map,
        a.port.as_deref(),
        SyntheticPort::new(a.seed, a.zero),
    );
    let lines = if a.nodes.is_empty() {
        dump_lines(&mut map)
    } else {
        a.nodes
            .iter()
            .map(|n| record(&mut map, n).unwrap_or_else(|| format!("{n}: not dumped")))
            .collect()
    };
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

fn features(a: &FeaturesArgs) -> CmdResult {
    let mut map = load(&a.file)?;
    connect(
        &mut map,
        None,
        SyntheticPort::new(a.seed.unwrap_or(0), a.seed.is_none()),
    );
    let max = match a.level {
        Level::Beginner => Visibility::Beginner,
        Level::Expert => Visibility::Expert,
        Level::Guru => Visibility::Guru,
    };
    let root = if map.contains("Root") {
        "Root".to_string()
    } else {
        map.node_names()
            .find(|n| matches!(map.interface(n), Ok(Interface::Category)))
            .map(str::to_string)
            .ok_or("the description has no category")?
    };
    let mut out = String::new();
    tree(&mut map, &root, 0, max, &mut out, &mut Vec::new());
    print!("{out}");
    Ok(())
}

fn value_text(map: &mut NodeMap, name: &str) -> String {
    let r = match map.interface(name) {
        Ok(Interface::Integer) => map.integer(name).map(|v| v.to_string()),
        Ok(Interface::Float) => {
            let (notation, precision) = map
                .node_info(name)
                .map(|i| (i.display_notation, i.display_precision))
                .unwrap_or_default();
            map.float(name).map(|v| float_text(v, notation, precision))
        }
        Ok(Interface::Enumeration) => map.enumeration(name),
        Ok(Interface::Boolean) => map.boolean(name).map(|v| v.to_string()),
        Ok(Interface::String) => map.string(name).map(|v| format!("{v:?}")),
        Ok(Interface::Register) => map.register_length(name).map(|l| format!("<{l} bytes>")),
        _ => Ok(String::new()),
    };
    r.unwrap_or_else(|e| format!("<{e}>"))
}

/// A float as its description asks it to be shown (DisplayNotation, DisplayPrecision).
fn float_text(v: f64, notation: Option<DisplayNotation>, precision: Option<i64>) -> String {
    let p = precision.map(|p| p.clamp(0, 17) as usize);
    match (notation, p) {
        (Some(DisplayNotation::Fixed), Some(p)) => format!("{v:.p$}"),
        (Some(DisplayNotation::Scientific), Some(p)) => format!("{v:.p$e}"),
        (Some(DisplayNotation::Scientific), None) => format!("{v:e}"),
        _ => v.to_string(),
    }
}

fn tree(
    map: &mut NodeMap,
    name: &str,
    depth: usize,
    max: Visibility,
    out: &mut String,
    path: &mut Vec<String>,
) {
    if path.iter().any(|p| p == name) {
        return;
    }
    let Ok(info) = map.node_info(name) else {
        return;
    };
    if info.visibility > max {
        return;
    }
    let interface = info.interface;
    let unit = info.unit.map(|u| format!(" {u}")).unwrap_or_default();
    let access = map
        .access_mode(name)
        .map(|a| a.as_str().to_string())
        .unwrap_or_else(|_| "??".into());
    let indent = "  ".repeat(depth);
    if interface == Interface::Category {
        let _ = writeln!(out, "{indent}{name}/");
        let children: Vec<String> = map
            .category_features(name)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string)
            .collect();
        path.push(name.to_string());
        for c in children {
            tree(map, &c, depth + 1, max, out, path);
        }
        path.pop();
    } else {
        let value = if access == "RO" || access == "RW" {
            format!(" = {}{unit}", value_text(map, name))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{indent}{name} [{} {access}]{value}",
            interface.as_str()
        );
    }
}

fn bench(a: &BenchArgs) -> CmdResult {
    let bytes = read_file(&a.file)?;
    let loads = a.loads.max(1);
    // One warm-up load, then the timed ones, one by one (dropping the previous
    // map is not part of loading): their mean, and their median, which a busy
    // shared machine disturbs less.
    let mut map = NodeMap::from_bytes(&bytes)?;
    let mut times = Vec::with_capacity(loads as usize);
    for _ in 0..loads {
        let t = Instant::now();
        let fresh = NodeMap::from_bytes(&bytes)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        map = fresh;
    }
    let load_ms = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);
    let load_median_ms = times[times.len() / 2];
    let port = SyntheticPort::new(7, false);
    let reads = port.read_counter();
    connect(&mut map, None, port);
    // The features whose second read costs no port access: the cached ones.
    let names: Vec<String> = map.node_names().map(str::to_string).collect();
    let mut cached = Vec::new();
    for n in &names {
        let ok = |m: &mut NodeMap| match m.interface(n) {
            Ok(Interface::Integer) => m.integer(n).is_ok(),
            Ok(Interface::Float) => m.float(n).is_ok(),
            Ok(Interface::Boolean) => m.boolean(n).is_ok(),
            Ok(Interface::Enumeration) => m.enum_int(n).is_ok(),
            _ => false,
        };
        if ok(&mut map) {
            let before = reads.load(Ordering::Relaxed);
            if ok(&mut map) && reads.load(Ordering::Relaxed) == before {
                cached.push((n.clone(), map.interface(n).unwrap_or(Interface::Base)));
            }
        }
    }
    let mut count = 0u64;
    let t = Instant::now();
    while t.elapsed().as_millis() < 300 || count == 0 {
        for (n, interface) in &cached {
            let r = match interface {
                Interface::Integer => map.integer(n).map(|_| ()),
                Interface::Float => map.float(n).map(|_| ()),
                Interface::Boolean => map.boolean(n).map(|_| ()),
                _ => map.enum_int(n).map(|_| ()),
            };
            std::hint::black_box(r).ok();
        }
        count += cached.len().max(1) as u64;
    }
    let read_ns = t.elapsed().as_secs_f64() * 1e9 / count as f64;
    if a.json {
        println!(
            "{{\"load_ms\": {load_ms:.3}, \"load_median_ms\": {load_median_ms:.3}, \"read_ns\": {read_ns:.1}, \"features_read\": {}}}",
            cached.len()
        );
    } else {
        println!("load: {load_ms:.3} ms (mean of {loads}; median {load_median_ms:.3} ms)");
        println!(
            "cached read: {read_ns:.1} ns (mean over {} features)",
            cached.len()
        );
    }
    Ok(())
}
