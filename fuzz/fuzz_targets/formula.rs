//! Parses arbitrary text as a formula and evaluates it in both modes.
#![no_main]

use genapi::formula::{Formula, Mode, Num};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let is_var = |s: &str| matches!(s.split('.').next(), Some("A" | "B" | "X"));
    if let Ok(f) = Formula::parse(text, &is_var) {
        let vars: Vec<Num> = f
            .variables()
            .iter()
            .enumerate()
            .map(|(i, _)| if i % 2 == 0 { Num::Int(i as i64 - 3) } else { Num::Float(0.5 * i as f64) })
            .collect();
        let _ = f.eval(Mode::Int, &vars);
        let _ = f.eval(Mode::Float, &vars);
    }
});
