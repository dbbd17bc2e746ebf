//! Every feature of every model, exercised by the EMVA reference GenApi
//! (PyPI package `genicam`) against the real firmware: the `regserve`
//! example serves the camera's registers and
//! `scripts/camera-reference-genapi.py` drives them through the reference.
//!
//! The test is skipped (and passes) when `python3` with `genicam` is not
//! installed or the example binary has not been built next to the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one model's run may take before it is counted as hung.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// The `regserve` example built with this test (`target/<profile>/examples`).
fn regserve_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no current executable: {e}"))?;
    // The test binary lives in target/<profile>/deps.
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| format!("{} has no profile directory", exe.display()))?;
    let binary = profile_dir
        .join("examples")
        .join(format!("regserve{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "{} not built (cargo test builds the examples of the package it tests)",
            binary.display()
        ))
    }
}

/// The script, relative to this crate.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/camera-reference-genapi.py")
}

/// Whether `python3` can import the reference GenApi.
fn reference_available() -> Result<(), String> {
    let status = Command::new("python3")
        .args(["-c", "from genicam import genapi"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("python3 does not run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("python3 cannot import genicam.genapi (pip install genicam)".into())
    }
}

/// Runs the script for `model`; returns its exit code and standard output.
fn run_script(binary: &Path, model: &str) -> (Option<i32>, String) {
    let out_path = std::env::temp_dir().join(format!(
        "reference-genapi-{model}-{}.json",
        std::process::id()
    ));
    let out_file = std::fs::File::create(&out_path).expect("summary file");
    let mut child = Command::new("python3")
        .arg(script())
        .arg(model)
        .arg("--binary")
        .arg(binary)
        .stdout(out_file)
        .spawn()
        .expect("python3 starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            // The script or the camera hung: stop it and fail below.
            let _ = child.kill();
            let _ = child.wait();
            panic!("{model}: the script did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let summary = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    (status.code(), summary)
}

#[test]
fn reference_genapi_exercises_every_feature() {
    if let Err(why) = reference_available() {
        println!("skipped: {why}");
        return;
    }
    let binary = match regserve_binary() {
        Ok(binary) => binary,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let mut failures = Vec::new();
    for model in ["color5mp", "mono5mp", "highspeed"] {
        let (code, summary) = run_script(&binary, model);
        println!("{model}: exit {code:?}\n{summary}");
        let parsed: serde_json::Value = serde_json::from_str(&summary)
            .unwrap_or_else(|e| panic!("{model}: the summary is not JSON ({e})"));
        let totals = &parsed["totals"];
        // Every model has far more than a hundred features; a run that read
        // almost nothing did not exercise the camera.
        let features = totals["features"].as_u64().unwrap_or(0);
        let reads = totals["read_ok"].as_u64().unwrap_or(0);
        let writes = totals["write_ok"].as_u64().unwrap_or(0);
        assert!(
            features >= 100 && reads >= features && writes >= 100,
            "{model}: too little exercised: {totals}"
        );
        if code != Some(0) {
            failures.push(format!("{model}: {}", parsed["failed"]));
        }
    }
    assert!(
        failures.is_empty(),
        "the reference GenApi found features that fail:\n{}",
        failures.join("\n")
    );
}
