//! Evaluates every row of `formula_table.txt` (expectations confirmed against the reference
//! GenApi by `formula_reference.py`) with this crate's formula engine.

use genapi::formula::{Formula, Mode, Num};

const TABLE: &str = include_str!("formula_table.txt");

/// The variables the table may use; the same set `formula_reference.py` declares.
const VARIABLES: [(&str, Num); 11] = [
    ("A", Num::Int(7)),
    ("B", Num::Int(-3)),
    ("Z", Num::Int(0)),
    ("BIG", Num::Int(i64::MAX)),
    ("MIN", Num::Int(i64::MIN)),
    ("E", Num::Int(7)),
    ("F", Num::Float(7.5)),
    ("G", Num::Float(-2.5)),
    ("H", Num::Float(2.5)),
    ("FZ", Num::Float(0.0)),
    ("HUGE", Num::Float(1e30)),
];

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_variable(name: &str) -> bool {
    VARIABLES.iter().any(|(n, _)| *n == name)
}

fn values(f: &Formula) -> Vec<Num> {
    f.variables()
        .iter()
        .map(|v| {
            VARIABLES
                .iter()
                .find(|(n, _)| n == v)
                .map(|(_, x)| *x)
                .expect("declared variable")
        })
        .collect()
}

/// Evaluates `expr` in `mode`, both through the dual-mode `parse` and `parse_mode`, and
/// checks that they agree.
fn evaluate(mode: Mode, expr: &str) -> Result<Num, String> {
    let single = Formula::parse_mode(expr, mode, &is_variable)
        .and_then(|f| f.eval(mode, &values(&f)))
        .map_err(|e| e.to_string());
    let dual = Formula::parse(expr, &is_variable)
        .and_then(|f| f.eval(mode, &values(&f)))
        .map_err(|e| e.to_string());
    match (&single, &dual) {
        (Ok(a), Ok(b))
            if a == b
                || matches!((a, b), (Num::Float(x), Num::Float(y)) if x.is_nan() && y.is_nan()) => {
        }
        (Err(_), Err(_)) => {}
        _ => panic!("{expr:?} in {mode:?}: parse_mode gives {single:?}, parse gives {dual:?}"),
    }
    single
}

fn check(mode: Mode, expected: &str, got: &Result<Num, String>) -> bool {
    match (expected, got) {
        ("error", r) => r.is_err(),
        (_, Err(_)) => false,
        (e, Ok(Num::Int(v))) => mode == Mode::Int && e.parse::<i64>() == Ok(*v),
        (e, Ok(Num::Float(v))) => {
            let Ok(x) = e.parse::<f64>() else {
                return false;
            };
            mode == Mode::Float
                && if x.is_nan() {
                    v.is_nan()
                } else {
                    x == *v && x.is_sign_negative() == v.is_sign_negative()
                }
        }
    }
}

#[test]
fn formula_table_matches_reference() {
    let mut rows = 0;
    let mut failures = Vec::new();
    for (lineno, line) in TABLE.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() >= 3,
            "line {}: malformed row {line:?}",
            lineno + 1
        );
        let mode = match cols[0] {
            "int" => Mode::Int,
            "float" => Mode::Float,
            m => panic!("line {}: bad mode {m:?}", lineno + 1),
        };
        let expr = unescape(cols[1]);
        let expected = cols[2].trim();
        let got = evaluate(mode, &expr);
        rows += 1;
        if !check(mode, expected, &got) {
            failures.push(format!(
                "line {}: {} {:?}: expected {}, got {:?}",
                lineno + 1,
                cols[0],
                expr,
                expected,
                got
            ));
        }
    }
    assert!(rows >= 120, "only {rows} rows");
    assert!(
        failures.is_empty(),
        "{} of {rows} rows fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
