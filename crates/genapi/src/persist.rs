//! Feature files: the GenApi persistence text format that pylon, Spinnaker and
//! the reference GenApi read and write.
//!
//! ```text
//! # {05D8C294-F295-4dfb-9D01-096BD04049F4}
//! # GenApi persistence file (version 3.1.0)
//! # Device = Vendor::Model -- ...
//! ExposureTime<TAB>5000
//! TriggerMode<TAB>{TriggerSelector=FrameStart}<TAB>On
//! ```
//!
//! One feature per line: name, a tab, the value; a feature that depends on
//! selectors carries `{Selector=Entry,...}` between name and value. Selectors
//! and the features that lock or enable others are written first, so that
//! loading the lines in order can succeed. Strings escape `\`, tab and
//! newline as `\\`, `\t` and `\n`.

use std::collections::HashSet;

use crate::error::Error;
use crate::node::{Interface, Kind, NodeId};
use crate::nodemap::NodeMap;

/// The first line of every feature file.
pub const MAGIC: &str = "# {05D8C294-F295-4dfb-9D01-096BD04049F4}";

/// How many values of one integer selector a file lists at most.
const MAX_SELECTOR_VALUES: i64 = 64;

/// A line of a feature file that could not be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Line number in the file (1-based).
    pub line: usize,
    /// The feature named on the line.
    pub feature: String,
    /// Why it failed.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.feature, self.reason)
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl NodeMap {
    /// A feature's value as the text a feature file holds.
    pub fn value_text(&mut self, name: &str) -> crate::Result<String> {
        match self.interface(name)? {
            Interface::Integer => self.integer(name).map(|v| v.to_string()),
            Interface::Float => self.float(name).map(|v| v.to_string()),
            Interface::Enumeration => self.enumeration(name),
            Interface::Boolean => self
                .boolean(name)
                .map(|b| if b { "1".into() } else { "0".into() }),
            Interface::String => self.string(name).map(|s| escape(&s)),
            other => Err(Error::WrongType {
                name: name.into(),
                expected: "a value feature",
                actual: other.as_str(),
            }),
        }
    }

    /// Sets a feature from text: a number, an entry name, `1`/`0`/`true`/`false`, a string.
    pub fn set_value_text(&mut self, name: &str, text: &str) -> crate::Result<()> {
        let parse_err = |expected: &'static str| Error::Parse {
            name: name.into(),
            text: text.into(),
            expected,
        };
        let t = text.trim();
        match self.interface(name)? {
            Interface::Integer => {
                let v = crate::load::parse_int(t).ok_or_else(|| parse_err("an integer"))?;
                self.set_integer(name, v)
            }
            Interface::Float => {
                let v = crate::load::parse_float(t).ok_or_else(|| parse_err("a number"))?;
                self.set_float(name, v)
            }
            Interface::Enumeration => self.set_enumeration(name, t),
            Interface::Boolean => {
                let v = match t {
                    "1" | "true" | "True" | "TRUE" | "On" | "on" => true,
                    "0" | "false" | "False" | "FALSE" | "Off" | "off" => false,
                    _ => return Err(parse_err("a boolean (1, 0, true, false)")),
                };
                self.set_boolean(name, v)
            }
            Interface::String => self.set_string(name, &unescape(text)),
            Interface::Command => self.execute(name),
            other => Err(Error::WrongType {
                name: name.into(),
                expected: "a value feature",
                actual: other.as_str(),
            }),
        }
    }

    fn is_value_feature(&self, id: NodeId) -> bool {
        matches!(
            self.nodes[id as usize].kind.interface(),
            Interface::Integer
                | Interface::Float
                | Interface::Enumeration
                | Interface::Boolean
                | Interface::String
        )
    }

    /// The features a file saves: streamable ones when the description marks any,
    /// else every value feature that is a category member.
    fn persisted(&self) -> Vec<NodeId> {
        let any_streamable = self.nodes.iter().any(|n| n.streamable);
        let mut in_category = vec![false; self.nodes.len()];
        for n in self.nodes.iter() {
            if let Kind::Category { features } = &n.kind {
                for &f in features {
                    in_category[f as usize] = true;
                }
            }
        }
        (0..self.nodes.len() as NodeId)
            .filter(|&id| self.is_value_feature(id))
            .filter(|&id| {
                if any_streamable {
                    self.nodes[id as usize].streamable
                } else {
                    in_category[id as usize]
                }
            })
            .collect()
    }

    /// Features that decide whether other features can be written (through
    /// pIsLocked, pIsAvailable or pIsImplemented, directly or through formulas).
    fn controllers(&self, features: &HashSet<NodeId>) -> HashSet<NodeId> {
        let mut out = HashSet::new();
        let mut seen = HashSet::new();
        let mut stack: Vec<NodeId> = Vec::new();
        for n in self.nodes.iter() {
            stack.extend(&n.is_locked);
            stack.extend(&n.is_available);
        }
        let mut refs = Vec::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            if features.contains(&x) {
                out.insert(x);
                continue;
            }
            refs.clear();
            self.nodes[x as usize].references(&mut refs);
            stack.extend(&refs);
        }
        out
    }

    /// The values a selector takes: available entries, or an integer range.
    fn selector_values(&mut self, sel: NodeId) -> Vec<String> {
        let name = self.name(sel).to_string();
        match self.nodes[sel as usize].kind.interface() {
            Interface::Enumeration => self
                .enum_entries(&name)
                .map(|v| {
                    v.into_iter()
                        .filter(|e| e.access.is_readable())
                        .map(|e| e.symbolic)
                        .collect()
                })
                .unwrap_or_default(),
            Interface::Integer => {
                let (Ok(min), Ok(max), Ok(inc)) = (
                    self.integer_min(&name),
                    self.integer_max(&name),
                    self.integer_inc(&name),
                ) else {
                    return Vec::new();
                };
                let inc = inc.max(1);
                let count = (max.saturating_sub(min) / inc)
                    .saturating_add(1)
                    .clamp(0, MAX_SELECTOR_VALUES);
                (0..count).map(|k| (min + k * inc).to_string()).collect()
            }
            Interface::Boolean => vec!["0".into(), "1".into()],
            _ => Vec::new(),
        }
    }

    /// Saves the device's settings in the feature-file format.
    pub fn save_features(&mut self) -> String {
        let info = self.description().clone();
        let mut out = format!(
            "{MAGIC}\n# GenApi persistence file (version 3.1.0)\n# Device = {}::{} -- Device version = {}.{}.{} -- Product GUID = {} -- Product version GUID = {}\n",
            info.vendor_name, info.model_name, info.device_version.0, info.device_version.1, info.device_version.2, info.product_guid, info.version_guid
        );
        let features = self.persisted();
        let set: HashSet<NodeId> = features.iter().copied().collect();
        let controllers = self.controllers(&set);
        let rank = |m: &NodeMap, id: NodeId| {
            if !m.nodes[id as usize].selected.is_empty() {
                0
            } else if controllers.contains(&id) {
                1
            } else {
                2
            }
        };
        let mut ordered = features.clone();
        ordered.sort_by_key(|&id| rank(self, id));
        for id in ordered {
            let name = self.name(id).to_string();
            let selectors: Vec<NodeId> = self.selecting[id as usize].clone();
            if selectors.is_empty() {
                if self
                    .access(id)
                    .map(|a| a == crate::AccessMode::RW)
                    .unwrap_or(false)
                {
                    if let Ok(v) = self.value_text(&name) {
                        out.push_str(&format!("{name}\t{v}\n"));
                    }
                }
                continue;
            }
            // Every combination of the selectors' values.
            let mut originals: Vec<Option<String>> = Vec::with_capacity(selectors.len());
            for &s in &selectors {
                let sname = self.name(s).to_owned();
                originals.push(self.value_text(&sname).ok());
            }
            let values: Vec<Vec<String>> =
                selectors.iter().map(|&s| self.selector_values(s)).collect();
            let mut idx = vec![0usize; selectors.len()];
            if values.iter().all(|v| !v.is_empty()) {
                loop {
                    let mut ok = true;
                    let mut label = Vec::new();
                    for (k, &s) in selectors.iter().enumerate() {
                        let sname = self.name(s).to_string();
                        let v = &values[k][idx[k]];
                        ok &= self.set_value_text(&sname, v).is_ok();
                        label.push(format!("{sname}={v}"));
                    }
                    if ok
                        && self
                            .access(id)
                            .map(|a| a == crate::AccessMode::RW)
                            .unwrap_or(false)
                    {
                        if let Ok(v) = self.value_text(&name) {
                            out.push_str(&format!("{name}\t{{{}}}\t{v}\n", label.join(",")));
                        }
                    }
                    // Next combination.
                    let mut k = 0;
                    while k < idx.len() {
                        idx[k] += 1;
                        if idx[k] < values[k].len() {
                            break;
                        }
                        idx[k] = 0;
                        k += 1;
                    }
                    if k == idx.len() {
                        break;
                    }
                }
            }
            for (k, &s) in selectors.iter().enumerate() {
                if let Some(v) = &originals[k] {
                    let sname = self.name(s).to_string();
                    let _ = self.set_value_text(&sname, v);
                }
            }
        }
        out
    }

    /// Loads a feature file, going on past failures; returns every line that failed.
    ///
    /// Lines that fail are tried once more after the others, since a feature may
    /// become writable only once a later line has been applied.
    pub fn load_features(&mut self, text: &str) -> Vec<Failure> {
        let mut todo: Vec<(usize, &str)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim_end_matches('\r');
            if l.trim().is_empty() || l.starts_with('#') {
                continue;
            }
            todo.push((i + 1, l));
        }
        // Selectors that lines move with {Selector=Entry}: afterwards they go back to
        // the value the file gives them on a line of their own, or to where they were.
        let mut moved: Vec<(String, Option<String>)> = Vec::new();
        for &(_, line) in &todo {
            let Some((_, rest)) = line.split_once('\t') else {
                continue;
            };
            let Some(inner) = rest
                .trim_start()
                .strip_prefix('{')
                .and_then(|r| r.split_once('}'))
                .map(|(i, _)| i)
            else {
                continue;
            };
            for pair in inner.split(',') {
                if let Some((sel, _)) = pair.split_once('=') {
                    let sel = sel.trim().to_string();
                    if !moved.iter().any(|(m, _)| *m == sel) {
                        let before = self.value_text(&sel).ok();
                        moved.push((sel, before));
                    }
                }
            }
        }
        let mut failures = Vec::new();
        for pass in 0..2 {
            failures.clear();
            let mut retry = Vec::new();
            for &(n, line) in &todo {
                if let Err(f) = self.apply_line(n, line) {
                    failures.push(f);
                    retry.push((n, line));
                }
            }
            if retry.is_empty() || retry.len() == todo.len() || pass == 1 {
                break;
            }
            todo = retry;
        }
        for (sel, before) in moved {
            let own_line = text
                .lines()
                .enumerate()
                .filter_map(|(i, l)| {
                    let (name, value) = l.trim_end_matches('\r').split_once('\t')?;
                    (name.trim() == sel && !value.trim_start().starts_with('{'))
                        .then(|| (i + 1, value.to_string()))
                })
                .last();
            let (line, value) = match (own_line, before) {
                (Some((i, v)), _) => (i, v),
                (None, Some(v)) => (0, v),
                (None, None) => continue,
            };
            if let Err(e) = self.set_value_text(&sel, &value) {
                failures.push(Failure {
                    line,
                    feature: sel,
                    reason: format!("restoring the selector: {e}"),
                });
            }
        }
        failures
    }

    fn apply_line(&mut self, n: usize, line: &str) -> Result<(), Failure> {
        let (name, rest) = line.split_once('\t').unwrap_or((line, ""));
        let name = name.trim().to_string();
        let fail = |reason: String| Failure {
            line: n,
            feature: name.clone(),
            reason,
        };
        if !line.contains('\t') {
            return Err(fail("no value (expected NAME<TAB>VALUE)".into()));
        }
        let (selectors, value) = match rest.split_once('\t') {
            Some((s, v)) if s.trim_start().starts_with('{') => (Some(s), v),
            _ => (None, rest),
        };
        if let Some(sel) = selectors {
            let inner = sel
                .trim()
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .ok_or_else(|| fail(format!("malformed selector list '{sel}'")))?;
            for pair in inner.split(',').filter(|p| !p.trim().is_empty()) {
                let (s, v) = pair
                    .split_once('=')
                    .ok_or_else(|| fail(format!("malformed selector '{pair}'")))?;
                self.set_value_text(s.trim(), v.trim())
                    .map_err(|e| fail(format!("selector {}: {e}", s.trim())))?;
            }
        }
        self.set_value_text(&name, value)
            .map_err(|e| fail(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for s in [
            "plain",
            "tab\there",
            "line\nbreak",
            "back\\slash",
            "\\t literal",
            "ends in a return\r",
        ] {
            assert_eq!(unescape(&escape(s)), s);
        }
    }
}
